"""Medical Insurance Cost data (local copy) and a synthetic look-alike."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import truncnorm
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params

COLUMNS = ("age", "sex", "bmi", "children", "smoker", "region", "charges")
REGIONS = ("northeast", "northwest", "southeast", "southwest")
FEATURE_NAMES = [
    "age",
    "bmi",
    "children",
    "sex",
    "smoker",
    *(f"region_{r}" for r in REGIONS),
]
# Marginals of the common 1,338-row insurance.csv (research note
# robust_privacy_paper.md, section 3.2): the generator draws them independently.
BMI_MEAN, BMI_STD, BMI_RANGE = 30.66, 6.10, (15.96, 53.13)
CHILDREN_P = (0.43, 0.24, 0.18, 0.12, 0.02, 0.01)
P_MALE, P_SMOKER = 0.505, 0.205
_FILENAME = "insurance.csv"
_LABELS = ("bmi_threshold", "bmi_smoker")

_DESCR = """\
Medical Insurance Cost, BMI as the sensitive attribute
------------------------------------------------------

The "Medical Cost Personal" data (1,338 US beneficiaries; often distributed as
``insurance.csv``, with columns age, sex, bmi, children, smoker, region and
charges), used by Jin et al., "Robust Privacy" (arXiv 2601.17360) for a
recommendation task whose decision depends mainly on the body-mass index.

Features, in this order: ``age``, ``bmi`` and ``children`` (numbers), ``sex`` (1 =
male), ``smoker`` (1 = yes) and ``region`` one-hot in four columns. ``charges`` is
dropped: under some label rules it would leak the label. ``bmi`` (column 1) is
the sensitive attribute; its domain is the range of the file.

Target. The paper does not state its label. The default, ``bmi >= 30`` (the WHO
obesity cut-off, the paper's "insulin recommended above a BMI threshold"
story), is **skprivacy's assumption**, chosen because a boundary near 30
reproduces the paper's base median interval length (53.13 - 29.63 = 23.50).
``label="bmi_smoker"`` (``bmi >= threshold`` or a smoker with ``bmi >=
threshold - 3``) is a second rule that still depends mainly on BMI.

