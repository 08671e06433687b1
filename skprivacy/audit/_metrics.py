"""Metrics of membership attacks: ROC, TPR at low FPR, advantage, PPV,
Clopper-Pearson and bootstrap intervals, slices (epsilon bounds: ``_epsilon``).

Conventions: ``membership`` is 1 for members and 0 for non-members; ``scores``
are higher for records the attack believes are members. Every rate is read on
the randomised-threshold ROC of :mod:`skprivacy.audit._roc`, and every interval
is computed on the same definition.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import Bunch, check_consistent_length, column_or_1d

from skprivacy.audit._roc import (
    area,
    best_advantage,
    operating_point,
    roc_vertices,
    tpr_at,
    tpr_interval,
)
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params
from skprivacy.utils._stats import clopper_pearson_lower, clopper_pearson_upper


def check_membership(membership, scores):
    membership = column_or_1d(membership)
    scores = column_or_1d(scores).astype(np.float64)
    check_consistent_length(membership, scores)
    values = np.unique(membership)
    if not np.isin(values, [0, 1]).all():
        raise ValueError(
            "membership must contain only 0 (non-member) and 1 (member); got "
            f"values {values[:5].tolist()}. Encode members as 1, e.g. "
            "membership = (labels == 'member').astype(int)."
        )
    membership = membership.astype(bool)
    if membership.all() or not membership.any():
        raise ValueError(
            "membership must contain both members (1) and non-members (0) to "
            "measure an attack."
        )
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite.")
    return membership, scores


def _declare(*, chooses_threshold, held_out=None):
    """Declare whether a metric chooses a threshold on the records it measures.

    :func:`bootstrap_ci` reads the declaration (through
    :func:`functools.partial`) and refuses metrics that choose one: a
    resample repeats the choice. ``held_out`` names the :func:`held_out_ci`
    metric to use instead.
    """

    def declare(metric):
        metric._chooses_threshold = chooses_threshold
        metric._held_out_metric = held_out
        return metric

    return declare


@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_roc_curve(membership, scores):
    """ROC curve of a membership attack, with every threshold kept.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores, higher for likely members.

    Returns
    -------
    fpr, tpr, thresholds : ndarray
        The rates of the tests ``score >= thresholds[i]``, one per distinct
        score from ``inf``: as :func:`sklearn.metrics.roc_curve` with
        ``drop_intermediate=False`` (the low-FPR end is what matters, so no
        point is dropped). The ROC of the attack is the polyline through these
        points: a block of tied scores is a straight segment, reached by
        flagging a random share of the tied records (see :func:`tpr_at_fpr`).

    See Also
    --------
    membership_auc : The area under this curve.
    tpr_at_fpr : One point of it, exactly.
    MembershipInferenceDisplay : Draws it.

    Examples
    --------
    >>> from skprivacy.audit import membership_roc_curve
    >>> fpr, tpr, _ = membership_roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> tpr.tolist()
    [0.0, 0.5, 0.5, 1.0, 1.0]
    """
    membership, scores = check_membership(membership, scores)
    tp, fp, thresholds = roc_vertices(membership, scores)
    return fp / fp[-1], tp / tp[-1], thresholds


@_declare(chooses_threshold=False)
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_auc(membership, scores) -> float:
    """Area under the ROC curve, ``P(s_member > s_non-member) + ½ P(tie)``.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.

    Returns
    -------
    auc : float

    See Also
    --------
    membership_roc_curve : The curve.
    bootstrap_ci : Its confidence interval.

    Examples
    --------
    >>> from skprivacy.audit import membership_auc
    >>> membership_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    membership, scores = check_membership(membership, scores)
    # The area under the ROC polyline is the Mann-Whitney statistic (ties count
    # one half): the value of roc_auc_score, without its checks on every resample.
    tp, fp, _ = roc_vertices(membership, scores)
    return area(tp, fp)


def fpr_resolved(n_non_members, fpr) -> bool:
    """Whether ``n_non_members`` resolve a false-positive rate of ``fpr``."""
    return fpr > 0 and n_non_members >= 10 / fpr


