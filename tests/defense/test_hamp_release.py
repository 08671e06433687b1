"""Tests of HAMPReleaseClassifier, HAMP's release-time output modification."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skprivacy.audit import MembershipInferenceAuditor
from skprivacy.defense import HAMPReleaseClassifier


class EchoProba(ClassifierMixin, BaseEstimator):
    """Scores = softmax of the first n_classes features; records its inputs."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.inputs_ = []
        return self

    def predict_proba(self, X):
        self.inputs_.append(np.array(X))
        z = np.asarray(X)[:, : len(self.classes_)]
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def release(data):
    X, y = data
    return HAMPReleaseClassifier(LogisticRegression(), random_state=0).fit(X, y)


def test_labels_and_ranks_are_the_models(release, data):
    X, _ = data
    model = release.estimator_.predict_proba(X)
    released = release.predict_proba(X)
    np.testing.assert_array_equal(release.predict(X), release.estimator_.predict(X))
    np.testing.assert_array_equal(released.argmax(1), model.argmax(1))
    np.testing.assert_array_equal(np.argsort(released, 1), np.argsort(model, 1))
    np.testing.assert_allclose(released.sum(1), 1.0)
    np.testing.assert_allclose(np.exp(release.predict_log_proba(X)), released)
    # The values are no longer the model's.
    assert not np.allclose(np.sort(released, 1), np.sort(model, 1))


def test_values_are_the_random_inputs_scores_and_inputs_are_uniform():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    y = rng.integers(0, 3, size=2000)
    release = HAMPReleaseClassifier(EchoProba(), random_state=0).fit(X, y)
    released = release.predict_proba(X)
    inputs = release.estimator_.inputs_[-1]
    np.testing.assert_allclose(
        np.sort(released, 1), np.sort(release.estimator_.predict_proba(inputs), 1)
    )
    np.testing.assert_array_equal(release.feature_low_, X.min(0))
    np.testing.assert_array_equal(release.feature_high_, X.max(0))
    assert (inputs >= X.min(0)).all() and (inputs <= X.max(0)).all()
    # Each coordinate is uniform on its range: a KS test that rejects a correct
    # implementation with probability 1e-4 per feature.
    for j in range(4):
        unit = (inputs[:, j] - X[:, j].min()) / np.ptp(X[:, j])
        assert stats.kstest(unit, "uniform").pvalue > 1e-4


def test_feature_range_sets_the_box(data):
    X, y = data
    release = HAMPReleaseClassifier(
        EchoProba(), feature_range=(-1.0, np.arange(6) + 1.0), random_state=0
    ).fit(X, y)
    release.predict_proba(X)
    inputs = release.estimator_.inputs_[-1]
    assert (inputs >= -1).all() and (inputs <= np.arange(6) + 1.0).all()
    assert inputs[:, 5].max() > 5  # the per-feature upper bound is used


@pytest.mark.parametrize(
    "feature_range, match",
    [
        ((0.0, 1.0, 2.0), "pair"),
        ((0.0, np.ones(3)), "one per feature"),
        ((1.0, 0.0), "low <= high"),
        ((0.0, np.inf), "finite"),
    ],
)
def test_bad_feature_range_raises(data, feature_range, match):
    X, y = data
    release = HAMPReleaseClassifier(EchoProba(), feature_range=feature_range)
    with pytest.raises(ValueError, match=match):
        release.fit(X, y)


def test_answers_are_keyed_on_the_row(release, data):
    X, _ = data
    full = release.predict_proba(X)
    # One row alone and in a batch draw the same random input; the model's
    # arithmetic may differ in the last bit between batch sizes (BLAS kernels).
    np.testing.assert_allclose(release.predict_proba(X[::-1]), full[::-1], rtol=1e-12)
    np.testing.assert_allclose(release.predict_proba(X[7:8]), full[7:8], rtol=1e-12)
    np.testing.assert_array_equal(release.predict_proba(X), full)
    other = clone(release).set_params(random_state=1).fit(*data)
    assert not np.allclose(other.predict_proba(X), full)
    again = clone(release).fit(*data)
    np.testing.assert_array_equal(again.predict_proba(X), full)


def test_ties_at_the_top_go_to_the_first_class():
    X = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 3.0]])
    y = np.array([0, 1, 2])
    release = HAMPReleaseClassifier(EchoProba(), random_state=0).fit(X, y)
    np.testing.assert_array_equal(release.predict_proba(X).argmax(1), [0, 1, 0])


def test_released_scores_do_not_depend_on_membership():
    # A heavily overfit model: its true-class probability separates members
    # from non-members. The released vector's sorted values are a function of
    # the random input only, so both groups draw them from one distribution (a
    # KS test at level 1e-4 rejects that null with probability at most 1e-4);
    # which class gets which value still follows the model's ranking, so
    # whether the label is right (a label-only signal) is not hidden.
    X, y = make_classification(
        n_samples=800, n_features=300, n_informative=5, flip_y=0.2, random_state=0
    )
    members, others = slice(0, 400), slice(400, 800)
    model = LogisticRegression(C=1e4, max_iter=2000)
    release = HAMPReleaseClassifier(model, random_state=0).fit(X[members], y[members])
    raw = release.estimator_.predict_proba(X)[np.arange(len(y)), y]
    assert stats.ks_2samp(raw[members], raw[others]).pvalue < 1e-10
    top = release.predict_proba(X).max(1)
    assert stats.ks_2samp(top[members], top[others]).pvalue > 1e-4


def test_auditor_reads_the_released_scores(release, data):
    # The audit must attack what is published, not the wrapped model's logits.
    X, y = data
    auditor = MembershipInferenceAuditor(
        FrozenEstimator(release), attack="loss", n_references=0, random_state=0
    ).fit(X[:150], y[:150], X_population=X[150:], y_population=y[150:])
    released = release.predict_proba(X)[np.arange(len(y)), y]
    np.testing.assert_allclose(auditor.score_samples(X, y), np.log(released))