Licence: the licence of the common copy was not verified, so skprivacy never
ships nor downloads it: place your own ``insurance.csv`` in ``data_home``.
"""


# Options shared by the loader and the generator.
_OPTIONS = {
    "label": [StrOptions(set(_LABELS)), callable],
    "threshold": [Interval(numbers.Real, None, None, closed="neither")],
    "as_frame": ["boolean"],
    "return_X_y": ["boolean"],
}


def _labels(raw: pd.DataFrame, label, threshold: float) -> np.ndarray:
    bmi = raw["bmi"].to_numpy()
    if label == "bmi_threshold":
        positive = bmi >= threshold
    elif label == "bmi_smoker":
        positive = (bmi >= threshold) | (
            (raw["smoker"] == "yes") & (bmi >= threshold - 3)
        )
    else:
        positive = np.asarray(label(raw))
        if positive.shape != (len(raw),):
            raise ValueError(
                f"the label callable must return one value per row, shape "
                f"({len(raw)},); got shape {positive.shape}."
            )
    return np.asarray(positive, dtype=bool).astype(np.int64)


def _as_bunch(raw, *, label, threshold, domain, as_frame, return_X_y):
    """Encode the raw columns (charges dropped) and attach the label and metadata."""
    threshold = float(threshold)
    data = pd.DataFrame(
        {
            "age": raw["age"].astype(np.float64),
            "bmi": raw["bmi"].astype(np.float64),
            "children": raw["children"].astype(np.float64),
            "sex": (raw["sex"] == "male").astype(np.float64),
            "smoker": (raw["smoker"] == "yes").astype(np.float64),
            **{f"region_{r}": (raw["region"] == r).astype(np.float64) for r in REGIONS},
        }
    ).reset_index(drop=True)
    target = _labels(raw, label, threshold)
    frame = None
    if as_frame:
        target = pd.Series(target, name="recommended")
        frame = data.assign(recommended=target.to_numpy())
    else:
        data = data.to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=list(FEATURE_NAMES),
        target_names=["not recommended", "recommended"],
        categorical_features=["sex", "smoker", "region"],
        numerical_features=["age", "bmi", "children"],
        sensitive_features=["bmi"],
        sensitive_index=1,
        sensitive_domain=domain,
        threshold=threshold,
        DESCR=_DESCR,
    )


def _locate(data_home) -> Path:
    home = Path(get_data_home() if data_home is None else os.fspath(data_home))
    candidates = (home / "insurance" / _FILENAME, home / _FILENAME)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"insurance.csv was not found under {str(home)!r} (looked for "
        f"{[str(p) for p in candidates]}). skprivacy never downloads it (its "
        "licence was not verified): get the Medical Cost Personal data "
        "(1,338 rows; header age,sex,bmi,children,smoker,region,charges) from a "
        f"source whose terms you accept and save it as {str(candidates[0])!r} (or "
        "pass data_home= the folder that holds insurance.csv)."
    )


def _read_insurance(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a readable CSV file: {exc}") from exc
    if tuple(raw.columns) != COLUMNS:
        raise ValueError(
            f"{path} does not have the insurance.csv header: expected columns "
            f"{list(COLUMNS)}, got {list(raw.columns)}."
        )
    if raw.empty:
        raise ValueError(f"{path} has no rows.")
    for column in ("age", "bmi", "children", "charges"):
        values = pd.to_numeric(raw[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
            raise ValueError(
                f"{path}: column {column!r} must hold finite numbers; line {line} "
                f"has {raw[column].iloc[line - 2]!r}."
            )
        raw[column] = values
    for column, allowed in [
        ("sex", ("female", "male")),
        ("smoker", ("no", "yes")),
        ("region", REGIONS),
    ]:
        bad = ~raw[column].isin(allowed)
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise ValueError(
                f"{path}: column {column!r} must be one of {list(allowed)}; line "
                f"{line} has {raw[column].iloc[line - 2]!r}."
            )
    if (raw["children"] < 0).any() or (raw["children"] % 1 != 0).any():
        raise ValueError(f"{path}: 'children' must hold non-negative integers.")
    if (raw["bmi"] <= 0).any() or (raw["age"] < 0).any():
        raise ValueError(f"{path}: 'bmi' must be positive and 'age' non-negative.")
    return raw


@validate_params(
    {"data_home": [str, os.PathLike, None], **_OPTIONS},
    prefer_skip_nested_validation=True,
)
def load_medical_insurance(
    data_home=None,
    *,
    label="bmi_threshold",
    threshold: float = 30.0,
    as_frame: bool = False,
    return_X_y: bool = False,
):
    """Load a local copy of the Medical Insurance Cost data, BMI sensitive.

    Reads ``insurance.csv`` (header ``age,sex,bmi,children,smoker,region,charges``,
    1,338 rows in the common copy), checks its schema, drops ``charges`` and
    encodes the rest as nine numeric columns; the target is a recommendation
    driven by the body-mass index, the sensitive attribute. This is the tabular
    task of Jin et al.'s Robust Privacy paper (see ``DESCR``).

    The file's licence was not verified, so it is neither shipped nor ever
    downloaded: save your copy as ``<data_home>/insurance/insurance.csv`` (or
    ``<data_home>/insurance.csv``). A clear error says so when it is absent.
    :func:`make_insurance_like` draws data of the same schema and marginals.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``insurance/insurance.csv`` or ``insurance.csv``. ``None``
        means scikit-learn's data home (:func:`sklearn.datasets.get_data_home`).
    label : {"bmi_threshold", "bmi_smoker"} or callable, default="bmi_threshold"
        The label rule. The paper does not state its own: the default ``bmi >=
        threshold`` is **our assumption** (it reproduces the paper's base
        interval length). ``"bmi_smoker"`` adds smokers with ``bmi >= threshold
        - 3``. A callable gets the raw DataFrame (string categories, charges
        included) and returns one boolean per row.
    threshold : float, default=30.0
        BMI threshold of the rules (30 is the WHO obesity cut-off).
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame, ``target`` a Series and ``frame`` holds
        both.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : ndarray of shape (n_samples, 9) or DataFrame
            ``age``, ``bmi``, ``children``, ``sex`` (1 = male), ``smoker`` (1 =
            yes) and the one-hot ``region_*`` columns, as floats.
        target : ndarray of int of shape (n_samples,) or Series
            1 ("recommended") under ``label``.
        frame : DataFrame or None
            Data and target together, when ``as_frame=True``.
        feature_names : list of str
            The nine column names.
        target_names : list of str
            ``["not recommended", "recommended"]``.
        categorical_features, numerical_features : list of str
            The raw categorical and numeric columns.
        sensitive_features : list of str
            ``["bmi"]``.
        sensitive_index : int
            1, the column of ``bmi``.
        sensitive_domain : tuple of float
            ``(min bmi, max bmi)`` of the file: (15.96, 53.13) for the common copy.
        threshold : float
            The BMI threshold of the label rule.
        DESCR : str
            Description, assumptions and licence note.

    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    make_insurance_like : Synthetic data with the same schema and marginals.

    Examples
    --------
    >>> from skprivacy.datasets import load_medical_insurance
    >>> insurance = load_medical_insurance()  # doctest: +SKIP
    >>> insurance.data.shape, insurance.sensitive_domain  # doctest: +SKIP
    ((1338, 9), (15.96, 53.13))
    """
    raw = _read_insurance(_locate(data_home))
    domain = (float(raw["bmi"].min()), float(raw["bmi"].max()))
    return _as_bunch(
        raw,
        label=label,
        threshold=threshold,
        domain=domain,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )


@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        **_OPTIONS,
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_insurance_like(
    n_samples: int = 1338,
    *,
    label="bmi_threshold",
    threshold: float = 30.0,
    as_frame: bool = False,
    return_X_y: bool = False,
    random_state=None,
):
    """Generate data with the schema and marginals of the insurance data.

    A stand-in for :func:`load_medical_insurance` in tests and examples when the
    real file is absent. Columns are drawn **independently** from the marginals
    of the common 1,338-row file: ``age`` uniform on 18..64, ``sex`` male with
    probability 0.505, ``bmi`` Normal(30.66, 6.10) truncated to [15.96, 53.13],
    ``children`` in 0..5 with probabilities (0.43, 0.24, 0.18, 0.12, 0.02,
    0.01), ``smoker`` with probability 0.205, ``region`` uniform over four
    values. ``charges`` (dropped by the loader) is not drawn: a label callable
    must not use it. The real data's correlations (smokers' charges, age and
    BMI) are absent.

    Parameters
    ----------
    n_samples : int, default=1338
        Number of rows.
    label : {"bmi_threshold", "bmi_smoker"} or callable, default="bmi_threshold"
        The label rule, as in :func:`load_medical_insurance`.
    threshold : float, default=30.0
        BMI threshold of the rules.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``target`` a Series.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_medical_insurance`, with ``sensitive_domain`` the
        truncation bounds (15.96, 53.13).

    (data, target) : tuple if ``return_X_y`` is True

    See Also
    --------
    load_medical_insurance : The real data, from a local file.

    Examples
    --------
    >>> from skprivacy.datasets import make_insurance_like
    >>> ins = make_insurance_like(random_state=0)
    >>> ins.data.shape, ins.feature_names[:3], ins.sensitive_domain
    ((1338, 9), ['age', 'bmi', 'children'], (15.96, 53.13))
    >>> round(float(ins.target.mean()), 2)
    0.54
    """
    rngs = spawn_generators(random_state, 6)
    low, high = BMI_RANGE
    bmi = truncnorm.rvs(
        (low - BMI_MEAN) / BMI_STD,
        (high - BMI_MEAN) / BMI_STD,
        loc=BMI_MEAN,
        scale=BMI_STD,
        size=n_samples,
        random_state=rngs[0],
    )
    raw = pd.DataFrame(
        {
            "age": rngs[1].integers(18, 65, size=n_samples),
            "sex": np.where(rngs[2].random(n_samples) < P_MALE, "male", "female"),
            "bmi": bmi.round(2),
            "children": rngs[3].choice(6, size=n_samples, p=CHILDREN_P),
            "smoker": np.where(rngs[4].random(n_samples) < P_SMOKER, "yes", "no"),
            "region": np.asarray(REGIONS)[rngs[5].integers(0, 4, size=n_samples)],
        }
    )
    return _as_bunch(
        raw,
        label=label,
        threshold=threshold,
        domain=BMI_RANGE,
        as_frame=as_frame,
        return_X_y=return_X_y,
    )
