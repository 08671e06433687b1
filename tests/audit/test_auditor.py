# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import json
import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

import skprivacy
from skprivacy.audit import (
    RMIA,
    BaseMembershipAttack,
    LiRA,
    MembershipInferenceAuditor,
    ShadowModelAttack,
    empirical_epsilon,
    membership_auc,
    tpr_at_fpr,
)
from skprivacy.exceptions import DataOverlapWarning, ReferenceCalibrationWarning


@pytest.fixture(scope="module")
def small():
    """A logistic-regression target on 300 members; pool = members + 300 others."""
    X, y = make_classification(1500, 8, n_informative=5, n_classes=3, random_state=1)
    target = LogisticRegression(max_iter=500).fit(X[:300], y[:300])
    membership = np.r_[np.ones(300), np.zeros(300)].astype(int)
    return FrozenEstimator(target), X[:600], y[:600], membership, X[600:], y[600:]


def _auditor(target, **params):
    params = {"attack": "rmia", "n_references": 4, "random_state": 0, **params}
    return MembershipInferenceAuditor(target, **params)


def test_exported_at_top_level():
    assert skprivacy.MembershipInferenceAuditor is MembershipInferenceAuditor


def test_clone_get_set_params_keep_the_target(small):
    target, X, y, *_ = small
    auditor = _auditor(target)
    cloned = clone(auditor)
    assert cloned.target is target  # FrozenEstimator clones to itself
    assert cloned.get_params()["n_references"] == 4
    cloned.set_params(attack="loss", n_references=2)
    assert (cloned.attack, cloned.n_references) == ("loss", 2)
    # The frozen target stays fitted through clone: the clone can fit at once.
    cloned.fit(X, y)
    assert cloned.classes_.tolist() == [0, 1, 2]


def test_seeded_audits_reproduce_and_pickle(small):
    target, X, y, membership, Xp, yp = small
    a = _auditor(target).fit(X, y, X_population=Xp, y_population=yp)
    b = _auditor(clone(target)).fit(X, y, X_population=Xp, y_population=yp)
    np.testing.assert_array_equal(a.reference_membership_, b.reference_membership_)
    np.testing.assert_array_equal(a.score_samples(X, y), b.score_samples(X, y))
    assert (
        a.audit(X, y, membership)
        .to_frame()
        .equals(b.audit(X, y, membership).to_frame())
    )
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(
        restored.decision_function(X, y), a.decision_function(X, y)
    )
    c = _auditor(target, random_state=1).fit(X, y, X_population=Xp, y_population=yp)
    assert not np.array_equal(a.reference_membership_, c.reference_membership_)


def test_keep_matrix_is_balanced(small):
    target, X, y, *_ = small
    auditor = _auditor(target, n_references=6).fit(X, y)
    keep = auditor.reference_membership_
    assert (keep.sum(axis=0) == 3).all()
    # Each reference trains on about half the pool: Binomial(600, 1/2) within
    # 4.5 sigma (sigma = 12.2) fails with probability < 1e-5 per reference.
    assert (np.abs(keep.sum(axis=1) - 300) < 55).all()
    assert auditor.reference_accuracy_.shape == (6, 2)
    assert set(auditor.seeds_) == {"split", "attack", "references"}


def test_memory_cache_gives_the_same_references(small, tmp_path):
    target, X, y, *_ = small
    plain = _auditor(target).fit(X, y)
    cached = _auditor(target, memory=str(tmp_path)).fit(X, y)
    again = _auditor(target, memory=str(tmp_path)).fit(X, y)
    np.testing.assert_allclose(cached.reference_signals_, plain.reference_signals_)
    np.testing.assert_allclose(again.reference_signals_, plain.reference_signals_)


def test_verbose_shows_progress(small, capsys):
    target, X, y, *_ = small
    _auditor(target, verbose=1).fit(X, y)
    assert "reference models" in capsys.readouterr().err


def test_recipe_defaults_to_the_wrapped_model(small):
    target, X, y, *_ = small
    auditor = _auditor(target, n_references=2, attack="loss").fit(X, y)
    assert all(type(est) is LogisticRegression for est in auditor.estimators_)
    assert all(est is not target.estimator for est in auditor.estimators_)
    mlp = MLPClassifier((4,), max_iter=20)
    auditor = _auditor(target, estimator=mlp, n_references=2, attack="loss")
    with pytest.warns(Warning):  # MLP convergence warnings
        auditor.fit(X, y)
    assert all(type(est) is MLPClassifier for est in auditor.estimators_)


