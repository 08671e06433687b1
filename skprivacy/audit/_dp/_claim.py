"""The differential-privacy guarantee a fitted model declares."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Real

from skprivacy.utils._estimators import unwrap_estimator


def claimed_dp(estimator):
    """The ``(epsilon, delta)`` a fitted model's accountant declares.

    ``epsilon_`` of the final model (behind pipelines and frozen wrappers), as
    :class:`~skprivacy.defense.DPSGDClassifier` sets it, and its ``delta_``,
    else its numeric ``delta`` parameter; ``None`` for what it does not declare.
    """
    final, _ = unwrap_estimator(estimator)
    epsilon = getattr(final, "epsilon_", None)
    delta = getattr(final, "delta_", getattr(final, "delta", None))
    return (
        None if epsilon is None else float(epsilon),
        float(delta) if isinstance(delta, Real) else None,
    )
