"""Input checks shared by several packages, with messages that name the fix.

Parameter constraints of estimators and functions are checked by
scikit-learn's machinery (``_fit_context``, ``validate_params``); what is here
checks inputs whose rules constraints cannot state.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import inspect
from numbers import Integral

import numpy as np
import pandas as pd

from skprivacy.utils._sklearn_compat import Interval, StrOptions, make_constraint


def _describe(constraint, default) -> str:
    if isinstance(constraint, Interval):
        kind = "an integer" if constraint.type is Integral else "a number"
        bounds = []
        if constraint.left is not None:
            closed = constraint.closed in ("left", "both")
            bounds.append(f"{'>=' if closed else '>'} {constraint.left}")
        if constraint.right is not None:
            closed = constraint.closed in ("right", "both")
            bounds.append(f"{'<=' if closed else '<'} {constraint.right}")
        return f"{kind} {' and '.join(bounds)}".strip()
    if isinstance(constraint, StrOptions):
        # The default first, then the others in order.
        options = sorted(constraint.options, key=lambda o: (o != default, o))
        return " or ".join(map(repr, options))
    if constraint is None:
        return "None"
    return str(constraint)


def check_parameters(estimator) -> None:
    """Check ``estimator``'s parameters against its ``_parameter_constraints``.

    Like scikit-learn's parameter validation, with messages in skprivacy's
    style: ``"n_samples must be an integer >= 1; got 0."``. Relations between
    parameters are checked by the estimator itself.

    Parameters
    ----------
    estimator : estimator
        Any estimator declaring ``_parameter_constraints``.

    Raises
    ------
    ValueError
        Naming the first parameter whose value satisfies none of its
        constraints.
    """
    signature = inspect.signature(type(estimator).__init__).parameters
    params = estimator.get_params(deep=False)
    for name, constraints in estimator._parameter_constraints.items():
        value = params[name]
        if any(make_constraint(c).is_satisfied_by(value) for c in constraints):
            continue
        default = signature[name].default if name in signature else None
        described = " or ".join(_describe(c, default) for c in constraints)
        raise ValueError(f"{name} must be {described}; got {value!r}.")


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
