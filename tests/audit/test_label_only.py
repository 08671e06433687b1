# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.audit import (
    BoundaryDistanceAttack,
    GapAttack,
    LabelNoiseAttack,
    MembershipInferenceAuditor,
    membership_auc,
)
from skprivacy.certify import SmoothedClassifier

LABEL_ONLY = ["label_gap", "label_noise", "label_boundary"]

# AUC of exchangeable members and non-members: mean 1/2, standard deviation at
# most sqrt((n1 + n2 + 1) / (12 n1 n2)) (Mann-Whitney; ties only lower it).
N_IN = N_OUT = 1000
SIGMA_NULL = math.sqrt((N_IN + N_OUT + 1) / (12 * N_IN * N_OUT))  # 0.0129


def _threshold_query(X):
    return (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("attack", LABEL_ONLY)
def test_label_only_attacks_beat_chance_on_a_memorizing_forest(
    attack, memorizing_forest
):
    target, X, y, membership, X_pop, y_pop = memorizing_forest
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=0, random_state=0
    ).fit(X, y, X_population=X_pop, y_population=y_pop)
    auc = membership_auc(membership, auditor.score_samples(X, y))
    # Without leakage P(AUC > 0.5 + 3.72 sigma) <= 1e-4 (one-sided normal
    # approximation of Mann-Whitney); the forest (train 1.00, test ~0.79) gives
    # 0.59-0.63 here.
    assert auc > 0.5 + 3.72 * SIGMA_NULL


@pytest.fixture(scope="module")
def independent_target():
    """A target trained on other data: "members" and non-members are exchangeable."""
    X, y = make_classification(
        5000, 10, n_informative=6, n_classes=3, flip_y=0.05, random_state=3
    )
    target = LogisticRegression(max_iter=500).fit(X[4000:], y[4000:])
    membership = np.r_[np.ones(N_IN), np.zeros(N_OUT)].astype(int)
    return (
        FrozenEstimator(target),
        X[:2000],
        y[:2000],
        membership,
        X[2000:4000],
        y[2000:4000],
    )


@pytest.mark.parametrize("attack", LABEL_ONLY)
def test_label_only_attacks_at_chance_without_leakage(attack, independent_target):
    target, X, y, membership, X_pop, y_pop = independent_target
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=0, random_state=0
    ).fit(X, y, X_population=X_pop, y_population=y_pop)
    auc = membership_auc(membership, auditor.score_samples(X, y))
    # Two-sided: P(|AUC - 0.5| > 3.89 sigma) <= 1e-4 under exchangeability.
    assert abs(auc - 0.5) < 3.89 * SIGMA_NULL


@pytest.mark.parametrize("attack", ["label_noise", "label_boundary"])
def test_threshold_keeps_the_fpr_of_fresh_non_members(attack, independent_target):
    target, X, y, _, X_pop, y_pop = independent_target
    # Calibrate on 1,000 population records, test on 1,000 fresh ones.
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=0, target_fpr=0.05, random_state=0
    ).fit(X, y, X_population=X_pop[:1000], y_population=y_pop[:1000])
    flagged = auditor.predict(X_pop[1000:], y_pop[1000:]).sum()
    # Threshold = k-th smallest of n = 1000 null scores, k = ceil(0.95 * 1001);
    # the number of m fresh exchangeable non-members above it is beta-binomial
    # (m, n + 1 - k, k) whatever the score distribution (ties only lower it).
    n, m = 1000, 1000
    k = math.ceil(0.95 * (n + 1))
    bound = stats.betabinom(m, n + 1 - k, k).ppf(1 - 1e-4)
    assert flagged <= bound


def test_boundary_distance_matches_the_analytic_distance():
    # In one dimension the directions are +-1: with 20 of them, one points to
    # the boundary x = 0 except with probability 2 ** -20 per record (1e-6).
    x = np.array([0.3, 1.0, 2.0, 5.0, 40.0, -1.0])
    attack = BoundaryDistanceAttack(n_directions=20, n_bisections=8, max_radius=16)
    d = attack.signals(
        _threshold_query,
        x[:, None],
        np.ones(6, int),
        scale=np.array([2.0]),
        random_state=0,
    ).ravel()
    true = np.abs(x) / 2.0  # in units of the feature scale
    # The change is bracketed in (r / 2, r] and bisected 8 times: d - true in
    # [0, true / 2 ** 8]; beyond max_radius the distance is max_radius; a
    # misclassified record gets 0.
    ok = slice(0, 4)
    assert np.all(d[ok] >= true[ok]) and np.all(d[ok] <= true[ok] * (1 + 2**-8))
    assert d[4] == 16 and d[5] == 0


