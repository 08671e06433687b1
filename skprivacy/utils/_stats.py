"""Exact binomial confidence bounds (Clopper & Pearson 1934), used by every package.

Reference: [CP34] C. J. Clopper and E. S. Pearson, "The use of confidence or
fiducial limits illustrated in the case of the binomial", Biometrika 26(4),
1934; CERTIFY's use of the one-sided bound: [CRK19] J. Cohen, E. Rosenfeld and
J. Z. Kolter, "Certified Adversarial Robustness via Randomized Smoothing",
ICML 2019.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.stats import beta

from skprivacy.utils._sklearn_compat import Interval, validate_params

# Counts may be arrays (one bound per row) and, for projections, fractional.
_COUNT = ["array-like", Interval(Real, 0, None, closed="left")]
_BOUND_PARAMS = {
    "k": _COUNT,
    "n": _COUNT,
    "alpha": [Interval(Real, 0, 1, closed="neither")],
}


@validate_params(_BOUND_PARAMS, prefer_skip_nested_validation=True)
def clopper_pearson_lower(k, n, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower confidence bound of a binomial proportion.

    ``P(p >= bound) >= 1 - alpha`` for ``k ~ Binomial(n, p)`` [CP34]. The bound
    is the ``alpha`` quantile of ``Beta(k, n - k + 1)``, and 0 when ``k == 0``
    (where the quantile is undefined). It equals the lower end of the two-sided
    interval at level ``1 - 2 * alpha``, which is what CERTIFY uses [CRK19].

    Parameters
    ----------
    k : int or array-like of int
        Successes.
    n : int or array-like of int
        Trials, ``n >= 1``.
    alpha : float
        Probability that the bound fails, in (0, 1): certify's convention for a
        certificate. :func:`skprivacy.audit.clopper_pearson` gives the
        two-sided interval at a ``confidence`` instead.

    Returns
    -------
    bound : ndarray of float
        Lower bounds, broadcast over ``k`` and ``n``.

    Examples
    --------
    >>> from skprivacy.certify import clopper_pearson_lower
    >>> float(clopper_pearson_lower(10, 10, 0.001))  # alpha ** (1 / n)
    0.5011...
    >>> float(clopper_pearson_lower(0, 10, 0.001))
    0.0
    """
    k, n = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(alpha, k, n - k + 1)
    return np.where(k > 0, bound, 0.0)


@validate_params(_BOUND_PARAMS, prefer_skip_nested_validation=True)
def clopper_pearson_upper(k, n, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper confidence bound of a binomial proportion.

    ``P(p <= bound) >= 1 - alpha`` [CP34]: the ``1 - alpha`` quantile of
    ``Beta(k + 1, n - k)``, and 1 when ``k == n``.

    Parameters
    ----------
    k : int or array-like of int
        Successes.
    n : int or array-like of int
        Trials, ``n >= 1``.
    alpha : float
        Probability that the bound fails, in (0, 1): certify's convention for a
        certificate. :func:`skprivacy.audit.clopper_pearson` gives the
        two-sided interval at a ``confidence`` instead.

    Returns
    -------
    bound : ndarray of float
        Upper bounds.

    Examples
    --------
    >>> from skprivacy.certify import clopper_pearson_upper
    >>> float(clopper_pearson_upper(0, 10, 0.001))  # 1 - alpha ** (1 / n)
    0.4988...
    """
    k, n = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(1 - alpha, k + 1, n - k)
    return np.where(k < n, bound, 1.0)