def test_reference_that_did_not_train_warns(small):
    target, X, y, _, Xp, yp = small
    auditor = _auditor(target, estimator=DummyClassifier(), n_references=2)
    with pytest.warns(UserWarning, match="did not train"):
        auditor.fit(X, y, X_population=Xp, y_population=yp)


def test_bad_input_errors_name_the_fix(small):
    target, X, y, membership, Xp, yp = small
    with pytest.raises(NotFittedError, match="FrozenEstimator\\(fitted_model\\)"):
        _auditor(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="every reference model would be"):
        _auditor(target, estimator=FrozenEstimator(target.estimator)).fit(X, y)
    with pytest.raises(ValueError, match="too small for 4 reference models"):
        _auditor(target).fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="X has 600 records but y has 599"):
        _auditor(target).fit(X, y[:-1])
    label_only = FrozenEstimator(LinearSVC().fit(X, y))
    with pytest.raises(ValueError, match="needs predicted probabilities"):
        _auditor(label_only).fit(X, y)
    with pytest.raises(ValueError, match="pass X_population and y_population"):
        _auditor(target, attack="population").fit(X, y)
    with pytest.raises(ValueError, match="at least 4 reference models"):
        _auditor(target, attack="lira", n_references=2).fit(X, y)
    with pytest.raises(ValueError, match="known non-members"):
        _auditor(target, attack="loss", n_references=0).fit(X, y)
    with pytest.raises(ValueError, match="'attack' parameter"):
        _auditor(target, attack="gap").fit(X, y)
    fitted = _auditor(target, attack="lira").fit(X, y)
    # Pool records are recognised whatever the array's dtype.
    X32 = X.astype(np.float32)
    fitted32 = _auditor(target, attack="lira").fit(X32, y)
    assert np.isfinite(fitted32.score_samples(X32.astype(np.float64), y)).all()
    with pytest.raises(ValueError, match="only 0 \\(non-member\\) and 1"):
        fitted.score(X, y, membership * 2)
    with pytest.raises(ValueError, match="pass the audited records in the pool"):
        fitted.score_samples(Xp[:10], yp[:10])
    with pytest.raises(NotFittedError):
        _auditor(target).predict(X, y)


def test_one_reference_with_a_population(small):
    target, X, y, _, Xp, yp = small
    auditor = _auditor(target, attack="rmia", n_references=1)
    auditor.fit(X, y, X_population=Xp, y_population=yp)
    assert auditor.attack_.a_ == 1.0  # nothing to tune with one reference
    left_out = ~auditor.reference_membership_[0]
    assert np.isfinite(auditor.score_samples(X[left_out], y[left_out])).all()
    with pytest.raises(ValueError, match="did not train on it"):
        auditor.score_samples(X, y)


def test_predict_proba_only_for_likelihood_ratios(small):
    target, X, y, _membership, *_ = small
    assert not hasattr(_auditor(target, attack="rmia"), "predict_proba")
    auditor = _auditor(target, attack="lira", prior=0.2).fit(X, y)
    proba = auditor.predict_proba(X, y)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    llr = auditor.score_samples(X, y)
    expected = 1 / (1 + np.exp(-(llr + np.log(0.2 / 0.8))))
    np.testing.assert_allclose(proba[:, 1], expected)


class _Oracle(BaseMembershipAttack):
    """Scores by the target's maximum log-probability; for the plug-in test."""

    def fit(self, references):
        return self

    def score_samples(self, log_proba, y, reference_log_proba, membership):
        return log_proba.max(axis=1)


def test_attack_objects_plug_in(small):
    target, X, y, _membership, Xp, yp = small
    auditor = _auditor(target, attack=_Oracle(), n_references=0)
    auditor.fit(X, y, X_population=Xp, y_population=yp)
    expected = target.predict_log_proba(X).max(axis=1)
    np.testing.assert_allclose(auditor.score_samples(X, y), expected)
    assert auditor.calibration_ == "population"


@pytest.mark.parametrize(
    "attack",
    [
        "loss",
        "population",
        "mentr",
        "reference",
        "shadow",
        ShadowModelAttack(LogisticRegression(), per_class=False),
        "lira",
        "lira_offline",
        LiRA(fix_variance=False),
        "rmia",
        RMIA(online=True),
        RMIA(a=0.5),
    ],
    ids=str,
)
def test_every_attack_runs_and_calibrates(small, attack):
    target, X, y, _membership, Xp, yp = small
    auditor = _auditor(target, attack=attack).fit(
        X, y, X_population=Xp, y_population=yp
    )
    scores = auditor.score_samples(X, y)
    assert scores.shape == (600,) and np.isfinite(scores).all()
    assert np.isfinite(auditor.offset_) and np.isfinite(auditor.pool_offset_)
    predicted = auditor.predict(X, y)
    assert set(np.unique(predicted)) <= {0, 1}
    p = auditor.p_values(X, y)
    assert ((p > 0) & (p <= 1)).all()


