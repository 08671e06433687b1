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
from sklearn.neural_network import MLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.audit import (
    MembershipInferenceAuditor,
    PerturbationAttack,
    membership_auc,
    tpr_at_fpr,
)

N = 1000
SIGMA_NULL = math.sqrt((2 * N + 1) / (12 * N * N))  # sd of a null AUC, 0.0129


def _log_query(logit):
    """Query of a binary model with class-1 logit ``logit(X)``."""

    def query(X):
        z = logit(X)
        return np.column_stack([-np.logaddexp(0, z), -np.logaddexp(0, -z)])

    return query


def test_merlin_fraction_on_a_peak_and_on_a_slope():
    n, T = 500, 20
    attack = PerturbationAttack(noise_levels=(0.1,), n_samples=T)
    # At the top of a peak every perturbation lowers log p_y: fraction 1.
    peak = _log_query(lambda X: 5 - 10 * X[:, 0] ** 2)
    X0 = np.zeros((n, 1))
    y = np.ones(n, int)
    s = attack.signals(peak, X0, y, scale=np.ones(1), random_state=0)
    assert np.all(s[:, 1] == 1.0) and np.all(s[:, 2] > 0)
    # On a monotone slope, log p_y falls for half of the symmetric
    # perturbations; distinct records (noise streams are keyed on them) in a
    # second feature the model ignores.
    slope = _log_query(lambda X: X[:, 0])
    X1 = np.column_stack([np.zeros(n), np.arange(n)])
    s = attack.signals(slope, X1, y, scale=np.ones(2), random_state=0)
    # Mean of n Binomial(T, 1/2) / T: sd = sqrt(1 / (4 T n)); 4.42 sd <=> 1e-5.
    assert abs(s[:, 1].mean() - 0.5) < 4.42 * math.sqrt(1 / (4 * T * n))
    np.testing.assert_array_equal(s[:, 0], -np.logaddexp(0, 0.0))


@pytest.mark.parametrize("scoring", ["threshold", "lrt"])
def test_perturbation_attack_beats_chance_on_a_memorizing_forest(
    scoring, memorizing_forest
):
    target, X, y, membership, X_pop, y_pop = memorizing_forest
    auditor = MembershipInferenceAuditor(
        target,
        attack=PerturbationAttack(scoring=scoring, n_samples=4),
        n_references=4 if scoring == "lrt" else 0,
        random_state=0,
    ).fit(X, y, X_population=X_pop, y_population=y_pop)
    s = auditor.score_samples(X, y)
    # Without leakage P(AUC > 0.5 + 3.72 sigma) <= 1e-4 (one-sided); measured
    # 0.99 (threshold) and 0.93 (lrt) with the defaults.
    assert membership_auc(membership, s) > 0.5 + 3.72 * SIGMA_NULL
    assert tpr_at_fpr(membership, s, 0.01) > 0.05


def test_perturbation_attack_at_chance_without_leakage():
    X, y = make_classification(5000, 10, n_informative=6, random_state=3)
    target = FrozenEstimator(LogisticRegression(max_iter=500).fit(X[4000:], y[4000:]))
    membership = np.r_[np.ones(N), np.zeros(N)].astype(int)
    auditor = MembershipInferenceAuditor(
        target, attack="perturbation", n_references=0, random_state=0
    ).fit(X[:2000], y[:2000], X_population=X[2000:3000], y_population=y[2000:3000])
    auc = membership_auc(membership, auditor.score_samples(X[:2000], y[:2000]))
    # Exchangeable "members": P(|AUC - 0.5| > 3.89 sigma) <= 1e-4.
    assert abs(auc - 0.5) < 3.89 * SIGMA_NULL
    # The threshold from 1,000 population records keeps the FPR of 1,000 fresh
    # non-members: beta-binomial(m, n + 1 - k, k) with k = ceil(0.99 (n + 1)).
    flagged = auditor.predict(X[3000:4000], y[3000:4000]).sum()
    k = math.ceil(0.99 * 1001)
    assert flagged <= stats.betabinom(1000, 1001 - k, k).ppf(1 - 1e-4)


class _OneFeature(ClassifierMixin, BaseEstimator):
    """Logistic model of feature 2 only."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-3 * np.asarray(X)[:, 2]))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (np.asarray(X)[:, 2] > 0).astype(int)


def test_top_k_perturbs_the_important_features():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 2] > 0).astype(int)
    auditor = MembershipInferenceAuditor(
        _OneFeature().fit(X, y),
        attack=PerturbationAttack(top_k=1),
        n_references=0,
        random_state=0,
    ).fit(X, y, X_population=X, y_population=y)
    np.testing.assert_array_equal(auditor.attack_.features_, [2])
    importances = auditor.attack_.importances_
    assert importances[2] > 0 and np.all(np.delete(importances, 2) == 0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lrt_needs_two_references_and_mlp_lrt_is_reproducible():
    X, y = make_classification(1200, 8, n_informative=6, random_state=0)
    mlp = MLPClassifier((32,), max_iter=200, random_state=0)
    target = FrozenEstimator(mlp.fit(X[:300], y[:300]))
    with pytest.raises(ValueError, match="at least 2 reference models"):
        MembershipInferenceAuditor(
            target, attack="perturbation_lrt", n_references=1
        ).fit(X[:600], y[:600])
    params = {"attack": "perturbation_lrt", "n_references": 4, "random_state": 0}
    a = MembershipInferenceAuditor(target, **params).fit(X[:600], y[:600])
    b = MembershipInferenceAuditor(target, **params).fit(X[:600], y[:600])
    np.testing.assert_array_equal(
        a.score_samples(X[:600], y[:600]), b.score_samples(X[:600], y[:600])
    )
    assert a.attack_.var_.shape == a.attack_.shift_.shape == (4,)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"noise_levels": (0.1, -1)}, ValueError, "noise_levels must be positive"),
        (
            {"scoring": "bayes"},
            InvalidParameterError,
            "The 'scoring' parameter of PerturbationAttack must be a str among",
        ),
        (
            {"top_k": 0},
            InvalidParameterError,
            r"The 'top_k' parameter of PerturbationAttack must be an int in the "
            r"range \[1, inf\) or None. Got 0 instead.",
        ),
    ],
)
def test_bad_parameters(params, error, match):
    X, y = make_classification(200, 4, random_state=0)
    target = FrozenEstimator(LogisticRegression().fit(X, y))
    attack = PerturbationAttack(**params)
    # prepare runs first and checks the parameters as fit does.
    with pytest.raises(error, match=match):
        attack.prepare(target.predict_log_proba, X, y, scale=np.ones(4), random_state=0)
    with pytest.raises(error, match=match):
        attack.fit(None)
    with pytest.raises(ValueError):
        MembershipInferenceAuditor(target, attack=attack, n_references=1).fit(X, y)
