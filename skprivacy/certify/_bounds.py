"""Binomial statistics of randomized smoothing.

Every function is vectorised over rows of vote counts. References:

- [CRK19] J. Cohen, E. Rosenfeld and J. Z. Kolter, "Certified Adversarial
  Robustness via Randomized Smoothing", ICML 2019 (Theorem 1, Algorithms
  PREDICT and CERTIFY, Propositions 1 and 2).
- [CP34] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial
  limits illustrated in the case of the binomial", Biometrika 26(4), 1934.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.stats import binom, norm

from skprivacy.utils._sklearn_compat import Interval, validate_params

# The Clopper-Pearson bounds are shared with audit; certify exports them.
from skprivacy.utils._stats import (  # noqa: F401
    clopper_pearson_lower,
    clopper_pearson_upper,
)

_ALPHA = [Interval(Real, 0, 1, closed="neither")]
_VOTES = ["array-like", Interval(Integral, 0, None, closed="left")]


@validate_params(
    {"n_top": _VOTES, "n_second": _VOTES}, prefer_skip_nested_validation=True
)
def binomial_test_pvalue(n_top, n_second) -> np.ndarray:
    """Two-sided p-value of the test ``P(top) = P(second)`` used by PREDICT.

    Cohen's PREDICT [CRK19] tests ``n_top ~ Binomial(n_top + n_second, 1/2)``
    with a two-sided exact binomial test and abstains when the p-value exceeds
    ``alpha``. For ``p = 1/2`` the distribution is symmetric, so the exact test
    (:func:`scipy.stats.binomtest`) reduces to ``min(1, 2 * F(min(n_top, n_second)))``
    with ``F`` the ``Binomial(n_top + n_second, 1/2)`` distribution function.

    Parameters
    ----------
    n_top, n_second : array-like of int
        Votes of the two most voted classes.

    Returns
    -------
    pvalue : ndarray of float
        ``1.0`` when both are zero.

    Examples
    --------
    >>> from skprivacy.certify import binomial_test_pvalue
    >>> float(binomial_test_pvalue(10, 0))  # 2 * 0.5 ** 10
    0.001953125
    """
    n_top = np.asarray(n_top, dtype=np.int64)
    n_second = np.asarray(n_second, dtype=np.int64)
    total = n_top + n_second
    pvalue = 2.0 * binom.cdf(np.minimum(n_top, n_second), total, 0.5)
    return np.where(total > 0, np.minimum(pvalue, 1.0), 1.0)


@validate_params(
    {
        "p_lower": ["array-like", Interval(Real, 0, 1, closed="both")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def certified_radius(p_lower, sigma: float = 1.0) -> np.ndarray:
    """Certified l2 radius ``sigma * Phi^-1(p_lower)`` of CERTIFY.

    Theorem 1 of [CRK19] with ``pB = 1 - pA``: when the top class has
    probability at least ``p_lower > 1/2`` under Gaussian noise of standard
    deviation ``sigma``, the smoothed classifier is constant on the open l2 ball
    of this radius. Rows with ``p_lower < 1/2`` get radius 0 (CERTIFY abstains).

    Parameters
    ----------
    p_lower : array-like of float
        Lower confidence bounds on the top-class probability.
    sigma : float, default=1.0
        Standard deviation of the noise, in the metric the radius is wanted in.

    Returns
    -------
    radius : ndarray of float

    Examples
    --------
    >>> from skprivacy.certify import certified_radius
    >>> float(certified_radius(0.6844, sigma=0.5))  # m / ||w|| = 1.2 / 5
    0.2400...
    """
    p_lower = np.asarray(p_lower, dtype=float)
    with np.errstate(invalid="ignore"):
        radius = sigma * norm.ppf(p_lower)
    return np.where(p_lower >= 0.5, radius, 0.0)


@validate_params({"alpha": _ALPHA}, prefer_skip_nested_validation=True)
def min_samples_to_certify(alpha: float) -> int:
    """Smallest number of estimation samples for which CERTIFY can ever succeed.

    With all ``n`` votes for the top class the bound of
    :func:`clopper_pearson_lower` is ``alpha ** (1 / n)``, which reaches ``1/2``
    only when ``n >= log2(1 / alpha)``.

    Parameters
    ----------
    alpha : float
        Error probability, in (0, 1).

    Returns
    -------
    n : int

    Examples
    --------
    >>> from skprivacy.certify import min_samples_to_certify
    >>> min_samples_to_certify(0.001)
    10
    """
    return max(1, math.ceil(math.log2(1.0 / alpha) - 1e-12))


@validate_params({"alpha": _ALPHA}, prefer_skip_nested_validation=True)
def min_samples_to_predict(alpha: float) -> int:
    """Smallest number of samples for which PREDICT can avoid abstaining.

    With all ``n`` votes for one class the two-sided p-value of
    :func:`binomial_test_pvalue` is ``2 ** (1 - n)``, at most ``alpha`` only when
    ``n >= 1 + log2(1 / alpha)`` (11 at ``alpha = 0.001``, cf.
    locuslab/smoothing issue #8).

    Parameters
    ----------
    alpha : float
        Error probability, in (0, 1).

    Returns
    -------
    n : int

    Examples
    --------
    >>> from skprivacy.certify import min_samples_to_predict
    >>> min_samples_to_predict(0.001)
    11
    """
    return max(1, math.ceil(1.0 + math.log2(1.0 / alpha) - 1e-12))


def _halving_schedule(n_max: int, n_looks: int) -> list[int]:
    """Cumulative sample counts ``..., n_max / 4, n_max / 2, n_max`` (rounded up)."""
    return sorted({math.ceil(n_max / 2**i) for i in range(n_looks - 1, -1, -1)})


@validate_params(
    {"n_max": [Interval(Integral, 1, None, closed="left")], "alpha": _ALPHA},
    prefer_skip_nested_validation=True,
)
def sequential_checkpoints(n_max: int, alpha: float) -> tuple[list[int], float]:
    """Looks of the sequential PREDICT and the level of each test.

    The checkpoints halve from ``n_max`` down (``..., n_max / 4, n_max / 2,
    n_max``) and each look tests at ``alpha / K`` for ``K`` looks. The union bound
    over the looks keeps Proposition 1 of [CRK19]: the probability of returning a
    class other than ``g(x)`` at any look is at most ``K * alpha / K = alpha``.
    ``K`` is the largest number of looks whose first one can already be decisive
    (at least :func:`min_samples_to_predict` of ``alpha / K`` samples).

    Parameters
    ----------
    n_max : int
        Samples at the last look.
    alpha : float
        Overall error probability.

    Returns
    -------
    checkpoints : list of int
        Increasing cumulative sample counts, ending at ``n_max``.
    alpha_per_look : float
        Level of each look's binomial test.

    Examples
    --------
    >>> from skprivacy.certify import sequential_checkpoints
    >>> sequential_checkpoints(1000, 0.001)
    ([16, 32, 63, 125, 250, 500, 1000], 0.00014285...)
    """
    best = [n_max]
    for n_looks in range(2, 64):
        checkpoints = _halving_schedule(n_max, n_looks)
        if len(checkpoints) < n_looks:
            break
        if checkpoints[0] < min_samples_to_predict(alpha / n_looks):
            break
        best = checkpoints
    return best, alpha / len(best)


@validate_params(
    {"n_max": [Interval(Integral, 1, None, closed="left")], "alpha": _ALPHA},
    prefer_skip_nested_validation=True,
)
def certify_spending_schedule(n_max: int, alpha: float) -> tuple[list[int], np.ndarray]:
    """Looks of sequential CERTIFY and the error level spent at each.

    The looks halve from ``n_max`` down, as in :func:`sequential_checkpoints`.
    Half of ``alpha`` is spent at the last look and the other half evenly over
    the earlier ones, so a row that runs to ``n_max`` loses little radius
    against fixed-sample CERTIFY at ``alpha`` (its bound is taken at
    ``alpha / 2``), while rows far from any decision stop early. The levels sum
    to ``alpha``: by the union bound, the Clopper-Pearson lower bounds of all
    looks hold together with probability at least ``1 - alpha``, so a bound (or
    the largest of them) read at any stopping time, chosen by any rule from the
    votes seen so far, is a valid ``1 - alpha`` bound [CRK19, Prop. 2 per look].
    ``K`` is the largest number of looks whose first one can already certify
    (at least :func:`min_samples_to_certify` of its level).

    Parameters
    ----------
    n_max : int
        Estimation samples at the last look.
    alpha : float
        Overall error probability, in (0, 1).

    Returns
    -------
    checkpoints : list of int
        Increasing cumulative sample counts, ending at ``n_max``.
    alphas : ndarray of float
        The level of each look's bound; they sum to ``alpha``.

    Examples
    --------
    >>> from skprivacy.certify import certify_spending_schedule
    >>> checkpoints, alphas = certify_spending_schedule(1000, 0.001)
    >>> checkpoints
    [16, 32, 63, 125, 250, 500, 1000]
    >>> alphas.round(6).tolist()
    [8.3e-05, 8.3e-05, 8.3e-05, 8.3e-05, 8.3e-05, 8.3e-05, 0.0005]
    """
    best, best_alphas = [n_max], np.array([alpha])
    for n_looks in range(2, 64):
        checkpoints = _halving_schedule(n_max, n_looks)
        if len(checkpoints) < n_looks:
            break
        alphas = np.full(n_looks, alpha / (2 * (n_looks - 1)))
        alphas[-1] = alpha / 2
        if checkpoints[0] < min_samples_to_certify(alphas[0]):
            break
        best, best_alphas = checkpoints, alphas
    return best, best_alphas
