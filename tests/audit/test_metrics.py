# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy import stats

from skprivacy.audit import (
    bootstrap_ci,
    clopper_pearson,
    empirical_epsilon,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_p_values,
    membership_roc_curve,
    ppv_at_fpr,
    slice_metrics,
    tpr_at_fpr,
)


def _gaussian_scores(shift, n, seed):
    rng = np.random.default_rng(seed)
    membership = np.r_[np.ones(n), np.zeros(n)].astype(int)
    return membership, rng.normal(size=2 * n) + shift * membership


def test_auc_is_mann_whitney_statistic():
    membership, scores = _gaussian_scores(0.5, 300, 0)
    u = stats.mannwhitneyu(scores[membership == 1], scores[membership == 0]).statistic
    assert membership_auc(membership, scores) == pytest.approx(u / 300**2)


def test_tpr_at_fpr_is_never_interpolated():
    # Non-members 0..999; members sit just above non-members 990..999.
    membership = np.r_[np.ones(10), np.zeros(1000)]
    scores = np.r_[np.arange(10) + 990.5, np.arange(1000)]
    assert tpr_at_fpr(membership, scores, 0.01) == 1.0
    # At FPR 0.0 no non-member may be flagged: members above 999 only (none).
    with pytest.warns(UserWarning, match="cannot resolve"):
        assert tpr_at_fpr(membership, scores, 0.0005) == 0.1


def test_tpr_at_fpr_warns_with_too_few_non_members():
    membership, scores = _gaussian_scores(1.0, 200, 0)
    with pytest.warns(UserWarning, match="use at least 1000 non-members"):
        tpr_at_fpr(membership, scores, 0.01)


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


@pytest.mark.parametrize(
    "membership, match",
    [([0, 2, 1, 1], "only 0"), ([1, 1, 1, 1], "both members")],
)
def test_membership_validation(membership, match):
    with pytest.raises(ValueError, match=match):
        membership_auc(membership, [0.1, 0.2, 0.3, 0.4])
