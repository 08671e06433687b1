"""SmoothedClassifier.certify_attribute against analytic oracles.

Linear oracle (smoothing.md, section 4): for ``f(x) = 1[w.x + b > 0]`` with noise
of standard deviation ``sigma_j = sigma * scale_j`` on the columns S, ``g = f``
and ``pA = Phi(|m| / ||sigma_S * w_S||)`` with margin ``m = w.x + b``. Along the
attribute s the decision boundary is at distance ``d = |m| / |w_s|``; the
certified half-width ``scale_s * sigma * Phi^-1(pA_lower)`` tends to ``d`` when
S = {s} and to ``d * sigma_s |w_s| / ||sigma_S * w_S||`` otherwise. A row's noise
is a function of the row, so distinct rows are independent runs; counts are
binomials whose parameters are computed exactly here. Each statistical assertion
fails with probability at most 1e-4 under a correct implementation (computed next
to it).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator
from sklearn.tree import DecisionTreeClassifier

from skprivacy import SmoothedClassifier
from skprivacy.certify import clopper_pearson_lower
from skprivacy.datasets import make_recommendation

W = np.array([3.0, -4.0])
B = 0.5
SIGMA = 0.5
SCALE = np.array([2.0, 1.0])


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


class ConstantOracle(ClassifierMixin, BaseEstimator):
    """Always class 1: every vote is for it, so every radius is deterministic."""

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.ones(len(X), dtype=int)


def smoothed(base, *, alpha, n0=100, n=1000, noise_features=(0,), seed=0):
    return SmoothedClassifier(
        FrozenEstimator(base.fit()),
        sigma=SIGMA,
        alpha=alpha,
        n0=n0,
        n=n,
        noise_features=None if noise_features is None else list(noise_features),
        feature_scale=SCALE,
        batch_size=50_000,
        random_state=seed,
    ).fit(np.zeros((2, 2)), [0, 1])


def effective_std(noise_features):
    """``||sigma_S * w_S||``: the noise of the margin."""
    columns = [0, 1] if noise_features is None else list(noise_features)
    return np.linalg.norm(SIGMA * SCALE[columns] * W[columns])


def points_at_margin(margin, n_points, rng):
    """Distinct points with ``w.x + b = margin``."""
    u = rng.normal(scale=3.0, size=(n_points, 2))
    return u + ((margin - B - u @ W) / (W @ W))[:, None] * W


def exact_violation(p_a, n0, n, alpha):
    """P(CERTIFY gives the wrong class, or class 1 with ``pA_lower > pA``).

    With S = {s} the second event is exactly "the interval reaches past the
    boundary": ``scale_s * sigma * Phi^-1(pA_lower) > d``. Selection takes the
    arg max of ``n0`` votes (a tie goes to class 0, the first index).
    """
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    select_1 = binom.sf(n0 // 2, n0, p_a)
    too_wide = binom.pmf(k, n, p_a)[lower > p_a].sum()
    wrong = binom.pmf(k, n, 1 - p_a)[lower >= 0.5].sum()
    return select_1 * too_wide + (1 - select_1) * wrong


def exact_ratio_law(p_a, n, alpha, limit):
    """Mean and sd of ``half-width / d`` given a correct selection (0 on abstention)."""
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    ratio = np.where(lower >= 0.5, norm.ppf(np.maximum(lower, 0.5)), 0.0)
    ratio = limit * ratio / norm.ppf(p_a)
    pmf = binom.pmf(k, n, p_a)
    mean = pmf @ ratio
    return mean, np.sqrt(pmf @ (ratio - mean) ** 2)


def contains_boundary(X, lower, upper):
    boundary = X[:, 0] - (X @ W + B) / W[0]
    return (lower < boundary) & (boundary < upper)


# ---------------------------------------------------------------- linear oracle
@pytest.mark.parametrize("p_a", [0.7, 0.95])
def test_interval_contains_the_boundary_at_most_alpha_often(p_a):
    T, n0, n, alpha = 2000, 100, 1000, 0.2
    m = effective_std([0]) * norm.ppf(p_a)
    rng = np.random.default_rng(int(100 * p_a))
    X = points_at_margin(m, T, rng)
    labels, lower, upper = smoothed(LinearOracle(W, B), alpha=alpha).certify_attribute(
        X, 0
    )
    violations = int(np.sum((labels == 0) | contains_boundary(X, lower, upper)))
    p_exact = exact_violation(p_a, n0, n, alpha)
    # Guarantee: violations ~ Binomial(T, p <= alpha); P(count > ppf) <= 1e-4.
    assert p_exact <= alpha
    assert violations <= binom.ppf(1 - 1e-4, T, alpha)
    # Exactness of the level (not conservative): Binomial(T, p_exact), each tail
    # of the region below has mass <= 0.5e-4. At p_a = 0.7, p_exact ~ 0.19 while a
    # halved alpha would give ~0.10, outside the region.
    low, high = binom.ppf(0.5e-4, T, p_exact) - 1, binom.isf(0.5e-4, T, p_exact) + 1
    assert low < violations < high, (violations, T * p_exact)


@pytest.mark.parametrize(
    "noise_features, limit",
    [((0,), 1.0), (None, 3.0 / np.sqrt(13.0))],  # sigma_s|w_s| / ||sigma*w||
)
def test_half_width_is_exact_in_the_limit(noise_features, limit):
    # n = 1e5: the mean of half-width / d matches its exact expectation, which is
    # within 2% of the analytic limit (1 with noise on the attribute alone).
    T, n, alpha, p_a = 60, 100_000, 0.001, 0.9
    m = effective_std(noise_features) * norm.ppf(p_a)
    X = points_at_margin(m, T, np.random.default_rng(3))
    clf = smoothed(LinearOracle(W, B), alpha=alpha, n=n, noise_features=noise_features)
    labels, lower, upper = clf.certify_attribute(X, 0)
    d = m / W[0]
    ratio = np.minimum(X[:, 0] - lower, upper - X[:, 0])[labels == 1] / d
    # The interval is symmetric around the row's value (no domain).
    np.testing.assert_allclose(X[labels == 1, 0] - lower[labels == 1], ratio * d)
    np.testing.assert_allclose(upper[labels == 1] - X[labels == 1, 0], ratio * d)
    mean, sd = exact_ratio_law(p_a, n, alpha, limit)
    assert limit * 0.98 < mean < limit
    # A wrong selection has probability binom.cdf(50, 100, 0.9) < 1e-20, so all
    # T rows are certified except w.p. < 1e-17. The mean of T i.i.d. ratios is
    # within 4.42 sd / sqrt(T) of its expectation except w.p. < 1e-5 (normal
    # approximation of a smooth function of a binomial proportion).
    assert ratio.size == T
    assert abs(ratio.mean() - mean) <= 4.42 * sd / np.sqrt(T)


def test_all_noised_columns_chain_reaches_past_the_ball_limit_soundly():
    # Noise on both columns: one CERTIFY reaches at most ~0.83 d towards the
    # boundary; anchors at the interval's end reach further along the attribute.
    T, n, alpha, p_a, k = 300, 1000, 0.01, 0.999, 5
    m = effective_std(None) * norm.ppf(p_a)
    X = points_at_margin(m, T, np.random.default_rng(5))
    clf = smoothed(LinearOracle(W, B), alpha=alpha, n=n, noise_features=None)
    labels, lower, upper = clf.certify_attribute(X, 0, n_anchors=k)
    # The ball at the chain's level alpha / k with the same noise (stage of the
    # row) is the chain's first step: the chain contains it, deterministically.
    ball_labels, ball_lower, ball_upper = clf.set_params(
        alpha=alpha / k
    ).certify_attribute(X, 0)
    np.testing.assert_array_equal(labels, ball_labels)
    ok = labels == 1
    assert np.all(lower[ok] <= ball_lower[ok]) and np.all(upper[ok] >= ball_upper[ok])
    # The boundary lies below the row's value (m > 0, w_0 > 0). The first anchor
    # fails to extend that side only if (a) the ball was wrong (<= alpha / k), or
    # (b) its selection errs: the ball reaches at most 0.832 d when correct, so
    # the anchor's pA >= Phi(0.168 * Phi^-1(0.999)) = 0.70 and
    # P(Binomial(100, 0.70) <= 50) = 2.21e-5, or (c) its 1000 votes bound pA
    # below 1/2: P(Binomial(1000, 0.7) <= 530) < 1e-28. So per row
    # p <= 0.002 + 2.3e-5 and P(Binomial(300, p) > isf(1e-4)) <= 1e-4.
    not_extended = int(np.sum(~ok | ~(lower < ball_lower)))
    assert not_extended <= binom.isf(1e-4, T, alpha / k + 2.3e-5)
    # Soundness by the union bound: the chain never crosses the boundary except
    # with probability <= alpha per row; P(Binomial(300, 0.01) > ppf) <= 1e-4.
    violations = int(np.sum((labels == 0) | contains_boundary(X, lower, upper)))
    assert violations <= binom.ppf(1 - 1e-4, T, alpha)


def test_rows_at_the_boundary_abstain_with_empty_intervals():
    T, alpha = 500, 0.01
    X = points_at_margin(0.0, T, np.random.default_rng(9))
    clf = smoothed(LinearOracle(W, B), alpha=alpha)
    for n_anchors in (1, 3):
        labels, lower, upper = clf.certify_attribute(X, 0, n_anchors=n_anchors)
        certified = labels != clf.abstain_label_
        # At m = 0 pA = 1/2: certifying anything is an error of probability
        # <= alpha; P(Binomial(500, 0.01) > ppf) <= 1e-4.
        assert certified.sum() <= binom.ppf(1 - 1e-4, T, alpha)
        assert np.all(np.isnan(lower[~certified]) & np.isnan(upper[~certified]))
        assert np.all(lower[certified] < X[certified, 0])


# ------------------------------------------------- deterministic chain mechanics
def _constant_half_width(alpha, n):
    # All n votes for class 1: pA_lower = alpha ** (1 / n); unit SCALE[0] = 2.
    return SCALE[0] * SIGMA * norm.ppf(alpha ** (1.0 / n))


def test_chain_budget_sides_and_domain_on_a_constant_model():
    alpha, n = 0.01, 200
    clf = smoothed(ConstantOracle(), alpha=alpha, n=n)
    X = np.array([[0.0, 1.0]])
    # Ball: exactly the largest radius n samples can certify.
    h1 = _constant_half_width(alpha, n)
    labels, lower, upper = clf.certify_attribute(X, 0)
    assert labels.tolist() == [1]
    np.testing.assert_allclose([lower[0], upper[0]], [-h1, h1], rtol=1e-12)
    # 5 anchors at alpha / 5 each: the row, then two rounds on both sides.
    h5 = _constant_half_width(alpha / 5, n)
    _, lower, upper = clf.certify_attribute(X, 0, n_anchors=5)
    np.testing.assert_allclose([lower[0], upper[0]], [-3 * h5, 3 * h5], rtol=1e-9)
    # 2 anchors: one left for two equally open sides goes to the upper side.
    h2 = _constant_half_width(alpha / 2, n)
    _, lower, upper = clf.certify_attribute(X, 0, n_anchors=2)
    np.testing.assert_allclose([lower[0], upper[0]], [-h2, 2 * h2], rtol=1e-9)
    # A side that reaches the domain stops; its budget goes to the other side.
    _, lower, upper = clf.certify_attribute(
        X, 0, n_anchors=5, domain=(-0.5 * h5, 100.0)
    )
    np.testing.assert_allclose([lower[0], upper[0]], [-0.5 * h5, 5 * h5], rtol=1e-9)
    _, lower, upper = clf.certify_attribute(X, 0, n_anchors=50, domain=(-1.0, 1.5))
    np.testing.assert_array_equal([lower[0], upper[0]], [-1.0, 1.5])


def test_float32_rows_chain_like_float64():
    # Anchors are written into the rows' own dtype: with float32 rows the chain
    # measures its extension from the rounded anchor and stays connected.
    clf = smoothed(ConstantOracle(), alpha=0.01, n=200)
    X = np.array([[0.1, 1.0]])
    expected = clf.certify_attribute(X, 0, n_anchors=5)
    got = clf.certify_attribute(X.astype(np.float32), 0, n_anchors=5)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1:], expected[1:], rtol=1e-6)


def test_chain_stops_where_the_label_changes():
    # Boundary at x0 = 2 (w = (1, 0), b = -2) seen from x0 = -3 with noise of
    # std 1 on x0 alone. By the union bound, the chain crosses the boundary with
    # probability <= alpha = 1e-4. The row's CERTIFY reaches about 3.4 (cap of
    # n = 2000 at alpha / 12), the next anchor sits ~1.6 from the boundary
    # (pA ~ 0.95) and certifies except with probability < 1e-20, so the chain
    # ends past 0.5.
    base = LinearOracle(np.array([1.0, 0.0]), -2.0)
    clf = smoothed(base, alpha=1e-4, n=2000)
    labels, lower, upper = clf.certify_attribute(
        np.array([[-3.0, 0.0]]), 0, n_anchors=12, domain=(-10.0, 10.0)
    )
    assert labels.tolist() == [0]
    assert lower[0] == -10.0
    assert 0.5 < upper[0] <= 2.0


# ------------------------------------------------------------ the release itself
@pytest.fixture(scope="module")
def tree_release():
    rec = make_recommendation(n_samples=400, random_state=0)
    frame = pd.DataFrame(rec.data, columns=rec.feature_names)
    clf = SmoothedClassifier(
        DecisionTreeClassifier(max_depth=4, random_state=0),
        sigma=0.4,
        n=500,
        noise_features=["bmi", "x1"],
        feature_scale="std",
        random_state=0,
    ).fit(frame, rec.target)
    return rec, frame, clf


def test_ball_mode_is_certify_on_one_axis(tree_release):
    rec, frame, clf = tree_release
    rows = frame.iloc[:60]
    labels, radii = clf.certify(rows)
    for feature in ("bmi", 0, -frame.shape[1]):
        got, lower, upper = clf.certify_attribute(
            rows, feature, domain=rec.sensitive_domain
        )
        np.testing.assert_array_equal(got, labels)
        value = rows["bmi"].to_numpy()
        half = clf.feature_scale_[0] * radii
        certified = labels != clf.abstain_label_
        low, high = rec.sensitive_domain
        np.testing.assert_allclose(
            lower[certified], np.maximum(value - half, low)[certified]
        )
        np.testing.assert_allclose(
            upper[certified], np.minimum(value + half, high)[certified]
        )
        assert np.all(np.isnan(lower[~certified]) & np.isnan(upper[~certified]))
    # The second noised column has its own scale.
    _, lower, upper = clf.certify_attribute(rows, "x1")
    np.testing.assert_allclose(
        (upper - lower)[certified], 2 * clf.feature_scale_[1] * radii[certified]
    )
    # Seeded: the same call gives the same answer; the chain contains the ball
    # at its level.
    chain = clf.certify_attribute(rows, "bmi", domain=rec.sensitive_domain, n_anchors=4)
    again = clf.certify_attribute(rows, "bmi", domain=rec.sensitive_domain, n_anchors=4)
    for a, b in zip(chain, again, strict=True):
        np.testing.assert_array_equal(a, b)
    alpha = clf.alpha
    ball = clf.set_params(alpha=alpha / 4).certify_attribute(
        rows, "bmi", domain=rec.sensitive_domain
    )
    clf.set_params(alpha=alpha)
    np.testing.assert_array_equal(chain[0], ball[0])
    certified = chain[0] != clf.abstain_label_
    assert np.all(chain[1][certified] <= ball[1][certified])
    assert np.all(chain[2][certified] >= ball[2][certified])
    assert np.any((chain[2] - chain[1])[certified] > (ball[2] - ball[1])[certified])


# ------------------------------------------------------------------ bad input
def test_errors(tree_release):
    rec, frame, clf = tree_release
    rows = frame.iloc[:5]
    with pytest.raises(ValueError, match="receives no noise"):
        clf.certify_attribute(rows, "x2")
    with pytest.raises(ValueError, match="receives no noise"):
        clf.certify_attribute(rows, 3)
    with pytest.raises(ValueError, match="out of range"):
        clf.certify_attribute(rows, 99)
    with pytest.raises(ValueError, match="not a feature name"):
        clf.certify_attribute(rows, "weight")
    with pytest.raises(TypeError, match="int position or a column name"):
        clf.certify_attribute(rows, 1.5)
    with pytest.raises(ValueError, match="domain is empty"):
        clf.certify_attribute(rows, "bmi", domain=(50.0, 15.0))
    with pytest.raises(ValueError, match="domain is empty"):
        clf.certify_attribute(rows, "bmi", domain=(20.0, 20.0))
    with pytest.raises(ValueError, match="pair"):
        clf.certify_attribute(rows, "bmi", domain=15.0)
    with pytest.raises(ValueError, match="outside the domain"):
        clf.certify_attribute(rows, "bmi", domain=(15.0, 16.0))
    with pytest.raises(ValueError, match="n_anchors"):
        clf.certify_attribute(rows, "bmi", n_anchors=0)
    clf.set_params(n=8)
    with pytest.warns(UserWarning, match="too small to ever certify"):
        labels, lower, _ = clf.certify_attribute(rows, "bmi")
    clf.set_params(n=500)
    assert np.all(labels == clf.abstain_label_) and np.all(np.isnan(lower))
    with pytest.raises(ValueError, match="no column names"):
        SmoothedClassifier(noise_features=[0]).fit(
            rec.data, rec.target
        ).certify_attribute(rec.data[:3], "bmi")


def test_no_predict_and_not_fitted():
    class NoPredict(BaseEstimator):
        def fit(self, X, y):
            return self

    X, y = np.zeros((4, 2)), [0, 1, 0, 1]
    with pytest.raises(ValueError, match="predict"):
        SmoothedClassifier(NoPredict()).fit(X, y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SmoothedClassifier().certify_attribute(X, 0)
