"""Tests of DefenseEvaluation (the membership game over recipes) and FrontierDisplay."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from skprivacy.audit import (
    DefenseEvaluation,
    FrontierDisplay,
    membership_auc,
    tpr_at_fpr,
)
from skprivacy.audit._selection._statistics import _Curve
from skprivacy.exceptions import UnresolvedMetricWarning

FAST = {"n_models": 6, "fprs": (0.05,), "n_resamples": 30, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    return make_classification(
        240, 8, n_informative=4, n_classes=2, flip_y=0.2, random_state=0
    )


class NoiseClassifier(ClassifierMixin, BaseEstimator):
    """Probabilities drawn at random, independent of the training records.

    Releasing them is 0-DP with respect to membership (the output does not
    depend on the training set), declared through ``epsilon_`` and ``delta_``
    as DPSGDClassifier does.
    """

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.epsilon_, self.delta_ = 0.0, 0.0
        return self

    def predict_proba(self, X):
        rng = np.random.default_rng(self.random_state)
        p = rng.uniform(0.05, 0.95, size=len(X))
        return np.column_stack([p, 1 - p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class FalselyPrivateForest(RandomForestClassifier):
    """A memorising forest that claims a small epsilon it does not have."""

    def fit(self, X, y, **kwargs):
        super().fit(X, y, **kwargs)
        self.epsilon_, self.delta_ = 0.1, 0.0
        return self


FIT_CALLS = []


class CountingClassifier(LogisticRegression):
    def fit(self, X, y, **kwargs):
        FIT_CALLS.append(1)
        return super().fit(X, y, **kwargs)


class FailingClassifier(LogisticRegression):
    def fit(self, X, y, **kwargs):
        raise RuntimeError("diverged")


# ------------------------------------------------------------ statistics
def test_weighted_curve_matches_metrics_with_ties():
    # Unit weights give exactly membership_auc and tpr_at_fpr; integer weights
    # give the metrics of the trials repeated that many times (a bootstrap
    # resample), ties included (scores rounded to one decimal).
    rng = np.random.default_rng(0)
    member = rng.random((5, 400)) < 0.5
    scores = np.round(member + rng.normal(size=member.shape), 1)
    curve = _Curve(scores, member)
    # ~1,000 non-members resolve these rates (10 / FPR at most 200).
    fprs = [0.05, 0.2, 0.5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedMetricWarning)
        for weights in (np.ones(member.shape), rng.integers(0, 3, member.shape)):
            m = np.repeat(member.ravel(), weights.ravel().astype(int)).astype(int)
            s = np.repeat(scores.ravel(), weights.ravel().astype(int))
            auc, tprs = curve.stats(weights.astype(float), fprs)
            assert auc == pytest.approx(membership_auc(m, s), abs=1e-12)
            expected = [tpr_at_fpr(m, s, f) for f in fprs]
            np.testing.assert_allclose(tprs, expected, atol=1e-12)


# ------------------------------------------------------------------ game
@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_data_independent_recipe_leaks_nothing(data):
    # Analytic oracle: uniform probabilities make every score equal, so the
    # AUC is exactly 1/2, the TPR at every FPR is that FPR (a coin on the tie:
    # chance, never below it) and the epsilon lower bound is 0.
    X, y = data
    evaluation = DefenseEvaluation(
        {"uniform": DummyClassifier(strategy="uniform")}, **FAST
    ).fit(X, y)
    table = evaluation.results_
    assert set(table["attack"]) == {"lira", "rmia_online", "strongest"}
    assert (table["auc"] == 0.5).all()
    for column in ("tpr_at_0.05_fpr", "tpr_at_0.05_fpr_low", "tpr_at_0.05_fpr_high"):
        np.testing.assert_allclose(table[column], 0.05, rtol=1e-12)
    assert (table["epsilon_lower_bound"] == 0).all()
    assert evaluation.scores_.shape == (1, 2, 6, 240)
    # Every record is in half of the models; trials are pooled over models.
    assert (evaluation.membership_.sum(axis=0) == 3).all()
    assert (table["n_member_trials"] == 720).all()


def test_memorising_recipe_leaks(data):
    # A forest of fully grown trees on 20% flipped labels memorises its
    # training half: RMIA separates members well (observed AUC 0.89, TPR at 5%
    # FPR 0.43, epsilon bound 2.8 over 720 + 720 trials). The thresholds sit
    # far below the observed values, many bootstrap standard errors away.
    X, y = data
    evaluation = DefenseEvaluation(
        {"forest": RandomForestClassifier(20, random_state=0)}, **FAST
    ).fit(X, y)
    row = evaluation.results_.query("attack == 'strongest'").iloc[0]
    assert row["tpr_at_0.05_fpr_low"] > 0.2
    assert row["auc_low"] > 0.75
    assert row["epsilon_lower_bound"] > 1.0
    assert row["accuracy_low"] <= row["accuracy"] <= row["accuracy_high"]


def test_grid_points_and_reproducibility(data):
    X, y = data
    recipes = {
        "plain": LogisticRegression(C=100.0),
        "reg": (LogisticRegression(), {"C": [0.01, 0.1]}),
    }
    first = DefenseEvaluation(recipes, **FAST).fit(X, y)
    second = DefenseEvaluation(recipes, **FAST).fit(X, y)
    pd.testing.assert_frame_equal(
        first.results_.drop(columns="fit_seconds"),
        second.results_.drop(columns="fit_seconds"),
    )
    assert first.points_["params"].tolist() == [{}, {"C": 0.01}, {"C": 0.1}]
    assert first.points_["recipe"].tolist() == ["plain", "reg", "reg"]
    # Paired design: every point plays on the same keep matrix.
    assert first.membership_.shape == (6, 240)
    cloned = clone(first)
    assert cloned.get_params()["n_models"] == 6
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(cloned)


def test_n_jobs_gives_the_same_results(data):
    X, y = data
    recipes = {"reg": (LogisticRegression(), {"C": [0.01, 1.0]})}
    one = DefenseEvaluation(recipes, **FAST).fit(X, y)
    # Threads keep the test fast; the points are independent jobs whatever the
    # backend (processes in bench_frontier.py, Dask through parallel_config).
    with parallel_config(backend="threading"):
        two = DefenseEvaluation(recipes, n_jobs=2, **FAST).fit(X, y)
    np.testing.assert_array_equal(one.scores_, two.scores_)


def test_test_set_accuracy(data):
    # A test set as large as the pool must not be mistaken for the pool.
    X, y = data
    pool, test = slice(0, 120), slice(120, 240)
    evaluation = DefenseEvaluation({"lr": LogisticRegression()}, **FAST).fit(
        X[pool], y[pool], X_test=X[test], y_test=y[test]
    )
    rng_keep = evaluation.membership_
    expected = np.mean(
        [
            LogisticRegression().fit(X[pool][row], y[pool][row]).score(X[test], y[test])
            for row in rng_keep
        ]
    )
    assert evaluation.results_["accuracy"].iloc[0] == pytest.approx(expected)


def test_memory_resumes_without_training(data, tmp_path):
    X, y = data
    FIT_CALLS.clear()
    recipes = {"lr": CountingClassifier()}
    first = DefenseEvaluation(recipes, memory=str(tmp_path), **FAST).fit(X, y)
    assert len(FIT_CALLS) == 6
    second = DefenseEvaluation(recipes, memory=str(tmp_path), **FAST).fit(X, y)
    assert len(FIT_CALLS) == 6
    np.testing.assert_array_equal(first.scores_, second.scores_)


# A tiny net on 6 models: some may not beat the majority class, which is not
# what this test checks.
@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_skorch_recipe_trains_vectorized(data, capsys):
    from skprivacy.defense import CRLClassifier

    X, y = data
    net = CRLClassifier(crl=False, hidden_units=(8,), max_epochs=2, batch_size=64)
    evaluation = DefenseEvaluation(
        {"net": net}, verbose=2, **{**FAST, "n_resamples": 5}
    ).fit(X.astype(np.float32), y)
    assert "vectorized" in capsys.readouterr().out
    assert np.isfinite(evaluation.results_["auc"]).all()


# --------------------------------------------------------------- canaries
def test_canaries_are_reported_separately(data):
    X, y = data
    with pytest.warns(UnresolvedMetricWarning, match="on (mislabeled|outlier) records"):
        evaluation = DefenseEvaluation(
            {"lr": LogisticRegression()}, n_canaries=20, **FAST
        ).fit(X, y)
    table = evaluation.results_
    assert set(table["records"]) == {"population", "mislabeled", "outlier"}
    canary = table.query("records == 'mislabeled' and attack == 'lira'").iloc[0]
    assert canary["n_member_trials"] + canary["n_non_member_trials"] == 6 * 20
    assert list(evaluation.records_).count("outlier") == 20
    # 60 non-member canary trials cannot resolve a 5% FPR.
    assert np.isnan(canary["tpr_at_0.05_fpr"])


@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UnresolvedMetricWarning")
def test_every_kind_of_make_canaries_plays(data):
    X, y = data
    evaluation = DefenseEvaluation(
        {"lr": LogisticRegression()},
        n_canaries=10,
        canary_kinds=("crafted", "mislabeled"),
        **FAST,
    ).fit(X, y)
    assert list(evaluation.records_[len(y) :]) == ["crafted"] * 10 + ["mislabeled"] * 10
    rows = evaluation.results_.query("records == 'crafted'")
    assert (rows["n_member_trials"] + rows["n_non_member_trials"] == 6 * 10).all()


# ------------------------------------------------------------ DP checks
@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_dp_bound_holds_for_a_zero_dp_release(data):
    # The noise classifier's output does not depend on its training set: it
    # is 0-DP, so no threshold may beat TPR <= FPR beyond its Clopper-Pearson
    # interval. With confidence 1 - 1e-4 split over the thresholds, a correct
    # check flags it with probability <= 1e-4 (independent trials).
    X, y = data
    evaluation = DefenseEvaluation(
        {"noise": NoiseClassifier()}, confidence=1 - 1e-4, **FAST
    ).fit(X, y)
    table = evaluation.results_
    assert (table["dp_epsilon"] == 0).all()
    assert table["dp_consistent"].astype(bool).all()
    assert (table["epsilon_lower_bound"] <= table["dp_epsilon"]).all()


def test_dp_check_catches_a_false_claim(data):
    # The memorising forest leaks far beyond the epsilon 0.1 it claims: the
    # check must flag it (observed bound 2.8 against 0.1).
    X, y = data
    evaluation = DefenseEvaluation(
        {"liar": FalselyPrivateForest(20, random_state=0)}, **FAST
    ).fit(X, y)
    row = evaluation.results_.query("attack == 'strongest'").iloc[0]
    assert row["dp_epsilon"] == 0.1
    assert row["dp_consistent"] is False or row["dp_consistent"] == False  # noqa: E712
    assert row["epsilon_lower_bound"] > row["dp_epsilon"]


# -------------------------------------------------------- matched accuracy
# The constant recipe's references do not train, by design.
@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_matched_accuracy_reads_each_front(data):
    X, y = data
    evaluation = DefenseEvaluation(
        {
            "plain": (DecisionTreeClassifier(random_state=0), {"max_depth": [None, 6]}),
            "reg": (LogisticRegression(), {"C": [0.05, 1.0]}),
            # Predicts the majority class: never within a point of the tree.
            "constant": DummyClassifier(),
        },
        **FAST,
    ).fit(X, y)
    table = evaluation.matched_accuracy(drops=(0.0, 50.0), metric="auc")
    assert table.attrs["metric"] == "auc"
    rows = evaluation.results_.query("attack == 'strongest'")
    plain = rows[rows["recipe"] == "plain"]
    top = plain.loc[plain["accuracy"].idxmax()]
    for _, match in table.iterrows():
        target = top["accuracy"] - match["drop"] / 100
        assert match["target_accuracy"] == pytest.approx(target)
        reach = rows[(rows["recipe"] == match["recipe"]) & (rows["accuracy"] >= target)]
        assert match["reaches_target"] == (not reach.empty)
        if reach.empty:
            # Issue 21, point 7: point -1 and params None, explained.
            assert match["point"] == -1 and match["params"] is None
            assert np.isnan(match["accuracy"]) and np.isnan(match["leakage"])
            assert np.isnan(match["ratio"]) and not match["best"]
            best = rows.loc[rows["recipe"] == match["recipe"], "accuracy"].max()
            assert match["note"] == (
                f"no grid point reaches the target accuracy {target:.2%} "
                f"(the best reaches {best:.2%})"
            )
        else:
            assert match["leakage"] == reach["auc"].min()
            assert match["ratio"] == pytest.approx(match["leakage"] / top["auc"])
            assert match["note"] == ""
    constant = table[table["recipe"] == "constant"].set_index("drop")
    assert not constant.loc[0.0, "reaches_target"]
    assert constant.loc[50.0, "reaches_target"]
    # At a 50-point drop every recipe reaches the target; the best is marked once.
    wide = table[table["drop"] == 50.0]
    assert wide["best"].sum() == 1
    assert wide.loc[wide["best"], "leakage"].iloc[0] == wide["leakage"].min()
    with pytest.raises(ValueError, match="baseline must be one of"):
        evaluation.matched_accuracy(baseline="nope")
    with pytest.raises(ValueError, match="metric must be one of"):
        evaluation.matched_accuracy(metric="tpr_at_0.5_fpr")


@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_matched_accuracy_compares_one_family_with_its_baseline(data):
    # Forests compared with the default forest, apart from the other recipes:
    # the benchmark's tree table.
    X, y = data
    evaluation = DefenseEvaluation(
        {
            "plain": DecisionTreeClassifier(random_state=0),
            "forest": RandomForestClassifier(20, random_state=0),
            "tuned": (
                RandomForestClassifier(20, random_state=0),
                {"min_samples_leaf": [5, 20]},
            ),
            # Leaks nothing (AUC 0.5): the best of all recipes at a wide drop.
            "constant": DummyClassifier(),
        },
        **FAST,
    ).fit(X, y)
    whole = evaluation.matched_accuracy(drops=(50.0,), metric="auc", baseline="forest")
    assert whole.attrs["baseline"] == "forest"
    assert whole.loc[whole["best"], "recipe"].tolist() == ["constant"]
    family = evaluation.matched_accuracy(
        drops=(50.0,), metric="auc", recipes=["tuned", "forest"]
    )
    # The baseline is the family's first recipe in the evaluation's order.
    assert family.attrs == {"metric": "auc", "baseline": "forest"}
    assert family["recipe"].tolist() == ["forest", "tuned"]
    # Each row is the whole table's (same points, same paired resamples) ...
    columns = ["accuracy", "leakage", "leakage_low", "leakage_high", "ratio"]
    columns += ["ratio_low", "ratio_high", "point"]
    expected = whole.set_index("recipe").loc[["forest", "tuned"], columns]
    pd.testing.assert_frame_equal(
        family.set_index("recipe")[columns], expected, check_names=False
    )
    # ... but the best is read among the family only.
    assert family["best"].sum() == 1
    assert family.loc[family["best"], "leakage"].iloc[0] == family["leakage"].min()
    with pytest.raises(ValueError, match="baseline must be one of"):
        evaluation.matched_accuracy(recipes=["tuned", "forest"], baseline="plain")
    for bad in (["forest", "nope"], []):
        with pytest.raises(ValueError, match="recipes must be a non-empty subset"):
            evaluation.matched_accuracy(recipes=bad)


# ------------------------------------------------------------- bad input
def test_recipe_without_probabilities_fails_before_training(data):
    X, y = data
    evaluation = DefenseEvaluation(
        {"ok": LogisticRegression(), "svm": LinearSVC()}, **FAST
    )
    with pytest.raises(ValueError, match=r"'svm'.*gives no probabilities"):
        evaluation.fit(X, y)
    assert not hasattr(evaluation, "results_")


def test_recipe_that_fails_to_fit_leaves_nothing(data):
    X, y = data
    evaluation = DefenseEvaluation({"bad": FailingClassifier()}, **FAST)
    with pytest.raises(ValueError, match=r"'bad' .* failed to train: RuntimeError"):
        evaluation.fit(X, y)
    assert not hasattr(evaluation, "results_")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"recipes": {"lr": (LogisticRegression(), {"nope": [1]})}}, "cannot set"),
        ({"recipes": {"lr": "LogisticRegression"}}, "not an unfitted"),
        ({"recipes": {}}, "non-empty dict"),
        ({"attacks": ("nope",)}, "Unknown attack"),
        ({"attacks": ("population",)}, "needs queries or population"),
        ({"n_models": 5}, "at least n_models=6"),
        ({"fprs": (0.0,)}, "fprs must be rates"),
        ({"canary_kinds": ("weird",)}, "canary_kinds must be"),
        ({"dp_audit": {"estimator": None}}, "dp_audit sets DPAuditor parameters"),
        ({"dp_audit": {"n_runs": 0}}, "n_runs"),
    ],
)
def test_bad_parameters(data, kwargs, message):
    X, y = data
    params = {"recipes": {"lr": LogisticRegression()}, **FAST, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        DefenseEvaluation(**params).fit(X, y)


def test_bad_data(data):
    X, y = data
    evaluation = DefenseEvaluation({"lr": LogisticRegression()}, **FAST)
    with pytest.raises(ValueError, match="too small for 6 models"):
        evaluation.fit(X[:8], y[:8])
    with pytest.raises(ValueError, match="single class"):
        evaluation.fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="both X_test and y_test"):
        evaluation.fit(X, y, X_test=X)
    from scipy.sparse import csr_matrix

    with pytest.raises(ValueError, match="Canaries need a dense X"):
        clone(evaluation).set_params(n_canaries=5).fit(csr_matrix(X), y)
    with pytest.raises(TypeError, match="'outlier' canaries need numeric"):
        clone(evaluation).set_params(n_canaries=5).fit(X.astype(str), y)


def test_unresolved_fpr_is_nan_with_a_warning(data):
    X, y = data
    evaluation = DefenseEvaluation(
        {"lr": LogisticRegression()}, **{**FAST, "fprs": (0.001, 0.05)}
    )
    with pytest.warns(UnresolvedMetricWarning, match="resolve a false-positive rate"):
        evaluation.fit(X, y)
    table = evaluation.results_
    assert table["tpr_at_0.001_fpr"].isna().all()
    assert table["tpr_at_0.001_fpr_low"].isna().all()
    assert table["tpr_at_0.05_fpr"].notna().all()


# --------------------------------------------------------------- display
def test_frontier_display(data):
    import matplotlib

    matplotlib.use("Agg")
    X, y = data
    evaluation = DefenseEvaluation(
        {
            "tree": (DecisionTreeClassifier(random_state=0), {"max_depth": [2, None]}),
            "lr": LogisticRegression(),
        },
        **FAST,
    ).fit(X, y)
    display = FrontierDisplay.from_estimator(evaluation)
    assert sorted(display.lines_) == ["lr", "tree"]
    assert display.ax_.get_yscale() == "log"
    assert display.metric == "tpr_at_0.05_fpr"
    auc = FrontierDisplay.from_estimator(evaluation, metric="auc", attack="lira")
    assert auc.ax_.get_yscale() == "linear"
    with pytest.raises(ValueError, match="attack must be one of"):
        FrontierDisplay.from_estimator(evaluation, attack="nope")
    with pytest.raises(ValueError, match="is not a column"):
        FrontierDisplay(evaluation.results_, metric="nope").plot()


def _dense_front(fpr=0.01):
    """Three recipes whose points fill the whole axes, corners included."""
    rng = np.random.default_rng(0)
    rows = []
    for recipe in ("plain", "dp", "crl"):
        accuracy = np.linspace(0.5, 1.0, 12)
        tpr = np.geomspace(fpr, 1.0, 12)[rng.permutation(12)]
        rows.append(
            pd.DataFrame(
                {
                    "recipe": recipe,
                    "attack": "strongest",
                    "records": "population",
                    "accuracy": accuracy,
                    f"tpr_at_{fpr:g}_fpr": tpr,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_frontier_ticks_read_in_percent_and_the_legend_covers_no_point():
    # Issue 21, point 7: the log axis read 10^-2, and the legend (loc="best")
    # sat on data when points filled the axes.
    import matplotlib

    matplotlib.use("Agg")
    display = FrontierDisplay(_dense_front(), metric="tpr_at_0.01_fpr").plot()
    figure, ax = display.figure_, display.ax_
    figure.canvas.draw()
    low, high = ax.get_ylim()
    labels = {
        tick.get_text()
        for tick, value in zip(
            ax.yaxis.get_ticklabels(), ax.yaxis.get_ticklocs(), strict=True
        )
        if low <= value <= high
    }
    assert {"1%", "10%", "100%"} <= labels
    assert all(label.endswith("%") and "10^" not in label for label in labels)
    assert not any(t.get_text() for t in ax.yaxis.get_ticklabels(minor=True))
    # Within two decades, 1-2-5 steps.
    narrow = _dense_front().assign(**{"tpr_at_0.01_fpr": 0.03})
    narrow = FrontierDisplay(narrow, metric="tpr_at_0.01_fpr").plot()
    narrow.figure_.canvas.draw()
    ticks = narrow.ax_.yaxis.get_ticklocs()
    assert np.isclose(ticks, 0.02).any() and np.isclose(ticks, 0.05).any()
    # The legend lies outside the axes, so it covers none of the points.
    legend = ax.get_legend().get_window_extent()
    frame = ax.get_window_extent()
    assert legend.x0 >= frame.x1
    points = ax.transData.transform(
        np.column_stack(
            [display.results["accuracy"], display.results["tpr_at_0.01_fpr"]]
        )
    )
    assert not any(legend.contains(x, y) for x, y in points)
    # ... and inside the figure, which makes room for it.
    assert legend.x1 <= figure.bbox.x1


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_dp_sgd_at_epsilon_one_respects_its_bound(data):
    # Any (1, delta)-DP training bounds every membership test by
    # TPR <= e FPR + delta, so the audit may not find more: at each threshold
    # the Clopper-Pearson bounds (confidence 1 - 1e-4 split over the
    # thresholds) must be consistent with the accountant's epsilon, and the
    # audited lower bound may not exceed it. A correct implementation fails
    # with probability <= 1e-4 (independent trials).
    from skprivacy.defense import DPSGDClassifier

    X, y = data
    dp = DPSGDClassifier(hidden_units=(16,), max_epochs=3, target_epsilon=1.0)
    evaluation = DefenseEvaluation({"dp": dp}, confidence=1 - 1e-4, **FAST).fit(
        X.astype(np.float32), y
    )
    table = evaluation.results_
    assert (table["dp_epsilon"] <= 1.0 + 1e-6).all()
    assert (table["delta"] < 1 / 120).all()
    assert table["dp_consistent"].astype(bool).all()
    assert (table["epsilon_lower_bound"] <= table["dp_epsilon"]).all()