def _warn_unresolved(n_non_members, fpr, stacklevel=3):
    needed = "no finite number of" if fpr == 0 else f"at least {int(np.ceil(10 / fpr))}"
    warnings.warn(
        f"{n_non_members} non-members cannot resolve a false-positive rate of "
        f"{fpr:g}: the rate moves in steps of {1 / n_non_members:.2g}, and a TPR at "
        f"this FPR needs {needed} non-members (10 / FPR); it is reported as NaN.",
        UnresolvedMetricWarning,
        stacklevel=stacklevel,
    )


# The fields of tpr_at_fpr(..., return_details=True), as operating_point names them.
_DETAILS = (
    "tpr",
    "fpr",
    "threshold",
    "flag_probability",
    "tied_non_members",
    "tied_members",
)


@_declare(chooses_threshold=True, held_out="tpr_at_fpr")
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "fpr": [Interval(Real, 0, 1, closed="both")],
        "return_details": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def tpr_at_fpr(
    membership, scores, fpr: float = 0.01, *, return_details: bool = False
) -> float | Bunch:
    """True-positive rate at a false-positive rate of exactly ``fpr``.

    The rate is read on the randomised-threshold ROC: the test "flag a record
    whose score is above ``t``, and one whose score equals ``t`` with
    probability ``p``" whose FPR is ``fpr``, which an attacker can always run
    by breaking ties with a coin. Between two observed scores nothing is
    interpolated: with no ties between members and non-members this is the
    best TPR among the thresholds actually observed with FPR at most ``fpr``
    (Carlini et al. 2022, Sec. 3.2). Inside a block of tied scores the rate
    moves linearly with ``p``, so ties never read below chance (a release with
    constant outputs has TPR = FPR), where the best observed threshold would
    read 0. ``return_details`` tells how much of the rate rests on the coin.

    The false-positive rate moves in steps of ``1 / n_non_members``, so an FPR
    is only resolved with at least ``10 / fpr`` non-members: with fewer (and
    always at ``fpr=0``) the result is NaN, with an
    :class:`~skprivacy.exceptions.UnresolvedMetricWarning`.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    fpr : float, default=0.01
        The false-positive rate.
    return_details : bool, default=False
        Return the test behind the rate as well.

    Returns
    -------
    tpr : float or Bunch
        NaN when fewer than ``10 / fpr`` non-members resolve ``fpr``. With
        ``return_details``, a :class:`~sklearn.utils.Bunch` with ``tpr``;
        ``fpr``, the rate the test reaches (below ``fpr`` when no coin is
        needed and the next non-member would exceed it); ``threshold`` and
        ``flag_probability``, the test "flag if score > threshold, and with
        this probability if score == threshold" (1 when no coin is needed);
        ``tied_non_members`` and ``tied_members``, the shares of each class
        whose score equals the threshold. A large tied share with a
        probability below 1 means the rate is reached only by flagging part
        of a block of identical scores at random (all NaN when unresolved).

    See Also
    --------
    held_out_ci : Its confidence interval.
    ppv_at_fpr : The precision at the same FPR.

    Examples
    --------
    >>> from skprivacy.audit import tpr_at_fpr
    >>> import numpy as np
    >>> membership = np.r_[np.ones(10), np.zeros(1000)]
    >>> scores = np.r_[np.arange(10) + 990.5, np.arange(1000)]
    >>> tpr_at_fpr(membership, scores, fpr=0.01)
    1.0
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     tpr_at_fpr(membership, scores, fpr=0.005)
    nan
    >>> print(caught[0].message)
    1000 non-members cannot resolve a false-positive rate of 0.005: ...

    A release with constant outputs: every record is tied, and the rate at 1%
    FPR is reached by flagging 1% of them at random.

    >>> membership = np.r_[np.ones(1000), np.zeros(1000)]
    >>> details = tpr_at_fpr(membership, np.zeros(2000), 0.01, return_details=True)
    >>> details.tpr, details.flag_probability, details.tied_non_members
    (0.01, 0.01, 1.0)
    """
    membership, scores = check_membership(membership, scores)
    if not fpr_resolved((~membership).sum(), fpr):
        _warn_unresolved((~membership).sum(), fpr)
        if return_details:
            return Bunch(**dict.fromkeys(_DETAILS, float("nan")))
        return float("nan")
    tp, fp, thresholds = roc_vertices(membership, scores)
    if return_details:
        return operating_point(tp, fp, thresholds, fpr)
    return float(tpr_at(tp, fp, fpr))


