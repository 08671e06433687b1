# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
from scipy import stats

from skprivacy.audit import (
    bootstrap_ci,
    clopper_pearson,
    empirical_epsilon,
    held_out_ci,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_p_values,
    membership_roc_curve,
    ppv_at_fpr,
    slice_metrics,
    tpr_at_fpr,
)
from skprivacy.exceptions import DependentTrialsWarning, UnresolvedMetricWarning


def _gaussian_scores(shift, n, seed):
    rng = np.random.default_rng(seed)
    membership = np.r_[np.ones(n), np.zeros(n)].astype(int)
    return membership, rng.normal(size=2 * n) + shift * membership


def test_auc_is_mann_whitney_statistic():
    membership, scores = _gaussian_scores(0.5, 300, 0)
    u = stats.mannwhitneyu(scores[membership == 1], scores[membership == 0]).statistic
    assert membership_auc(membership, scores) == pytest.approx(u / 300**2)


def test_tpr_at_fpr_reads_observed_thresholds_without_ties():
    # Non-members 0..999; members sit just above non-members 990..999: no tie,
    # so the rate is that of the best observed threshold (test_roc.py covers
    # ties, where a coin on the tied block is needed).
    membership = np.r_[np.ones(10), np.zeros(1000)]
    scores = np.r_[np.arange(10) + 990.5, np.arange(1000)]
    assert tpr_at_fpr(membership, scores, 0.01) == 1.0
    # At FPR 0.1% one non-member may be flagged: members above 998 (two of them).
    # 1000 non-members resolve 1% but not 0.1% (10 / 0.001 = 10,000).
    with pytest.warns(UnresolvedMetricWarning, match="cannot resolve"):
        assert np.isnan(tpr_at_fpr(membership, scores, 0.001))


def test_unresolved_rates_are_nan_with_a_typed_warning():
    # Issue 11, point 4: no number without the data to support it.
    membership, scores = _gaussian_scores(1.0, 200, 0)
    with pytest.warns(UnresolvedMetricWarning, match="needs at least 1000 non-m"):
        assert np.isnan(tpr_at_fpr(membership, scores, 0.01))
    with pytest.warns(UnresolvedMetricWarning):
        assert np.isnan(ppv_at_fpr(membership, scores, 0.01))
    with pytest.warns(UnresolvedMetricWarning, match="no finite number"):
        assert np.isnan(tpr_at_fpr(membership, scores, 0.0))
    # 200 non-members resolve an FPR of 5% (10 / 0.05 = 200): a number, silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnresolvedMetricWarning)
        assert 0 < tpr_at_fpr(membership, scores, 0.05) < 1
    assert np.isnan(slice_metrics(membership, scores, np.zeros(400))["tpr_at_fpr"])[0]


def test_advantage_balanced_accuracy_and_roc():
    membership = [0, 0, 1, 1]
    scores = [0.1, 0.4, 0.35, 0.8]
    assert membership_advantage(membership, scores) == 0.5
    assert membership_balanced_accuracy(membership, scores) == 0.75
    fpr, tpr, _ = membership_roc_curve(membership, scores)
    assert np.max(tpr - fpr) == 0.5


def test_ppv_uses_reached_rates_and_prior():
    membership = np.r_[np.ones(100), np.zeros(1000)]
    scores = np.r_[np.full(100, 5.0), np.arange(1000) / 1000]
    # Every member scores above every non-member: FP = 0 and PPV = 1.
    assert ppv_at_fpr(membership, scores, 0.01) == 1.0
    # Half the members drop just below the top non-member (0.999): catching all
    # members now costs one false positive, within the 10 allowed at 1%.
    scores[:50] = 0.9985
    tpr, fpr = 1.0, 1 / 1000
    expected = tpr * 0.1 / (tpr * 0.1 + fpr * 0.9)
    assert ppv_at_fpr(membership, scores, 0.01, prior=0.1) == pytest.approx(expected)


def test_clopper_pearson_matches_scipy():
    for k, n in [(0, 20), (7, 20), (20, 20), (3, 1000)]:
        ci = stats.binomtest(k, n).proportion_ci(0.9, method="exact")
        assert clopper_pearson(k, n, 0.9) == pytest.approx((ci.low, ci.high))


