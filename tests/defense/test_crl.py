"""Tests of CRLClassifier: sklearn behaviour, CRL training, persistence."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import LRScheduler, ProgressBar
from torch import nn

from skprivacy import CRLClassifier
from skprivacy.datasets import make_sparse_binary_classification
from skprivacy.defense import CRLLoss, TabularMLP
from skprivacy.exceptions import DefenseConfigurationWarning

# The center term is on, so every test exercises the full CRL loss.
FAST = {
    "hidden_units": (16,),
    "max_epochs": 4,
    "batch_size": 32,
    "lr": 0.01,
    "center_weight": 0.1,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return CRLClassifier(random_state=0, **FAST).fit(X, y)


class TupleNet(nn.Module):
    """A user module returning (logits, features)."""

    def __init__(self, n_in=6, n_out=3, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, width), nn.Tanh())
        self.head = nn.Linear(width, n_out)

    def forward(self, X):
        h = self.body(X)
        return self.head(h), h


class LogitsNet(nn.Module):
    """A user module returning logits only."""

    def __init__(self, n_in=6, n_out=3):
        super().__init__()
        self.hidden = nn.Linear(n_in, 5)
        self.act = nn.ReLU()
        self.out = nn.Linear(5, n_out)

    def forward(self, X):
        return self.out(self.act(self.hidden(X)))


class TripleNet(TupleNet):
    def forward(self, X):
        logits, h = super().forward(X)
        return logits, h, h


# ----------------------------------------------------------------- sklearn API


def test_string_labels_classes_and_softmax_of_raw_logits(data):
    X, y = data
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = CRLClassifier(random_state=0, **FAST).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert set(clf.predict(X)) <= set(clf.classes_)
    proba = clf.predict_proba(X)
    clf.module_.eval()
    with torch.no_grad():
        logits, _ = clf.module_(torch.as_tensor(X))
    np.testing.assert_allclose(proba, torch.softmax(logits, 1).numpy(), rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])


def test_dataframe_feature_names_and_float64_input(data):
    X, y = data
    frame = pd.DataFrame(X.astype(np.float64), columns=[f"f{i}" for i in range(6)])
    clf = CRLClassifier(random_state=0, **FAST).fit(frame, y)
    assert clf.n_features_in_ == 6
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.predict_proba(frame).dtype == np.float32


def test_every_row_is_a_training_member_by_default(data):
    X, y = data
    clf = CRLClassifier(random_state=0, **FAST).fit(X, y)
    assert clf.train_split is None
    assert "valid_loss" not in clf.history[-1]
    assert sum(clf.history[-1, "batches", :, "train_batch_size"]) == len(X)


def test_valid_split_scores_encoded_labels(data):
    from skorch.dataset import ValidSplit

    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    clf = CRLClassifier(random_state=0, train_split=ValidSplit(4), **FAST)
    clf.fit(X, labels)
    assert 0 <= clf.history[-1, "valid_acc"] <= 1
    assert "valid_loss" in clf.history[-1]


def test_random_state_reproducible_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    params = dict(FAST, dropout=0.2)
    a = CRLClassifier(random_state=7, **params).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    b = CRLClassifier(random_state=7, **params).fit(X, y)
    c = CRLClassifier(random_state=8, **params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert torch.equal(a.criterion_.center.centers, b.criterion_.center.centers)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_predict_leaves_torch_global_rng_untouched(fitted, data):
    # Issue 12 finding 8: skorch's DataLoader drew its base seed from torch's
    # global generator at every predict.
    X, _ = data
    state = torch.random.get_rng_state()
    fitted.predict_proba(X)
    fitted.predict(X)
    assert torch.equal(state, torch.random.get_rng_state())


def test_sample_weight_is_refused_clearly(data):
    from sklearn.model_selection import cross_validate

    X, y = data
    clf = CRLClassifier(**FAST)
    with pytest.raises(TypeError, match=r"does not support sample_weight.*batch"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(TypeError, match="does not support sample_weight"):
        cross_validate(
            clf,
            X,
            y,
            cv=2,
            params={"sample_weight": np.ones(len(y))},
            error_score="raise",
        )
    # Also when routed to fit by metadata routing.
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        routed = clone(clf).set_fit_request(sample_weight=True)
        routed.set_score_request(sample_weight=False)
        with pytest.raises(TypeError, match="does not support sample_weight"):
            cross_validate(
                routed,
                X,
                y,
                cv=2,
                params={"sample_weight": np.ones(len(y))},
                error_score="raise",
            )


def test_clone_gives_identical_unfitted_recipe(fitted, data):
    X, y = data
    recipe = clone(fitted)
    assert not hasattr(recipe, "n_features_in_")
    assert recipe.get_params()["alpha"] == fitted.alpha
    refit = recipe.fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), fitted.predict_proba(X))


def test_partial_fit_continues_epochs(data):
    X, y = data
    clf = CRLClassifier(random_state=0, **dict(FAST, max_epochs=1))
    clf.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    assert len(clf.history) == 2
    # Epoch 2 is even: the |L - alpha| rule (ascent or descent), never flattening.
    assert clf.history[-1, "irl_branch"] in {"ascent", "descent", "ascent+descent"}


# ------------------------------------------------------------------ CRL pieces


def test_history_records_terms_and_branches(data, capsys):
    X, y = data
    # alpha far above any batch CE: even epochs ascend, odd epochs flatten.
    with pytest.warns(DefenseConfigurationWarning, match="chance-level"):
        clf = CRLClassifier(random_state=0, alpha=5.0, verbose=1, **FAST).fit(X, y)
    branches = clf.history[:, "irl_branch"]
    # Four epochs are counted from 2, so that the last one flattens.
    assert branches == ["ascent", "flatten", "ascent", "flatten"]
    batches = clf.history[-1]["batches"]
    sizes = np.array([b["train_batch_size"] for b in batches])
    for key in ("irl_ce", "rcl_dist"):
        values = np.array([b[key] for b in batches])
        expected = (values * sizes).sum() / sizes.sum()
        assert clf.history[-1, key] == pytest.approx(expected, rel=1e-12)
    assert all(
        b in {"ascent", "descent", "flatten"}
        for b in clf.history[-1, "batches", :, "rcl_branch"]
    )
    out = capsys.readouterr().out
    assert "irl_branch" in out and "rcl_dist" in out


def test_progress_bar_can_show_crl_terms(data, capsys):
    X, y = data
    bar = ProgressBar(postfix_keys=["train_loss", "irl_ce", "irl_branch"])
    clf = CRLClassifier(random_state=0, callbacks=[bar], **FAST).fit(X, y)
    assert "it/s" in capsys.readouterr().err
    # What ProgressBar reads for its postfix: the last batch's record.
    assert clf.history[-1, "batches", -1, "irl_branch"] in {"ascent", "descent"}


def _initial_state(params, X, y):
    init = CRLClassifier(random_state=0, **dict(params, max_epochs=0)).fit(X, y)
    init.module_.train()
    logits, features = init.module_(torch.as_tensor(X))
    return init, logits, features


@pytest.mark.parametrize("crl", [False, True])
def test_first_full_batch_step_uses_the_chosen_loss(data, crl):
    # One full batch per epoch, no dropout: the epoch-1 train loss is the loss of
    # the initial module on all rows, computed here outside the estimator.
    X, y = data
    params = dict(FAST, batch_size=-1, crl=crl, alpha=0.5, center_weight=0.3)
    clf = CRLClassifier(random_state=0, **dict(params, max_epochs=1)).fit(X, y)
    init, logits, features = _initial_state(params, X, y)
    target = torch.as_tensor(y)
    if crl:
        expected = init.criterion_(logits, features, target, epoch=1)
    else:
        expected = torch.nn.functional.cross_entropy(logits, target)
    assert clf.history[0, "train_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert ("irl_ce" in clf.history[0]) is crl


def test_one_forward_pass_per_batch(data):
    X, y = data
    clf = CRLClassifier(random_state=0, **dict(FAST, max_epochs=0)).fit(X, y)
    calls = []
    clf.module_.register_forward_hook(lambda *args: calls.append(1))
    clf.set_params(max_epochs=1).partial_fit(X, y)
    assert len(calls) == int(np.ceil(len(X) / FAST["batch_size"]))


def test_center_weight_zero_is_relaxed_learning_alone(data):
    X, y = data
    clf = CRLClassifier(random_state=0, **dict(FAST, center_weight=0.0))
    clf.fit(X, y)
    assert "irl_ce" in clf.history[-1] and "rcl_dist" not in clf.history[-1]
    init = CRLClassifier(random_state=0, **dict(FAST, center_weight=0.0, max_epochs=0))
    init.fit(X, y)
    torch.testing.assert_close(
        clf.criterion_.center.centers, init.criterion_.center.centers
    )


def test_centers_move_only_through_their_optimizer(data):
    X, y = data
    params = dict(FAST, center_lr=0.5)
    start = CRLClassifier(random_state=0, **dict(params, max_epochs=0)).fit(X, y)
    centers0 = start.criterion_.center.centers.detach().clone()
    weights0 = start.module_.head.weight.detach().clone()
    assert not any(
        p is start.criterion_.center.centers
        for group in start.optimizer_.param_groups
        for p in group["params"]
    )
    frozen = clone(start).set_params(max_epochs=0).fit(X, y)
    frozen.optimizer_centers_.step = lambda *args, **kwargs: None
    frozen.set_params(max_epochs=3).partial_fit(X, y)
    torch.testing.assert_close(
        frozen.criterion_.center.centers, centers0, rtol=0, atol=0
    )
    assert not torch.equal(frozen.module_.head.weight, weights0)

    moving = clone(start).set_params(max_epochs=3).fit(X, y)
    assert not torch.equal(moving.criterion_.center.centers, centers0)


def test_lr_scheduler_leaves_center_lr_constant(data):
    X, y = data
    scheduler = LRScheduler(
        policy=torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.1
    )
    clf = CRLClassifier(
        random_state=0, center_lr=0.02, callbacks=[("lr", scheduler)], **FAST
    ).fit(X, y)
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01 * 0.1**4)
    assert clf.optimizer_centers_.param_groups[0]["lr"] == 0.02
    assert clf.optimizer_centers_.param_groups[0]["momentum"] == 0.9


def test_warns_when_alpha_below_ce_floor(data):
    X, y = data
    # 3 classes, tau = 1: floor = log(1 + 2 exp(-sqrt(3/2))) ~ 0.462.
    with pytest.warns(UserWarning, match="floor 0.462"):
        CRLClassifier(random_state=0, tau=1.0, alpha=0.3, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CRLClassifier(random_state=0, tau=1.0, alpha=0.6, **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="2 / center_tau"):
        CRLClassifier(random_state=0, center_tau=1.0, center_alpha=2.5, **FAST).fit(
            X, y
        )


def test_warns_when_alpha_at_or_above_chance_level(data):
    X, y = data
    # Issue 11 point 6: the loss of predicting the class frequencies is the
    # entropy of the labels; a target at or above it yields a constant predictor.
    counts = np.bincount(y) / len(y)
    chance = -np.sum(counts * np.log(counts))
    with pytest.warns(
        DefenseConfigurationWarning, match=f"chance-level loss {chance:.4g}"
    ):
        CRLClassifier(random_state=0, alpha=chance, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DefenseConfigurationWarning)
        CRLClassifier(random_state=0, alpha=0.95 * chance, **FAST).fit(X, y)
        CRLClassifier(random_state=0, alpha=5.0, crl=False, **FAST).fit(X, y)


@pytest.mark.parametrize("n_classes, upper", [(2, 0.5), (3, 0.3), (3, 1 / 3)])
def test_upper_at_or_below_one_over_n_classes_raises(n_classes, upper):
    X, y = make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=n_classes, random_state=0
    )
    clf = CRLClassifier(upper=upper, **FAST)
    with pytest.raises(ValueError, match="must exceed 1 / n_classes"):
        clf.fit(X, y)
    assert not hasattr(clf, "module_") or not clf.initialized_
    CRLClassifier(upper=upper, crl=False, **FAST).fit(X, y)
    CRLClassifier(upper=1 / n_classes + 0.01, **FAST).fit(X, y)


@pytest.mark.parametrize("max_epochs", [1, 2, 3, 4, 5])
def test_training_ends_on_a_descent_or_flattening_epoch(data, max_epochs):
    # alpha far above any batch CE: the |L - alpha| epochs ascend and the others
    # flatten, so the branches show the schedule. Ending on ascent cost up to
    # 12 points of accuracy in the defaults' search.
    X, y = data
    params = dict(FAST, max_epochs=max_epochs)
    with pytest.warns(DefenseConfigurationWarning, match="chance-level"):
        clf = CRLClassifier(random_state=0, alpha=5.0, **params).fit(X, y)
    branches = clf.history[:, "irl_branch"]
    assert branches[-1] == "flatten"
    assert branches[::-1] == ["flatten", "ascent"] * (max_epochs // 2) + ["flatten"] * (
        max_epochs % 2
    )


@pytest.mark.slow
def test_relaxation_engages_on_many_class_sparse_data():
    # The benchmark's sparse stand-in: 30 classes, 1,000 members, MLP (256, 128),
    # 30 epochs. With the previous tau=0.1 the batch cross-entropy of the
    # normalised logits stays above alpha=0.3 for all 30 epochs (CRL is then
    # plain descent at a high temperature, which leaked more than plain
    # training); with the defaults the relaxation fires from epoch 16.
    X, y = make_sparse_binary_classification(1000, random_state=0)
    X = X.astype(np.float32)
    recipe = CRLClassifier(hidden_units=(256, 128), max_epochs=30, random_state=0)
    branches = clone(recipe).fit(X, y).history[:, "irl_branch"]
    assert set(branches) != {"descent"}
    previous = clone(recipe).set_params(tau=0.1, upper=1.0).fit(X, y)
    assert set(previous.history[:, "irl_branch"]) == {"descent"}


def test_auto_alpha_follows_the_held_out_loss_level():
    # Separable classes: held-out rows reach a low loss, so does the target.
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        class_sep=3.0,
        random_state=0,
    )
    params = dict(FAST, max_epochs=15, lr=0.03, alpha="auto", random_state=0)
    easy = CRLClassifier(**params).fit(X, y)
    # Random labels: nothing generalises; the level stays near chance, log 3.
    noise = np.random.default_rng(0).integers(0, 3, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DefenseConfigurationWarning)
        hard = CRLClassifier(**params).fit(X, noise)
    assert easy.alpha_ < 0.3 * np.log(3) < 0.8 * np.log(3) < hard.alpha_
    assert easy.criterion_.relax.alpha == easy.alpha_
    # Reproducible, and a clone (a reference model) re-derives it from its data.
    torch_state = torch.random.get_rng_state()
    again = clone(easy).fit(X, y)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert again.alpha_ == easy.alpha_
    np.testing.assert_array_equal(again.predict_proba(X), easy.predict_proba(X))
    assert clone(easy).get_params()["alpha"] == "auto"


# ---------------------------------------------------------------- user modules


def test_user_module_returning_logits_and_features(data):
    X, y = data
    clf = CRLClassifier(TupleNet, module__width=9, random_state=0, **FAST).fit(X, y)
    assert tuple(clf.criterion_.center.centers.shape) == (3, 9)
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_user_module_with_named_feature_layer(data):
    X, y = data
    clf = CRLClassifier(LogitsNet, feature_layer="act", random_state=0, **FAST)
    clf.fit(X, y)
    assert tuple(clf.criterion_.center.centers.shape) == (3, 5)
    assert "rcl_dist" in clf.history[-1]
    with pytest.raises(ValueError, match="not a submodule"):
        CRLClassifier(LogitsNet, feature_layer="nope", **FAST).fit(X, y)


def test_plain_logits_module_works_without_crl(data):
    X, y = data
    clf = CRLClassifier(LogitsNet, crl=False, random_state=0, **FAST).fit(X, y)
    assert clf.predict(X).shape == (len(X),)


@pytest.mark.parametrize(
    "module, kwargs, error, match",
    [
        (TripleNet, {}, TypeError, r"\(logits, features\)"),
        (LogitsNet, {}, TypeError, "feature_layer"),
        (TupleNet, {"module__n_out": 2}, ValueError, r"expected \(n_samples, 3\)"),
    ],
)
def test_unusable_module_outputs_raise_clearly(data, module, kwargs, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        CRLClassifier(module, **kwargs, **FAST).fit(X, y)


def test_binary_task_with_one_logit_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="two logits"):
        CRLClassifier(TupleNet, module__n_out=1, **FAST).fit(X, y % 2)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -0.5}, "'alpha' parameter"),
        ({"tau": 0.0}, "'tau' parameter"),
        ({"upper": 1.5}, "'upper' parameter"),
        ({"center_weight": -1.0}, "'center_weight' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"criterion__alpha": 0.5}, "top-level"),
    ],
)
def test_bad_parameters_raise(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        CRLClassifier(**{**FAST, **params}).fit(X, y)


def test_bad_data_raises(data, fitted):
    X, y = data
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CRLClassifier(**FAST).fit(X_nan, y)
    with pytest.raises(ValueError, match="6 features"):
        fitted.predict(X[:, :4])
    with pytest.raises(ValueError, match="2 classes"):
        CRLClassifier(**FAST).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CRLClassifier(**FAST).fit(X, y[:-1])


# --------------------------------------------------------- set_params / search


def test_set_params_reinitialises_what_depends_on_it(data):
    X, y = data
    clf = CRLClassifier(random_state=0, **FAST).fit(X, y)
    centers = clf.criterion_.center.centers
    clf.set_params(alpha=0.9, center_alpha=0.05, center_weight=0.5, center_lr=0.3)
    assert clf.criterion_.relax.alpha == 0.9
    assert clf.criterion_.center.alpha == 0.05
    assert clf.criterion_.center_weight == 0.5
    assert clf.criterion_.center.centers is centers  # learned centers kept
    assert clf.optimizer_centers_.param_groups[0]["lr"] == 0.3
    clf.set_params(hidden_units=(11,))
    assert clf.module_.head.in_features == 11
    assert tuple(clf.criterion_.center.centers.shape) == (3, 11)
    assert (
        clf.optimizer_centers_.param_groups[0]["params"][0]
        is clf.criterion_.center.centers
    )


def test_grid_search_over_crl_parameters(data):
    X, y = data
    search = GridSearchCV(
        CRLClassifier(random_state=0, **FAST),
        {"alpha": [0.2, 0.8], "center_weight": [0.0, 0.5]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.criterion_.relax.alpha == search.best_params_["alpha"]


def test_pipeline_in_parallel_grid_search():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"num": rng.normal(size=80), "cat": rng.choice(["a", "b", "c"], size=80)}
    )
    y = np.where(frame["num"] + (frame["cat"] == "a") > 0.3, "yes", "no")
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["num"]), ("cat", OneHotEncoder(), ["cat"])],
        sparse_threshold=0,
    )
    pipe = make_pipeline(pre, CRLClassifier(random_state=0, **FAST))
    search = GridSearchCV(
        pipe, {"crlclassifier__alpha": [0.3, 0.6]}, cv=2, n_jobs=2
    ).fit(frame, y)
    assert set(search.predict(frame)) <= {"no", "yes"}


# ----------------------------------------------------------------- persistence


def test_save_params_safetensors_round_trip(fitted, data, tmp_path):
    X, y = data
    f_params, f_criterion = (
        tmp_path / "module.safetensors",
        tmp_path / "crit.safetensors",
    )
    fitted.save_params(f_params=f_params, f_criterion=f_criterion, use_safetensors=True)
    new = clone(fitted).set_params(max_epochs=0, random_state=99).fit(X, y)
    assert not np.array_equal(new.predict_proba(X), fitted.predict_proba(X))
    new.load_params(f_params=f_params, f_criterion=f_criterion, use_safetensors=True)
    np.testing.assert_array_equal(new.predict_proba(X), fitted.predict_proba(X))
    torch.testing.assert_close(
        new.criterion_.center.centers, fitted.criterion_.center.centers
    )


def test_pickle_round_trip(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)


def test_exports():
    import skprivacy
    import skprivacy.defense

    assert skprivacy.CRLClassifier is CRLClassifier
    assert {"CRLLoss", "TabularMLP"} <= set(skprivacy.defense.__all__)
    assert isinstance(CRLClassifier().get_params()["criterion"], type)
    assert CRLClassifier().criterion is CRLLoss
    assert issubclass(TabularMLP, nn.Module)


@pytest.mark.parametrize("name", ["CRLClassifier", "DPSGDClassifier", "HAMPClassifier"])
@pytest.mark.parametrize("n_rows", [0, 5])
def test_a_dataframe_without_columns_is_refused_clearly(name, n_rows):
    # numpy's own message would be "at least one array or dtype is required".
    import skprivacy.defense

    estimator = getattr(skprivacy.defense, name)(max_epochs=1)
    X = pd.DataFrame(index=range(n_rows))
    y = np.arange(n_rows) % 2
    with pytest.raises(ValueError, match=r"DataFrame without columns .*0 feature"):
        estimator.fit(X, y)
    with pytest.raises(ValueError, match="DataFrame without columns"):
        estimator.partial_fit(X, y, classes=[0, 1])