@_declare(chooses_threshold=True, held_out="advantage")
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_advantage(membership, scores) -> float:
    """Membership advantage ``max_t (TPR - FPR)`` (Yeom et al. 2018, Def. 4).

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.

    Returns
    -------
    advantage : float
        In ``[0, 1]``; 0 means the attack does no better than chance.

    See Also
    --------
    membership_balanced_accuracy : The same threshold, as an accuracy.
    held_out_ci : Its confidence interval.

    Examples
    --------
    >>> from skprivacy.audit import membership_advantage
    >>> membership_advantage([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    membership, scores = check_membership(membership, scores)
    # TPR - FPR is linear along each tied segment: a vertex is the best test.
    tp, fp, _ = roc_vertices(membership, scores)
    best = best_advantage(tp, fp)
    return float(tp[best] / tp[-1] - fp[best] / fp[-1])


@_declare(chooses_threshold=True, held_out="balanced_accuracy")
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_balanced_accuracy(membership, scores) -> float:
    """Best balanced accuracy ``max_t ½(TPR + TNR) = ½(1 + advantage)``.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.

    Returns
    -------
    balanced_accuracy : float

    See Also
    --------
    membership_advantage : The same threshold, as TPR - FPR.
    held_out_ci : Its confidence interval.

    Examples
    --------
    >>> from skprivacy.audit import membership_balanced_accuracy
    >>> membership_balanced_accuracy([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    return 0.5 * (1.0 + membership_advantage(membership, scores))


@_declare(chooses_threshold=True)
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "fpr": [Interval(Real, 0, 1, closed="both")],
        "prior": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def ppv_at_fpr(membership, scores, fpr: float = 0.01, prior: float = 0.5) -> float:
    """Positive predictive value of the test of :func:`tpr_at_fpr` at ``fpr``.

    ``PPV = TPR pi / (TPR pi + FPR (1 - pi))`` for a prior share ``pi`` of
    members among the records attacked, with the TPR and FPR that test reaches
    (its FPR is below ``fpr`` when the next non-member would exceed it and no
    coin is needed). On tied scores the test flags part of a block at random,
    so a release with constant outputs has PPV ``pi``: chance.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    fpr : float, default=0.01
        Largest false-positive rate allowed.
    prior : float, default=0.5
        Share of members in the population attacked.

    Returns
    -------
    ppv : float
        NaN when no record is flagged at that FPR, or when fewer than
        ``10 / fpr`` non-members resolve it (with an
        :class:`~skprivacy.exceptions.UnresolvedMetricWarning`, as
        :func:`tpr_at_fpr`).

    See Also
    --------
    tpr_at_fpr : The TPR at the same FPR.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import ppv_at_fpr
    >>> membership = np.r_[np.ones(100), np.zeros(1000)]
    >>> scores = np.r_[np.full(100, 5.0), np.arange(1000) / 1000]
    >>> ppv_at_fpr(membership, scores, fpr=0.01)
    1.0
    """
    membership, scores = check_membership(membership, scores)
    n_out = (~membership).sum()
    if not fpr_resolved(n_out, fpr):
        _warn_unresolved(n_out, fpr)
        return float("nan")
    point = operating_point(*roc_vertices(membership, scores), fpr)
    denominator = point.tpr * prior + point.fpr * (1 - prior)
    if denominator == 0:  # nothing is flagged
        return float("nan")
    return float(point.tpr * prior / denominator)


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


@validate_params(
    {
        "scores": ["array-like"],
        "null_scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_p_values(scores, null_scores):
    """Conformal p-values of "non-member" for each record.

    ``p(x) = (1 + #{null >= s(x)}) / (1 + n_null)``: if a record is a non-member
    exchangeable with the null records, ``P(p <= alpha) <= alpha`` for every
    ``alpha`` (Vovk et al. 2005), whatever the score distribution.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Attack scores of the records.
    null_scores : array-like of shape (n_null,)
        Attack scores of known non-members (population or reference records).

    Returns
    -------
    p_values : ndarray of shape (n_samples,)

    See Also
    --------
    skprivacy.MembershipInferenceAuditor.p_values : The auditor's p-values.

    Examples
    --------
    >>> from skprivacy.audit import membership_p_values
    >>> membership_p_values([0.5, 3.0], [0.0, 1.0, 2.0]).tolist()
    [0.75, 0.25]
    """
    scores = column_or_1d(scores).astype(np.float64)
    null = np.sort(column_or_1d(null_scores).astype(np.float64))
    at_least = len(null) - np.searchsorted(null, scores, side="left")
    return (1.0 + at_least) / (1.0 + len(null))


@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "groups": ["array-like"],
        "fpr": [Interval(Real, 0, 1, closed="both")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def slice_metrics(
    membership,
    scores,
    groups,
    *,
    fpr: float = 0.01,
    min_size: int = 10,
) -> pd.DataFrame:
    """Attack metrics per slice, with Holm-corrected p-values.

    Each slice gets its AUC, TPR at ``fpr`` and advantage, and the one-sided
    Mann-Whitney p-value of "the attack does no better than chance on this
    slice" (AUC <= ½). Testing many slices finds some "leaky" by chance, so the
    p-values are also adjusted with Holm's step-down method, which controls the
    family-wise error rate (Holm 1979).

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    groups : array-like of shape (n_samples,)
        Slice of each record (class label, sensitive attribute...). Missing
        values (None, NaN, NaT) form one slice of their own, so the slices
        hold every record.
    fpr : float, default=0.01
        FPR at which the TPR is reported (NaN in slices whose non-members do
        not resolve it, fewer than ``10 / fpr``).
    min_size : int, default=10
        Slices with fewer members or non-members get NaN metrics.

    Returns
    -------
    table : pandas.DataFrame
        One row per slice: ``slice``, ``n_members``, ``n_non_members``, ``auc``,
        ``tpr_at_fpr``, ``advantage``, ``p_value``, ``p_value_holm``.

    See Also
    --------
    membership_auc : The AUC of one slice.
    tpr_at_fpr : The TPR of one slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import slice_metrics
    >>> membership = np.tile([1, 0], 100)
    >>> groups = np.repeat(["a", "b"], 100)
    >>> scores = membership * (groups == "a") + np.random.default_rng(0).random(200)
    >>> slice_metrics(membership, scores, groups)["auc"].round(2).tolist()
    [1.0, 0.5...]
    """
    membership, scores = check_membership(membership, scores)
    groups = column_or_1d(groups)
    check_consistent_length(membership, groups)
    # Codes, not `groups == value`, which never holds for a missing value.
    codes, values = pd.factorize(groups, use_na_sentinel=False)
    rows = []
    for code, value in enumerate(values):
        mask = codes == code
        m, s = membership[mask], scores[mask]
        row = {
            "slice": value,
            "n_members": int(m.sum()),
            "n_non_members": int((~m).sum()),
        }
        if min(row["n_members"], row["n_non_members"]) < min_size:
            row.update(auc=np.nan, tpr_at_fpr=np.nan, advantage=np.nan, p_value=np.nan)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnresolvedMetricWarning)
                row.update(
                    auc=membership_auc(m, s),
                    tpr_at_fpr=tpr_at_fpr(m, s, fpr),
                    advantage=membership_advantage(m, s),
                    p_value=float(
                        stats.mannwhitneyu(s[m], s[~m], alternative="greater").pvalue
                    ),
                )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_value_holm"] = _holm(table["p_value"].to_numpy(dtype=float))
    return table


def _holm(p_values):
    """Holm's step-down adjusted p-values (NaN entries are left out)."""
    adjusted = np.full_like(p_values, np.nan)
    valid = np.flatnonzero(~np.isnan(p_values))
    order = valid[np.argsort(p_values[valid])]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
