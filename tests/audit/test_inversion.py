"""Tests of AttributeInferenceAttack against models with known answers."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, ndtr
from scipy.stats import binom
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.audit import AttributeInferenceAttack, AttributeInferenceReport
from skprivacy.datasets import make_recommendation
from skprivacy.defense import RandomizedResponseClassifier

DOMAIN = (15.0, 50.0)
CUTS = [19.0, 25.0, 30.0]  # on bin edges of the 35 unit bins
EDGES = np.arange(15.0, 51.0)
CENTRES = (EDGES[:-1] + EDGES[1:]) / 2
# True bin masses of bmi ~ Normal(28, 6) truncated to DOMAIN (make_recommendation).
_CDF = ndtr((EDGES - 28.0) / 6.0)
PI = np.diff(_CDF) / (_CDF[-1] - _CDF[0])
N = 4000


def binomial_bounds(n, p, tail=5e-5):
    """[lo, hi] holding Binomial(n, p) with probability >= 1 - 2 * tail = 1 - 1e-4."""
    return binom.ppf(tail, n, p), binom.isf(tail, n, p)


class BMICategory(ClassifierMixin, BaseEstimator):
    """Deterministic 4-class release: the BMI category of column 0."""

    def fit(self, X, y=None):
        self.classes_ = np.arange(4)
        return self

    def predict(self, X):
        return np.digitize(np.asarray(X, dtype=float)[:, 0], CUTS)


class Constant:
    def predict(self, X):
        return np.zeros(len(X), dtype=int)


class Sigmoid:
    """Releases probabilities sigmoid((x0 - 28) / 3), strictly increasing in x0."""

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)

    def predict_proba(self, X):
        s = expit((np.asarray(X, dtype=float)[:, 0] - 28.0) / 3.0)
        return np.column_stack([1 - s, s])


class BandAbstainer:
    def predict(self, X):
        x = np.asarray(X, dtype=float)[:, 0]
        out = (x > 30.0).astype(int).astype(object)
        out[np.abs(x - 30.0) < 2.0] = "abstain"
        return out


@pytest.fixture(scope="module")
def targets():
    return make_recommendation(n_samples=N, random_state=11).data


def attack(model, **params):
    params = {"domain": DOMAIN, "bins": 35, "prior": PI, **params}
    return AttributeInferenceAttack(model, 0, **params)


def test_label_map_matches_the_oracle_and_beats_the_prior(targets):
    att = attack(BMICategory().fit(None)).fit(targets[:10])
    # Oracle: the guess is the most probable bin of the observed category.
    category = np.digitize(CENTRES, CUTS)
    mode = {c: CENTRES[category == c][np.argmax(PI[category == c])] for c in range(4)}
    expected = np.array([mode[c] for c in np.digitize(targets[:, 0], CUTS)])
    np.testing.assert_array_equal(att.infer(targets), expected)
    report = att.evaluate(targets)
    # Success ~ Binomial(N, sum_c max_{b in c} PI_b) = Binomial(N, 0.2053), prior-only
    # ~ Binomial(N, max PI) = Binomial(N, 0.0672); each outside its bounds w.p. 1e-4.
    p_attack = sum(PI[category == c].max() for c in range(4))
    lo, hi = binomial_bounds(N, p_attack)
    assert lo <= report.success_rate * N <= hi
    lo, hi = binomial_bounds(N, PI.max())
    assert lo <= report.prior_success_rate * N <= hi
    assert report.success_rate_ci[0] > 2 * report.prior_success_rate_ci[1]
    assert report.advantage == report.success_rate - report.prior_success_rate


def truncated_mass(low, high):
    """Mass of [low, high] under bmi's truncated normal law."""
    return np.diff(ndtr((np.array([low, high]) - 28.0) / 6.0))[0] / (_CDF[-1] - _CDF[0])


def test_evaluate_returns_a_report_that_reads_like_the_former_bunch(targets):
    exact = attack(BMICategory().fit(None)).fit(targets[:10]).evaluate(targets)
    tolerant = attack(Constant(), tolerance=2.0).fit(targets[:10]).evaluate(targets)
    assert isinstance(exact, AttributeInferenceReport)
    assert exact["success_rate"] == exact.success_rate
    assert "success_rate_within_tolerance" not in exact
    assert "success_rate_within_tolerance" in tolerant
    with pytest.raises(KeyError):
        exact["success_rate_within_tolerance"]
    assert set(dict(exact)) == {
        "n_samples",
        "success_rate",
        "success_rate_ci",
        "prior_success_rate",
        "prior_success_rate_ci",
        "advantage",
        "confidence",
    }
    # One row per rate, with its interval; JSON as the other reports write it.
    table = tolerant.to_frame()
    assert (
        table.loc["success_rate_within_tolerance", "low"]
        == (tolerant.success_rate_within_tolerance_ci[0])
    )
    assert len(table) == 4
    assert '"success_rate_ci": [' in exact.to_json()