def test_non_leaking_target_auc_and_fpr_guarantee():
    """A target trained on disjoint data: its "members" are fresh non-members."""
    X, y = make_classification(6000, 10, n_informative=6, n_classes=3, random_state=2)
    target = FrozenEstimator(LogisticRegression(max_iter=500).fit(X[:1000], y[:1000]))
    # 1000 audited "members" and 1000 non-members, all unseen by the target.
    Xa, ya = X[1000:3000], y[1000:3000]
    membership = np.r_[np.ones(1000), np.zeros(1000)].astype(int)
    Xp, yp = X[3000:], y[3000:]  # 3000 population records
    auditor = MembershipInferenceAuditor(
        target, attack="loss", n_references=0, target_fpr=0.01
    ).fit(Xa, ya, X_population=Xp, y_population=yp)
    scores = auditor.score_samples(Xa, ya)
    # Under exchangeability the AUC has mean 1/2 and standard deviation
    # sqrt((n0 + n1 + 1) / (12 n0 n1)) = 0.0129; |z| > 3.89 has probability 1e-4.
    assert abs(membership_auc(membership, scores) - 0.5) < 3.89 * 0.0129
    # TPR at 1% FPR: with k0 = 10 false positives allowed, the count of members
    # above the 11th-highest non-member is negative hypergeometric.
    bound = stats.nhypergeom(2000, 1000, 11).ppf(1 - 1e-4)
    assert tpr_at_fpr(membership, scores, 0.01) * 1000 <= bound
    # predict's threshold is the k-th order statistic of n = 3000 population
    # scores, k = ceil(0.99 * 3001); for continuous scores the FPR given the
    # population is Beta(n + 1 - k, k), so the number of the 2000 fresh
    # non-members flagged is beta-binomial; its 1 - 1e-4 quantile bounds it.
    n = 3000
    k = math.ceil(0.99 * (n + 1))
    flagged = auditor.predict(Xa, ya).sum()
    assert flagged <= stats.betabinom(2000, n + 1 - k, k).ppf(1 - 1e-4)
    report = auditor.audit(Xa, ya, membership, n_resamples=20, confidence=1 - 1e-4)
    # The Clopper-Pearson epsilon bound holds with probability 1 - 1e-4.
    assert report.metrics["epsilon_lower_bound"] == 0


def test_memorizing_forest_leaks(memorizing_forest):
    target, X, y, membership, Xp, yp = memorizing_forest
    auditor = MembershipInferenceAuditor(target, attack="loss", n_references=0)
    auditor.fit(X, y, X_population=Xp, y_population=yp)
    scores = auditor.score_samples(X, y)
    # The issue measures about 0.92; the AUC's standard deviation at 0.92 with
    # 1000 + 1000 records is about 0.006 (Hanley & McNeil 1982), so 0.89 is
    # 5 sigma below: probability < 1e-6.
    assert membership_auc(membership, scores) > 0.89
    # The true epsilon is large (TPR ~0.8 at FPR ~0.1); the bound is positive
    # unless the 1 - 1e-4 Clopper-Pearson bound fails.
    assert (
        empirical_epsilon(membership, scores, confidence=1 - 1e-4, random_state=0) > 0
    )


@pytest.mark.slow
def test_lira_beats_loss_at_low_fpr_on_overfit_mlp():
    X, y = make_classification(4000, 20, n_informative=10, n_classes=3, random_state=0)
    recipe = MLPClassifier((64,), max_iter=300, random_state=0)
    target = FrozenEstimator(clone(recipe).fit(X[:1000], y[:1000]))
    membership = np.r_[np.ones(1000), np.zeros(1000)].astype(int)
    pool_X, pool_y = X[:2000], y[:2000]
    tprs = {}
    for attack in ("loss", "lira"):
        auditor = MembershipInferenceAuditor(
            target, attack=attack, n_references=8, random_state=0
        )
        with pytest.warns(Warning):  # MLP convergence warnings
            auditor.fit(pool_X, pool_y, X_population=X[2000:], y_population=y[2000:])
        tprs[attack] = tpr_at_fpr(
            membership, auditor.score_samples(pool_X, pool_y), 0.01
        )
    # Measured on this seed: LiRA ~0.07, loss ~0.01. Binomial(1000, 0.07) has
    # standard deviation 0.008: LiRA falls to the loss level with probability
    # far below 1e-4 (7 sigma), threshold noise included.
    assert tprs["lira"] > tprs["loss"] + 0.02


