"""Metrics of certified predictions: certified accuracy, ACR and its lower bound.

References: [CRK19] J. Cohen, E. Rosenfeld and J. Z. Kolter, "Certified
Adversarial Robustness via Randomized Smoothing", ICML 2019 (approximate
certified accuracy, Section 4); [ZDH+20] R. Zhai et al., "MACER: Attack-free and
Scalable Robust Training via Maximizing Certified Radius", ICLR 2020 (average
certified radius).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.stats import binom
from sklearn.utils import check_consistent_length, column_or_1d

from skprivacy.utils._sklearn_compat import (
    Interval,
    _check_sample_weight,
    validate_params,
)

# The certificates every metric reads.
_CERTIFICATES = {
    "y_true": ["array-like"],
    "y_pred": ["array-like"],
    "radii": ["array-like"],
}


def _check_certificates(y_true, y_pred, radii, sample_weight=None):
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    radii = column_or_1d(radii).astype(np.float64)
    check_consistent_length(y_true, y_pred, radii, sample_weight)
    if y_true.size == 0:
        raise ValueError("Certified metrics need at least one row.")
    if not np.all(np.isfinite(radii) & (radii >= 0)):
        raise ValueError("radii must be finite and non-negative.")
    weight = _check_sample_weight(sample_weight, radii)
    return y_true == y_pred, radii, weight


@validate_params(
    {
        **_CERTIFICATES,
        "radius_grid": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def certified_accuracy_curve(
    y_true, y_pred, radii, *, radius_grid=None, sample_weight=None
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate certified accuracy as a function of the radius.

    The fraction of rows whose certified label is correct and whose certified
    radius is at least ``r`` [CRK19]. Abstentions (a label that is never a class)
    count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Certified labels, as returned by ``SmoothedClassifier.certify``.
    radii : array-like of shape (n_samples,)
        Certified radii (0 on abstention).
    radius_grid : array-like of float, default=None
        Radii at which to evaluate. ``None`` uses 0 and every distinct radius of
        a correct row, where the curve steps down.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    radius_grid : ndarray of shape (n_radii,)
        Increasing radii.
    certified_accuracy : ndarray of shape (n_radii,)
        Certified accuracy at each radius.

    Examples
    --------
    >>> from skprivacy.certify import certified_accuracy_curve
    >>> certified_accuracy_curve([0, 1, 1, 0], [0, 1, -1, 1], [0.5, 1.0, 0.0, 2.0])
    (array([0. , 0.5, 1. ]), array([0.5 , 0.5 , 0.25]))
    """
    correct, radii, weight = _check_certificates(y_true, y_pred, radii, sample_weight)
    if radius_grid is None:
        grid = np.unique(np.concatenate([[0.0], radii[correct]]))
    else:
        grid = np.sort(np.asarray(radius_grid, dtype=np.float64).ravel())
    hits = correct[:, None] & (radii[:, None] >= grid[None, :])
    return grid, weight @ hits / weight.sum()