def test_empirical_epsilon_with_fixed_threshold_matches_formula():
    membership = np.r_[np.ones(100), np.zeros(100)]
    scores = np.r_[np.r_[np.ones(60), np.zeros(40)], np.r_[np.ones(10), np.zeros(90)]]
    tpr_lo = stats.beta.ppf(0.025, 60, 41)
    fpr_hi = stats.beta.ppf(0.975, 11, 90)
    expected = max(np.log(tpr_lo / fpr_hi), np.log((1 - fpr_hi) / (1 - tpr_lo)))
    assert empirical_epsilon(membership, scores, threshold=1.0) == pytest.approx(
        expected
    )


def test_empirical_epsilon_zero_without_leakage():
    # Members and non-members are exchangeable, so the true epsilon is 0; the
    # Clopper-Pearson bound at confidence 1 - 1e-4 exceeds 0 with probability at
    # most 1e-4 (the threshold is chosen on the other half, independent of it).
    membership, scores = _gaussian_scores(0.0, 2000, 1)
    assert (
        empirical_epsilon(membership, scores, confidence=1 - 1e-4, random_state=0) == 0
    )


def test_empirical_epsilon_positive_with_leakage():
    # Shift 2: at the threshold 1 TPR ~ 0.84 and FPR ~ 0.16 on 1000 records per
    # class per half, so the bound is near log(0.84/0.16) ~ 1.6; falling below 0.5
    # would need a >10 sigma deviation.
    membership, scores = _gaussian_scores(2.0, 2000, 2)
    assert (
        empirical_epsilon(membership, scores, confidence=1 - 1e-4, random_state=0) > 0.5
    )


def test_bootstrap_ci_brackets_the_estimate():
    membership, scores = _gaussian_scores(1.0, 300, 3)
    low, high = bootstrap_ci(membership_auc, membership, scores, random_state=0)
    auc = membership_auc(membership, scores)
    assert low < auc < high
    assert high - low < 0.1
    assert bootstrap_ci(membership_auc, membership, scores, random_state=0) == (
        low,
        high,
    )


def test_p_values_are_conformal():
    null = np.arange(99.0)
    assert membership_p_values([98.5, -1.0], null).tolist() == [0.01, 1.0]
    # Validity: for exchangeable non-members P(p <= 0.05) <= 0.05. The count of
    # 2000 fresh ones with p <= 0.05 is Binomial(2000, <=0.05) given this null,
    # and the null's own fluctuation adds less than 0.02; 170 leaves > 4 sigma.
    rng = np.random.default_rng(4)
    p = membership_p_values(rng.normal(size=2000), rng.normal(size=2000))
    assert (p <= 0.05).sum() < 170


def test_slice_metrics_and_holm_correction():
    rng = np.random.default_rng(5)
    membership = np.tile([1, 0], 600)
    groups = np.repeat(["leaky", "safe", "tiny"], [500, 690, 10])
    scores = rng.normal(size=1200) + 2.0 * membership * (groups == "leaky")
    table = slice_metrics(membership, scores, groups).set_index("slice")
    assert table.loc["leaky", "auc"] > 0.8
    assert np.isnan(table.loc["tiny", "auc"])
    raw = table["p_value"].dropna().sort_values()
    holm = np.maximum.accumulate(np.minimum(1, raw.to_numpy() * [2, 1]))
    np.testing.assert_allclose(table.loc[raw.index, "p_value_holm"], holm)
    # Leaky slice: AUC ~0.92 on 250 + 250 records gives p far below 1e-10.
    assert table.loc["leaky", "p_value_holm"] < 1e-4