def test_report_contents_and_formats(small, tmp_path):
    target, X, y, membership, Xp, yp = small
    auditor = _auditor(target).fit(X, y, X_population=Xp, y_population=yp)
    groups = np.where(X[:, 0] > 0, "a", "b")
    report = auditor.audit(X, y, membership, groups=groups, n_resamples=30)
    assert report.attack == "rmia"  # the registry key, as in the CLI
    for key in ("auc", "advantage", "tpr_at_0.01_fpr", "epsilon_lower_bound", "ppv"):
        assert key in report.metrics
    low, high = report.intervals["auc"]
    assert low <= report.metrics["auc"] <= high
    assert report.resolved == {0.001: False, 0.01: False}
    assert set(report.slices["slicing"]) == {"class", "group"}
    assert len(report.slices) == 5
    assert (report.slices["p_value_holm"] >= report.slices["p_value"]).all()
    assert report.records.shape[0] == 600
    assert {"score", "p_value", "predicted", "y", "group"} <= set(report.records)
    top = report.vulnerable_records(5)
    assert (top["membership"] == 1).all() and top["score"].is_monotonic_decreasing
    data = json.loads(report.to_json(tmp_path / "r.json"))
    assert data["versions"]["scikit-learn"]
    assert data["params"]["n_references"] == 4
    assert data["seeds"]["random_state"] == 0
    assert json.loads((tmp_path / "r.json").read_text()) == data
    frame = report.to_frame()
    assert list(frame.columns) == ["value", "low", "high"]
    page = report.to_html(tmp_path / "r.html")
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Unresolved FPRs" in page


def test_skorch_recipe_trains_references():
    torch = pytest.importorskip("torch")
    from skorch import NeuralNetClassifier

    X, y = make_classification(600, 8, n_informative=5, random_state=3)
    X = X.astype(np.float32)
    y = y.astype(np.int64)
    net = NeuralNetClassifier(
        torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
        ),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=5,
        lr=0.1,
        train_split=None,
        verbose=0,
    )
    with skprivacy.utils.torch_seed(0):
        target = FrozenEstimator(clone(net).fit(X[:200], y[:200]))
    before = torch.random.get_rng_state()
    a = MembershipInferenceAuditor(
        target, attack="rmia", n_references=2, random_state=0
    )
    a.fit(X[:400], y[:400], X_population=X[400:], y_population=y[400:])
    assert torch.equal(before, torch.random.get_rng_state())
    assert (a.reference_accuracy_[:, 0] > 0.6).all()
    b = clone(a).fit(X[:400], y[:400], X_population=X[400:], y_population=y[400:])
    np.testing.assert_array_equal(
        a.score_samples(X[:400], y[:400]), b.score_samples(X[:400], y[:400])
    )


def test_parallel_references_match_sequential(small):
    target, X, y, *_ = small
    sequential = _auditor(target, attack="lira").fit(X, y)
    parallel = _auditor(target, attack="lira", n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        sequential.score_samples(X, y), parallel.score_samples(X, y)
    )


def test_scores_of_records_outside_the_pool_use_all_references(small):
    target, X, y, _, Xp, yp = small
    auditor = _auditor(target, attack="lira_offline").fit(
        X, y, X_population=Xp, y_population=yp
    )
    # Pool records are scored against the references that left them out, other
    # records against all; each kind has its own threshold.
    assert auditor.offset_ != auditor.pool_offset_
    fresh = auditor.decision_function(Xp[:50], yp[:50])
    np.testing.assert_allclose(
        fresh, auditor.score_samples(Xp[:50], yp[:50]) - auditor.offset_
    )
    pool = auditor.decision_function(X[:50], y[:50])
    np.testing.assert_allclose(
        pool, auditor.score_samples(X[:50], y[:50]) - auditor.pool_offset_
    )


