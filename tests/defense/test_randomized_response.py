"""Tests of RandomizedResponseClassifier: the k-ary randomized-response law."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.defense import RandomizedResponseClassifier

N = 30000


class Digitize(ClassifierMixin, BaseEstimator):
    """Deterministic k-class model: the bin of column 0 among ``cuts``."""

    def __init__(self, cuts=(0.0,)):
        self.cuts = cuts

    def fit(self, X, y=None):
        self.classes_ = np.array(["c0", "c1", "c2", "c3"][: len(self.cuts) + 1])
        return self

    def predict(self, X):
        return self.classes_[np.digitize(np.asarray(X, dtype=float)[:, 0], self.cuts)]


def binomial_bounds(n, p, tail=5e-5):
    """[lo, hi] holding Binomial(n, p) with probability >= 1 - 1e-4."""
    return binom.ppf(tail, n, p), binom.isf(tail, n, p)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(N, 3))


@pytest.mark.parametrize("k, epsilon", [(2, 0.3), (3, 1.0), (4, 2.5)])
def test_keep_rate_and_uniform_flips(X, k, epsilon):
    cuts = tuple(np.linspace(-0.8, 0.8, k - 1))
    rr = RandomizedResponseClassifier(Digitize(cuts), epsilon=epsilon, random_state=1)
    rr.fit(X[:5], None)
    keep = math.exp(epsilon) / (math.exp(epsilon) + k - 1)
    assert rr.keep_proba_ == pytest.approx(keep, rel=1e-12)
    true, released = rr.estimator_.predict(X), rr.predict(X)
    # kept ~ Binomial(N, e^eps / (e^eps + k - 1)): outside the bounds w.p. <= 1e-4.
    # The binary formula e^eps / (e^eps + 1) for k > 2, or no flipping, is rejected.
    lo, hi = binomial_bounds(N, keep)
    assert lo <= np.sum(released == true) <= hi
    if k > 2:
        assert not binomial_bounds(N, math.exp(epsilon) / (math.exp(epsilon) + 1))[
            0
        ] <= np.sum(released == true)
    # Each other class gets 1 / (e^eps + k - 1): per (true, released) pair with
    # released != true, count ~ Binomial(n_true, that), bound 1e-4 / k^2 per pair.
    other = 1.0 / (math.exp(epsilon) + k - 1)
    for a in rr.classes_:
        n_a = np.sum(true == a)
        for b in rr.classes_[rr.classes_ != a]:
            lo, hi = binomial_bounds(n_a, other, tail=5e-5 / k**2)
            assert lo <= np.sum(released[true == a] == b) <= hi


def test_one_answer_per_row_whatever_the_batch(X):
    rr = RandomizedResponseClassifier(Digitize((0.0,)), epsilon=0.5, random_state=3)
    rr.fit(X[:5], None)
    full = rr.predict(X[:2000])
    np.testing.assert_array_equal(rr.predict(X[:2000]), full)
    order = np.random.default_rng(1).permutation(2000)
    np.testing.assert_array_equal(rr.predict(X[:2000][order]), full[order])
    np.testing.assert_array_equal(rr.predict(X[7:8]), full[7:8])
    # Same seed, same flips; another seed, other flips (2000 rows at flip rate 0.38
    # agree on all of them with probability ~0).
    twin = clone(rr).fit(X[:5], None)
    np.testing.assert_array_equal(twin.predict(X[:2000]), full)
    other = clone(rr).set_params(random_state=4).fit(X[:5], None)
    assert not np.array_equal(other.predict(X[:2000]), full)
    restored = pickle.loads(pickle.dumps(rr))
    np.testing.assert_array_equal(restored.predict(X[:2000]), full)


def test_infinite_epsilon_releases_the_labels(X):
    rr = RandomizedResponseClassifier(Digitize((0.0, 1.0)), epsilon=np.inf)
    rr.fit(X[:5], None)
    assert rr.keep_proba_ == 1.0
    np.testing.assert_array_equal(rr.predict(X), rr.estimator_.predict(X))


def test_large_epsilon_is_finite_and_default_estimator(X):
    y = (X[:, 0] > 0).astype(int)
    rr = RandomizedResponseClassifier(epsilon=1000.0, random_state=0).fit(X, y)
    assert isinstance(rr.estimator_, LogisticRegression)
    assert rr.keep_proba_ == 1.0
    assert rr.score(X, y) > 0.99


def test_wraps_a_pipeline_on_a_dataframe_with_strings():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], size=3000), "x": rng.normal(size=3000)}
    )
    y = (frame["sex"] == "F").astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["sex"]), remainder="passthrough"),
        LogisticRegression(),
    )
    rr = RandomizedResponseClassifier(model, epsilon=1.0, random_state=0)
    released = rr.fit(frame, y).predict(frame)
    np.testing.assert_array_equal(rr.predict(frame.iloc[::-1]), released[::-1])
    keep = math.e / (math.e + 1)
    lo, hi = binomial_bounds(3000, keep)
    assert lo <= np.sum(released == y) <= hi
    assert list(rr.feature_names_in_) == ["sex", "x"]


def test_abstaining_model_is_refused(X):
    class Abstaining(Digitize):
        def predict(self, X):
            out = super().predict(X).astype(object)
            out[np.abs(np.asarray(X)[:, 0]) < 0.1] = -1
            return out

    rr = RandomizedResponseClassifier(Abstaining(), random_state=0).fit(X[:5], None)
    with pytest.raises(ValueError, match=r"labels outside classes_.*-1"):
        rr.predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"estimator": object()}, "estimator"),
    ],
)
def test_bad_parameters(X, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        RandomizedResponseClassifier(**params).fit(X, X[:, 0] > 0)