def test_slices_keep_records_with_a_missing_group():
    # Issue 20, point 6: `groups == value` never holds for NaN or None, so 400
    # of 2,000 records vanished and Holm ran over the other slices only.
    rng = np.random.default_rng(6)
    membership = np.tile([1, 0], 1000)
    groups = np.array(["a"] * 800 + ["b"] * 800 + [None] * 200 + [np.nan] * 200)
    scores = rng.normal(size=2000)
    table = slice_metrics(membership, scores, groups)
    assert len(table) == 3  # None and NaN are one missing group
    assert (table["n_members"] + table["n_non_members"]).sum() == 2000
    missing = table[table["slice"].isna()].iloc[0]
    assert missing["n_members"] + missing["n_non_members"] == 400
    assert table["p_value"].notna().all() and table["p_value_holm"].notna().all()
    # The missing slice's scores are those of the missing records.
    assert missing["auc"] == membership_auc(membership[1600:], scores[1600:])
    numeric = np.r_[np.zeros(1000), np.full(1000, np.nan)]
    counts = slice_metrics(membership, scores, numeric)[["n_members", "n_non_members"]]
    assert counts.to_numpy().sum() == 2000


def test_empirical_epsilon_reports_the_side_of_its_bound():
    # Issue 20, point 9: the bound is two-sided. Members all flagged, 60% of
    # non-members too: the positive side gives log(TPR_lo / FPR_hi) ~ 0.3, the
    # negative side log((1 - FPR_hi) / (1 - TPR_lo)) ~ 2.1 (unflagged records
    # are all non-members).
    membership = np.r_[np.ones(100), np.zeros(100)]
    scores = np.r_[np.ones(100), np.ones(60), np.zeros(40)]
    tpr_lo = stats.beta.ppf(0.025, 100, 1)
    fpr_hi = stats.beta.ppf(0.975, 61, 40)
    positive, negative = np.log(tpr_lo / fpr_hi), np.log((1 - fpr_hi) / (1 - tpr_lo))
    assert positive < negative
    details = empirical_epsilon(membership, scores, threshold=1.0, return_details=True)
    assert details.epsilon == pytest.approx(negative) and details.side == "negative"
    assert (details.tpr, details.fpr, details.threshold) == (1.0, 0.6, 1.0)
    assert (details.n_members, details.n_non_members) == (100, 100)
    assert empirical_epsilon(membership, scores, threshold=1.0) == details.epsilon
    # The mirror image: flagged records are all members.
    mirrored = empirical_epsilon(
        membership, 1 - scores[::-1], threshold=1.0, return_details=True
    )
    assert mirrored.side == "positive"
    # Nothing shown: no side.
    none = empirical_epsilon(
        membership, np.zeros(200), threshold=1.0, return_details=True
    )
    assert none.epsilon == 0 and none.side is None


@pytest.mark.parametrize(
    "membership, match",
    [([0, 2, 1, 1], "only 0"), ([1, 1, 1, 1], "both members")],
)
def test_membership_validation(membership, match):
    with pytest.raises(ValueError, match=match):
        membership_auc(membership, [0.1, 0.2, 0.3, 0.4])


# Issue 12, finding 4: intervals of threshold metrics, by simulation. Each
# simulation counts misses of an interval whose coverage is guaranteed to be at
# least 95%: misses ~ Binomial(R, <= 0.05), and the bound is that law's
# 1 - 1e-4 quantile, so a correct implementation fails with probability <= 1e-4.
_R = 400
_MAX_MISSES = int(stats.binom.ppf(1 - 1e-4, _R, 0.05))  # 37


def test_held_out_advantage_interval_covers_zero_without_leakage():
    # Measured before the fix: the percentile bootstrap of the advantage covered
    # 0 in 2% of such runs (n = 300 per class); held_out_ci covers it in 100%.
    rng = np.random.default_rng(10)
    membership = np.r_[np.ones(100), np.zeros(100)].astype(int)
    misses = {"advantage": 0, "balanced_accuracy": 0}
    for r in range(_R):
        scores = rng.normal(size=200)
        for metric, truth in (("advantage", 0.0), ("balanced_accuracy", 0.5)):
            low, high = held_out_ci(membership, scores, metric=metric, random_state=r)
            misses[metric] += not low <= truth <= high
    assert max(misses.values()) <= _MAX_MISSES