def test_pipeline_on_a_dataframe_with_group_slices():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline

    from skprivacy.datasets import load_german_credit, make_preprocessor

    bunch = load_german_credit(as_frame=True)
    X, y = bunch.data, bunch.target
    model = make_pipeline(make_preprocessor(bunch), RandomForestClassifier(50))
    target = FrozenEstimator(
        clone(model)
        .set_params(randomforestclassifier__random_state=0)
        .fit(X.iloc[:300], y[:300])
    )
    auditor = MembershipInferenceAuditor(
        target, attack="rmia", n_references=4, random_state=0
    ).fit(X.iloc[:600], y[:600], X_population=X.iloc[600:], y_population=y[600:])
    assert all(type(est[-1]) is RandomForestClassifier for est in auditor.estimators_)
    membership = np.r_[np.ones(300), np.zeros(300)].astype(int)
    report = auditor.audit(
        X.iloc[:600], y[:600], membership, groups=X["sex"].iloc[:600], n_resamples=10
    )
    groups = report.slices[report.slices["slicing"] == "group"]
    assert set(groups["slice"]) == {"female", "male"}
    # A 50-tree forest memorises its 300 members: AUC ~0.75-0.85; below 0.6
    # would take > 5 standard deviations (0.02 at 300 + 300 records).
    assert report.metrics["auc"] > 0.6


@pytest.mark.parametrize("attack", ["rmia", "lira_offline", "mentr"])
def test_predict_fpr_guarantee_with_references(attack):
    """Population calibration is exact for pool and fresh non-members alike."""
    X, y = make_classification(6000, 10, n_informative=6, n_classes=3, random_state=4)
    target = FrozenEstimator(
        RandomForestClassifier(30, random_state=0).fit(X[:400], y[:400])
    )
    # Pool: the 400 members and 400 non-members; 2000 population records and
    # 2000 fresh non-members that neither the target nor the references saw.
    pool_X, pool_y = X[:800], y[:800]
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=4, target_fpr=0.02, random_state=0
    ).fit(pool_X, pool_y, X_population=X[800:2800], y_population=y[800:2800])
    # Threshold: k-th order statistic of n = 2000 null scores, k = ceil(0.98 *
    # 2001); given the null, the FPR is Beta(n + 1 - k, k), so the number of m
    # flagged non-members is beta-binomial; its 1 - 1e-4 quantile bounds it
    # (each of the two assertions fails with probability at most 1e-4).
    n = 2000
    k = math.ceil(0.98 * (n + 1))
    fresh = auditor.predict(X[2800:4800], y[2800:4800]).sum()
    assert fresh <= stats.betabinom(2000, n + 1 - k, k).ppf(1 - 1e-4)
    pool_non_members = auditor.predict(pool_X[400:], pool_y[400:]).sum()
    assert pool_non_members <= stats.betabinom(400, n + 1 - k, k).ppf(1 - 1e-4)
    # And the attack is not vacuous: the memorising forest's members are flagged
    # far more often (~25% of 400 measured, against at most ~4% of non-members).
    assert auditor.predict(pool_X[:400], pool_y[:400]).sum() > pool_non_members


# --------------------------------------------------------------- issue 14 and 12


def test_online_fpr_is_controlled_with_a_population():
    """Issue 12, finding 1: online attacks calibrate on the population too."""
    X, y = make_classification(5000, 10, n_informative=6, n_classes=2, random_state=7)
    target_disjoint = FrozenEstimator(
        RandomForestClassifier(30, random_state=0).fit(X[4000:], y[4000:])
    )
    target_half = FrozenEstimator(
        RandomForestClassifier(30, random_state=0).fit(X[:400], y[:400])
    )
    pool_X, pool_y = X[:800], y[:800]
    Xp, yp = X[800:2800], y[800:2800]
    # Threshold: k-th order statistic of n = 2000 population scores, each
    # scored like a pool record; pool non-members are exchangeable with them,
    # so the number of m flagged non-members is beta-binomial(m, n + 1 - k, k)
    # (ties broken at random); each one-sided check fails with probability
    # <= 5e-5, the four per attack with probability <= 2e-4... so each bound
    # is taken at 1e-4 / 4 per side.
    n, fpr = 2000, 0.05
    k = math.ceil((1 - fpr) * (n + 1))
    for attack in ("rmia_online", "lira"):
        for target, non_members in (
            (target_disjoint, slice(0, 800)),
            (target_half, slice(400, 800)),
        ):
            auditor = MembershipInferenceAuditor(
                target,
                attack=attack,
                n_references=4,
                target_fpr=fpr,
                random_state=0,
            ).fit(pool_X, pool_y, X_population=Xp, y_population=yp)
            assert auditor.calibration_ == "population"
            flagged = auditor.predict(pool_X[non_members], pool_y[non_members]).sum()
            m = len(range(800)[non_members])
            law = stats.betabinom(m, n + 1 - k, k)
            assert law.ppf(2.5e-5) <= flagged <= law.ppf(1 - 2.5e-5), (attack, m)


