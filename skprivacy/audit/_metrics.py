"""Point metrics of membership attacks: ROC, AUC, TPR at low FPR, advantage,
PPV (intervals: ``_intervals``; p-values and slices: ``_significance``; epsilon
bounds: ``_epsilon``).

Conventions: ``membership`` is 1 for members and 0 for non-members; ``scores``
are higher for records the attack believes are members. Every rate is read on
the randomised-threshold ROC of :mod:`skprivacy.audit._roc`, and every interval
is computed on the same definition.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.utils import Bunch, check_consistent_length, column_or_1d

from skprivacy.audit._roc import (
    area,
    best_advantage,
    operating_point,
    roc_vertices,
    tpr_at,
)
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils._sklearn_compat import Interval, validate_params


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
