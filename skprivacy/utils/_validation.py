"""Input checks shared by several packages, with messages that name the fix.

Parameter constraints of estimators and functions are checked by
scikit-learn's machinery (``_fit_context``, ``validate_params``); what is here
checks inputs whose rules constraints cannot state.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd


def check_attribute_X(X):
    """Records whose columns one attribute is read from or set in.

    Column values are left to the model (strings, categories, mixed
    DataFrames); the records must be dense, 2-d and not empty.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The records.

    Returns
    -------
    X : ndarray or DataFrame
        A DataFrame as given, anything else as an ndarray.
    """
    if hasattr(X, "toarray"):
        raise TypeError("Sparse X is not supported: pass a dense array or DataFrame.")
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-d (n_samples, n_features), got shape {X.shape}."
            )
    if X.shape[0] == 0:
        raise ValueError("X has no rows.")
    return X


def feature_position(X, feature) -> int:
    """The column position of ``feature`` in ``X``.

    Parameters
    ----------
    X : ndarray or DataFrame
        Records, as returned by :func:`check_attribute_X`.
    feature : int or str
        A position (negative counts from the end), or a column name when ``X``
        is a DataFrame.

    Returns
    -------
    position : int
        In ``[0, n_features)``.
    """
    n_features = X.shape[1]
    if isinstance(feature, Integral) and not isinstance(feature, bool):
        if not -n_features <= feature < n_features:
            raise ValueError(
                f"feature index {feature} is out of range for X with {n_features} "
                "features."
            )
        return int(feature) % n_features
    columns = list(X.columns) if isinstance(X, pd.DataFrame) else []
    if feature not in columns:
        raise ValueError(
            f"feature {feature!r} is not a column name of X; pass a DataFrame with "
            "that column or an int position."
        )
    return columns.index(feature)


def feature_column(X, position: int) -> np.ndarray:
    """The values of column ``position`` of ``X`` (an ndarray or DataFrame)."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, position].to_numpy()
    return X[:, position]