def test_discrete_scores_reach_the_target_fpr():
    """Issue 12, finding 6: ties at the threshold are broken at random."""
    X, y = make_classification(4000, 8, n_informative=5, random_state=3)
    target = FrozenEstimator(LogisticRegression().fit(X[:500], y[:500]))
    auditor = MembershipInferenceAuditor(
        target, attack="label_gap", n_references=0, target_fpr=0.05, random_state=0
    ).fit(X[:1000], y[:1000], X_population=X[1000:3000], y_population=y[1000:3000])
    # The gap attack's scores are 0 or 1: before, the threshold was 1 and no
    # record was flagged. With random tie-breaking the scores act as
    # continuous ones: the count of 1000 fresh non-members flagged is
    # beta-binomial(1000, n + 1 - k, k); both tails at 5e-5.
    n = 2000
    k = math.ceil(0.95 * (n + 1))
    flagged = auditor.predict(X[3000:], y[3000:])
    law = stats.betabinom(1000, n + 1 - k, k)
    assert law.ppf(5e-5) <= flagged.sum() <= law.ppf(1 - 5e-5)
    # Reproducible and keyed on the record: the same records, the same answers.
    np.testing.assert_array_equal(
        auditor.predict(X[3000:][::-1], y[3000:][::-1]), flagged[::-1]
    )


def test_duplicated_pool_records_share_their_membership(small):
    """Issue 12, finding 5: copies of a record are one record for the keep matrix."""
    target, X, y, *_ = small
    X_dup = np.concatenate([X, np.repeat(X[:5], 3, axis=0)])
    y_dup = np.concatenate([y, np.repeat(y[:5], 3)])
    auditor = _auditor(target, attack="lira").fit(X_dup, y_dup)
    keep = auditor.reference_membership_
    for i in range(5):
        copies = np.r_[i, 600 + 3 * i : 603 + 3 * i]
        assert (keep[:, copies] == keep[:, [i]]).all()
    assert (keep.sum(axis=0) == 2).all()
    a = auditor.score_samples(X_dup[:5], y_dup[:5])
    np.testing.assert_allclose(a, auditor.score_samples(X_dup[600::3], y_dup[600::3]))


class _NotProbabilities(LogisticRegression):
    def predict_proba(self, X):
        return self.decision_function(X)  # scores of 3 classes, not probabilities


def test_outputs_that_are_not_probabilities_are_refused(small):
    """Issue 12, finding 9."""
    _, X, y, *_ = small
    target = _NotProbabilities(max_iter=300).fit(X, y)
    with pytest.raises(ValueError, match="did not return probabilities"):
        MembershipInferenceAuditor(
            FrozenEstimator(target), attack="loss", n_references=0
        ).fit(X, y, X_population=X[:10] + 1, y_population=y[:10])


def test_auditor_input_errors_say_what_to_pass(small):
    """Issue 11, point 6: population overlap, column count, empty audit, lengths."""
    from skprivacy.exceptions import DataOverlapWarning

    target, X, y, membership, Xp, yp = small
    with pytest.warns(DataOverlapWarning, match="also in the pool"):
        _auditor(target, attack="loss", n_references=0).fit(
            X, y, X_population=np.r_[Xp, X[:3]], y_population=np.r_[yp, y[:3]]
        )
    with pytest.raises(ValueError, match="X_population has 3 columns but X has 8"):
        _auditor(target, attack="loss", n_references=0).fit(
            X, y, X_population=Xp[:, :3], y_population=yp
        )
    auditor = _auditor(target, attack="loss", n_references=0).fit(
        X, y, X_population=Xp, y_population=yp
    )
    with pytest.raises(ValueError, match="at least one record"):
        auditor.audit(X[:0], y[:0], membership[:0])
    with pytest.raises(ValueError, match="membership has 599 entries but X has 600"):
        auditor.audit(X, y, membership[:-1])
    with pytest.raises(ValueError, match="groups has 3 entries"):
        auditor.audit(X, y, membership, groups=[0, 1, 0])
    with pytest.warns(DataOverlapWarning, match="in X_population"):
        auditor.audit(Xp[:20], yp[:20], np.r_[np.ones(10), np.zeros(10)], n_resamples=5)


