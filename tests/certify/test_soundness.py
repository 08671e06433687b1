"""Soundness of CERTIFY and PREDICT against the analytic linear oracle.

For ``f(x) = 1[w.x + b > 0]`` and noise ``N(0, sigma^2 I)``, ``g = f``,
``pA = Phi(|m| / (sigma ||w||))`` with margin ``m = w.x + b``, and the exact
robust radius is ``|m| / ||w||`` (smoothing.md, section 4). A row's noise is a
function of the row, so each distinct row at a given margin is one independent
run of the algorithm; every count below is then a Binomial whose parameter is
computed exactly here from the binomial laws of the vote counts. Each
statistical assertion fails with probability at most 1e-4 under a correct
implementation (computed next to it).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy.stats import binom, norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator

from skprivacy import SmoothedClassifier
from skprivacy.certify import binomial_test_pvalue, clopper_pearson_lower

W = np.array([3.0, -4.0])  # ||w|| = 5
B = 0.5
SIGMA = 0.5


class LinearOracle(ClassifierMixin, BaseEstimator):
    """The fitted linear classifier ``1[X @ w + b > 0]``."""

    def __init__(self, w=None, b=0.0):
        self.w = w
        self.b = b

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(self.w)
        return self

    def predict(self, X):
        return (np.asarray(X) @ self.w + self.b > 0).astype(int)


def points_at_margin(margin, n_points, rng, w=W, b=B):
    """Distinct points with ``w.x + b = margin``."""
    u = rng.normal(scale=3.0, size=(n_points, len(w)))
    return u + ((margin - b - u @ w) / (w @ w))[:, None] * w


def margin_for(p_a, sigma=SIGMA, w=W):
    return sigma * np.linalg.norm(w) * norm.ppf(p_a)


def smoothed(alpha, n0, n, n_predict=100, abstain=False, adaptive=False, seed=0):
    return SmoothedClassifier(
        FrozenEstimator(LinearOracle(W, B).fit()),
        sigma=SIGMA,
        alpha=alpha,
        n0=n0,
        n=n,
        n_predict=n_predict,
        abstain=abstain,
        adaptive=adaptive,
        batch_size=50_000,
        random_state=seed,
    ).fit(np.zeros((2, 2)), [0, 1])


def exact_certify_violation(p_a, n0, n, alpha):
    """P(CERTIFY returns the wrong class, or class 1 with a radius above the truth).

    Class 1 is the true class with probability ``p_a > 1/2``. Selection takes the
    arg max of ``n0`` votes (a tie goes to class 0, the first index); the radius
    exceeds ``|m| / ||w||`` iff the Clopper-Pearson bound exceeds ``p_a``.
    """
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    select_1 = binom.sf(n0 // 2, n0, p_a)  # more than half of n0 votes
    too_large = binom.pmf(k, n, p_a)[lower > p_a].sum()
    wrong_certified = binom.pmf(k, n, 1 - p_a)[lower >= 0.5].sum()
    return select_1 * too_large + (1 - select_1) * wrong_certified


def two_sided_bounds(T, p, tail=0.5e-4):
    """Central region of Binomial(T, p) with tail mass at most ``tail`` each side."""
    return binom.ppf(tail, T, p) - 1, binom.isf(tail, T, p) + 1


def certify_violations(clf, X, true_radius):
    labels, radii = clf.certify(X)
    wrong_label = labels == 0
    too_large = (labels == 1) & (radii > true_radius + 1e-12)
    return int(np.sum(wrong_label | too_large))


@pytest.mark.parametrize("alpha", [0.2, 0.1])
@pytest.mark.parametrize("p_a", [0.6, 0.8, 0.95, 0.99])
def test_certify_violation_rate_is_alpha_not_less(alpha, p_a):
    T, n0, n = 2000, 100, 1000
    rng = np.random.default_rng(int(p_a * 1000 + alpha * 10))
    margin = margin_for(p_a)
    X = points_at_margin(margin, T, rng)
    violations = certify_violations(smoothed(alpha, n0, n), X, margin / 5.0)
    p_exact = exact_certify_violation(p_a, n0, n, alpha)
    # Guarantee (Prop. 2): violations ~ Binomial(T, p <= alpha); P(count > ppf) <= 1e-4.
    assert p_exact <= alpha
    assert violations <= binom.ppf(1 - 1e-4, T, alpha)
    # Exactness: Binomial(T, p_exact); each tail <= 0.5e-4, so <= 1e-4 in all.
    # At alpha=0.2, p_a in {0.6, 0.8}: p_exact ~ 0.19, 0.18; a halved alpha
    # (two-sided bound at level alpha) gives ~0.09, far below the lower end (~0.15).
    low, high = two_sided_bounds(T, p_exact)
    assert low < violations < high, (violations, T * p_exact)


def test_halved_alpha_would_be_caught():
    # The lower end of the region at alpha=0.2, p_a=0.6 excludes what a
    # two-sided bound at level alpha (one-sided alpha/2) would produce.
    T = 2000
    low, _ = two_sided_bounds(T, exact_certify_violation(0.6, 100, 1000, 0.2))
    _, high_halved = two_sided_bounds(T, exact_certify_violation(0.6, 100, 1000, 0.1))
    assert high_halved < low


def test_certify_violation_rate_small_alpha_large_n():
    T, n0, n, alpha, p_a = 1000, 100, 10_000, 0.01, 0.8
    X = points_at_margin(margin_for(p_a), T, np.random.default_rng(7))
    violations = certify_violations(smoothed(alpha, n0, n), X, margin_for(p_a) / 5.0)
    p_exact = exact_certify_violation(p_a, n0, n, alpha)
    assert 0.005 < p_exact <= alpha
    # P(Binomial(T, p_exact) > isf(1e-4)) <= 1e-4.
    assert violations <= binom.isf(1e-4, T, p_exact)


@pytest.mark.parametrize("alpha", [0.1, 0.01])
def test_certify_abstains_at_the_boundary(alpha):
    # m = 0: pA = 1/2, no class may be certified (except with probability <= alpha).
    T, n0, n = 2000, 100, 1000
    X = points_at_margin(0.0, T, np.random.default_rng(11))
    labels, radii = smoothed(alpha, n0, n).certify(X)
    certified = int(np.sum(labels != -1))
    p_exact = exact_certify_violation(0.5, n0, n, alpha)
    assert p_exact <= alpha
    # P(Binomial(T, alpha) > isf(1e-4)) <= 1e-4.
    assert certified <= binom.isf(1e-4, T, alpha)
    assert np.all(radii[labels == -1] == 0)


def exact_predict(p_a, n_predict, alpha):
    """P(PREDICT returns class 0) and P(returns class 1); class 1 has prob p_a."""
    k = np.arange(n_predict + 1)  # votes for class 1
    pmf = binom.pmf(k, n_predict, p_a)
    decisive = binomial_test_pvalue(k, n_predict - k) <= alpha
    return pmf[decisive & (k < n_predict - k)].sum(), pmf[
        decisive & (k > n_predict - k)
    ].sum()


@pytest.mark.parametrize("p_a", [0.5, 0.6, 0.8])
def test_predict_errs_with_probability_at_most_alpha(p_a):
    T, n_predict, alpha = 3000, 100, 0.1
    X = points_at_margin(margin_for(p_a), T, np.random.default_rng(3))
    pred = smoothed(alpha, 10, 10, n_predict=n_predict, abstain=True).predict(X)
    p_wrong, p_right = exact_predict(p_a, n_predict, alpha)
    wrong = int(np.sum(pred == 0))
    if p_a == 0.5:  # both classes are "wrong": g(x) is a tie
        wrong += int(np.sum(pred == 1))
        p_wrong += p_right
    assert p_wrong <= alpha
    # Prop. 1: P(Binomial(T, alpha) > isf(1e-4)) <= 1e-4.
    assert wrong <= binom.isf(1e-4, T, alpha)
    # Exact rates of the returned classes, each tail <= 0.5e-4 per count.
    low, high = two_sided_bounds(T, p_wrong, tail=0.25e-4)
    assert low < wrong < high
    if p_a != 0.5:
        low, high = two_sided_bounds(T, p_right, tail=0.25e-4)
        assert low < int(np.sum(pred == 1)) < high


def test_adaptive_predict_keeps_alpha_and_saves_samples():
    T, alpha = 3000, 0.1
    clf = smoothed(alpha, 10, 10, n_predict=400, abstain=True, adaptive=True)
    X = points_at_margin(0.0, T, np.random.default_rng(5))
    decided = int(np.sum(clf.predict(X) != -1))
    # At a tie any returned class is wrong: P(Binomial(T, alpha) > isf(1e-4)) <= 1e-4.
    assert decided <= binom.isf(1e-4, T, alpha)

    X = points_at_margin(margin_for(0.999), 500, np.random.default_rng(6))
    counts = clf.predict_counts(X)
    assert np.all(clf.predict(X) == 1)
    # A confident row stops at the first look (13 samples) unless one of its
    # votes is wrong; the mean is far below n_predict.
    assert counts.sum(axis=1).mean() < 0.1 * clf.n_predict
    assert np.all(counts.sum(axis=1) <= clf.n_predict)


@pytest.mark.parametrize(
    "p_a, table",
    [(0.6, 0.951), (0.75, 0.980), (0.9, 0.987), (0.99, 0.984), (0.999, 0.971)],
)
def test_tightness_ratio_matches_table(p_a, table):
    T, n0, n, alpha = 30, 100, 100_000, 0.001
    margin = margin_for(p_a)
    X = points_at_margin(margin, T, np.random.default_rng(13))
    labels, radii = smoothed(alpha, n0, n).certify(X)
    ratio = radii[labels == 1] / (margin / 5.0)
    # Exact law of the ratio given a correct selection.
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    exact = np.where(lower >= 0.5, norm.ppf(np.maximum(lower, 0.5)), 0.0) / norm.ppf(
        p_a
    )
    pmf = binom.pmf(k, n, p_a)
    mean = pmf @ exact
    sd = np.sqrt(pmf @ (exact - mean) ** 2)
    assert mean == pytest.approx(table, abs=0.002)
    # Mean of >= 20 i.i.d. ratios (wrong selection has prob < 3% at p_a=0.6):
    # |mean - E| <= 4.42 sd / sqrt(m) fails with probability < 1e-5 (normal
    # approximation; the ratio is a smooth function of a binomial proportion).
    assert ratio.size >= 20
    assert abs(ratio.mean() - mean) <= 4.42 * sd / np.sqrt(ratio.size)


def test_subset_noise_with_feature_scale_follows_the_anisotropic_law():
    # Noise on column 0 only, in units of scale 2: pA = Phi(|m| / (sigma * 2 |w_0|))
    # and the certified radius, in units of the scale, may not exceed the
    # distance to the boundary along column 0 in those units, |m| / (2 |w_0|).
    T, n0, n, alpha, p_a = 2000, 100, 1000, 0.2, 0.8
    clf = SmoothedClassifier(
        FrozenEstimator(LinearOracle(W, B).fit()),
        sigma=SIGMA,
        alpha=alpha,
        n0=n0,
        n=n,
        noise_features=[0],
        feature_scale=[2.0, 1.0],
        batch_size=50_000,
        random_state=0,
    ).fit(np.zeros((2, 2)), [0, 1])
    effective = 2.0 * abs(W[0])
    margin = SIGMA * effective * norm.ppf(p_a)
    X = points_at_margin(margin, T, np.random.default_rng(17))
    violations = certify_violations(clf, X, margin / effective)
    # Binomial(T, p_exact) with each tail <= 0.5e-4.
    low, high = two_sided_bounds(T, exact_certify_violation(p_a, n0, n, alpha))
    assert low < violations < high