def test_held_out_advantage_lower_end_bounds_the_best_advantage():
    # Gaussian scores shifted by 1: the best advantage is 2 Phi(1/2) - 1. The
    # lower end is below it unless the interval misses TPR(t) - FPR(t) <= it.
    truth = 2 * stats.norm.cdf(0.5) - 1
    rng = np.random.default_rng(11)
    membership = np.r_[np.ones(100), np.zeros(100)].astype(int)
    misses = 0
    for r in range(_R):
        scores = rng.normal(size=200) + membership
        misses += held_out_ci(membership, scores, random_state=r)[0] > truth
    assert misses <= _MAX_MISSES
    # And it detects the leak: with 1000 per class the lower end is near
    # 0.38 - 2 * 0.045; falling below 0.1 needs a > 4 sigma deviation.
    membership, scores = _gaussian_scores(1.0, 1000, 12)
    assert held_out_ci(membership, scores, random_state=0)[0] > 0.1


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_held_out_tpr_interval_covers_the_tpr_at_fpr(shift):
    # The TPR at FPR 5% of N(shift, 1) members against N(0, 1) non-members;
    # 200 non-members resolve 5% exactly (10 / 0.05).
    truth = stats.norm.sf(stats.norm.isf(0.05) - shift)
    rng = np.random.default_rng(13)
    membership = np.r_[np.ones(200), np.zeros(200)].astype(int)
    misses = 0
    for _ in range(_R):
        scores = rng.normal(size=400) + shift * membership
        low, high = held_out_ci(membership, scores, metric="tpr_at_fpr", fpr=0.05)
        misses += not low <= truth <= high
    assert misses <= _MAX_MISSES


def test_held_out_ci_resolution_and_errors():
    membership, scores = _gaussian_scores(1.0, 100, 14)
    with pytest.warns(UnresolvedMetricWarning):
        low, high = held_out_ci(membership, scores, metric="tpr_at_fpr", fpr=0.01)
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="'metric' parameter of held_out_ci"):
        held_out_ci(membership, scores, metric="auc")
    assert held_out_ci(membership, scores, random_state=0) == held_out_ci(
        membership, scores, random_state=0
    )


@pytest.mark.parametrize(
    "metric", [membership_advantage, membership_balanced_accuracy, tpr_at_fpr]
)
def test_bootstrap_ci_refuses_threshold_metrics(metric):
    membership, scores = _gaussian_scores(1.0, 100, 15)
    with pytest.raises(ValueError, match="held_out_ci"):
        bootstrap_ci(metric, membership, scores)


# Issue 12, finding 3: the epsilon bound holds for independent trials only.
def test_empirical_epsilon_refuses_one_run_with_delta():
    membership, scores = _gaussian_scores(1.0, 200, 16)
    with pytest.raises(ValueError, match="needs independent trials"):
        empirical_epsilon(membership, scores, delta=0.1, trials="one_run")
    with pytest.warns(DependentTrialsWarning, match="one training run"):
        value = empirical_epsilon(membership, scores, trials="one_run", random_state=0)
    assert value == empirical_epsilon(membership, scores, random_state=0)
    with pytest.raises(ValueError, match="'trials' parameter of empirical_epsilon"):
        empirical_epsilon(membership, scores, trials="multi")


def test_empirical_epsilon_holds_for_independent_trials_of_a_delta_mechanism():
    # The (0, delta)-DP mechanism, run once per record (independent
    # trials): with probability delta a record's membership is published, else
    # its score is pure noise. The bound at confidence 0.95 is positive with
    # probability <= 0.05 (the issue measured 0.11-0.20 when all records share
    # one run, which trials="one_run" now refuses).
    delta, runs = 0.1, 200
    rng = np.random.default_rng(17)
    positives = 0
    for r in range(runs):
        membership = rng.integers(0, 2, 400)
        published = rng.random(400) < delta
        scores = np.where(published, membership * 10.0, rng.normal(size=400))
        positives += (
            empirical_epsilon(membership, scores, delta=delta, random_state=r) > 0
        )
    # Binomial(200, <= 0.05) exceeds its 1 - 1e-4 quantile with prob. <= 1e-4.
    assert positives <= stats.binom.ppf(1 - 1e-4, runs, 0.05)