def test_warm_start_trains_only_the_new_references(small, monkeypatch):
    from skprivacy.audit import _references

    target, X, y, *_ = small
    calls = []
    task = _references._reference_outputs

    def counting(*args, **kwargs):
        calls.append(args[4])  # the reference's seed
        return task(*args, **kwargs)

    monkeypatch.setattr(_references, "_reference_outputs", counting)
    auditor = _auditor(target, attack="lira", warm_start=True).fit(X, y)
    auditor.set_params(n_references=8).fit(X, y)
    assert len(calls) == 8  # 4, then only 4 more
    fresh = _auditor(target, attack="lira", n_references=8).fit(X, y)
    assert len(calls) == 16
    np.testing.assert_array_equal(
        auditor.reference_membership_, fresh.reference_membership_
    )
    np.testing.assert_allclose(auditor.reference_signals_, fresh.reference_signals_)
    np.testing.assert_allclose(auditor.score_samples(X, y), fresh.score_samples(X, y))


def test_outputs_only_and_memory_resume(small, tmp_path):
    target, X, y, _, Xp, yp = small
    lean = _auditor(target, keep_models=False, memory=str(tmp_path)).fit(
        X, y, X_population=Xp, y_population=yp
    )
    assert lean.estimators_ is None
    full = _auditor(target).fit(X, y, X_population=Xp, y_population=yp)
    np.testing.assert_allclose(lean.score_samples(X, y), full.score_samples(X, y))
    # Population records are known too: scored without the models.
    np.testing.assert_allclose(
        lean.score_samples(Xp[:20], yp[:20]), full.score_samples(Xp[:20], yp[:20])
    )
    with pytest.raises(ValueError, match="keep_models=True"):
        lean.score_samples(Xp[:5] + 10, yp[:5])

    # One cache entry per reference, written as each one finishes (so an
    # interrupted fit resumes); a larger n_references adds only the new ones.
    def entries():
        return [p for p in tmp_path.rglob("*") if p.name == "output.pkl"]

    assert len(entries()) == 4
    again = _auditor(
        target, keep_models=False, memory=str(tmp_path), n_references=6
    ).fit(X, y, X_population=Xp, y_population=yp)
    assert len(entries()) == 6
    np.testing.assert_allclose(again.reference_signals_[:4], lean.reference_signals_)


def test_query_attacks_use_the_one_engine(small):
    """Query attacks get the did-not-train warning of the shared engine."""
    target, X, y, _, Xp, yp = small
    auditor = _auditor(target, attack="label_noise", estimator=DummyClassifier())
    with pytest.warns(UserWarning, match="did not train"):
        auditor.fit(X, y, X_population=Xp, y_population=yp)
    assert auditor.reference_signals_.shape == (4, 600, 1)


# ---------------------------------------------------------------------- issue 20


def _as_float(X):
    return np.asarray(X, dtype=np.float64)


@pytest.mark.parametrize("attack", ["rmia", "lira_offline"])
def test_pool_records_are_found_whatever_the_container(attack):
    """Point 5: a DataFrame pool scored as to_numpy() or with its integer column
    cast to float is the same pool. Before, neither copy was found: members
    were scored against references that trained on them (RMIA predict TPR
    0.600 -> 0.314 measured, FPR 0.048 -> 0.008, on a 100-tree forest)."""
    X, y = make_classification(1200, 6, n_informative=4, random_state=5)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    frame["x0"] = np.round(3 * frame["x0"]).astype(int)
    forest = make_pipeline(
        FunctionTransformer(_as_float), RandomForestClassifier(30, random_state=0)
    )
    target = FrozenEstimator(forest.fit(frame.iloc[:300], y[:300]))
    pool, y_pool = frame.iloc[:600], y[:600]
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=4, target_fpr=0.05, random_state=0
    ).fit(pool, y_pool, X_population=frame.iloc[600:], y_population=y[600:])
    scores = auditor.decision_function(pool, y_pool)
    decisions = auditor.predict(pool, y_pool)
    copies = {
        "to_numpy": pool.to_numpy(),
        "int as float": pool.astype({"x0": float}),
        "labels as float": pool,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataOverlapWarning)
        for name, copy in copies.items():
            labels = y_pool.astype(float) if name == "labels as float" else y_pool
            np.testing.assert_array_equal(
                auditor.decision_function(copy, labels), scores, err_msg=name
            )
            np.testing.assert_array_equal(
                auditor.predict(copy, labels), decisions, err_msg=name
            )


