"""Loaders for the real tabular datasets bundled with skprivacy."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skprivacy.utils._sklearn_compat import StrOptions, validate_params

DATA_MODULE = "skprivacy.datasets.data"
DESCR_MODULE = "skprivacy.datasets.descr"


@dataclass(frozen=True)
class _BundledTable:
    """A bundled gzip-compressed CSV and what is known about its content."""

    filename: str
    sha256: str  # of the decompressed CSV, as published in the data's README
    n_rows: int
    target: str
    target_names: tuple[str, ...]  # target code i is target_names[i]
    target_codes: dict  # raw target value -> code
    categorical: tuple[str, ...]
    numerical: tuple[str, ...]
    sensitive: tuple[str, ...]
    descr: str
    # Column names given to the file's columns, when its header is not used.
    columns: tuple[str, ...] | None = None


_ADULT = _BundledTable(
    filename="adult.csv.gz",
    sha256="c6c77bfbd8b6c387f5e508860cdc6595f3522e645be92e9d55612bbf046829f9",
    n_rows=48842,
    target="income",
    target_names=("<=50K", ">50K"),
    target_codes={"<=50K": 0, ">50K": 1},
    categorical=(
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native_country",
    ),
    numerical=(
        "age",
        "fnlwgt",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    ),
    sensitive=("age", "sex", "race", "marital_status", "native_country"),
    descr="adult.rst",
)

_GERMAN_CREDIT = _BundledTable(
    filename="german_credit.csv.gz",
    sha256="bfba5ba1784690e073d2cdf8055b6ab1c7f17a2762ba3497056092e1468fb735",
    n_rows=1000,
    target="credit_risk",
    target_names=("good", "bad"),
    target_codes={1: 0, 2: 1},
    categorical=(
        "checking_status",
        "credit_history",
        "purpose",
        "savings",
        "employment_since",
        "personal_status_sex",
        "other_debtors",
        "property",
        "other_installment_plans",
        "housing",
        "job",
        "telephone",
        "foreign_worker",
        "sex",
    ),
    numerical=(
        "duration_months",
        "credit_amount",
        "installment_rate",
        "residence_since",
        "age",
        "existing_credits",
        "num_dependents",
    ),
    sensitive=("sex", "age", "foreign_worker"),
    descr="german_credit.rst",
)

_LETTER_FEATURES = (
    "x_box",
    "y_box",
    "width",
    "high",
    "onpix",
    "x_bar",
    "y_bar",
    "x2bar",
    "y2bar",
    "xybar",
    "x2ybr",
    "xy2br",
    "x_ege",
    "xegvy",
    "y_ege",
    "yegvx",
)
_LETTERS = tuple(chr(code) for code in range(ord("A"), ord("Z") + 1))

_LETTER = _BundledTable(
    filename="letter.csv.gz",
    sha256="9b63b12c9425f919cf32a4de0ffbbef25960ddeced6a0c15fc8cf2dbb530b403",
    n_rows=20000,
    target="letter",
    target_names=_LETTERS,
    target_codes={letter: code for code, letter in enumerate(_LETTERS)},
    categorical=(),
    numerical=_LETTER_FEATURES,
    sensitive=(),
    descr="letter.rst",
    # The file's header names the features 1-16; these are the UCI names.
    columns=("letter", *_LETTER_FEATURES),
)


def _read_bundled_csv(table: _BundledTable) -> pd.DataFrame:
    """Read a bundled table, refusing a missing or corrupted file."""
    source = resources.files(DATA_MODULE).joinpath(table.filename)
    try:
        compressed = source.read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"The bundled data file {table.filename!r} is missing from the "
            "skprivacy installation; reinstall skprivacy."
        ) from exc
    try:
        raw = gzip.decompress(compressed)
    except (OSError, EOFError) as exc:
        raise OSError(
            f"The bundled data file {table.filename!r} is not valid gzip data "
            f"({exc}); the installation is corrupted, reinstall skprivacy."
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != table.sha256:
        raise OSError(
            f"The bundled data file {table.filename!r} is corrupted: its SHA-256 "
            f"is {digest}, expected {table.sha256}. Reinstall skprivacy."
        )
    frame = pd.read_csv(io.BytesIO(raw), na_values="?", keep_default_na=False)
    if len(frame) != table.n_rows:  # pragma: no cover - guarded by the checksum
        raise OSError(f"{table.filename!r} has {len(frame)} rows, not {table.n_rows}.")
    if table.columns is not None:
        frame.columns = list(table.columns)
    return frame


def _descr(name: str) -> str:
    return resources.files(DESCR_MODULE).joinpath(name).read_text(encoding="utf-8")


def _to_bunch(
    table: _BundledTable,
    frame: pd.DataFrame,
    *,
    as_frame: bool,
    return_X_y: bool,
    extra: dict,
):
    feature_names = [c for c in frame.columns if c != table.target]
    target = frame[table.target].map(table.target_codes)
    if target.isna().any():  # pragma: no cover - guarded by the checksum
        raise OSError(f"Unexpected target values in {table.filename!r}.")
    target = target.astype(np.int64)
    data = frame[feature_names].copy()
    for column in table.categorical:
        data[column] = data[column].astype("category")
    if as_frame:
        full = data.copy()
        full[table.target] = target.to_numpy()
        X, y = data, target.rename(table.target)
    elif not table.categorical:
        full = None
        X, y = data.to_numpy(), target.to_numpy()
    else:
        full = None
        # Mixed types: an object array keeps strings, numbers and missing values
        # (np.nan) exactly; `make_preprocessor` turns it into a numeric matrix.
        X = data.astype(object).where(data.notna(), np.nan).to_numpy(dtype=object)
        y = target.to_numpy()
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=full,
        feature_names=feature_names,
        target_names=list(table.target_names),
        categorical_features=list(table.categorical),
        numerical_features=list(table.numerical),
        sensitive_features=list(table.sensitive),
        DESCR=_descr(table.descr),
        **extra,
    )


@validate_params(
    {
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
        "subset": [StrOptions({"all", "train", "test"})],
        "dropna": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(*, as_frame=False, return_X_y=False, subset="all", dropna=False):
    """Load the UCI Adult (Census Income) dataset bundled with skprivacy.

    Binary classification: does a person earn more than 50K dollars a year?
    48,842 rows, 14 features (6 numerical, 8 categorical), from the 1994 US
    Census. Read more in the ``DESCR`` attribute of the result.

    ================= ==========================
    Classes                                    2
    Samples total                         48,842
    Samples per class       37,155 / 11,687
    Features           14 (6 numeric, 8 categorical)
    Missing values     3,620 rows (``?`` in the source)
    ================= ==========================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame with categorical columns of dtype
        ``category``, ``target`` a Series and ``frame`` holds both (15 columns).
        If False, ``data`` is an object ndarray of shape (n_samples, 14) holding
        numbers, strings and ``np.nan`` for missing values, and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    subset : {"all", "train", "test"}, default="all"
        Which rows: all, or the original UCI split (``adult.data``: 32,561 rows,
        ``adult.test``: 16,281 rows).
    dropna : bool, default=False
        If True, drop the 3,620 rows with a missing value (45,222 remain over
        ``subset="all"``). By default they are kept and missing values are NaN.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : ndarray of object of shape (n_samples, 14) or DataFrame
            The features.
        target : ndarray of int of shape (n_samples,) or Series
            0 for ``<=50K``, 1 for ``>50K``.
        frame : DataFrame of shape (n_samples, 15) or None
            Features and target together, when ``as_frame=True``.
        feature_names : list of str
            The 14 feature names, in column order.
        target_names : list of str
            ``["<=50K", ">50K"]``: the meaning of each target code.
        categorical_features, numerical_features : list of str
            Feature names by kind.
        sensitive_features : list of str
            Protected attributes for per-group audits and attribute privacy:
            age, sex, race, marital_status, native_country.
        split : ndarray of str of shape (n_samples,)
            ``"train"`` or ``"test"``: the original UCI split of each row.
        DESCR : str
            Description, provenance, licence and caveats (duplicate rows).

    (data, target) : tuple if ``return_X_y`` is True

    Notes
    -----
    The data contain duplicate rows (52 exact duplicates; 6,374 once ``fnlwgt``
    is dropped), so membership-inference tools must not assume that rows are
    unique. Licence: CC BY 4.0, UCI Machine Learning Repository (Becker and
    Kohavi, 1996), DOI 10.24432/C5XW20.

    Examples
    --------
    >>> from skprivacy.datasets import load_adult
    >>> adult = load_adult(as_frame=True)
    >>> adult.frame.shape
    (48842, 15)
    >>> adult.sensitive_features
    ['age', 'sex', 'race', 'marital_status', 'native_country']
    >>> X, y = load_adult(return_X_y=True, subset="test")
    >>> X.shape
    (16281, 14)
    """
    frame = _read_bundled_csv(_ADULT)
    if subset != "all":
        frame = frame[frame["split"] == subset]
    if dropna:
        frame = frame.dropna()
    frame = frame.reset_index(drop=True)
    split = frame.pop("split").to_numpy(dtype=str)
    return _to_bunch(
        _ADULT, frame, as_frame=as_frame, return_X_y=return_X_y, extra={"split": split}
    )


@validate_params(
    {"as_frame": ["boolean"], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_german_credit(*, as_frame=False, return_X_y=False):
    """Load the UCI Statlog German Credit dataset bundled with skprivacy.

    Binary classification of credit risk for 1,000 loan applicants, 21 features
    (7 numerical, 14 categorical: the 20 original attributes plus ``sex``, derived
    from ``personal_status_sex``). Categorical values keep the original codes
    (``A11``, ``A43``, ...), which ``DESCR`` explains. No values are missing.

    ================= ==========================
    Classes                                    2
    Samples total                          1,000
    Samples per class           700 / 300
    Features          21 (7 numeric, 14 categorical)
    ================= ==========================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame with categorical columns of dtype
        ``category``, ``target`` a Series and ``frame`` holds both (22 columns).
        If False, ``data`` is an object ndarray of shape (1000, 21).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes ``data``, ``target`` (0 = good,
        1 = bad credit risk; the source codes them 1 and 2), ``frame``,
        ``feature_names``, ``target_names`` (``["good", "bad"]``),
        ``categorical_features``, ``numerical_features``, ``sensitive_features``
        (sex, age, foreign_worker) and ``DESCR``.

    (data, target) : tuple if ``return_X_y`` is True

    Notes
    -----
    ``personal_status_sex`` encodes sex as well: drop it when studying what a
    model reveals about ``sex``. UCI suggests a cost matrix (predicting good for a
    bad risk costs 5, the reverse 1). Licence: CC BY 4.0, UCI Machine Learning
    Repository (Hofmann, 1994), DOI 10.24432/C5NC77.

    Examples
    --------
    >>> from skprivacy.datasets import load_german_credit
    >>> credit = load_german_credit(as_frame=True)
    >>> credit.frame.shape
    (1000, 22)
    >>> credit.target.value_counts().sort_index().tolist()
    [700, 300]
    """
    frame = _read_bundled_csv(_GERMAN_CREDIT)
    return _to_bunch(
        _GERMAN_CREDIT, frame, as_frame=as_frame, return_X_y=return_X_y, extra={}
    )


@validate_params(
    {"as_frame": ["boolean"], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_letter(*, as_frame=False, return_X_y=False):
    """Load the UCI Letter Recognition dataset bundled with skprivacy.

    A many-class task: which of the 26 capital letters does a distorted
    black-and-white character image show? Each of the 20,000 images is
    described by 16 integer features from 0 to 15 (statistical moments and
    edge counts of its pixels). Read more in the ``DESCR`` attribute of the
    result.

    ================= ==========================
    Classes                                   26
    Samples total                         20,000
    Samples per class                  734 - 813
    Features                  16 integers, 0-15
    ================= ==========================

    Parameters
    ----------
    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame of int64 columns, ``target`` a
        Series and ``frame`` holds both (17 columns). If False, ``data`` is an
        int64 ndarray of shape (20000, 16) and ``frame`` is None.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes ``data``, ``target`` (0 for
        ``A`` to 25 for ``Z``), ``frame``, ``feature_names`` (the UCI names,
        ``-`` replaced by ``_``), ``target_names`` (``["A", ..., "Z"]``),
        ``categorical_features`` (none), ``numerical_features`` (all 16),
        ``sensitive_features`` (none) and ``DESCR``.

    (data, target) : tuple if ``return_X_y`` is True

    Notes
    -----
    1,332 rows are exact copies of earlier rows (feature values and label):
    a membership audit on this data must not assume that rows are unique.
    The UCI documentation trains on the first 16,000 rows and tests on the
    last 4,000. Licence: CC BY 4.0, UCI Machine Learning Repository (Slate,
    1991), DOI 10.24432/C5ZP40.

    Examples
    --------
    >>> from skprivacy.datasets import load_letter
    >>> letter = load_letter(as_frame=True)
    >>> letter.frame.shape
    (20000, 17)
    >>> letter.target_names[:3], len(letter.target_names)
    (['A', 'B', 'C'], 26)
    >>> X, y = load_letter(return_X_y=True)
    >>> X.shape, X.dtype, int(X.max())
    ((20000, 16), dtype('int64'), 15)
    """
    frame = _read_bundled_csv(_LETTER)
    return _to_bunch(_LETTER, frame, as_frame=as_frame, return_X_y=return_X_y, extra={})
