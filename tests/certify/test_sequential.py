"""Soundness and savings of SmoothedClassifier.certify_sequential.

The linear oracle of ``test_soundness.py`` gives every row's exact ``pA`` and
robust radius. For the target-radius rule the violation probability of the whole
sequential procedure is computed exactly here, by propagating the binomial law of
the running vote count through the looks (the rule only depends on the current
count); each statistical assertion fails a correct implementation with
probability at most 1e-4 (computed next to it).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy.stats import binom

from skprivacy.certify import (
    certify_spending_schedule,
    clopper_pearson_lower,
    clopper_pearson_upper,
)
from skprivacy.exceptions import SmallSampleWarning

from .test_soundness import SIGMA, margin_for, points_at_margin, smoothed

T, N0, N_MAX, ALPHA = 2000, 64, 1024, 0.1


def exact_target_violation(p_a, n0, n_max, alpha, p_star, alphas=None):
    """P(certify_sequential at the radius of ``p_star`` violates its guarantee).

    A violation is a certificate for class 0 (the wrong class, selected when at
    most half of the ``n0`` votes go to class 1) or a radius above the truth for
    class 1 (a lower bound above ``p_a`` at some look before the row stops).
    ``alphas`` replaces the spending schedule's levels (a broken rule).
    """
    checkpoints, spent = certify_spending_schedule(n_max, alpha)
    alphas = spent if alphas is None else alphas
    select_1 = binom.sf(n0 // 2, n0, p_a)
    total = 0.0
    for q, weight, bad_above in ((p_a, select_1, p_a), (1 - p_a, 1 - select_1, None)):
        alive, drawn, violated = np.array([1.0]), 0, 0.0
        for look, (checkpoint, level) in enumerate(
            zip(checkpoints, alphas, strict=True)
        ):
            step = binom.pmf(np.arange(checkpoint - drawn + 1), checkpoint - drawn, q)
            alive, drawn = np.convolve(alive, step), checkpoint
            count = np.arange(alive.size)
            lower = clopper_pearson_lower(count, checkpoint, level)
            bad = lower > bad_above if bad_above is not None else lower >= 0.5
            violated += alive[bad].sum()
            alive = np.where(bad, 0.0, alive)
            if look == len(checkpoints) - 1:
                break
            upper = clopper_pearson_upper(count, checkpoint, level)
            alive = np.where((lower > p_star) | (upper < p_star), 0.0, alive)
        total += weight * violated
    return total


def sequential_violations(clf, X, true_radius, **kwargs):
    labels, radii = clf.certify_sequential(X, **kwargs)
    return int(np.sum((labels == 0) | ((labels == 1) & (radii > true_radius + 1e-12))))


@pytest.mark.parametrize("p_a", [0.6, 0.9])
def test_target_radius_violation_rate(p_a):
    rng = np.random.default_rng(int(p_a * 100))
    margin = margin_for(p_a)
    X = points_at_margin(margin, T, rng)
    true_radius = margin / 5.0
    clf = smoothed(ALPHA, N0, N_MAX)
    # The hardest target: the row's own robust radius, where certifying it at
    # all is a violation, so rows run long and every look can err.
    violations = sequential_violations(clf, X, true_radius, radius=true_radius)
    p_exact = exact_target_violation(p_a, N0, N_MAX, ALPHA, p_a)
    assert p_exact <= ALPHA
    # Guarantee: Binomial(T, p <= alpha); P(count > ppf(1 - 1e-4)) <= 1e-4.
    assert violations <= binom.ppf(1 - 1e-4, T, ALPHA)
    # Exactness: each tail of Binomial(T, p_exact) beyond the bounds <= 0.5e-4.
    low, high = binom.ppf(0.5e-4, T, p_exact) - 1, binom.isf(0.5e-4, T, p_exact) + 1
    assert low < violations < high, (violations, T * p_exact)


def test_unspent_alpha_is_caught(monkeypatch):
    # The same check as above with the level alpha at every look instead of a
    # share of it: the exact violation probability of that rule is far above
    # alpha, so the guarantee assertion fails except with probability < 1e-4.
    p_a = 0.6
    checkpoints, _ = certify_spending_schedule(N_MAX, ALPHA)
    broken = np.full(len(checkpoints), ALPHA)
    monkeypatch.setattr(
        "skprivacy.certify._smoothed.certify_spending_schedule",
        lambda n_max, alpha: (checkpoints, broken),
    )
    p_broken = exact_target_violation(p_a, N0, N_MAX, ALPHA, p_a, alphas=broken)
    limit = binom.ppf(1 - 1e-4, T, ALPHA)
    assert binom.ppf(1e-4, T, p_broken) > limit, p_broken
    rng = np.random.default_rng(6)
    margin = margin_for(p_a)
    X = points_at_margin(margin, T, rng)
    violations = sequential_violations(
        smoothed(ALPHA, N0, N_MAX), X, margin / 5.0, radius=margin / 5.0
    )
    assert violations > limit


@pytest.mark.parametrize("p_a", [0.6, 0.9, 0.99])
def test_curve_violation_rate(p_a):
    # Any stopping rule keeps the union bound over the looks: violations are
    # Binomial(T, p) with p <= alpha; P(count > ppf(1 - 1e-4)) <= 1e-4.
    rng = np.random.default_rng(int(p_a * 1000) + 1)
    margin = margin_for(p_a)
    X = points_at_margin(margin, T, rng)
    violations = sequential_violations(smoothed(ALPHA, N0, N_MAX), X, margin / 5.0)
    assert violations <= binom.ppf(1 - 1e-4, T, ALPHA)


def test_far_rows_stop_early_and_curve_matches_fixed_sample():
    # pA = 0.999: the first look (16 votes) already certifies a small radius,
    # and the curve rule stops long before n_max for pA = 0.9.
    rng = np.random.default_rng(3)
    clf = smoothed(0.001, N0, 100_000)
    X = points_at_margin(margin_for(0.999), 200, rng)
    _, radii, used = clf.certify_sequential(
        X, radius=0.1 * SIGMA, return_n_samples=True
    )
    assert np.all(radii >= 0.1 * SIGMA)
    assert used.max() <= N0 + 100
    X = points_at_margin(margin_for(0.9), 200, rng)
    _, fixed = clf.certify(X)
    _, radii, used = clf.certify_sequential(X, return_n_samples=True)
    # The curve rule stops when n_max is expected to add at most 2% of the
    # radius (pA = 0.9: after 25,000 of the 100,000 samples, with the final
    # look's bound at alpha / 2 instead of alpha).
    assert used.mean() < 0.5 * (N0 + 100_000)
    assert np.median(radii) > 0.96 * np.median(fixed)
    true_radius = margin_for(0.9) / 5.0
    assert np.median(radii) <= true_radius


def test_contract_and_reproducibility():
    rng = np.random.default_rng(0)
    X = np.vstack([points_at_margin(m, 20, rng) for m in (-2.0, 0.0, 2.0)])
    clf = smoothed(0.01, N0, 4000)
    labels, radii, used = clf.certify_sequential(X, return_n_samples=True)
    assert labels.shape == radii.shape == used.shape == (60,)
    assert set(np.unique(labels)) <= {-1, 0, 1}
    assert np.all(radii[labels == -1] == 0)
    again = clf.certify_sequential(X, return_n_samples=True)
    for a, b in zip((labels, radii, used), again, strict=True):
        np.testing.assert_array_equal(a, b)
    # Rows on the boundary (pA = 1/2) abstain.
    assert np.mean(labels[20:40] == -1) > 0.9
    assert np.all(used >= N0) and np.all(used <= N0 + 4000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"radius": -1.0}, "radius must be"),
        ({"radius": np.inf}, "radius must be"),
        ({"rtol": -0.1}, "rtol must be"),
        ({"n_max": 0}, "n_max must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    clf = smoothed(0.01, N0, 1000)
    with pytest.raises(ValueError, match=match):
        clf.certify_sequential(np.zeros((2, 2)), **kwargs)


def test_too_few_samples_warns():
    clf = smoothed(0.001, N0, 1000)
    with pytest.warns(SmallSampleWarning, match="too small to ever certify"):
        labels, _ = clf.certify_sequential(np.ones((3, 2)), n_max=8)
    assert np.all(labels == -1)


def test_verbose_reports_samples(capsys):
    clf = smoothed(0.01, N0, 1000).set_params(verbose=1)
    clf.certify_sequential(np.ones((3, 2)), radius=0.1)
    assert "samples per row mean" in capsys.readouterr().out


def test_schedule_levels_sum_to_alpha():
    for n_max, alpha in [(10, 0.5), (1000, 0.001), (100_000, 0.05)]:
        checkpoints, alphas = certify_spending_schedule(n_max, alpha)
        assert checkpoints[-1] == n_max
        assert np.all(np.diff(checkpoints) > 0)
        assert np.isclose(alphas.sum(), alpha)