def test_constant_model_equals_the_prior(targets):
    att = attack(Constant(), tolerance=2.0).fit(targets[:10])
    report = att.evaluate(targets)
    assert report.success_rate == report.prior_success_rate
    assert report.success_rate_within_tolerance == (
        report.prior_success_rate_within_tolerance
    )
    assert report.advantage == 0.0
    lo, hi = binomial_bounds(N, PI.max())
    assert lo <= report.success_rate * N <= hi
    # Oracle of the tolerance guess: a centre whose +-2 window of bin centres has
    # the most prior mass (27.5 and 28.5 tie: the mean 28 is a bin edge); it
    # succeeds w.p. the true mass of [guess - 2, guess + 2].
    window = np.array([PI[np.abs(CENTRES - c) <= 2].sum() for c in CENTRES])
    best = CENTRES[window >= window.max() - 1e-12]
    guesses = att.infer(targets)
    guess = guesses[0]
    assert np.all(guesses == guess) and guess in best
    lo, hi = binomial_bounds(N, truncated_mass(guess - 2, guess + 2))
    assert lo <= report.success_rate_within_tolerance * N <= hi
    assert att.score(targets) == report.success_rate_within_tolerance


def test_tolerance_guess_maximises_the_window_mass(targets):
    model = BMICategory().fit(None)
    exact = attack(model).fit(targets[:10])
    tolerant = attack(model, tolerance=3.0).fit(targets[:10])
    posterior = tolerant.posterior(targets[:500])
    guesses = tolerant.infer(targets[:500])
    window = np.stack(
        [posterior[:, np.abs(CENTRES - c) <= 3].sum(axis=1) for c in CENTRES], axis=1
    )
    chosen = window[np.arange(500), np.searchsorted(CENTRES, guesses)]
    np.testing.assert_allclose(chosen, window.max(axis=1))
    # Optimising the criterion helps it: within +-3, the window guess beats MAP.
    map_hits = np.abs(exact.infer(targets) - targets[:, 0]) <= 3
    assert tolerant.evaluate(targets).success_rate_within_tolerance > map_hits.mean()


def test_confidence_attack_finds_the_nearest_probability(targets):
    model = Sigmoid()
    att = attack(model, method="confidence", prior="uniform", bandwidth=1e-6)
    att.fit(targets[:10])
    p_true = model.predict_proba(targets)[:, 1]
    p_grid = model.predict_proba(np.column_stack([CENTRES, CENTRES]))[:, 1]
    expected = CENTRES[np.argmin(np.abs(p_true[:, None] - p_grid[None, :]), axis=1)]
    np.testing.assert_array_equal(att.infer(targets), expected)
    label = attack(model, prior="uniform").fit(targets[:10]).evaluate(targets)
    confidence = att.evaluate(targets)
    # Probabilities pin the bin; one bit does not.
    assert confidence.success_rate > 0.9 > 0.2 > label.success_rate


def test_abstention_reveals_the_band():
    X = np.column_stack([np.linspace(15.0, 50.0, 351), np.zeros(351)])
    att = attack(BandAbstainer(), prior="uniform").fit(X)
    guess = att.infer(X)
    abstained = np.abs(X[:, 0] - 30.0) < 2.0
    assert np.all(np.abs(guess[abstained] - 30.0) < 2.0)
    assert np.all(np.abs(guess[~abstained] - 30.0) > 2.0)
    posterior = att.posterior(X)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0)
    np.testing.assert_allclose(posterior[abstained][:, 13:17], 0.25)


def test_randomized_response_caps_the_attack_at_the_ldp_bound(targets):
    # For an eps-LDP release, P(v | o) <= e^eps P(v), so any guess of the bin
    # succeeds with probability <= e^eps max PI = 0.1108 at eps = 0.5; the
    # undefended model reaches 0.2053 (previous test), so the bound is not vacuous.
    eps = 0.5
    rr = RandomizedResponseClassifier(BMICategory(), epsilon=eps, random_state=0)
    rr.fit(targets[:10], np.zeros(10))
    att = attack(rr, n_queries=8).fit(targets[:10])
    report = att.evaluate(targets)
    assert report.success_rate * N <= binom.isf(1e-4, N, np.exp(eps) * PI.max())
    # A weak privacy level leaves the attack well above the prior (power check).
    weak = RandomizedResponseClassifier(BMICategory(), epsilon=5.0, random_state=0)
    weak.fit(targets[:10], np.zeros(10))
    strong_attack = attack(weak, n_queries=8).fit(targets[:10]).evaluate(targets)
    assert strong_attack.success_rate_ci[0] > report.success_rate_ci[1]