@validate_params(
    {**_CERTIFICATES, "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def average_certified_radius(y_true, y_pred, radii, *, sample_weight=None) -> float:
    """Average certified radius: the mean radius, counting 0 where wrong.

    The ACR of [ZDH+20]: abstentions and wrong labels contribute 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Certified labels.
    radii : array-like of shape (n_samples,)
        Certified radii.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    acr : float

    Examples
    --------
    >>> from skprivacy.certify import average_certified_radius
    >>> average_certified_radius([0, 1, 1, 0], [0, 1, -1, 1], [0.5, 1.0, 0.0, 2.0])
    0.375
    """
    correct, radii, weight = _check_certificates(y_true, y_pred, radii, sample_weight)
    return float(weight @ (radii * correct) / weight.sum())


def _copies(X, n_rows):
    """How many rows share each distinct row of ``X`` (one certificate each)."""
    if X is None:
        return np.ones(n_rows, dtype=np.int64)
    import pandas as pd

    frame = pd.DataFrame(X).reset_index(drop=True)
    if len(frame) != n_rows:
        raise ValueError(
            f"X has {len(frame)} rows, but the certificates are {n_rows}: pass the "
            "rows that were certified."
        )
    if frame.shape[1] == 0:
        raise ValueError("X has no columns.")
    codes = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup()
    return np.bincount(codes.to_numpy())


def _weighted_binomial_quantile(copies, alpha, q):
    """``q`` quantile of ``sum_c copies_c B_c`` with independent ``B_c ~ B(alpha)``.

    Certificates of equal weight are pooled into one binomial; their laws are
    convolved on the integers. Each binomial is cut at its ``1 - 1e-15``
    quantile (the mass beyond is put at the cut), which moves ``q`` by at most
    ``1e-15`` per distinct weight.
    """
    weights, counts = np.unique(copies, return_counts=True)
    if weights.size == 1 and weights[0] == 1:
        return float(binom.ppf(q, counts[0], alpha))
    pmf = np.ones(1)
    for weight, count in zip(weights, counts, strict=True):
        top = int(binom.ppf(1 - 1e-15, count, alpha))
        p = binom.pmf(np.arange(top + 1), count, alpha)
        p[-1] += binom.sf(top, count, alpha)
        spread = np.zeros(top * weight + 1)
        spread[::weight] = p
        pmf = np.convolve(pmf, spread)
    return float(np.searchsorted(np.cumsum(pmf), q - 1e-12))


@validate_params(
    {
        **_CERTIFICATES,
        "radius": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "rho": [Interval(Real, 0, 1, closed="neither")],
        "X": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def certified_accuracy_lower_bound(
    y_true, y_pred, radii, *, radius=0.0, alpha=0.001, rho=0.001, X=None
) -> float:
    """Lower confidence bound on the true certified accuracy at a radius.

    Each certificate is wrong with probability at most ``alpha``, independently
    of the certificates of other rows: the noise of a row is a function of the
    row's content, so *identical rows share one certificate* and are right or
    wrong together. With ``n_c`` copies of distinct row ``c`` among the ``m``
    rows, the number of rows with a wrong certificate is stochastically smaller
    than ``W = sum_c n_c B_c`` with independent ``B_c ~ Bernoulli(alpha)``;
    with probability at least ``1 - rho`` it is at most that law's ``1 - rho``
    quantile ``e`` (computed exactly), and the accuracy of the smoothed
    classifier at ``radius`` is at least ``approximate certified accuracy -
    e / m``. Without duplicates, ``W`` is ``Binomial(m, alpha)``: the exact
    version of the high-probability bound of [CRK19]'s analysis code, which
    uses a Bernstein-type tail instead.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Certified labels.
    radii : array-like of shape (n_samples,)
        Certified radii.
    radius : float, default=0.0
        Radius at which to bound the certified accuracy.
    alpha : float, default=0.001
        The ``alpha`` the certificates were computed at.
    rho : float, default=0.001
        Probability that the bound fails.
    X : array-like of shape (n_samples, n_features), default=None
        The rows that were certified, to count the copies of each distinct row
        (one certificate each). ``None`` takes every row as a distinct
        certificate: pass ``X`` whenever it may hold duplicate rows, or the
        bound fails more often than ``rho`` (40 rows with 10 copies each,
        ``alpha=0.005``, ``rho=0.05``: 18% of the time).

    Returns
    -------
    bound : float
        Lower bound (may be negative when ``m`` is small).

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.certify import certified_accuracy_lower_bound
    >>> y = np.zeros(1000, dtype=int)
    >>> certified_accuracy_lower_bound(y, y, np.ones(1000), alpha=0.001, rho=0.001)
    0.995
    >>> X = np.repeat(np.arange(100.0), 10)[:, None]  # 100 rows, 10 copies each
    >>> certified_accuracy_lower_bound(
    ...     y, y, np.ones(1000), alpha=0.001, rho=0.001, X=X
    ... )
    0.98
    """
    correct, radii, _ = _check_certificates(y_true, y_pred, radii)
    m = radii.size
    accuracy = np.mean(correct & (radii >= radius))
    errors = _weighted_binomial_quantile(_copies(X, m), alpha, 1 - rho)
    return float(accuracy - errors / m)
