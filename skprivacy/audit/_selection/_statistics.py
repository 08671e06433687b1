"""The statistics of the many-model game: pooled curves and crossed bootstraps.

A trial of :class:`DefenseEvaluation` is a (model, record) pair; trials share
models and records, so their rates are resampled as a crossed design
(:func:`_crossed_replicates`), on curves sorted once (:class:`_Curve`).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from skprivacy.audit._epsilon import epsilon_bounds
from skprivacy.audit._report_base import fpr_key
from skprivacy.audit._roc import area, roc_vertices, sort_blocks, tpr_at, vertices


class _Curve:
    """Pooled trials of one (point, attack, record set), sorted once.

    Bootstrap resamples reweight the trials (a record drawn twice counts twice)
    instead of re-sorting them, so each resample costs a cumulative sum; the
    rates are read on the randomised-threshold ROC of the weighted counts, as
    every rate is (:mod:`skprivacy.audit._roc`). With unit weights the
    statistics equal :func:`membership_auc` and :func:`tpr_at_fpr` (tested).
    """

    def __init__(self, scores, membership):
        self.order, self.last = sort_blocks(scores.ravel())
        self.member = membership.ravel()[self.order]

    def stats(self, weights, fprs):
        """AUC and TPR at each FPR of trials weighted by ``weights`` (flat)."""
        tp, fp = vertices(self.member, self.last, weights.ravel()[self.order])
        if tp[-1] <= 0 or fp[-1] <= 0:
            return np.nan, np.full(len(fprs), np.nan)
        return area(tp, fp), tpr_at(tp, fp, np.asarray(fprs, dtype=float))


def _dp_consistent(membership, scores, epsilon, delta, confidence):
    """Whether every threshold's (TPR, FPR) is within the DP bound, up to CIs.

    At each distinct threshold, the Clopper-Pearson bound of
    :func:`empirical_epsilon` (lower TPR, upper FPR; both inequalities of
    (epsilon, delta)-DP) must not exceed ``epsilon``. The confidence is split
    over the thresholds (Bonferroni), so a correct DP mechanism is flagged with
    probability at most ``1 - confidence`` for independent trials. The tests
    that flag tied scores at random reach the segments between these vertices;
    the two inequalities are linear in (FPR, TPR), so a segment respects them
    where both its ends do, and the vertices suffice.
    """
    if not np.isfinite(epsilon):
        return np.nan
    tp, fp, _ = roc_vertices(membership, scores)
    level = 1.0 - (1.0 - confidence) / len(tp)
    bounds = epsilon_bounds(tp, fp, membership.sum(), (~membership).sum(), delta, level)
    return bool(bounds.max() <= epsilon)


def _weights(rng, groups, n_resamples):
    """Bootstrap multiplicities (B, n): each group of indices resampled alone."""
    size = sum(len(g) for g in groups)
    out = np.zeros((n_resamples, size))
    for group in groups:
        if len(group):
            draws = rng.integers(len(group), size=(n_resamples, len(group)))
            for b in range(n_resamples):
                out[b, group] = np.bincount(draws[b], minlength=len(group))
    return out


def _crossed_replicates(estimate, both, models, records, n_models, n_records):
    """Bootstrap replicates of a statistic of a crossed (models x records) design.

    ``both[b]`` is the statistic with models and records resampled together
    (a trial counts the model's multiplicity times the record's: the
    pigeonhole bootstrap of Owen 2007), ``models[b]`` with the models of the
    same draw only, ``records[b]`` with its records only. For a mean over
    ``M`` models and ``n`` records with model, record and interaction
    variances ``s_m``, ``s_r`` and ``s_e``, the variance is
    ``s_m / M + s_r / n + s_e / (M n)``, but the pigeonhole bootstrap gives
    about ``s_m / M + s_r / n + 3 s_e / (M n)``: the model averages it
    resamples carry ``s_e / n`` each, the record averages ``s_e / M``, and
    the interaction counts once more (conservative, as Owen & Eckles 2012
    show in general). Membership scores are dominated by the interaction, so
    its intervals came out up to sqrt(3) too wide. With common draws,
    ``models - estimate`` and ``records - estimate`` are the two main parts
    and ``both - models - records + estimate`` the interaction part, of
    variance ``s_e / (M n)``; so ``var(models) + var(records) -
    var(interaction)`` estimates the variance (a moment correction, as for
    the variance components of a two-way random-effects model; each variance
    is scaled by ``k / (k - 1)`` for its ``k`` resampled units, which makes
    the estimate unbiased for a mean). For the TPR, a threshold statistic,
    the interaction part also holds the non-additive remainder, which pulls
    the estimate down: it is therefore kept at least the larger of the two
    main parts, each of which the truth exceeds, and at most the pigeonhole
    variance, which exceeds the truth. The pigeonhole replicates are then
    scaled around the estimate to that variance, so percentile intervals
    and paired comparisons keep their shape. With a single model or record
    there is nothing to correct.
    """
    both, models, records = (
        np.asarray(v, dtype=float) for v in (both, models, records)
    )
    usable = np.isfinite(both) & np.isfinite(models) & np.isfinite(records)
    if min(n_models, n_records) < 2 or not np.isfinite(estimate) or usable.mean() < 0.5:
        return both
    b, m, r = both[usable], models[usable], records[usable]
    v_both = b.var()
    if v_both == 0:
        return both
    # A bootstrap of k units has (k - 1) / k of the variance it estimates.
    c_m, c_r = n_models / (n_models - 1), n_records / (n_records - 1)
    v_m, v_r = c_m * m.var(), c_r * r.var()
    v_e = c_m * c_r * (b - m - r + estimate).var()
    variance = np.clip(v_m + v_r - v_e, max(v_m, v_r), c_m * c_r * v_both)
    return estimate + np.sqrt(variance / v_both) * (both - estimate)


def _leakage_replicates(scores, member, model_w, record_w, fprs, estimates):
    """Crossed-bootstrap replicates of the AUC and TPRs of one (M, n) trial array.

    ``model_w`` (B, M) and ``record_w`` (B, n) are the draws; each is also
    applied alone, for the correction of :func:`_crossed_replicates`. A TPR
    whose estimate is NaN (unresolved) has NaN replicates.
    """
    curve = _Curve(scores, member)
    ones_model, ones_record = np.ones(scores.shape[0]), np.ones(scores.shape[1])
    values = []
    for w_model, w_record in zip(model_w, record_w, strict=True):
        draws = ((w_model, w_record), (w_model, ones_record), (ones_model, w_record))
        # Trial weights: a model drawn k times and a record drawn l times
        # count k * l times; built per draw to keep memory at one (M, n).
        stats = [curve.stats(np.outer(wm, wr), fprs) for wm, wr in draws]
        values.append([[auc, *tprs] for auc, tprs in stats])
    values = np.array(values)  # (B, 3 draws, 1 + len(fprs))
    boot = {}
    for k, key in enumerate(["auc", *(fpr_key(f) for f in fprs)]):
        if np.isfinite(estimates[key]):
            replicates = _crossed_replicates(
                estimates[key], *values[:, :, k].T, *scores.shape
            )
            # Rates: the shrunk replicates stay in [0, 1].
            boot[key] = np.clip(replicates, 0.0, 1.0)
        else:
            boot[key] = np.full(len(values), np.nan)
    return boot


def _interval(name, values, confidence):
    """``{name_low, name_high}``: the percentile interval of bootstrap values."""
    return dict(
        zip((f"{name}_low", f"{name}_high"), _ci(values, confidence), strict=True)
    )


def _ci(values, confidence):
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if finite.mean() < 0.5:
        return np.nan, np.nan
    tail = (1 - confidence) / 2
    low, high = np.quantile(values[finite], [tail, 1 - tail])
    return float(low), float(high)
