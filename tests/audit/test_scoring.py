# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.tree import DecisionTreeClassifier

from skprivacy.audit import AuditRecorder, make_privacy_scorer, privacy_refit
from skprivacy.certify import SmoothedClassifier
from skprivacy.exceptions import UnresolvedMetricWarning


@pytest.fixture(scope="module")
def data():
    return make_classification(
        900, 10, n_informative=6, n_classes=2, flip_y=0.15, random_state=0
    )


def test_recorder_delegates_and_remembers(data):
    X, y = data
    recorder = AuditRecorder(LogisticRegression(), n_members=100, random_state=0)
    recorder.fit(X, y)
    plain = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(recorder.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(recorder.classes_, plain.classes_)
    assert recorder.n_features_in_ == 10
    assert recorder.audit_X_.shape == (100, 10)
    # The remembered rows are training rows, with their labels.
    assert recorder.overlap(recorder.audit_X_, recorder.audit_y_).all()
    assert len(recorder.train_fingerprints_) == len(np.unique(X, axis=0))
    # Every training row is found, no fresh one is.
    fresh, y_fresh = make_classification(50, 10, random_state=99)
    assert recorder.overlap(X, y).all() and not recorder.overlap(fresh, y_fresh).any()
    # Seeded: the same sample; pickling keeps it; forget drops it.
    again = clone(recorder).fit(X, y)
    np.testing.assert_array_equal(again.audit_X_, recorder.audit_X_)
    restored = pickle.loads(pickle.dumps(recorder))
    np.testing.assert_array_equal(restored.audit_X_, recorder.audit_X_)
    recorder.forget()
    assert not hasattr(recorder, "audit_X_") and not hasattr(
        recorder, "train_fingerprints_"
    )
    np.testing.assert_array_equal(recorder.predict(X), plain.predict(X))
    with pytest.raises(AttributeError, match="forgotten"):
        make_privacy_scorer()(recorder, X, y)


def test_recorder_keeps_dataframes(data):
    X, y = data
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(10)])
    recorder = AuditRecorder(n_members=30, random_state=0).fit(X, y)
    assert isinstance(recorder.audit_X_, pd.DataFrame)
    assert list(recorder.feature_names_in_) == list(X.columns)
    with pytest.warns(UserWarning, match="training rows of the model"):
        scores = make_privacy_scorer(random_state=0)(recorder, X.iloc[:5], y[:5])
    assert all(np.isnan(scores[k]) for k in scores if k.startswith("neg_mia"))