def test_label_noise_matches_the_gaussian_probability():
    sigma, k, n = 0.5, 16, 2000
    # Distinct records (their noise streams are keyed on them) at x0 = 0.4; the
    # model ignores the second feature.
    X = np.column_stack([np.full(n, 0.4), np.arange(n)])
    s = (
        LabelNoiseAttack(n_samples=k, sigma=sigma)
        .signals(_threshold_query, X, np.ones(n, int), scale=np.ones(2), random_state=0)
        .ravel()
    )
    p = stats.norm.cdf(0.4 / sigma)
    expected = (1 + k * p) / (k + 1)
    # Mean of n independent Binomial(k, p) / (k + 1): sd = sqrt(k p (1 - p) / n)
    # / (k + 1); 4.42 sd is exceeded with probability 1e-5.
    sd = math.sqrt(k * p * (1 - p) / n) / (k + 1)
    assert abs(s.mean() - expected) < 4.42 * sd


class _Abstainer(ClassifierMixin, BaseEstimator):
    """Predicts x0 > 0 but abstains (-1) when |x0| < 0.5; no predict_proba."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        X = np.asarray(X)
        return np.where(np.abs(X[:, 0]) < 0.5, -1, (X[:, 0] > 0).astype(int))


def test_abstention_is_a_distinct_never_correct_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] > 0).astype(int)
    target = _Abstainer().fit(X, y)
    auditor = MembershipInferenceAuditor(
        target, attack="label_gap", n_references=0, random_state=0
    ).fit(X[:200], y[:200], X_population=X[200:], y_population=y[200:])
    scores = auditor.score_samples(X, y)
    abstained = np.abs(X[:, 0]) < 0.5
    assert np.all(scores[abstained] == 0) and np.all(scores[~abstained] == 1)


@pytest.mark.parametrize("attack", ["loss", "rmia", "perturbation"])
def test_probability_attacks_refuse_label_only_targets(attack):
    X, y = make_classification(300, 4, random_state=0)
    svc = LinearSVC().fit(X, y)
    with pytest.raises(ValueError, match="label-only attack: attack='label_gap'"):
        MembershipInferenceAuditor(svc, attack=attack, n_references=2).fit(X, y)
    smoothed = SmoothedClassifier(abstain=True, n_predict=100, random_state=0)
    smoothed.fit(X, y)
    with pytest.raises(ValueError, match="releases labels only"):
        MembershipInferenceAuditor(
            FrozenEstimator(smoothed), attack=attack, n_references=2
        ).fit(X, y)
    with pytest.raises(ValueError, match="release='proba' but the target"):
        MembershipInferenceAuditor(svc, attack="label_gap", release="proba").fit(X, y)


def test_audit_a_smoothed_classifier_with_references():
    X, y = make_classification(900, 6, n_informative=4, flip_y=0.1, random_state=0)
    smoothed = SmoothedClassifier(
        sigma=0.25, n_predict=60, abstain=True, alpha=0.05, random_state=0
    ).fit(X[:300], y[:300])
    auditor = MembershipInferenceAuditor(
        FrozenEstimator(smoothed),
        attack="label_noise",
        n_references=2,
        random_state=0,
    ).fit(X[:600], y[:600])
    assert auditor.calibration_ == "references"
    assert auditor.reference_signals_.shape == (2, 600, 1)
    # Reference accuracy counts abstentions as errors, as the model's score does.
    for j, est in enumerate(auditor.estimators_):
        rows = auditor.reference_membership_[j]
        assert auditor.reference_accuracy_[j, 0] == pytest.approx(
            est.score(X[:600][rows], y[:600][rows])
        )
    s = auditor.score_samples(X[:600], y[:600])
    assert s.shape == (600,) and np.all((s >= 0) & (s <= 1))
    # Seeded: a second fit gives the same scores.
    again = MembershipInferenceAuditor(
        FrozenEstimator(smoothed),
        attack="label_noise",
        n_references=2,
        random_state=0,
    ).fit(X[:600], y[:600])
    np.testing.assert_array_equal(again.score_samples(X[:600], y[:600]), s)


@pytest.mark.parametrize(
    "attack, error, match",
    [
        (
            LabelNoiseAttack(sigma=0),
            InvalidParameterError,
            r"The 'sigma' parameter of LabelNoiseAttack must be a float in the "
            r"range \(0.0, inf\). Got 0 instead.",
        ),
        (
            LabelNoiseAttack(n_samples=0),
            InvalidParameterError,
            r"The 'n_samples' parameter of LabelNoiseAttack must be an int in the "
            r"range \[1, inf\)",
        ),
        (BoundaryDistanceAttack(min_radius=2, max_radius=1), ValueError, "must exceed"),
        (
            BoundaryDistanceAttack(n_directions=1.5),
            InvalidParameterError,
            "The 'n_directions' parameter of BoundaryDistanceAttack must be an int",
        ),
    ],
)
def test_bad_parameters(attack, error, match):
    X, y = make_classification(200, 4, random_state=0)
    target = LogisticRegression().fit(X, y)
    # The signal step runs before fit, and checks the parameters as fit does.
    with pytest.raises(error, match=match):
        attack.signals(target.predict, X, y, scale=np.ones(4), random_state=0)
    with pytest.raises(ValueError):
        MembershipInferenceAuditor(
            FrozenEstimator(target), attack=attack, n_references=1
        ).fit(X, y)


def test_query_attacks_need_numeric_records():
    import pandas as pd

    X = pd.DataFrame({"a": ["u", "v"] * 50, "b": np.arange(100.0)})
    y = np.arange(100) % 2

    class Model(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.array([0, 1])
            return self

        def predict(self, X):
            return np.zeros(len(X), int)

    with pytest.raises(ValueError, match="must be numeric"):
        MembershipInferenceAuditor(
            Model().fit(X, y), attack="label_gap", n_references=1
        ).fit(X, y)


def test_gap_signal_on_names_and_string_classes():
    import pandas as pd

    X, y = make_classification(400, 4, random_state=0)
    X = pd.DataFrame(X, columns=list("abcd"))
    labels = np.where(y == 1, "yes", "no")
    target = LogisticRegression().fit(X[:200], labels[:200])
    auditor = MembershipInferenceAuditor(
        FrozenEstimator(target), attack=GapAttack(), n_references=1, random_state=0
    ).fit(X, labels)
    correct = target.predict(X) == labels
    np.testing.assert_array_equal(auditor.score_samples(X, labels), correct)


def test_release_labels_restricts_a_probabilistic_target_to_label_only_attacks():
    X, y = make_classification(300, 4, random_state=0)
    target = FrozenEstimator(LogisticRegression().fit(X[:150], y[:150]))
    with pytest.raises(ValueError, match="releases labels only"):
        MembershipInferenceAuditor(
            target, attack="loss", release="labels", n_references=1
        ).fit(X, y)
    auditor = MembershipInferenceAuditor(
        target, attack="label_gap", release="labels", n_references=1, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(auditor.score_samples(X, y), target.predict(X) == y)


@pytest.mark.parametrize("attack", ["label_noise", "label_boundary", "perturbation"])
def test_a_record_signal_does_not_depend_on_the_other_records(attack):
    X, y = make_classification(600, 5, random_state=0)
    target = FrozenEstimator(LogisticRegression().fit(X[:300], y[:300]))
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=2, random_state=0
    ).fit(X[:400], y[:400])
    order = np.random.default_rng(0).permutation(600)
    everything = auditor.score_samples(X, y)
    np.testing.assert_array_equal(
        auditor.score_samples(X[order], y[order]), everything[order]
    )
    np.testing.assert_array_equal(auditor.score_samples(X[:7], y[:7]), everything[:7])
    np.testing.assert_array_equal(
        auditor.score_samples(X[450:460], y[450:460]), everything[450:460]
    )