def test_records_shaped_like_the_pool_but_not_in_it_warn(small):
    """Point 5: when the records look like the pool and none is found in it."""
    target, X, y, _, Xp, yp = small
    auditor = _auditor(target).fit(X, y, X_population=Xp, y_population=yp)
    for changed in (1.5 * X, X.astype(np.float32), X[:, ::-1]):
        with pytest.warns(DataOverlapWarning, match="None of the 600 records") as w:
            auditor.score_samples(changed, y)
        assert w[0].filename == __file__
    with pytest.warns(DataOverlapWarning, match="pool's shape"):
        auditor.predict(1.5 * X, y)
    # The pool (in any container), a part of it, records of another shape.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataOverlapWarning)
        auditor.score_samples(pd.DataFrame(X), y)
        auditor.score_samples(np.r_[X[:1], 1.5 * X[1:]], y)
        auditor.score_samples(1.5 * X[:100], y[:100])
        auditor.score_samples(Xp[:300], yp[:300])


@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UnresolvedMetricWarning")
def test_decisions_without_a_population_warn(small):
    """Point 8: without a population, target_fpr holds only for a target
    exchangeable with the references; every use of the threshold says so."""
    target, X, y, membership, Xp, yp = small
    auditor = _auditor(target).fit(X, y)
    assert auditor.calibration_ == "references"
    for method in ("predict", "decision_function", "p_values"):
        with pytest.warns(ReferenceCalibrationWarning, match="X_population") as w:
            getattr(auditor, method)(X, y)
        assert len(w) == 1 and w[0].filename == __file__, method
    with pytest.warns(ReferenceCalibrationWarning, match="exchangeable") as w:
        auditor.audit(X, y, membership, n_resamples=5)
    (w,) = (r for r in w if r.category is ReferenceCalibrationWarning)
    assert w.filename == __file__
    with warnings.catch_warnings():
        # Scores and ROC metrics use no threshold; a population calibrates it.
        warnings.simplefilter("error", ReferenceCalibrationWarning)
        auditor.score_samples(X, y)
        auditor.score(X, y, membership)
        calibrated = _auditor(target).fit(X, y, X_population=Xp, y_population=yp)
        calibrated.predict(X, y)
        calibrated.p_values(X, y)


def test_fit_validates_the_attack_parameters_first(small):
    # The attack's own constraints, in scikit-learn's words, before any
    # reference model is trained.
    target, X, y, *_ = small
    auditor = _auditor(target, attack=RMIA(a=2.0))
    with pytest.raises(InvalidParameterError, match="The 'a' parameter of RMIA"):
        auditor.fit(X, y)


def test_reports_name_attacks_by_their_registry_key():
    # One scheme for the API's frames and the command line's tables: the key of
    # MembershipInferenceAuditor(attack=...), whether a key or an object was
    # passed; an attack outside the registry keeps its class name.
    from skprivacy.audit import GapAttack, LabelNoiseAttack, LiRA, LossAttack
    from skprivacy.audit._auditor import attack_name

    assert attack_name("label_gap") == "label_gap"
    assert attack_name(LossAttack()) == "loss"
    assert attack_name(GapAttack()) == "label_gap"
    assert attack_name(LabelNoiseAttack(n_samples=4)) == "label_noise"
    assert attack_name(LiRA()) == "lira"
    assert attack_name(LiRA(online=False)) == "lira_offline"

    class MyLoss(LossAttack):
        pass

    assert attack_name(MyLoss()) == "MyLoss"
    X, y = make_classification(300, 4, random_state=0)
    target = FrozenEstimator(LogisticRegression().fit(X[:100], y[:100]))
    membership = np.r_[np.ones(100), np.zeros(100)]
    auditor = MembershipInferenceAuditor(
        target, attack=LossAttack(), n_references=0, random_state=0
    ).fit(X[:200], y[:200], X_population=X[200:], y_population=y[200:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = auditor.audit(X[:200], y[:200], membership, n_resamples=10)
    assert report.attack == "loss"


def test_attack_names_and_objects_are_public():
    # The command line reaches the registry through these, as users may.
    from skprivacy.audit import LiRA, get_attack, get_attack_names

    names = get_attack_names()
    assert names[:4] == ["loss", "population", "mentr", "reference"]
    assert {"lira_offline", "label_gap", "label_boundary"} <= set(names)
    first, second = get_attack("lira_offline"), get_attack("lira_offline")
    assert isinstance(first, LiRA) and first is not second
    assert not first.online and first.min_references == 2
    assert [n for n in names if get_attack(n).query_output == "labels"] == [
        "label_gap",
        "label_noise",
        "label_boundary",
    ]
    with pytest.raises(InvalidParameterError, match="name"):
        get_attack("LossAttack")