def test_categorical_attribute():
    rng = np.random.default_rng(0)
    sex = rng.choice(["F", "M"], size=500, p=[0.3, 0.7])
    X = np.column_stack([rng.normal(size=500), sex]).astype(object)

    class BySex:
        def predict(self, X):
            return (np.asarray(X)[:, 1] == "F").astype(int)

    att = AttributeInferenceAttack(BySex(), 1, categorical=True).fit(X)
    assert att.values_.tolist() == ["F", "M"] and att.bin_edges_ is None
    report = att.evaluate(X)
    assert report.success_rate == 1.0
    assert report.prior_success_rate == np.mean(sex == "M")
    blind = AttributeInferenceAttack(Constant(), 1, categorical=True).fit(X)
    assert blind.evaluate(X).advantage == 0.0


def test_dataframe_by_name_and_empirical_prior(targets):
    frame = pd.DataFrame(targets, columns=["bmi", "a", "b", "c", "d", "e"])

    class FrameCategory:
        def predict(self, X):
            return np.digitize(X["bmi"].to_numpy(), CUTS)

    att = AttributeInferenceAttack(FrameCategory(), "bmi", domain=DOMAIN, bins=35)
    att.fit(frame)
    assert att.feature_index_ == 0 and list(att.feature_names_in_) == list(frame)
    counts = np.histogram(targets[:, 0], EDGES)[0] + 0.5
    np.testing.assert_allclose(att.prior_, counts / counts.sum())
    expected = attack(BMICategory().fit(None), prior=att.prior_).fit(targets)
    np.testing.assert_array_equal(att.infer(frame), expected.infer(targets))
    with pytest.raises(ValueError, match="feature names should match"):
        att.infer(frame.rename(columns={"a": "z"}))


def test_api_clone_params_pickle_and_reproducibility(targets):
    att = attack(BMICategory().fit(None), tolerance=1.0)
    params = att.get_params()
    assert params["bins"] == 35 and params["tolerance"] == 1.0
    twin = clone(att).set_params(tolerance=2.0)
    assert twin.tolerance == 2.0 and att.tolerance == 1.0
    assert not hasattr(twin, "prior_")
    att.fit(targets[:100])
    restored = pickle.loads(pickle.dumps(att))
    np.testing.assert_array_equal(restored.posterior(targets), att.posterior(targets))
    again = clone(att).fit(targets[:100])
    assert again.evaluate(targets) == att.evaluate(targets)
    # Row chunks of the queries (here one target per call) change nothing.
    chunked = clone(att).set_params(batch_size=35).fit(targets[:100])
    np.testing.assert_array_equal(
        chunked.posterior(targets[:300]), att.posterior(targets[:300])
    )
    # The sensitive column of the targets is not read when the release is given.
    released = BMICategory().predict(targets)
    hidden = targets.copy()
    hidden[:, 0] = np.nan
    np.testing.assert_array_equal(att.infer(hidden, released), att.infer(targets))


def test_errors(targets):
    model = BMICategory().fit(None)
    with pytest.raises(TypeError, match="has no predict method"):
        AttributeInferenceAttack(object(), 0, domain=DOMAIN).fit(targets)
    with pytest.raises(TypeError, match="has no predict_proba method"):
        AttributeInferenceAttack(model, 0, method="confidence").fit(targets)
    with pytest.raises(InvalidParameterError, match="method"):
        AttributeInferenceAttack(model, 0, method="guess").fit(targets)
    with pytest.raises(InvalidParameterError, match="n_queries"):
        AttributeInferenceAttack(model, 0, n_queries=0).fit(targets)
    with pytest.raises(ValueError, match="feature index 9 is out of range"):
        AttributeInferenceAttack(model, 9).fit(targets)
    with pytest.raises(ValueError, match="not a column name"):
        AttributeInferenceAttack(model, "bmi").fit(targets)
    with pytest.raises(ValueError, match="outside the domain"):
        AttributeInferenceAttack(model, 0, domain=(20.0, 30.0)).fit(targets)
    with pytest.raises(ValueError, match="domain is empty"):
        AttributeInferenceAttack(model, 1).fit(np.ones((5, 2)))
    with pytest.raises(ValueError, match="inside the domain"):
        AttributeInferenceAttack(model, 0, domain=DOMAIN, bins=[10.0, 20.0]).fit(
            targets
        )
    with pytest.raises(ValueError, match="one probability per candidate"):
        attack(model, prior=[0.5, 0.5]).fit(targets)
    with pytest.raises(ValueError, match="non-negative"):
        attack(model, prior=-PI).fit(targets)
    strings = np.array([["a", 1.0], ["b", 2.0]], dtype=object)
    with pytest.raises(TypeError, match="categorical=True"):
        AttributeInferenceAttack(model, 0).fit(strings)
    att = attack(model)
    with pytest.raises(NotFittedError):
        att.infer(targets)
    att.fit(targets)
    with pytest.raises(ValueError, match="released must hold one output per row"):
        att.infer(targets, released=[0, 1])
    with pytest.raises(ValueError, match="X has 2 features, but"):
        att.infer(targets[:, :2])
    with pytest.raises(ValueError, match="outside the domain"):
        att.evaluate(targets * 10)
    with pytest.raises(ValueError, match="confidence"):
        att.evaluate(targets, confidence=1.0)
    nan_column = targets.copy()
    nan_column[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"outside the domain .* \(or NaN\)"):
        AttributeInferenceAttack(model, 0).fit(nan_column)