def test_training_rows_offered_as_non_members_give_nan(data):
    X, y = data
    recorder = AuditRecorder(
        DecisionTreeClassifier(random_state=0), n_members=200, random_state=0
    ).fit(X[:600], y[:600])
    scorer = make_privacy_scorer(random_state=0)
    with pytest.warns(UserWarning, match="100% of the rows offered"):
        scores = scorer(recorder, X[:600], y[:600])
    assert scores["accuracy"] == 1.0
    assert np.isnan(scores["neg_mia_auc"]) and np.isnan(scores["neg_mia_advantage"])
    # A few duplicates of training rows among held-out rows (real data has
    # them) are not taken for a training set: they are left out of the
    # non-members and the audit runs.
    held_out = np.r_[X[600:], X[:3]], np.r_[y[600:], y[:3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        scores = scorer(recorder, *held_out)
    # n_members=200 plans the TPR at 5% FPR, which 200 non-members resolve.
    assert scores["mia_tpr_fpr"] == 0.05 and np.isfinite(scores["neg_mia_tpr"])
    # A fully grown tree memorises: members all have loss 0.
    assert -scores["neg_mia_auc"] > 0.6
    assert list(scores) == [
        "accuracy",
        "neg_mia_auc",
        "neg_mia_advantage",
        "neg_mia_tpr",
        "mia_tpr_fpr",
    ]
    # An explicit FPR that 200 non-members cannot resolve: NaN, with the
    # typed warning, and no other warning.
    explicit = make_privacy_scorer(leakage=("auc", "tpr@1%"), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("always", UnresolvedMetricWarning)
        with pytest.warns(UnresolvedMetricWarning, match="200 non-members"):
            scores = explicit(recorder, *held_out)
    assert np.isnan(scores["neg_mia_tpr_at_1pct_fpr"])
    assert set(scores) == {"accuracy", "neg_mia_auc", "neg_mia_tpr_at_1pct_fpr"}


def test_scorer_is_reproducible_and_at_chance_without_leakage():
    # Members and held-out rows drawn from one distribution; the model ignores
    # them (fit on other rows), so the audit sees exchangeable records.
    X, y = make_classification(4000, 10, n_informative=6, random_state=5)
    recorder = AuditRecorder(LogisticRegression(), n_members=1000, random_state=0).fit(
        X[:1000], y[:1000]
    )
    recorder.estimator_ = LogisticRegression().fit(X[2000:], y[2000:])
    scorer = make_privacy_scorer(random_state=0)
    scores = scorer(recorder, X[1000:2000], y[1000:2000])
    assert scores == scorer(recorder, X[1000:2000], y[1000:2000])
    # AUC of 1,000 vs 1,000 exchangeable records: sd <= sqrt(2001 / 12e6);
    # P(|AUC - 0.5| > 3.89 sd) <= 1e-4.
    sd = math.sqrt(2001 / 12e6)
    assert abs(-scores["neg_mia_auc"] - 0.5) < 3.89 * sd


def test_scorer_errors(data):
    X, y = data
    with pytest.raises(TypeError, match="audits an AuditRecorder"):
        make_privacy_scorer()(LogisticRegression().fit(X, y), X, y)
    with pytest.raises(ValueError, match="Unknown leakage metric 'tpr@1'"):
        make_privacy_scorer(leakage=("tpr@1",))
    with pytest.raises(
        ValueError, match="The 'max_overlap' parameter of make_privacy_scorer"
    ):
        make_privacy_scorer(max_overlap=0)
    with pytest.raises(ValueError, match="The 'n_references' parameter"):
        make_privacy_scorer(n_references=-1)


def _results(utility, auc):
    return {
        "mean_test_accuracy": np.asarray(utility, dtype=float),
        "mean_test_neg_mia_auc": -np.asarray(auc, dtype=float),
    }


def test_privacy_refit_picks_the_best_utility_under_the_cap():
    refit = privacy_refit(utility="accuracy", leakage="auc", max_leakage=0.6)
    # The most accurate setting leaks too much; NaN never wins.
    results = _results([0.95, 0.90, 0.91, np.nan, 0.80], [0.8, 0.55, 0.6, 0.5, 0.5])
    assert refit(results) == 2
    # Ties in utility go to the lower leakage.
    assert refit(_results([0.9, 0.9, 0.8], [0.59, 0.52, 0.5])) == 1
    # No setting under the cap: warn and take the least leaky one.
    with pytest.warns(UserWarning, match="No candidate keeps auc <= 0.6"):
        assert refit(_results([0.9, 0.8, 0.7], [0.9, 0.7, 0.65])) == 2
    # A NaN leakage is unknown, not low: refuse to choose (issue 11, point 4).
    with pytest.raises(ValueError, match=r"NaN for candidate\(s\) \[2\]"):
        refit(_results([0.9, 0.8, 0.7], [0.9, 0.7, np.nan]))
    with pytest.raises(KeyError, match="mean_test_balanced_accuracy"):
        privacy_refit(utility="balanced_accuracy")(results)
    tpr = {
        "mean_test_accuracy": [0.9, 0.8],
        "mean_test_neg_mia_tpr_at_1pct_fpr": [-0.05, -0.01],
    }
    assert privacy_refit(leakage="tpr@1%", max_leakage=0.02)(tpr) == 1
    tpr["mean_test_neg_mia_tpr_at_1pct_fpr"] = [np.nan, np.nan]
    with pytest.raises(ValueError, match="needs at least 1000 non-members audited"):
        privacy_refit(leakage="tpr@1%", max_leakage=0.02)(tpr)
    with pytest.raises(ValueError, match="Unknown leakage metric"):
        privacy_refit(leakage="precision")


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_end_to_end(data, n_jobs):
    X, y = data
    scorer = make_privacy_scorer(
        utility=("accuracy", "roc_auc"),
        leakage=("auc", "advantage", "tpr@1%", "epsilon"),
        random_state=0,
    )
    search = GridSearchCV(
        AuditRecorder(RandomForestClassifier(20, random_state=0), n_members=200),
        {"estimator__min_samples_leaf": [1, 20], "random_state": [0]},
        scoring=scorer,
        refit=privacy_refit(leakage="auc", max_leakage=0.65),
        cv=3,
        return_train_score=True,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    if n_jobs == 1:  # warnings of worker processes do not reach this one
        assert any("rows offered as non-members" in str(w.message) for w in caught)
        assert any(w.category is UnresolvedMetricWarning for w in caught)
    results = search.cv_results_
    for key in (
        "accuracy",
        "roc_auc",
        "neg_mia_auc",
        "neg_mia_advantage",
        "neg_mia_tpr_at_1pct_fpr",
        "neg_mia_epsilon",
    ):
        assert f"mean_test_{key}" in results and f"rank_test_{key}" in results
        # 300 held-out rows per fold and n_members=200: 200 non-members audited
        # cannot resolve the TPR at 1% FPR (1,000 needed), which is NaN.
        finite = np.isfinite(results[f"mean_test_{key}"])
        assert (~finite if key == "neg_mia_tpr_at_1pct_fpr" else finite).all()
    # Scored on training rows, the leakage is NaN, the utility is not.
    assert np.isnan(results["mean_train_neg_mia_auc"]).all()
    assert np.isfinite(results["mean_train_accuracy"]).all()
    # Fully grown trees leak more than leaves of 20.
    auc = -results["mean_test_neg_mia_auc"]
    assert auc[0] > auc[1]
    expected = privacy_refit(leakage="auc", max_leakage=0.65)(results)
    assert search.best_index_ == expected
    assert isinstance(search.best_estimator_, AuditRecorder)
    assert hasattr(search.best_estimator_.forget(), "estimator_")


def test_cross_validate_with_a_label_only_scorer(data):
    X, y = data
    scorer = make_privacy_scorer(attack="label_gap", leakage=("auc",), random_state=0)
    smoothed = SmoothedClassifier(
        sigma=0.5, n_predict=50, abstain=True, alpha=0.05, random_state=0
    )
    results = cross_validate(
        AuditRecorder(smoothed, n_members=150, random_state=0),
        X[:450],
        y[:450],
        scoring=scorer,
        cv=3,
    )
    assert np.isfinite(results["test_neg_mia_auc"]).all()
    assert np.all(results["test_accuracy"] > 0.6)


def test_scorer_with_references(data):
    X, y = data
    recorder = AuditRecorder(LogisticRegression(), n_members=200, random_state=0).fit(
        X[:600], y[:600]
    )
    scorer = make_privacy_scorer(
        attack="rmia", n_references=2, leakage=("auc", "tpr@5%"), random_state=0
    )
    scores = scorer(recorder, X[600:], y[600:])
    assert np.isfinite(list(scores.values())).all()


def test_adult_duplicates_are_not_taken_for_training_rows():
    # Adult's test split repeats 23 (row, label) pairs of its training split:
    # they are found, left out of the non-members, and the audit runs.
    from sklearn.pipeline import make_pipeline

    from skprivacy.datasets import load_adult, make_preprocessor

    adult = load_adult(as_frame=True)
    train = adult.split == "train"
    recorder = AuditRecorder(
        make_pipeline(make_preprocessor(adult), LogisticRegression(max_iter=300)),
        n_members=2000,
        random_state=0,
    ).fit(adult.data[train], adult.target[train])
    X_test, y_test = adult.data[~train], adult.target[~train]
    assert recorder.overlap(X_test, y_test).sum() == 23
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        scores = make_privacy_scorer(random_state=0)(recorder, X_test, y_test)
    assert np.isfinite(list(scores.values())).all()
    with pytest.warns(UserWarning, match="100% of the rows offered"):
        make_privacy_scorer()(
            recorder, adult.data[train][:500], adult.target[train][:500]
        )


# Issue 21, point 2: the default leakage reads a TPR at an FPR the audit
# resolves, planned once for the search from n_members.
@pytest.mark.parametrize(
    "n_members, fpr",
    [(2000, 0.005), (1999, 0.01), (1000, 0.01), (666, 0.02), (300, 0.05), (100, 0.1)],
)
def test_tpr_is_read_at_the_lowest_fpr_n_members_resolve(n_members, fpr):
    X, y = make_classification(4000, 10, n_informative=6, flip_y=0.1, random_state=1)
    recorder = AuditRecorder(
        DecisionTreeClassifier(max_depth=8, random_state=0),
        n_members=n_members,
        random_state=0,
    ).fit(X[:2000], y[:2000])
    scorer = make_privacy_scorer(leakage=("tpr", f"tpr@{100 * fpr:g}%"), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = scorer(recorder, X[2000:], y[2000:])
    assert scores["mia_tpr_fpr"] == fpr
    # The same audit read at the same FPR, whether planned or asked for.
    assert scores["neg_mia_tpr"] == scores[f"neg_mia_tpr_at_{100 * fpr:g}pct_fpr"]
    assert np.isfinite(scores["neg_mia_tpr"])


def test_planned_tpr_is_nan_with_the_rows_it_needs(data):
    X, y = data
    scorer = make_privacy_scorer(leakage=("auc", "tpr"), random_state=0)
    # n_members=1000 plans 1% FPR; a fold of 300 held-out rows audits 300.
    recorder = AuditRecorder(n_members=1000, random_state=0).fit(X[:600], y[:600])
    with pytest.warns(
        UnresolvedMetricWarning, match=r" 1% FPR .* at least 1000 .* audits 300"
    ):
        scores = scorer(recorder, X[600:], y[600:])
    assert np.isnan(scores["neg_mia_tpr"]) and scores["mia_tpr_fpr"] == 0.01
    assert np.isfinite(scores["neg_mia_auc"])
    # 99 members resolve no FPR of the ladder (10% needs 100).
    recorder = AuditRecorder(n_members=99, random_state=0).fit(X[:600], y[:600])
    with pytest.warns(UnresolvedMetricWarning, match="n_members=99 .* needs 100"):
        scores = scorer(recorder, X[600:], y[600:])
    assert np.isnan(scores["neg_mia_tpr"]) and np.isnan(scores["mia_tpr_fpr"])


@pytest.mark.parametrize("quick", [True, False])
def test_grid_search_example_resolves_every_column(quick):
    # Issue 21, point 2: examples/plot_privacy_grid_search.py printed an all-NaN
    # TPR column (and 12 warnings). Its data and folds, as it prepares them
    # (Adult subsample, 3 folds, n_members = N_ROWS // 3), with a fast model:
    # whether a column resolves depends on the counts of audited rows only,
    # not on the model (Adult's duplicate rows are left out of each fold).
    from skprivacy.datasets import load_adult, make_preprocessor

    n_rows = 900 if quick else 2000
    adult = load_adult(as_frame=True)
    order = np.random.default_rng(0).permutation(len(adult.target))
    preprocessor = make_preprocessor(adult, drop=["fnlwgt"])
    preprocessor.fit(adult.data.iloc[order[n_rows:]])
    X = preprocessor.transform(adult.data.iloc[order[:n_rows]]).astype(np.float32)
    y = adult.target[order[:n_rows]]
    search = GridSearchCV(
        AuditRecorder(
            LogisticRegression(max_iter=200), n_members=n_rows // 3, random_state=0
        ),
        {"estimator__C": [0.1, 1.0]},
        scoring=make_privacy_scorer(attack="loss", random_state=0),
        refit=privacy_refit(utility="accuracy", leakage="auc", max_leakage=0.55),
        cv=3,
    )
    with warnings.catch_warnings():
        # No UnresolvedMetricWarning, no "non-finite test scores" warning.
        warnings.simplefilter("error", UserWarning)
        search.fit(X, y)
    results = search.cv_results_
    for key in ("accuracy", "neg_mia_auc", "neg_mia_advantage", "neg_mia_tpr"):
        assert np.isfinite(results[f"mean_test_{key}"]).all(), key
    # 300 members resolve 5% FPR (200 needed), 666 resolve 2% (500 needed),
    # in every fold.
    expected = 0.05 if quick else 0.02
    np.testing.assert_allclose(results["mean_test_mia_tpr_fpr"], expected)
    np.testing.assert_allclose(results["std_test_mia_tpr_fpr"], 0, atol=1e-15)


def test_privacy_refit_needs_a_cap_in_the_metric_units():
    # Issue 21, point 2: 0.55 is an AUC; it used to apply silently to others.
    for leakage in ("advantage", "tpr", "tpr@1%", "epsilon"):
        with pytest.raises(ValueError, match="needs an explicit max_leakage"):
            privacy_refit(leakage=leakage)
    assert privacy_refit().max_leakage == 0.55
    results = {
        "mean_test_accuracy": [0.9, 0.8],
        "mean_test_neg_mia_advantage": [-0.3, -0.05],
    }
    assert privacy_refit(leakage="advantage", max_leakage=0.1)(results) == 1


def test_privacy_refit_can_raise_when_no_candidate_meets_the_cap():
    results = {**_results([0.9, 0.8, 0.7], [0.9, 0.7, 0.65]), "params": [{}] * 3}
    results["params"] = [{"C": 1.0}, {"C": 0.1}, {"C": 0.01}]
    with pytest.raises(
        ValueError, match=r"least leaky is candidate 2 \{'C': 0\.01\} \(auc = 0\.65\)"
    ):
        privacy_refit(max_leakage=0.6, if_none_meets="raise")(results)
    with pytest.warns(UserWarning, match="least leaky is candidate 2"):
        assert privacy_refit(max_leakage=0.6)(results) == 2
    with pytest.raises(ValueError, match="'if_none_meets' parameter"):
        privacy_refit(if_none_meets="first")


def test_privacy_refit_says_when_the_estimator_was_not_recorded(data):
    # Issue 21, point 2: the scorer raises on a bare estimator, GridSearchCV
    # records a NaN "score" for every fold, and the refit rule said
    # KeyError: 'mean_test_accuracy'.
    X, y = data
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": [2, None]},
        scoring=make_privacy_scorer(random_state=0),
        refit=privacy_refit(),
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn's "Scoring failed"
        with pytest.raises(
            ValueError,
            match=r"Every fold's scoring failed(.|\n)*not an AuditRecorder "
            r"\(it has the parameter 'max_depth'(.|\n)*'estimator__max_depth'",
        ):
            search.fit(X[:300], y[:300])
    # Parameters an AuditRecorder has: the cause is not known, the way to it is.
    failed = {"mean_test_score": [np.nan], "params": [{"estimator__max_depth": 2}]}
    with pytest.raises(ValueError, match="error_score='raise'"):
        privacy_refit()(failed)


def test_privacy_refit_on_the_planned_tpr():
    results = {
        "mean_test_accuracy": [0.9, 0.8],
        "mean_test_neg_mia_tpr": [-0.2, np.nan],
        "mean_test_mia_tpr_fpr": [0.02, 0.02],
    }
    refit = privacy_refit(leakage="tpr", max_leakage=0.05)
    with pytest.raises(ValueError, match="planned from n_members"):
        refit(results)
    results["mean_test_neg_mia_tpr"] = [-0.2, -0.03]
    assert refit(results) == 1
    # Candidates with different n_members read different FPRs.
    results["mean_test_mia_tpr_fpr"] = [0.02, 0.05]
    with pytest.raises(ValueError, match="different FPRs"):
        refit(results)
