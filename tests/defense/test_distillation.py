"""Tests of SelfDistillationClassifier: SELENA's Split-AI and self-distillation."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochTimer

from skprivacy import CRLClassifier, SelfDistillationClassifier
from skprivacy.audit._references import (
    balanced_keep_matrix,
    fit_reference,
    train_references,
)
from skprivacy.defense import _distillation
from skprivacy.defense._distillation import held_out_assignment
from skprivacy.exceptions import DefenseConfigurationWarning


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


class Recorder(ClassifierMixin, BaseEstimator):
    """Keeps what ``fit`` received; predicts the first class."""

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_, self.sample_weight_ = (
            np.asarray(X),
            np.asarray(y),
            sample_weight,
        )
        self.classes_ = np.unique(y) if np.ndim(y) == 1 else np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, 0] = 1.0
        return proba

    def predict(self, X):
        return self.classes_[np.zeros(len(X), dtype=int)]


class RecorderNoWeights(Recorder):
    def fit(self, X, y):
        return super().fit(X, y)


class Logits(torch.nn.Module):
    def __init__(self, n_in=6, n_out=3):
        super().__init__()
        self.layer = torch.nn.Sequential(
            torch.nn.Linear(n_in, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_out)
        )

    def forward(self, x):
        return self.layer(x)


def soft_net(**params):
    defaults = {
        "criterion": torch.nn.CrossEntropyLoss,
        "optimizer": torch.optim.Adam,
        "max_epochs": 15,
        "lr": 0.01,
        "batch_size": 64,
        "train_split": None,
        "verbose": 0,
    }
    return NeuralNetClassifier(Logits, **{**defaults, **params})


# ------------------------------------------------------------ the assignment
@pytest.mark.parametrize("K, L", [(2, 1), (5, 2), (10, 3), (25, 10), (7, 6)])
def test_each_record_held_out_of_exactly_L_distinct_submodels(K, L):
    rng = np.random.default_rng(K * L)
    y = rng.integers(0, 4, size=503)
    held = held_out_assignment(y, K, L, rng)
    assert held.shape == (503, K)
    np.testing.assert_array_equal(held.sum(axis=1), L)
    # Per class, every sub-model is held out of floor or ceil of n_c L / K records.
    for c in range(4):
        counts = held[y == c].sum(axis=0)
        share = np.sum(y == c) * L / K
        assert set(counts) <= {np.floor(share), np.ceil(share)}, (c, counts)


def test_fitted_assignment_and_what_each_submodel_saw(data):
    X, y = data
    clf = SelfDistillationClassifier(
        KNeighborsClassifier(n_neighbors=1),
        soft_labels="argmax",
        n_estimators=6,
        n_held_out=2,
        keep_submodels=True,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.held_out_.sum(axis=1), 2)
    for k, model in enumerate(clf.estimators_):
        # A k-NN stores its training rows: exactly the records not held out of it.
        np.testing.assert_array_equal(model._fit_X, X[~clf.held_out_[:, k]])


# ------------------------------------------------------- the soft labels
def test_soft_labels_come_only_from_submodels_that_never_saw_the_record():
    # Points 0, 1, ..., n-1 on a line with alternating labels: the neighbours of a
    # record at distance 1 have the other label. A 1-NN that never saw record i
    # answers the label of its nearest training point, the other label unless it
    # also misses both neighbours; one that saw i answers y_i with certainty.
    n, K, L = 200, 8, 3
    X = np.arange(n, dtype=float)[:, None]
    y = np.arange(n) % 2
    clf = SelfDistillationClassifier(
        KNeighborsClassifier(n_neighbors=1),
        soft_labels="argmax",
        n_estimators=K,
        n_held_out=L,
        keep_submodels=True,
        random_state=3,
    ).fit(X, y)
    held = clf.held_out_
    expected = np.zeros((n, 2))
    for i in range(n):
        for k in np.flatnonzero(held[i]):
            seen = np.flatnonzero(~held[:, k])
            nearest = seen[np.abs(seen - i) == np.abs(seen - i).min()]
            expected[i, nearest[0] % 2] += 1 / L  # ties have the same parity
    np.testing.assert_allclose(clf.soft_labels_, expected)
    own = clf.soft_labels_[np.arange(n), y]
    # Members' own labels are not learnt by heart: most soft labels name the other
    # class (a leak through the sub-models that saw i would make every one 1).
    assert np.mean(own == 1.0) < 0.1
    assert np.mean(own) < 0.25


def test_soft_labels_are_the_mean_of_the_held_out_submodels(data):
    X, y = data
    clf = SelfDistillationClassifier(
        RandomForestClassifier(n_estimators=10),
        n_estimators=5,
        n_held_out=2,
        keep_submodels=True,
        random_state=0,
    ).fit(X, y)
    all_proba = np.stack([m.predict_proba(X) for m in clf.estimators_])  # (K, n, C)
    expected = np.einsum("kic,ik->ic", all_proba, clf.held_out_) / 2
    np.testing.assert_allclose(clf.soft_labels_, expected)
    np.testing.assert_allclose(clf.soft_labels_.sum(axis=1), 1.0)


def test_weights_path_copies_each_record_once_per_class_with_its_soft_label(data):
    X, y = data
    clf = SelfDistillationClassifier(
        RandomForestClassifier(n_estimators=5),
        final_estimator=Recorder(),
        n_estimators=4,
        n_held_out=1,
        keep_submodels=True,
        random_state=0,
    ).fit(X, y)
    final, soft = clf.final_estimator_, clf.soft_labels_
    assert clf.soft_label_method_ == "weights"
    rows, cols = np.nonzero(soft > 0)
    np.testing.assert_array_equal(final.X_, X[rows])
    np.testing.assert_array_equal(final.y_, clf.classes_[cols])
    np.testing.assert_allclose(final.sample_weight_, soft[rows, cols])
    # Every record keeps a total weight of 1.
    np.testing.assert_allclose(np.bincount(rows, final.sample_weight_), 1.0)


def test_native_path_passes_the_soft_label_matrix(data):
    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    clf = SelfDistillationClassifier(
        RandomForestClassifier(n_estimators=5),
        final_estimator=Recorder(),
        soft_labels="native",
        n_estimators=4,
        n_held_out=1,
        keep_submodels=True,
        random_state=0,
    ).fit(X, labels)
    final = clf.final_estimator_
    assert final.y_.dtype == np.float32 and final.y_.shape == (len(y), 3)
    np.testing.assert_allclose(final.y_, clf.soft_labels_, rtol=1e-6)
    # Told every class, in the order of the soft labels' columns.
    np.testing.assert_array_equal(final.classes, ["a", "b", "c"])
    assert clf.predict(X[:2]).tolist() == ["a", "a"]


def test_argmax_path_and_its_warning(data):
    X, y = data
    params = {"n_estimators": 4, "n_held_out": 1, "keep_submodels": True}
    with pytest.warns(DefenseConfigurationWarning, match="neither soft targets"):
        clf = SelfDistillationClassifier(
            RandomForestClassifier(n_estimators=5),
            final_estimator=RecorderNoWeights(),
            random_state=0,
            **params,
        ).fit(X, y)
    assert clf.soft_label_method_ == "argmax"
    np.testing.assert_array_equal(clf.final_estimator_.y_, clf.soft_labels_.argmax(1))
    assert clf.final_estimator_.sample_weight_ is None
    with pytest.raises(ValueError, match="takes no sample_weight"):
        clf.set_params(soft_labels="weights").fit(X, y)


# -------------------------------------------------------- class handling
def test_submodels_missing_a_class_get_a_zero_column():
    # One record of class "z": the sub-models held out of it never saw "z".
    X, y = make_classification(n_samples=120, n_features=4, random_state=1)
    labels = np.where(y == 0, "u", "v").astype(object)
    labels[7] = "z"
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(),
        n_estimators=5,
        n_held_out=2,
        keep_submodels=True,
        random_state=0,
    ).fit(X, labels)
    assert list(clf.classes_) == ["u", "v", "z"]
    assert clf.soft_labels_.shape == (120, 3)
    np.testing.assert_allclose(clf.soft_labels_.sum(axis=1), 1.0)
    # Its own soft label cannot be "z": only sub-models that never saw it vote.
    assert clf.soft_labels_[7, 2] == 0.0
    assert clf.predict_proba(X).shape == (120, 3)


# ------------------------------------------------------------- estimators
@pytest.mark.parametrize(
    "estimator",
    [
        RandomForestClassifier(n_estimators=20),
        HistGradientBoostingClassifier(max_iter=20),
    ],
    ids=["forest", "hist_gradient_boosting"],
)
def test_sample_weight_estimators(data, estimator):
    X, y = data
    X_test, y_test = X[200:], y[200:]
    clf = SelfDistillationClassifier(
        estimator, n_estimators=4, n_held_out=1, random_state=0
    ).fit(X[:200], y[:200])
    assert clf.soft_label_method_ == "weights"
    assert clf.predict_proba(X_test).shape == (100, 3)
    plain = clone(estimator).set_params(random_state=0).fit(X[:200], y[:200])
    # The distilled model learns the task: within 0.1 of the plain model.
    assert clf.score(X_test, y_test) > plain.score(X_test, y_test) - 0.1


def test_skorch_net_native_path(data):
    X, y = data
    net = soft_net()
    clf = SelfDistillationClassifier(
        net, n_estimators=3, n_held_out=1, random_state=0
    ).fit(X[:200], y[:200])
    assert clf.soft_label_method_ == "native"
    proba = clf.predict_proba(X[200:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X[200:]), proba.argmax(axis=1))
    # The net is fitted on the soft labels, not on the hard ones, and learns.
    hard = clone(net).fit(X[:200], y[:200])
    assert clf.score(X[200:], y[200:]) > hard.score(X[200:], y[200:]) - 0.1
    assert not np.allclose(hard.predict_proba(X[:5]), clf.predict_proba(X[:5]))
    # Torch's draws are seeded from random_state.
    again = clone(clf).fit(X[:200], y[:200])
    np.testing.assert_allclose(again.predict_proba(X[200:]), proba, rtol=1e-6)


def test_skprivacy_nets_take_argmax_labels(data):
    X, y = data
    net = CRLClassifier(hidden_units=(8,), max_epochs=2, batch_size=64)
    clf = SelfDistillationClassifier(net, n_estimators=3, n_held_out=1, random_state=0)
    with pytest.warns(DefenseConfigurationWarning, match="most probable class"):
        clf.fit(X, y)
    assert clf.soft_label_method_ == "argmax"
    with pytest.raises(ValueError, match="trains on hard labels"):
        clf.set_params(soft_labels="native").fit(X, y)


# ------------------------------------------------ vectorized sub-models
def _assert_same_modules(a, b, **tol):
    for p, q in zip(a.module_.parameters(), b.module_.parameters(), strict=True):
        torch.testing.assert_close(p, q, **tol)


def test_vectorized_submodels_are_the_clones_sub_models(data, capsys):
    # soft_net neither shuffles nor drops out: the vectorized sub-models take
    # the steps of the clones (same initialisation, records and batches).
    X, y = data
    params = {"n_estimators": 5, "n_held_out": 2, "keep_submodels": True}
    fast = SelfDistillationClassifier(
        soft_net(max_epochs=5), random_state=0, verbose=1, **params
    ).fit(X, y)
    assert "trained 5 NeuralNetClassifier sub-models together" in (
        capsys.readouterr().out
    )
    slow = SelfDistillationClassifier(
        soft_net(max_epochs=5), random_state=0, vectorize=False, verbose=1, **params
    ).fit(X, y)
    assert "not vectorized because vectorize=False" in capsys.readouterr().out
    np.testing.assert_array_equal(fast.held_out_, slow.held_out_)
    for a, b in zip(fast.estimators_, slow.estimators_, strict=True):
        _assert_same_modules(a, b, rtol=1e-4, atol=1e-5)  # float32 rounding only
    np.testing.assert_allclose(fast.soft_labels_, slow.soft_labels_, atol=1e-5)
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-4)


def test_vectorized_soft_labels_only_from_submodels_that_never_saw_the_record(data):
    X, y = data
    X = X.copy()
    params = {
        "estimator": soft_net(max_epochs=3),
        "n_estimators": 5,
        "n_held_out": 2,
        "keep_submodels": True,
        "random_state": 0,
    }
    before = SelfDistillationClassifier(**params).fit(X, y)
    proba = np.stack([m.predict_proba(X) for m in before.estimators_])
    np.testing.assert_allclose(
        before.soft_labels_,
        np.einsum("kic,ik->ic", proba, before.held_out_) / 2,
        rtol=1e-5,
    )
    # Changing record 7 (not its label: the split depends on labels only)
    # leaves every sub-model held out of it as it was, to the last bit.
    X[7] += 5.0
    after = SelfDistillationClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(before.held_out_, after.held_out_)
    for k, (a, b) in enumerate(zip(before.estimators_, after.estimators_, strict=True)):
        if before.held_out_[7, k]:
            _assert_same_modules(a, b, rtol=0, atol=0)
        else:
            assert not torch.equal(a.module_.layer[0].weight, b.module_.layer[0].weight)


def test_vectorize_true_raises_when_the_estimator_does_not_qualify(data, capsys):
    X, y = data
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(), n_estimators=3, n_held_out=1, verbose=1
    )
    clf.fit(X, y)
    assert "not vectorized because the recipe is a DecisionTreeClassifier" in (
        capsys.readouterr().out
    )
    with pytest.raises(ValueError, match="Cannot vectorize the sub-models"):
        clf.set_params(vectorize=True).fit(X, y)


# ------------------------------------------ many self-distilled models at once
def _game_recipe(**params):
    return SelfDistillationClassifier(
        soft_net(max_epochs=4), n_estimators=4, n_held_out=2, **params
    )


def test_game_trains_the_models_separate_fits_would(data, capsys):
    X, y = data
    keep = balanced_keep_matrix(4, len(y), np.random.default_rng(0))
    seeds = [11, 12, 13, 14]
    recipe = _game_recipe(keep_submodels=True)
    models, lp, _ = train_references(
        recipe, X, y, keep, seeds, classes=np.unique(y), verbose=1
    )
    out = capsys.readouterr().out
    assert "trained 4 x 4 sub-models, then 4 distilled models, together" in out
    assert "Trained 4 SelfDistillationClassifier reference models together" in out
    separate = recipe.set_params(vectorize=False)
    for j in (0, 3):
        # What a separate fit with the model's seed draws: the same split,
        # sub-model seeds and initialisations, so (no shuffling, no dropout)
        # the same soft labels and distilled model, to float32 rounding.
        alone = fit_reference(separate, X, y, np.flatnonzero(keep[j]), seeds[j])
        assert models[j].random_state == alone.random_state
        np.testing.assert_array_equal(models[j].held_out_, alone.held_out_)
        np.testing.assert_allclose(
            models[j].soft_labels_, alone.soft_labels_, atol=1e-5
        )
        _assert_same_modules(
            models[j].final_estimator_,
            alone.final_estimator_,
            rtol=1e-4,
            atol=1e-5,
        )
        np.testing.assert_allclose(
            np.exp(lp[j]), models[j].predict_proba(X), rtol=1e-4, atol=1e-6
        )
        assert models[j].soft_label_method_ == "native"


def test_game_distilled_models_see_only_soft_labels(data, monkeypatch):
    X, y = data
    keep = balanced_keep_matrix(2, len(y), np.random.default_rng(1))
    calls = []

    def spy(recipe, X, targets, keep, seeds, **kwargs):
        calls.append((np.asarray(targets), keep))
        return train_vectorized(recipe, X, targets, keep, seeds, **kwargs)

    train_vectorized = _distillation.train_vectorized
    monkeypatch.setattr(_distillation, "train_vectorized", spy)
    monkeypatch.setitem(_distillation._SUBMODEL_BATCH, "cpu", 4)
    models, _, _ = train_references(
        _game_recipe(keep_submodels=True), X, y, keep, [1, 2], classes=np.unique(y)
    )
    # One model's 4 sub-models per call, then the distilled models.
    assert len(calls) == 3
    *sub_calls, (soft, final_keep) = calls
    sub_keep = np.concatenate([keep for _, keep in sub_calls])
    # The sub-models train on the labels, each on its own rows only ...
    for labels, _ in sub_calls:
        np.testing.assert_array_equal(labels, y)
    for j, model in enumerate(models):
        rows = np.flatnonzero(keep[j])
        np.testing.assert_array_equal(
            sub_keep[4 * j : 4 * j + 4][:, rows].T, ~model.held_out_
        )
        assert not sub_keep[4 * j : 4 * j + 4][:, ~keep[j]].any()
        # ... the distilled models on probabilities: their soft labels.
        np.testing.assert_allclose(soft[j, rows], model.soft_labels_)
    np.testing.assert_array_equal(final_keep, keep)
    assert soft.dtype.kind == "f" and soft.shape == (2, len(y), 3)


@pytest.mark.filterwarnings("ignore:Reference model:UserWarning")  # rows at 100
def test_game_non_members_cannot_change_a_model(data):
    X, y = data
    X, y = X.copy(), y.copy()
    keep = balanced_keep_matrix(2, len(y), np.random.default_rng(2))
    before, _, _ = train_references(
        _game_recipe(), X, y, keep, [1, 2], classes=np.unique(y)
    )
    X[~keep[0]] = 100.0
    y[~keep[0]] = (y[~keep[0]] + 1) % 3
    after, _, _ = train_references(
        _game_recipe(), X, y, keep, [1, 2], classes=np.unique(y)
    )
    _assert_same_modules(
        before[0].final_estimator_, after[0].final_estimator_, rtol=0, atol=0
    )
    assert not torch.equal(
        before[1].final_estimator_.module_.layer[0].weight,
        after[1].final_estimator_.module_.layer[0].weight,
    )


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"vectorize": False}, "vectorize=False"),
        ({"estimator": DecisionTreeClassifier()}, "sub-models do not qualify"),
        ({"soft_labels": "argmax"}, "not fit natively on soft labels"),
        ({}, None),
        (
            {"final_estimator": soft_net(callbacks=[EpochTimer()])},
            "distilled model does not qualify: the recipe has callbacks",
        ),
    ],
)
def test_game_check_reasons(data, params, reason):
    recipe = _game_recipe().set_params(**params)
    found = _distillation._check_distilled_models(recipe, data[0])
    if reason is None:
        assert found is None
    else:
        assert reason in found


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_game_falls_back_to_clones_with_reason(data, capsys):
    X, y = data
    keep = balanced_keep_matrix(2, len(y), np.random.default_rng(0))
    recipe = SelfDistillationClassifier(
        DecisionTreeClassifier(), n_estimators=3, n_held_out=1
    )
    models, _, _ = train_references(
        recipe, X, y, keep, [1, 2], classes=np.unique(y), verbose=1
    )
    assert "not vectorized because its sub-models do not qualify" in (
        capsys.readouterr().out
    )
    assert models[0].soft_label_method_ == "weights"
    # A model whose training set lacks a class of the pool is left to a clone.
    y3 = y.copy()
    y3[keep[0] & (y3 == 2)] = 1
    models, reason = _distillation._train_distilled_models(
        _game_recipe(), X, y3, keep, [1, 2]
    )
    assert models is None and "model 0 lacks some of the pool's classes" in reason


# ------------------------------------------------------------ augmentation
def _augmented(X, y, n_augment=3, scale=0.2, final=None):
    return SelfDistillationClassifier(
        RandomForestClassifier(n_estimators=5),
        final_estimator=final or Recorder(),
        soft_labels="native",
        n_estimators=4,
        n_held_out=2,
        n_augment=n_augment,
        augment_scale=scale,
        keep_submodels=True,
        random_state=0,
    ).fit(X, y)


def test_augmented_copies_carry_their_records_soft_label(data):
    X, y = data
    n, m = len(y), 3
    clf = _augmented(X, y, n_augment=m)
    final = clf.final_estimator_
    assert final.X_.shape == (n * (1 + m), X.shape[1])
    assert final.X_.dtype == np.float32
    np.testing.assert_array_equal(final.X_[:n], X)
    # Copy j of record i is row n + i * m + j, with record i's soft label: the
    # distilled model gets no label but the held-out sub-models' soft labels.
    np.testing.assert_allclose(
        final.y_,
        np.concatenate([clf.soft_labels_, np.repeat(clf.soft_labels_, m, 0)]),
        rtol=1e-6,
    )
    copies = final.X_[n:]
    assert not np.isclose(copies, np.repeat(X, m, axis=0)).all(axis=1).any()
    # Noise from a child of the distilled model's seed: reproducible.
    again = _augmented(X, y, n_augment=m).final_estimator_
    np.testing.assert_array_equal(again.X_, final.X_)


def test_augmented_noise_scale_is_the_promised_one():
    from scipy.stats import binom, chi2

    rng = np.random.default_rng(0)
    n, d, m, scale = 300, 20, 3, 0.2
    y = np.arange(n) % 3
    binary = (rng.random((n, d)) < 0.3).astype(np.float32)
    copies = _augmented(binary, y, m, scale).final_estimator_.X_[n:]
    assert set(np.unique(copies)) <= {0.0, 1.0}
    flips = int((copies != np.repeat(binary, m, axis=0)).sum())
    # Each of the n * m * d bits flips independently with probability scale:
    # the count lies outside these binomial quantiles with probability 1e-4.
    trials = n * m * d
    assert binom.ppf(5e-5, trials, scale) <= flips <= binom.isf(5e-5, trials, scale)

    dense = rng.normal(size=(n, d)) * np.arange(1, d + 1)
    copies = _augmented(dense, y, m, scale).final_estimator_.X_[n:]
    # Gaussian noise of scale times each column's standard deviation: the
    # standardised noise's sum of squares is chi-square with n * m * d degrees
    # of freedom, outside these quantiles with probability 1e-4.
    noise = (copies - np.repeat(dense, m, axis=0)) / (scale * dense.std(axis=0))
    ss = float((noise**2).sum())
    assert chi2.ppf(5e-5, trials) <= ss <= chi2.isf(5e-5, trials)


def test_augmented_dataframes_and_weights_path(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(),
        n_estimators=4,
        n_held_out=2,
        n_augment=2,
        random_state=0,
    ).fit(frame, y)
    assert clf.soft_label_method_ == "weights"
    # The distilled tree saw the copies as a frame with the same columns.
    assert list(clf.final_estimator_.feature_names_in_) == list(frame.columns)
    assert clf.predict(frame).shape == (len(y),)


def test_augmented_refuses_sparse_and_is_not_vectorized_in_the_game(data):
    from scipy.sparse import csr_matrix

    X, y = data
    with pytest.raises(ValueError, match="n_augment > 0 needs dense X"):
        _augmented(csr_matrix(X), y)
    words = np.array(["a", "b", "c"])[(X[:, :2] > 0).astype(int)]
    with pytest.raises(ValueError, match="n_augment > 0 needs numeric features"):
        SelfDistillationClassifier(
            Recorder(), n_estimators=3, n_held_out=1, n_augment=1
        ).fit(words, y)
    recipe = _game_recipe().set_params(n_augment=2)
    assert _distillation._check_distilled_models(recipe, X) == "n_augment > 0"


# ------------------------------------------------------------ conventions
def test_reproducible_with_random_state(data):
    X, y = data
    params = {
        "estimator": RandomForestClassifier(n_estimators=5),
        "n_estimators": 4,
        "n_held_out": 2,
        "keep_submodels": True,
    }
    a = SelfDistillationClassifier(random_state=1, **params).fit(X, y)
    b = SelfDistillationClassifier(random_state=1, **params).fit(X, y)
    c = SelfDistillationClassifier(random_state=2, **params).fit(X, y)
    np.testing.assert_array_equal(a.held_out_, b.held_out_)
    np.testing.assert_array_equal(a.soft_labels_, b.soft_labels_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.held_out_, c.held_out_)
    # One seed per sub-model: they differ from each other.
    seeds = {m.random_state for m in a.estimators_}
    assert len(seeds) == 4


def test_parallel_equals_sequential(data):
    X, y = data
    params = {
        "estimator": RandomForestClassifier(n_estimators=5),
        "n_estimators": 4,
        "n_held_out": 1,
        "keep_submodels": True,
        "random_state": 0,
    }
    one = SelfDistillationClassifier(n_jobs=1, **params).fit(X, y)
    # Threads: worker processes would cost seconds to start for the same check
    # that the result does not depend on how the sub-models are scheduled.
    with parallel_config(backend="threading"):
        two = SelfDistillationClassifier(n_jobs=2, **params).fit(X, y)
    np.testing.assert_array_equal(one.soft_labels_, two.soft_labels_)
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))


def test_submodels_are_not_kept_by_default(data):
    X, y = data
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(), n_estimators=3, n_held_out=1, random_state=0
    ).fit(X, y)
    for name in ("estimators_", "held_out_", "soft_labels_"):
        assert not hasattr(clf, name)
    clone(clf)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_verbose_reports_progress(data, capsys):
    X, y = data
    SelfDistillationClassifier(
        DecisionTreeClassifier(), n_estimators=3, n_held_out=1, verbose=1
    ).fit(X, y)
    assert "distilling 300 soft labels into DecisionTreeClassifier" in (
        capsys.readouterr().out
    )


def test_pipeline_grid_search_and_dataframes(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    pipe = make_pipeline(
        StandardScaler(),
        SelfDistillationClassifier(
            LogisticRegression(), n_estimators=3, n_held_out=1, random_state=0
        ),
    )
    search = GridSearchCV(
        pipe,
        {
            "selfdistillationclassifier__n_held_out": [1, 2],
            "selfdistillationclassifier__estimator__C": [0.1, 1.0],
        },
        cv=2,
    ).fit(frame, y)
    assert search.best_score_ > 0.6
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(), n_estimators=3, n_held_out=1, random_state=0
    ).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"f0": "other"}))


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_estimators": 4, "n_held_out": 4}, ValueError, "must be below"),
        ({"n_estimators": 4, "n_held_out": 9}, ValueError, "must be below"),
        ({"n_estimators": 1, "n_held_out": 1}, InvalidParameterError, "n_estimators"),
        ({"n_held_out": 0}, InvalidParameterError, "n_held_out"),
        ({"soft_labels": "soft"}, InvalidParameterError, "soft_labels"),
        ({"n_augment": -1}, InvalidParameterError, "n_augment"),
        ({"augment_scale": 0.0}, InvalidParameterError, "augment_scale"),
        ({"estimator": object()}, InvalidParameterError, "estimator"),
    ],
)
def test_bad_parameters(data, params, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        SelfDistillationClassifier(**params).fit(X, y)


def test_fewer_records_than_submodels():
    # 6 records x L=1 held-out slots over K=8 sub-models: two miss no record.
    X = np.arange(12, dtype=float).reshape(6, 2)
    clf = SelfDistillationClassifier(
        DecisionTreeClassifier(),
        n_estimators=8,
        n_held_out=1,
        keep_submodels=True,
        random_state=0,
    ).fit(X, [0, 1, 0, 1, 0, 1])
    assert (clf.held_out_.sum(axis=0) == 0).sum() == 2
    np.testing.assert_allclose(clf.soft_labels_.sum(axis=1), 1.0)


def test_too_few_records_and_one_class():
    X = np.arange(6, dtype=float).reshape(3, 2)
    with pytest.raises(ValueError, match="would train on no record"):
        SelfDistillationClassifier(n_estimators=4, n_held_out=3).fit(X, [0, 1, 1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        SelfDistillationClassifier().fit(X, [1, 1, 1])


def test_estimator_without_predict_proba_is_refused(data):
    X, y = data

    class NoProba(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(InvalidParameterError, match="predict_proba"):
        SelfDistillationClassifier(NoProba()).fit(X, y)
