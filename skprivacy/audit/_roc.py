"""The randomised-threshold ROC: the one definition behind every membership rate.

A membership test flags a record whose score is above a threshold ``t`` and,
when the score equals ``t``, flips a coin that says "member" with probability
``p``. Over ``t`` and ``p`` these tests reach every point of the polyline
through the vertices of the deterministic tests ``score >= t`` (one vertex per
distinct score, from ``(0, 0)``): a block of tied scores is a straight segment
along which ``p`` moves. Every rate at a false-positive rate is read on that
polyline at exactly the rate asked (the top of a vertical segment, where the
rate falls on one). Deterministic tests alone reach only the vertices, and the
best vertex below the rate reads TPR 0 when a large tied block straddles it,
less than an attacker who breaks the tie with a coin achieves (TPR = FPR for a
release with constant outputs). For scores without ties between members and
non-members the two readings agree.

The advantage ``TPR - FPR`` is linear along each segment, so its maximum is at
a vertex; the area under the polyline is the AUC with ties counting one half.
Intervals break ties with an independent uniform key ``U`` per record: the
order of ``(score, U)`` has no ties, and its population ROC is the
randomised-threshold ROC of the score, so intervals built for continuous
scores keep their coverage on tied ones.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.utils import Bunch

from skprivacy.utils._stats import clopper_pearson_lower, clopper_pearson_upper


def sort_blocks(scores):
    """Order of decreasing scores, and the mask (in that order) of the last
    record of each block of tied scores."""
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    return order, np.r_[s[1:] != s[:-1], True]


def vertices(member, last, weights=None):
    """Counts ``(tp, fp)`` of the tests ``score >= t``, from ``(0, 0)``.

    ``member`` and ``weights`` (trial multiplicities, e.g. of a bootstrap
    resample) are in the order of :func:`sort_blocks`, ``last`` its mask.
    """
    hits, misses = member, ~member
    if weights is not None:
        hits, misses = weights * hits, weights * misses
    return np.r_[0, np.cumsum(hits)[last]], np.r_[0, np.cumsum(misses)[last]]


def roc_vertices(membership, scores):
    """``(tp, fp, thresholds)`` of the tests ``score >= t``, from ``t = inf``."""
    order, last = sort_blocks(scores)
    tp, fp = vertices(membership[order], last)
    return tp, fp, np.r_[np.inf, scores[order][last]]


def _locate(fp, fpr):
    """Where FP count ``fpr * n_out`` falls: the last vertex ``i`` at or below
    it, the next vertex, and the fraction of the segment between them."""
    n_out = fp[-1]
    k = np.asarray(fpr, dtype=float) * n_out
    # A rate written in decimal (0.001 * 3000) may land a rounding error below
    # the vertex it names; the slack only matters at a vertex.
    i = np.searchsorted(fp, k + 1e-9 * n_out, side="right") - 1
    following = np.minimum(i + 1, len(fp) - 1)
    width = fp[following] - fp[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(width > 0, np.clip((k - fp[i]) / width, 0.0, 1.0), 0.0)
    return i, following, fraction


def tpr_at(tp, fp, fpr):
    """TPR of the randomised-threshold ROC at false-positive rate(s) ``fpr``.

    ``tp`` and ``fp`` are the (possibly weighted) counts of :func:`vertices`.
    """
    i, following, fraction = _locate(fp, fpr)
    return (tp[i] + fraction * (tp[following] - tp[i])) / tp[-1]


def operating_point(tp, fp, thresholds, fpr):
    """The test that reaches :func:`tpr_at` at ``fpr``, and the ties it meets.

    Returns a Bunch: ``tpr``; ``fpr``, the rate the test reaches (``fpr``
    itself when a coin is needed, else that of the first vertex with this TPR,
    which may be lower); ``threshold`` and ``flag_probability``, the test "flag
    if score > threshold, and with this probability if score == threshold" (1
    when no coin is needed); ``tied_non_members`` and ``tied_members``, the
    shares of each class whose score equals the threshold.
    """
    i, following, fraction = _locate(fp, float(fpr))
    i, following, fraction = int(i), int(following), float(fraction)
    n_in, n_out = tp[-1], fp[-1]
    if fraction > 0 and tp[following] > tp[i]:
        # Inside a block of members and non-members: the coin reaches the rate.
        block, probability = following, fraction
        rates = (
            (tp[i] + fraction * (tp[following] - tp[i])) / n_in,
            (fp[i] + fraction * (fp[following] - fp[i])) / n_out,
        )
    else:
        # The first vertex with this TPR: the one with the fewest false positives.
        block, probability = int(np.searchsorted(tp, tp[i], side="left")), 1.0
        rates = (tp[block] / n_in, fp[block] / n_out)
    tied = (
        ((tp[block] - tp[block - 1]) / n_in, (fp[block] - fp[block - 1]) / n_out)
        if block > 0
        else (0.0, 0.0)
    )
    return Bunch(
        tpr=float(rates[0]),
        fpr=float(rates[1]),
        threshold=float(thresholds[block]),
        flag_probability=float(probability),
        tied_non_members=float(tied[1]),
        tied_members=float(tied[0]),
    )


def area(tp, fp):
    """Area under the polyline: ``P(s_member > s_non-member) + ½ P(tie)``."""
    return float(np.sum(np.diff(fp) * (tp[1:] + tp[:-1])) / (2 * tp[-1] * fp[-1]))


def best_advantage(tp, fp):
    """Index of the vertex maximising ``TPR - FPR`` (no point between two
    vertices does better: the advantage is linear along a segment)."""
    return int(np.argmax(tp / tp[-1] - fp / fp[-1]))


def tie_broken_ranks(scores, rng):
    """Ranks of the records in the order of ``(score, U)``, ``U`` uniform.

    The ranks have no ties; without ties in ``scores`` they do not depend on
    ``U``.
    """
    order = np.lexsort((rng.random(len(scores)), scores))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def tpr_interval(membership, scores, fpr, confidence, rng):
    """Distribution-free interval of the randomised-threshold TPR at ``fpr``.

    With the ties broken by :func:`tie_broken_ranks`, the key ``q`` whose
    population FPR is ``fpr`` is exact. ``#{non-member keys <= q}`` is
    ``Binomial(n_out, 1 - fpr)``, so two order statistics of the non-members'
    keys bracket ``q`` (``t_lo <= q <= t_hi``), each failing with probability at
    most ``alpha / 4``; the members, independent of them, give a
    Clopper-Pearson lower bound of ``TPR(t_hi) <= TPR(q)`` and an upper bound
    of ``TPR(t_lo) >= TPR(q)``, each at ``alpha / 4``. The point estimate
    (:func:`tpr_at`) averages over the coin instead of drawing it, so a draw of
    ``U`` can leave it just outside (measured: 3 times in 2,000 on leaky binary
    scores); the interval is then widened to hold it, which keeps the coverage.
    """
    keys = tie_broken_ranks(scores, rng)
    null = np.sort(keys[~membership])
    n_out = null.size
    alpha = 1 - confidence
    lower = int(stats.binom.ppf(alpha / 4, n_out, 1 - fpr))
    upper = int(stats.binom.ppf(1 - alpha / 4, n_out, 1 - fpr)) + 1
    t_lo = null[lower - 1] if lower >= 1 else -1
    t_hi = null[upper - 1] if upper <= n_out else keys.size
    members = keys[membership]
    low = clopper_pearson_lower((members > t_hi).sum(), members.size, alpha / 4)
    high = clopper_pearson_upper((members > t_lo).sum(), members.size, alpha / 4)
    tp, fp, _ = roc_vertices(membership, scores)
    point = tpr_at(tp, fp, fpr)
    return float(min(low, point)), float(max(high, point))