@pytest.fixture(scope="module")
def correlated():
    # x1 carries bmi: x1 = (bmi - 28) / 6 + 0.3 * noise, so imputation alone works.
    X = make_recommendation(n_samples=3000, random_state=5).data.copy()
    noise = np.random.default_rng(6).standard_normal(len(X))
    X[:, 1] = (X[:, 0] - 28.0) / 6.0 + 0.3 * noise
    return X


def test_conditional_prior_is_the_imputation_baseline(correlated):
    from sklearn.linear_model import LogisticRegression

    X, aux = correlated[1000:], correlated[:1000]
    imputer = LogisticRegression(C=10.0, max_iter=500)
    blind = attack(Constant(), prior=imputer, tolerance=2.0).fit(aux)
    assert blind.prior_estimator_ is not imputer
    assert not hasattr(imputer, "classes_")  # the given classifier is not fitted
    imputed = blind.evaluate(X)
    # A release that says nothing adds nothing to imputation: identical guesses.
    assert imputed.success_rate == imputed.prior_success_rate
    assert imputed.advantage == 0.0
    np.testing.assert_allclose(
        blind.posterior(X), np.exp(blind._log_prior(X)), rtol=1e-12
    )
    marginal = attack(Constant(), tolerance=2.0).fit(aux).evaluate(X)
    lo = imputed.prior_success_rate_within_tolerance_ci[0]
    assert lo > marginal.prior_success_rate_within_tolerance_ci[1]
    # Against a release that does leak, the gain over imputation is smaller than
    # the gain over the marginal prior: part of the "leak" was correlation.
    model = BMICategory().fit(None)
    over_imputation = attack(model, prior=imputer, tolerance=2.0).fit(aux)
    over_marginal = attack(model, tolerance=2.0).fit(aux)
    gain_imputation = over_imputation.evaluate(X).advantage
    gain_marginal = over_marginal.evaluate(X).advantage
    assert 0 < gain_imputation < gain_marginal


def test_conditional_prior_on_a_dataframe_drops_the_column_by_name(correlated):
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame(correlated, columns=["bmi", "a", "b", "c", "d", "e"])

    class FrameCategory:
        def predict(self, X):
            return np.digitize(X["bmi"].to_numpy(), CUTS)

    att = AttributeInferenceAttack(
        FrameCategory(),
        "bmi",
        domain=DOMAIN,
        bins=35,
        prior=DecisionTreeClassifier(max_depth=4, random_state=0),
    ).fit(frame)
    assert list(att.prior_estimator_.feature_names_in_) == ["a", "b", "c", "d", "e"]
    assert att.posterior(frame.iloc[:10]).shape == (10, 35)


def test_cross_validate_says_to_freeze_the_target(targets):
    # Issue 11, point 6: clone unfits the target; the error says what to do.
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import cross_validate
    from sklearn.tree import DecisionTreeClassifier

    y = np.digitize(targets[:, 0], CUTS)
    model = DecisionTreeClassifier(random_state=0).fit(targets[:1000], y[:1000])
    X = targets[1000:1600]
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        cross_validate(attack(model), X, cv=3, error_score="raise")
    scores = cross_validate(attack(FrozenEstimator(model)), X, cv=3)["test_score"]
    # The tree's release is the BMI category: the attack beats the prior's
    # ~0.07 exact-bin success on every fold (measured 0.2-0.3).
    assert np.all(scores > 0.1)
