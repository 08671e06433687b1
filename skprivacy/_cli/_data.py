"""Datasets of the command-line demo: the bundled ones or a user's CSV file."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skprivacy.datasets import load_adult, load_german_credit

# Columns the demo's models must not see (a census sampling weight).
_DROP = {"adult": ["fnlwgt"], "german-credit": []}
_MIN_ROWS = 200
_MAX_CLASSES = 20


class CLIError(Exception):
    """A problem with the user's input, reported without a traceback."""


def load_dataset(
    name: str,
    *,
    target=None,
    sensitive=None,
    require_sensitive=False,
    member_column=None,
    population_column=None,
) -> Bunch:
    """Load ``name`` ("adult", "german-credit" or a CSV path) as a frame Bunch.

    The Bunch has ``data`` (DataFrame), ``target`` (int codes), ``target_names``,
    ``numerical_features``, ``categorical_features``, ``feature_names``,
    ``sensitive`` (the attribute to attack, or None), ``drop`` and ``title``; a
    bundled dataset's default ``sensitive`` is age when ``require_sensitive``; a
    CSV file also has ``raw_data`` and ``raw_target`` (its columns and labels as
    read, for a user's model) and, with ``member_column``, ``membership``
    (and, with ``population_column``, ``population``: which non-members set the
    attack thresholds).
    """
    if name in _DROP:
        if target is not None:
            raise CLIError(f"--target applies to a CSV file, not to --dataset {name}.")
        for option, value in (
            ("--member-column", member_column),
            ("--population-column", population_column),
        ):
            if value is not None:
                raise CLIError(
                    f"{option} applies to a CSV file, not to --dataset {name}."
                )
        loader = load_adult if name == "adult" else load_german_credit
        bunch = loader(as_frame=True)
        bunch.drop = _DROP[name]
        bunch.title = "UCI Adult" if name == "adult" else "German Credit"
        bunch.target = np.asarray(bunch.target, dtype=int)
    else:
        bunch = _load_csv(name, target, member_column, population_column)
    if sensitive is None and require_sensitive:
        if name not in _DROP:
            raise CLIError(
                "--sensitive is required with a CSV file: name the numeric column "
                "(e.g. age) that the attribute-inference attack tries to recover."
            )
        sensitive = "age"
    bunch.sensitive = sensitive
    if sensitive is not None:
        _check_sensitive(bunch, sensitive)
    if len(bunch.data) < _MIN_ROWS:
        raise CLIError(
            f"The data has {len(bunch.data)} rows; the demo needs at least "
            f"{_MIN_ROWS} (members, non-members and a population to calibrate on)."
        )
    return bunch


def _check_sensitive(bunch, sensitive):
    if sensitive not in bunch.numerical_features:
        numeric = [c for c in bunch.numerical_features if c not in bunch.drop]
        raise CLIError(
            f"--sensitive {sensitive!r} is not a numeric feature of the data. The "
            f"attribute attack and certified intervals need a continuous attribute; "
            f"numeric features: {numeric}."
        )
    if sensitive in bunch.drop:
        raise CLIError(f"--sensitive {sensitive!r} is not used by the models.")


def _load_csv(path, target, member_column, population_column) -> Bunch:
    path = Path(path)
    if target is None:
        raise CLIError(
            f"--dataset {str(path)!r} is not a bundled dataset (adult, "
            "german-credit), so it is read as a CSV file, which needs --target "
            "COLUMN (the label)."
        )
    if not path.is_file():
        problem = "not a file" if path.exists() else "no such file"
        raise CLIError(
            f"Cannot read {str(path)!r}: {problem}. --dataset takes adult, "
            "german-credit or the path of a CSV file."
        )
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise CLIError(f"Cannot read {str(path)!r} as CSV: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise CLIError(f"{str(path)!r} is empty.") from exc
    if frame.empty and len(frame.columns):
        raise CLIError(
            f"{str(path)!r} has a header ({', '.join(map(str, frame.columns))}) but "
            "no rows."
        )
    if target not in frame.columns:
        raise CLIError(
            f"--target {target!r} is not a column of {path.name}; its columns are "
            f"{list(frame.columns)}."
        )
    membership = population = None
    if member_column is not None:
        membership = _flags(frame, "--member-column", member_column, target, path)
    if population_column is not None:
        if membership is None:
            raise CLIError(
                "--population-column applies with --model and --member-column: it "
                "picks, among the rows the model was not trained on, those that set "
                "the attack thresholds."
            )
        if population_column == member_column:
            raise CLIError("--population-column and --member-column must differ.")
        population = _flags(
            frame, "--population-column", population_column, target, path
        )
        both = np.flatnonzero((population == 1) & (membership == 1))
        if len(both):
            raise CLIError(
                f"--population-column {population_column!r} marks {len(both)} rows "
                f"that --member-column {member_column!r} marks as training rows "
                f"(first data rows: {both[:5].tolist()}); population records must "
                "be non-members: they set the attack thresholds."
            )
    labels = frame.pop(target)
    if labels.isna().any():
        raise CLIError(f"--target column {target!r} has missing values.")
    codes, names = pd.factorize(labels, sort=True)
    if len(names) < 2:
        raise CLIError(f"--target column {target!r} has a single class.")
    if len(names) > _MAX_CLASSES:
        raise CLIError(
            f"--target column {target!r} has {len(names)} distinct values; the demo "
            f"trains classifiers (at most {_MAX_CLASSES} classes). Is it a "
            "regression target?"
        )
    if frame.shape[1] == 0:
        raise CLIError(f"{path.name} has no feature columns besides the target.")
    raw = frame.copy()
    numerical = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    numerical = [c for c in numerical if not pd.api.types.is_bool_dtype(frame[c])]
    categorical = [c for c in frame.columns if c not in numerical]
    for column in categorical:
        frame[column] = frame[column].astype("category")
    bunch = Bunch(
        data=frame,
        raw_data=raw,
        raw_target=labels.to_numpy(),
        target=codes.astype(int),
        target_names=[str(n) for n in names],
        feature_names=list(frame.columns),
        numerical_features=numerical,
        categorical_features=categorical,
        drop=[],
        title=path.name,
    )
    if membership is not None:
        bunch.membership = membership
    if population is not None:
        bunch.population = population
    return bunch


def _flags(frame, option, column, target, path):
    """Pop a 0/1 column (``--member-column``, ``--population-column``)."""
    if column not in frame.columns:
        raise CLIError(
            f"{option} {column!r} is not a column of {path.name}; its columns "
            f"are {list(frame.columns)}."
        )
    if column == target:
        raise CLIError(f"{option} and --target must be different columns.")
    values = frame.pop(column)
    if values.isna().any() or not values.isin([0, 1]).all():
        meaning = (
            "1 for the rows the model was trained on"
            if option == "--member-column"
            else "1 for the non-members that set the attack thresholds"
        )
        raise CLIError(
            f"{option} {column!r} must hold {meaning} and 0 for the others, with "
            "no missing values."
        )
    return values.to_numpy(dtype=int)
