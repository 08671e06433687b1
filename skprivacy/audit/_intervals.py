"""Confidence intervals of membership metrics: Clopper-Pearson, the stratified
bootstrap of metrics that choose nothing on the data, and held-out intervals
of threshold metrics (on the randomised-threshold ROC of ``_roc``).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real

import numpy as np

from skprivacy.audit._metrics import (
    _warn_unresolved,
    check_membership,
    fpr_resolved,
)
from skprivacy.audit._roc import (
    best_advantage,
    roc_vertices,
    tpr_interval,
)
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params
from skprivacy.utils._stats import clopper_pearson_lower, clopper_pearson_upper


@validate_params(
    {
        "k": ["array-like", Interval(Real, 0, None, closed="left")],
        "n": ["array-like", Interval(Real, 0, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def clopper_pearson(k, n, confidence: float = 0.95):
    """Exact two-sided binomial confidence interval (Clopper & Pearson 1934).

    Parameters
    ----------
    k : int or array-like of int
        Successes.
    n : int or array-like of int
        Trials.
    confidence : float, default=0.95
        Coverage of the interval.

    Returns
    -------
    low, high : float or ndarray
        ``Beta^{-1}(beta/2; k, n-k+1)`` and ``Beta^{-1}(1-beta/2; k+1, n-k)``
        with ``beta = 1 - confidence`` (0 and 1 at the ends).

    See Also
    --------
    skprivacy.certify.clopper_pearson_lower : One-sided, at a failure rate ``alpha``.

    Examples
    --------
    >>> from skprivacy.audit import clopper_pearson
    >>> low, high = clopper_pearson(0, 10)
    >>> float(low), round(float(high), 4)
    (0.0, 0.3085)
    """
    half = (1.0 - confidence) / 2
    low, high = clopper_pearson_lower(k, n, half), clopper_pearson_upper(k, n, half)
    return low[()], high[()]


def _stratified_half(membership, random_state):
    """Mask of a random half of the members and half of the non-members."""
    (rng,) = spawn_generators(random_state, 1)
    first = np.zeros(len(membership), dtype=bool)
    for group in (membership, ~membership):
        idx = rng.permutation(np.flatnonzero(group))
        first[idx[: len(idx) // 2]] = True
    return first


@validate_params(
    {
        "metric": [callable],
        "membership": ["array-like"],
        "scores": ["array-like"],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "threshold_free": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)
def bootstrap_ci(
    metric,
    membership,
    scores,
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    random_state=None,
    threshold_free: bool | None = None,
):
    """Percentile bootstrap confidence interval of a membership metric.

    Members and non-members are resampled separately (stratified), so every
    resample has the original class sizes. The percentile bootstrap suits
    metrics that choose nothing on the data, such as :func:`membership_auc`.
    Metrics that choose a threshold on the records they measure
    (:func:`membership_advantage`, :func:`membership_balanced_accuracy`,
    :func:`tpr_at_fpr`, :func:`ppv_at_fpr`, :func:`empirical_epsilon`) are
    refused: resampling those records repeats the choice, and the interval
    misses the truth far more often than stated (under no leakage a 95%
    interval of the advantage almost never contains 0). Use
    :func:`held_out_ci` for them.

    The metrics of this module declare whether they choose a threshold, also
    when wrapped in :func:`functools.partial`; any other callable (a lambda, a
    metric of your own) is refused unless ``threshold_free=True`` vouches for it.

    Parameters
    ----------
    metric : callable
        ``metric(membership, scores) -> float``, e.g. :func:`membership_auc`.
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    n_resamples : int, default=200
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the interval.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling.
    threshold_free : bool, default=None
        Whether ``metric`` chooses nothing on the records it measures (no
        threshold, no rule fitted to them). Needed, as ``True``, for a
        callable that does not declare it; a metric of this module that
        chooses a threshold is refused whatever the value.

    Returns
    -------
    low, high : float
        NaN when the metric is NaN on every resample.

    See Also
    --------
    held_out_ci : For metrics that choose a threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import bootstrap_ci, membership_auc
    >>> membership = np.r_[np.ones(100), np.zeros(100)]
    >>> scores = membership + np.random.default_rng(0).normal(size=200)
    >>> low, high = bootstrap_ci(membership_auc, membership, scores, random_state=0)
    >>> bool(low < membership_auc(membership, scores) < high)
    True

    A metric of your own must be vouched for:

    >>> def median_gap(membership, scores):
    ...     members = membership == 1
    ...     return np.median(scores[members]) - np.median(scores[~members])
    >>> low, high = bootstrap_ci(
    ...     median_gap, membership, scores, threshold_free=True, random_state=0
    ... )
    """
    _check_threshold_free(metric, threshold_free)
    membership, scores = check_membership(membership, scores)
    (rng,) = spawn_generators(random_state, 1)
    members, others = np.flatnonzero(membership), np.flatnonzero(~membership)
    values = np.empty(n_resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedMetricWarning)
        for b in range(n_resamples):
            idx = np.r_[
                rng.choice(members, len(members)), rng.choice(others, len(others))
            ]
            values[b] = metric(membership[idx].astype(int), scores[idx])
    if np.isnan(values).all():
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2
    low, high = np.nanquantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _check_threshold_free(metric, threshold_free):
    """Refuse a metric unless it, or the caller, declares it threshold-free."""
    declared = metric
    while isinstance(declared, functools.partial):
        declared = declared.func
    # A metric's own declaration wins over the caller's.
    chooses = getattr(declared, "_chooses_threshold", None)
    if chooses is None and threshold_free is not None:
        chooses = not threshold_free
    if chooses is False:
        return
    name = getattr(declared, "__name__", type(declared).__name__)
    held_out = getattr(declared, "_held_out_metric", None)
    instead = (
        f"Use held_out_ci(membership, scores, metric={held_out!r}), which chooses "
        "the threshold on one half of the records and estimates on the other."
        if held_out
        else "held_out_ci gives valid intervals of the advantage, the balanced "
        "accuracy and the TPR at an FPR."
    )
    if chooses:
        raise ValueError(
            f"bootstrap_ci cannot give a valid interval for {name}: it chooses a "
            f"threshold on the records it resamples. {instead}"
        )
    raise ValueError(
        f"bootstrap_ci cannot tell whether {name} chooses a threshold on the "
        "records it measures (a best threshold, a rate at a fixed FPR), which "
        "makes a bootstrap interval invalid: pass threshold_free=True if it "
        f"chooses nothing. {instead}"
    )


@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "metric": [StrOptions({"advantage", "balanced_accuracy", "tpr_at_fpr"})],
        "fpr": [Interval(Real, 0, 1, closed="both")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def held_out_ci(
    membership,
    scores,
    *,
    metric: str = "advantage",
    fpr: float = 0.01,
    confidence: float = 0.95,
    random_state=None,
):
    """Confidence interval of a threshold metric, estimated on held-out records.

    The metrics that pick the best threshold on the records they measure
    (advantage, balanced accuracy, TPR at an FPR) are optimistic on those
    records, and a bootstrap of them repeats the choice. Here the threshold is
    never chosen on the records that estimate the rate at it:

    * ``"advantage"`` and ``"balanced_accuracy"``: the records are split in two
      stratified halves; the threshold ``t`` maximising ``TPR - FPR`` on the
      first is applied to the second, where Clopper-Pearson intervals of its
      TPR and FPR, each at ``1 - (1 - confidence) / 2``, give
      ``[TPR_lo - FPR_hi, TPR_hi - FPR_lo]`` (union bound). With probability at
      least ``confidence`` it contains ``TPR(t) - FPR(t)`` (or
      ``(1 + TPR(t) - FPR(t)) / 2``), the true value at ``t``; no threshold
      beats the best, so its lower end is also a lower confidence bound on the
      best advantage (balanced accuracy).
    * ``"tpr_at_fpr"``: the TPR at FPR ``fpr`` of the randomised-threshold ROC,
      as :func:`tpr_at_fpr` reads it. Ties are broken by an independent
      uniform key ``U`` per record: the order of ``(score, U)`` has no ties,
      and its population ROC is the randomised-threshold ROC of the score.
      The order statistics of the non-members' keys give thresholds
      ``t_hi >= q >= t_lo`` around the key ``q`` whose FPR is ``fpr`` (a
      distribution-free interval of the ``1 - fpr`` quantile, at
      ``1 - (1 - confidence) / 2``); the members, independent of them, give a
      Clopper-Pearson lower bound of ``TPR(t_hi)`` and upper bound of
      ``TPR(t_lo)`` (each at ``(1 - confidence) / 4``). As the TPR falls with
      the threshold, the interval contains ``TPR(q)``, the true TPR at FPR
      ``fpr``, with probability at least ``confidence``, tied scores
      included. The point estimate of :func:`tpr_at_fpr` averages over the
      coin instead of drawing it; where the draw of ``U`` leaves it outside
      (rare), the interval is widened to hold it, which keeps the coverage.

    The guarantees assume the members' scores are independent draws from one
    distribution and the non-members' from another. For the members of one
    training run that holds only approximately (the model depends on all of
    them), as for any interval computed from one run's records.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    metric : {"advantage", "balanced_accuracy", "tpr_at_fpr"}, default="advantage"
        The metric.
    fpr : float, default=0.01
        FPR of ``"tpr_at_fpr"``. The non-members must resolve it (at least
        ``10 / fpr`` of them), else the interval is NaN with an
        :class:`~skprivacy.exceptions.UnresolvedMetricWarning`.
    confidence : float, default=0.95
        Coverage of the interval.
    random_state : int, RandomState instance or None, default=None
        Seed of the split (advantage and balanced accuracy) and of the keys
        that break ties (TPR at an FPR; without ties the interval does not
        depend on it). Pass an int for reproducible intervals.

    Returns
    -------
    low, high : float

    See Also
    --------
    bootstrap_ci : Intervals of metrics that choose no threshold (AUC).

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import held_out_ci
    >>> membership = np.r_[np.ones(500), np.zeros(500)]
    >>> scores = np.random.default_rng(0).normal(size=1000)  # no leakage
    >>> low, high = held_out_ci(membership, scores, random_state=0)
    >>> bool(low <= 0 <= high)
    True

    On tied scores (a label-only attack: correct or not) the TPR interval
    holds the rate of :func:`tpr_at_fpr`, near chance here.

    >>> from skprivacy.audit import tpr_at_fpr
    >>> membership = np.r_[np.ones(1000), np.zeros(1000)]
    >>> correct = np.random.default_rng(0).random(2000) < 0.8  # no leakage
    >>> round(tpr_at_fpr(membership, correct, fpr=0.01), 4)
    0.0099
    >>> low, high = held_out_ci(
    ...     membership, correct, metric="tpr_at_fpr", fpr=0.01, random_state=0
    ... )
    >>> bool(low <= 0.01 <= high)
    True
    """
    membership, scores = check_membership(membership, scores)
    if metric == "tpr_at_fpr":
        n_out = (~membership).sum()
        if not fpr_resolved(n_out, fpr):
            _warn_unresolved(n_out, fpr, stacklevel=2)
            return float("nan"), float("nan")
        (rng,) = spawn_generators(random_state, 1)
        return tpr_interval(membership, scores, fpr, confidence, rng)
    first = _stratified_half(membership, random_state)
    m, s = membership[first], scores[first]
    n_in, n_out = m.sum(), (~m).sum()
    if min(n_in, n_out, (membership & ~first).sum(), (~membership & ~first).sum()) < 1:
        raise ValueError(
            "held_out_ci needs at least 2 members and 2 non-members (one of each "
            "per half)."
        )
    tp, fp, thresholds = roc_vertices(m, s)
    threshold = thresholds[best_advantage(tp, fp)]
    m, flagged = membership[~first], scores[~first] >= threshold
    each = 1 - (1 - confidence) / 2
    tpr_lo, tpr_hi = clopper_pearson((flagged & m).sum(), m.sum(), each)
    fpr_lo, fpr_hi = clopper_pearson((flagged & ~m).sum(), (~m).sum(), each)
    low, high = float(tpr_lo - fpr_hi), float(tpr_hi - fpr_lo)
    if metric == "balanced_accuracy":
        return 0.5 * (1 + low), 0.5 * (1 + high)
    return low, high
