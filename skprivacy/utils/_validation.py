"""Validation of declared parameter constraints, with messages that name the fix."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import inspect
from numbers import Integral

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
