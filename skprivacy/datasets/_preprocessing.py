"""A numeric design-matrix recipe for the bundled tabular datasets."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

from skprivacy.utils._sklearn_compat import validate_params


@validate_params(
    {"dataset": [Bunch], "drop": ["array-like", set], "scale": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def make_preprocessor(dataset, *, drop: Iterable[str] = (), scale: bool = True):
    """Build an unfitted ``ColumnTransformer`` that makes a dataset numeric.

    Numerical columns are imputed with their median and standardised;
    categorical columns are imputed with the constant ``"missing"`` (so a missing
    value becomes a category of its own, as the Adult documentation suggests) and
    one-hot encoded, ignoring categories unseen at fit. The output is a dense
    float64 array, ready for any sklearn classifier or a torch network.

    Parameters
    ----------
    dataset : Bunch
        A dataset returned by :func:`load_adult` or :func:`load_german_credit`
        (``as_frame`` True or False). Its ``categorical_features`` and
        ``numerical_features`` decide the treatment of each column.
    drop : iterable of str, default=()
        Feature names to leave out, for example ``["fnlwgt"]`` (a census sampling
        weight, not an attribute of the person) or a sensitive attribute the
        model must not see.
    scale : bool, default=True
        Standardise the numerical columns.

    Returns
    -------
    preprocessor : ColumnTransformer
        Unfitted; put it first in a :class:`~sklearn.pipeline.Pipeline`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skprivacy.datasets import load_german_credit, make_preprocessor
    >>> credit = load_german_credit()
    >>> model = make_pipeline(make_preprocessor(credit), LogisticRegression())
    >>> model.fit(credit.data, credit.target).score(credit.data, credit.target)
    0.7...
    """
    drop = set(drop)
    feature_names = list(dataset.feature_names)
    unknown = sorted(drop - set(feature_names))
    if unknown:
        raise ValueError(
            f"Cannot drop {unknown}: not features of this dataset. "
            f"Its features are {feature_names}."
        )
    by_name = isinstance(dataset.data, pd.DataFrame)

    def columns(names):
        kept = [name for name in names if name not in drop]
        return kept if by_name else [feature_names.index(name) for name in kept]

    numeric_steps = [SimpleImputer(strategy="median")]
    if scale:
        numeric_steps.append(StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            (
                "numerical",
                make_pipeline(*numeric_steps),
                columns(dataset.numerical_features),
            ),
            ("categorical", categorical, columns(dataset.categorical_features)),
        ],
        remainder="drop",
        sparse_threshold=0.0,
    )
