# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from typing import ClassVar

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from torch import nn
from torch.func import vmap

from skprivacy.audit import MembershipInferenceAuditor, _references
from skprivacy.audit._references import (
    aligned_log_proba,
    balanced_keep_matrix,
    train_references,
)
from skprivacy.defense import CRLClassifier, CRLLoss, crl_loss
from skprivacy.utils import spawn_generators, torch_seed
from skprivacy.utils._arrays import masked_mean
from skprivacy.utils._functional_loss import FunctionalLoss
from skprivacy.utils._vectorized import (
    StackedOptimizer,
    _initialized_estimators,
    batch_plan,
    check_vectorizable,
    train_vectorized,
)


class MLP(nn.Module):
    def __init__(self, n_in=6, hidden=16, n_out=3, dropout=0.0, softmax=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout)
        )
        self.head = nn.Linear(hidden, n_out)
        self.softmax = softmax

    def forward(self, X):
        out = self.head(self.body(X))
        return torch.softmax(out, dim=-1) if self.softmax else out


class BatchNormMLP(MLP):
    def __init__(self, n_in=6, hidden=16, n_out=3):
        super().__init__(n_in, hidden, n_out)
        self.body = nn.Sequential(
            nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU()
        )


class BrierLoss(nn.Module):
    """Squared error between softmax probabilities and the one-hot label."""

    def forward(self, logits, target):
        return _brier(logits, target).mean()


def _brier(logits, target):
    proba = torch.softmax(logits, dim=-1)
    one_hot = torch.arange(logits.shape[-1]) == target.unsqueeze(1)
    return (proba - one_hot.to(proba.dtype)).pow(2).sum(dim=1)


class _BrierFunctional(FunctionalLoss):
    def __call__(self, output, state, target, weight, epoch):
        return masked_mean(_brier(output, target), weight)

    def proba_output(self, output):
        return torch.softmax(output, dim=-1)


class BrierNet(NeuralNetClassifier):
    """A skorch classifier with its own loss that declares it: no CRL in sight."""

    _skprivacy_capabilities: ClassVar[dict] = {"vectorized_loss": _BrierFunctional}

    def __init__(self, module=MLP, *, criterion=BrierLoss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)

    def _get_predict_nonlinearity(self):
        return lambda logits: torch.softmax(logits, dim=-1)


def _brier_net(**params):
    defaults = {
        "max_epochs": 4,
        "batch_size": 32,
        "lr": 0.05,
        "train_split": None,
        "iterator_train__shuffle": True,
        "verbose": 0,
    }
    return BrierNet(**{**defaults, **params})


def _net(module=MLP, **params):
    defaults = {
        "criterion": nn.CrossEntropyLoss,
        "max_epochs": 4,
        "batch_size": 32,
        "lr": 0.01,
        "train_split": None,
        "iterator_train__shuffle": True,
        "verbose": 0,
    }
    return NeuralNetClassifier(module, **{**defaults, **params})


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        600,
        6,
        n_informative=4,
        n_redundant=0,
        n_classes=3,
        class_sep=1.5,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def uneven_keep():
    # Member sets of 100, 130 and 64 records: 4, 5 and 2 batches of 32, so the
    # models sit idle for different numbers of steps in each epoch.
    rng = np.random.default_rng(1)
    keep = np.zeros((3, 300), dtype=bool)
    for j, size in enumerate((100, 130, 64)):
        keep[j, rng.choice(300, size, replace=False)] = True
    return keep


# ------------------------------------------------------------------- batches


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_batch_plan_uses_only_members(uneven_keep, shuffle, drop_last):
    generators = spawn_generators(0, 3)
    index, weight = batch_plan(
        uneven_keep, 32, shuffle=shuffle, drop_last=drop_last, generators=generators
    )
    assert index.shape[1:] == (3, 32) and weight.shape == index.shape
    for j, row in enumerate(uneven_keep):
        seen = index[:, j][weight[:, j]]
        members = np.flatnonzero(row)
        # Every record used is a member, none twice in one epoch.
        assert np.isin(seen, members).all()
        assert len(np.unique(seen)) == len(seen)
        n_expected = len(members) // 32 * 32 if drop_last else len(members)
        assert len(seen) == n_expected
        if not shuffle:
            np.testing.assert_array_equal(seen, members[:n_expected])
    assert index.shape[0] == (4 if drop_last else 5)


def test_training_only_touches_member_rows(data, uneven_keep, monkeypatch):
    # Instrument the plan the trainer really used, epoch by epoch.
    from skprivacy.utils import _vectorized

    plans = []

    def recording_plan(*args, **kwargs):
        plans.append(batch_plan(*args, **kwargs))
        return plans[-1]

    monkeypatch.setattr(_vectorized, "batch_plan", recording_plan)
    X, y = data
    train_vectorized(_net(), X[:300], y[:300], uneven_keep, [1, 2, 3])
    assert len(plans) == 4
    for index, weight in plans:
        for j, row in enumerate(uneven_keep):
            assert row[index[:, j][weight[:, j]]].all()
            # Each epoch covers the whole member set.
            assert weight[:, j].sum() == row.sum()


def test_non_members_cannot_change_a_model(data, uneven_keep):
    # Changing only rows a model never trains on leaves that model identical.
    X, y = data
    X, y = X[:300].copy(), y[:300].copy()
    recipe = _net(max_epochs=2)
    before, _ = train_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    outside = ~uneven_keep[0]
    X[outside] = 100.0
    y[outside] = (y[outside] + 1) % 3
    after, _ = train_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    for a, b in zip(
        before[0].module_.parameters(), after[0].module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    changed = [
        not torch.equal(a, b)
        for a, b in zip(
            before[1].module_.parameters(), after[1].module_.parameters(), strict=True
        )
    ]
    assert any(changed)


# -------------------------------------------------------------- CRL branches


@pytest.mark.parametrize("epoch", [1, 2, 3, 4])
@pytest.mark.parametrize("alpha", [0.05, 1.0, 5.0])
@pytest.mark.parametrize("center_alpha", [0.01, 0.5, 1.9])
def test_crl_loss_matches_crlloss_per_model(epoch, alpha, center_alpha):
    # Three models with their own batches, logits and centers; every branch of
    # both parts fires across the parametrization.
    gen = torch.Generator().manual_seed(epoch)
    M, B, C, Fd = 3, 12, 4, 5
    logits = (torch.randn(M, B, C, generator=gen) * 3).requires_grad_()
    features = torch.randn(M, B, Fd, generator=gen).requires_grad_()
    centers = torch.randn(M, C, Fd, generator=gen).requires_grad_()
    target = torch.randint(0, C, (M, B), generator=gen)
    params = {
        "alpha": alpha,
        "upper": 0.9,
        "tau": 0.5,
        "center_alpha": center_alpha,
        "center_upper": 0.8,
        "center_tau": 1.0,
        "center_weight": 0.7,
    }
    # Padding: the last 4 records of models 1 and 2 are not part of the batch.
    weight = torch.ones(M, B)
    weight[1:, -4:] = 0
    ours = vmap(lambda lo, fe, ce, t, w: crl_loss(lo, fe, ce, t, w, epoch, params))(
        logits, features, centers, target, weight
    )
    grads = torch.autograd.grad(ours.sum(), (logits, features, centers))
    for j in range(M):
        n = int(weight[j].sum())
        loss = CRLLoss(
            n_classes=C,
            n_features=Fd,
            **params,
        )
        with torch.no_grad():
            loss.center.centers.copy_(centers[j])
        lo = logits[j, :n].detach().requires_grad_()
        fe = features[j, :n].detach().requires_grad_()
        expected = loss(lo, fe, target[j, :n], epoch)
        expected.backward()
        torch.testing.assert_close(ours[j], expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grads[0][j, :n], lo.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(grads[1][j, :n], fe.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(
            grads[2][j], loss.center.centers.grad, rtol=1e-4, atol=1e-6
        )
        # Padded records get no gradient.
        assert not grads[0][j, n:].any() and not grads[1][j, n:].any()


# ---------------------------------------------------------------- optimizers


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Adam", {}),
        ("Adam", {"weight_decay": 0.1, "betas": (0.8, 0.99), "eps": 1e-6}),
        ("AdamW", {"weight_decay": 0.05}),
        ("SGD", {}),
        ("SGD", {"momentum": 0.9, "weight_decay": 5e-4}),
        ("SGD", {"momentum": 0.9, "nesterov": True, "dampening": 0.0}),
        ("SGD", {"momentum": 0.5, "dampening": 0.3}),
    ],
)
def test_stacked_optimizer_matches_torch_per_model(name, kwargs):
    gen = torch.Generator().manual_seed(0)
    M = 3
    stacked = [torch.randn(M, 4, 5, generator=gen), torch.randn(M, 5, generator=gen)]
    singles = [[p[j].clone().requires_grad_() for p in stacked] for j in range(M)]
    optimizers = [
        getattr(torch.optim, name)(params, lr=0.05, foreach=False, **kwargs)
        for params in singles
    ]
    ours = StackedOptimizer(name, stacked, 0.05, **kwargs)
    for step in range(6):
        grads = [torch.randn(p.shape, generator=gen) for p in stacked]
        # Model 1 sits out steps 1 and 4, model 2 steps 0 and 1.
        active = torch.tensor([True, step not in (1, 4), step > 1])
        ours.step(grads, active)
        for j in range(M):
            if active[j]:
                for p, g in zip(singles[j], grads, strict=True):
                    p.grad = g[j].clone()
                optimizers[j].step()
    for j in range(M):
        for p, single in zip(stacked, singles[j], strict=True):
            torch.testing.assert_close(p[j], single.detach(), rtol=1e-6, atol=1e-7)


# ------------------------------------------------- exactness vs a plain loop


def _sequential_loop(recipe, X, y, keep, seeds):
    """Each model trained alone with torch's own loss and optimizers, on the
    batches the vectorized trainer draws for it (no dropout)."""
    estimators = _initialized_estimators(recipe, X, y, keep, seeds)
    is_crl = isinstance(recipe, CRLClassifier)
    X_t = torch.as_tensor(X)
    y_t = torch.as_tensor(
        np.searchsorted(estimators[0].classes_, y) if is_crl else y, dtype=torch.int64
    )
    generators = [spawn_generators(seed, 1)[0] for seed in seeds]
    models, criteria, optimizers = [], [], []
    for est in estimators:
        module = copy.deepcopy(est.module_).train()
        criterion = copy.deepcopy(est.criterion_)
        kwargs = recipe.get_params_for("optimizer")
        opts = [
            recipe.optimizer(module.parameters(), lr=recipe.lr, foreach=False, **kwargs)
        ]
        if is_crl:
            opts.append(
                torch.optim.SGD(
                    criterion.parameters(),
                    lr=recipe.center_lr,
                    momentum=recipe.center_momentum,
                    weight_decay=recipe.center_weight_decay,
                    foreach=False,
                )
            )
        models.append(module)
        criteria.append(criterion)
        optimizers.append(opts)
    for epoch in range(1, recipe.max_epochs + 1):
        for j in range(len(keep)):
            index, weight = batch_plan(
                keep[j : j + 1],
                recipe.batch_size,
                shuffle=True,
                drop_last=False,
                generators=[generators[j]],
            )
            for s in range(len(index)):
                rows = torch.as_tensor(index[s, 0][weight[s, 0]])
                for opt in optimizers[j]:
                    opt.zero_grad()
                out = models[j](X_t[rows])
                if is_crl:
                    # CRL counts epochs so that the last one is odd.
                    shifted = epoch + 1 - recipe.max_epochs % 2
                    loss = criteria[j](*out, y_t[rows], epoch=shifted)
                else:
                    loss = criteria[j](out, y_t[rows])
                loss.backward()
                for opt in optimizers[j]:
                    opt.step()
    return models, criteria


@pytest.mark.parametrize(
    "recipe",
    [
        _net(optimizer=torch.optim.Adam, lr=0.01),
        _net(optimizer=torch.optim.SGD, lr=0.05, optimizer__momentum=0.9),
        _brier_net(),
        # The center loss is off by default; this case keeps it covered.
        CRLClassifier(
            hidden_units=(16,), max_epochs=4, batch_size=32, lr=0.01, center_weight=0.1
        ),
        CRLClassifier(
            hidden_units=(16,), max_epochs=3, batch_size=32, center_weight=0.0
        ),
        CRLClassifier(
            hidden_units=(16,),
            max_epochs=3,
            batch_size=32,
            alpha=2.0,
            center_alpha=1.5,
            optimizer=torch.optim.SGD,
            lr=0.05,
        ),
    ],
    ids=[
        "skorch-adam",
        "skorch-sgd",
        "declared-brier",
        "crl",
        "crl-relax-only",
        "crl-flatten-sgd",
    ],
)
def test_vectorized_equals_sequential_functional_loop(data, uneven_keep, recipe):
    X, y = data[0][:300], data[1][:300]
    seeds = [11, 12, 13]
    estimators, _ = train_vectorized(recipe, X, y, uneven_keep, seeds)
    models, criteria = _sequential_loop(recipe, X, y, uneven_keep, seeds)
    for est, module, criterion in zip(estimators, models, criteria, strict=True):
        for ours, theirs in zip(
            est.module_.parameters(), module.parameters(), strict=True
        ):
            # Float32 rounding of batched vs. single matmuls only.
            torch.testing.assert_close(ours, theirs.detach(), rtol=1e-4, atol=1e-5)
        if isinstance(recipe, CRLClassifier):
            torch.testing.assert_close(
                est.criterion_.center.centers,
                criterion.center.centers.detach(),
                rtol=1e-4,
                atol=1e-5,
            )


# ---------------------------------------------------- probability targets


def _dirichlet_targets(n_models, n, n_classes, seed):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_classes), size=(n_models, n)).astype(np.float32)


def test_one_hot_probability_targets_train_as_labels(data, uneven_keep):
    X, y = data[0][:300], data[1][:300]
    recipe = _net(classes=[0, 1, 2], max_epochs=2)
    one_hot = np.eye(3, dtype=np.float32)[y]
    _, hard = train_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    for targets in (one_hot, np.stack([one_hot] * 3)):  # shared, per model
        _, soft = train_vectorized(recipe, X, targets, uneven_keep, [1, 2, 3])
        np.testing.assert_allclose(soft, hard, rtol=1e-5, atol=1e-6)


def test_probability_targets_match_skorch_fits_per_model(data, uneven_keep):
    # Without shuffling or dropout, model j of the vectorized trainer and a
    # skorch fit on its members and its own targets take the same steps (the
    # targets differ between models: reading another's would not match).
    X = data[0][:300]
    targets = _dirichlet_targets(3, 300, 3, seed=0)
    recipe = _net(classes=[0, 1, 2], iterator_train__shuffle=False, max_epochs=3)
    estimators, lp = train_vectorized(recipe, X, targets, uneven_keep, [4, 5, 6])
    for j, (est, row) in enumerate(zip(estimators, uneven_keep, strict=True)):
        fitted = clone(recipe)
        with torch_seed([4, 5, 6][j]):
            fitted.fit(X[row], targets[j][row])
        for ours, theirs in zip(
            est.module_.parameters(), fitted.module_.parameters(), strict=True
        ):
            torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        np.exp(lp[2]), fitted.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_probability_targets_need_cross_entropy_and_classes(data):
    X = data[0][:100]
    targets = _dirichlet_targets(1, 100, 3, seed=1)[0]
    keep = np.ones((1, 100), dtype=bool)
    with pytest.raises(ValueError, match="CrossEntropyLoss"):
        train_vectorized(
            _net(criterion=nn.NLLLoss, module__softmax=True, classes=[0, 1, 2]),
            X,
            targets,
            keep,
            [1],
        )
    with pytest.raises(ValueError, match="CrossEntropyLoss"):
        train_vectorized(_brier_net(classes=[0, 1, 2]), X, targets, keep, [1])
    with pytest.raises(ValueError, match="set classes"):
        train_vectorized(_net(), X, targets, keep, [1])


# ----------------------------------------------------------------- randomness


def test_each_model_draws_its_own_dropout(data):
    X, y = data[0][:200], data[1][:200]
    keep = np.ones((2, 200), dtype=bool)
    # Identical seeds and member sets: only dropout can tell the models apart.
    same, _ = train_vectorized(
        _net(module__dropout=0.0, max_epochs=2), X, y, keep, [5, 5]
    )
    differ, _ = train_vectorized(
        _net(module__dropout=0.5, max_epochs=2), X, y, keep, [5, 5]
    )
    a, b = (est.module_.head.weight for est in same)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    a, b = (est.module_.head.weight for est in differ)
    assert not torch.allclose(a, b)


def test_reproducible_and_global_rng_untouched(data):
    X, y = data[0][:200], data[1][:200]
    keep = balanced_keep_matrix(2, 200, np.random.default_rng(0))
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    _, lp1 = train_vectorized(_net(module__dropout=0.3), X, y, keep, [1, 2])
    _, lp2 = train_vectorized(_net(module__dropout=0.3), X, y, keep, [1, 2])
    np.testing.assert_array_equal(lp1, lp2)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)


# -------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    "recipe",
    [
        _net(),
        _net(criterion=nn.NLLLoss, module__softmax=True),
        _net(criterion=nn.CrossEntropyLoss, criterion__label_smoothing=0.1),
        CRLClassifier(hidden_units=(16,), max_epochs=2, batch_size=32),
        CRLClassifier(hidden_units=(16,), max_epochs=2, batch_size=32, crl=False),
        _brier_net(max_epochs=2),
    ],
    ids=["ce", "nll", "smoothing", "crl", "crl-plain", "declared-brier"],
)
def test_scores_match_the_fitted_estimators(data, recipe):
    X, y = data[0][:200], data[1][:200]
    keep = balanced_keep_matrix(3, 200, np.random.default_rng(0))
    estimators, lp = train_vectorized(recipe, X, y, keep, [1, 2, 3])
    assert lp.dtype == np.float64 and lp.shape == (3, 200, 3)
    expected = np.stack([aligned_log_proba(e, X, np.unique(y)) for e in estimators])
    np.testing.assert_allclose(lp, expected, rtol=1e-5, atol=1e-6)
    # The returned estimators are fitted, usable clones of the recipe.
    assert all(type(e) is type(recipe) for e in estimators)
    assert estimators[0].get_params()["max_epochs"] == recipe.max_epochs
    np.testing.assert_array_equal(estimators[0].classes_, np.unique(y))


# ------------------------------------------------------------------ fallbacks


@pytest.mark.parametrize(
    "recipe, reason",
    [
        (LogisticRegression(), "not a skorch NeuralNetClassifier"),
        (_net(train_split=5), "train_split"),
        (_net(callbacks=[EarlyStopping()]), "callbacks"),
        (_net(criterion=nn.MultiMarginLoss), "not CrossEntropyLoss or NLLLoss"),
        (_net(criterion__weight=torch.ones(3)), "criterion has arguments"),
        (_net(optimizer=torch.optim.RMSprop), "not Adam, AdamW or SGD"),
        (_net(optimizer__amsgrad=True), "amsgrad"),
        (_net(iterator_train__sampler=None), "DataLoader has arguments"),
        (CRLClassifier(feature_layer="body"), "feature_layer"),
        (CRLClassifier(alpha="auto"), "alpha='auto'"),
    ],
)
def test_check_vectorizable_reasons(data, recipe, reason):
    assert reason in check_vectorizable(recipe, data[0])


def test_qualifying_recipes(data):
    assert check_vectorizable(_net(), data[0]) is None
    assert check_vectorizable(CRLClassifier(), data[0]) is None


def test_any_estimator_declaring_its_loss_gets_the_fast_path(data, capsys):
    # The Brier loss is not one the trainer knows: a plain net with it falls
    # back, the same net declaring its functional loss is vectorized.
    X, y = data[0][:200], data[1][:200]
    plain = _net(criterion=BrierLoss)
    assert "not CrossEntropyLoss or NLLLoss" in check_vectorizable(plain, X)
    assert check_vectorizable(_brier_net(), X) is None
    keep = balanced_keep_matrix(2, 200, np.random.default_rng(0))
    estimators, _, _ = train_references(
        _brier_net(), X, y, keep, [1, 2], classes=np.unique(y), verbose=1
    )
    assert "together (vectorized with torch.func)" in capsys.readouterr().out
    assert all(type(e) is BrierNet for e in estimators)
    # A declaration on a class that is not a skorch classifier is refused.
    declared = type("Declared", (LogisticRegression,), {})
    declared._skprivacy_capabilities = {"vectorized_loss": _BrierFunctional}
    assert "not a skorch NeuralNetClassifier" in check_vectorizable(declared(), X)


def _refuse_odd_pools(recipe, X):
    return "the pool has an odd number of rows" if len(X) % 2 else None


def _train_each_on_its_members(recipe, X, y, keep, seeds, *, verbose=0):
    # A trainer of its own: fits clones, one per row of keep (the declared
    # trainer's contract: fitted estimators and their log-probabilities).
    estimators = [
        clone(recipe).set_params(random_state=seed).fit(X[row], y[row])
        for row, seed in zip(keep, seeds, strict=True)
    ]
    return estimators, np.stack([e.predict_log_proba(X) for e in estimators])


class _OwnTrainer(LogisticRegression):
    _skprivacy_capabilities: ClassVar[dict] = {
        "vectorized_trainer": (_refuse_odd_pools, _train_each_on_its_members)
    }


def test_a_declared_trainer_replaces_the_default_one(data, capsys):
    X, y = data[0][:200], data[1][:200]
    keep = balanced_keep_matrix(4, 200, np.random.default_rng(0))
    estimators, lp, _ = train_references(
        _OwnTrainer(), X, y, keep, [1, 2, 3, 4], classes=np.unique(y), verbose=1
    )
    assert "together (vectorized with torch.func)" in capsys.readouterr().out
    assert all(type(e) is _OwnTrainer for e in estimators)
    np.testing.assert_allclose(lp[2], estimators[2].predict_log_proba(X), rtol=1e-6)
    # Its own check decides when it applies; the message gives its reason.
    train_references(
        _OwnTrainer(),
        X[:199],
        y[:199],
        keep[:, :199],
        [1, 2, 3, 4],
        classes=np.unique(y),
        verbose=1,
    )
    assert "not vectorized because the pool has an odd number of rows" in (
        capsys.readouterr().out
    )


@pytest.mark.filterwarnings("ignore:Reference model:UserWarning")  # one epoch
def test_batch_norm_falls_back_with_message(data, capsys):
    X, y = data[0][:200], data[1][:200]
    keep = balanced_keep_matrix(2, 200, np.random.default_rng(0))
    recipe = _net(module=BatchNormMLP, max_epochs=1)
    estimators, _, _ = train_references(
        recipe, X, y, keep, [1, 2], classes=np.unique(y), verbose=1
    )
    out = capsys.readouterr().out
    assert "not vectorized because the module has buffers" in out
    assert "BatchNorm1d" in out
    # The joblib path trained the clones normally.
    assert len(estimators) == 2 and estimators[0].history_[-1]["epoch"] == 1
    with pytest.raises(ValueError, match=r"Cannot vectorize.*buffers"):
        train_references(
            recipe, X, y, keep, [1, 2], classes=np.unique(y), vectorize=True
        )


def test_vectorized_message_and_no_vectorize(data, capsys):
    X, y = data[0][:200], data[1][:200]
    keep = balanced_keep_matrix(2, 200, np.random.default_rng(0))
    recipe = _net(lr=0.1)
    train_references(recipe, X, y, keep, [1, 2], classes=np.unique(y), verbose=1)
    assert "together (vectorized with torch.func)" in capsys.readouterr().out
    estimators, _, _ = train_references(
        recipe, X, y, keep, [1, 2], classes=np.unique(y), vectorize=False
    )
    # The joblib path records its epochs in the history; the fast path does not.
    assert len(estimators[0].history_) == 4


# ------------------------------------------------- separate fits, statistically


def test_same_test_accuracy_as_separate_fits(data):
    X, y = data
    X_pool, y_pool, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
    M = 6
    keep = balanced_keep_matrix(M, 300, np.random.default_rng(3))
    seeds = list(range(20, 20 + M))
    recipe = _net(module__dropout=0.2, max_epochs=20, lr=0.03)
    accuracy = {}
    for vectorize in (True, False):
        estimators, _, _ = train_references(
            recipe,
            X_pool,
            y_pool,
            keep,
            seeds,
            classes=np.unique(y),
            vectorize=vectorize,
        )
        accuracy[vectorize] = np.array(
            [np.mean(e.predict(X_test) == y_test) for e in estimators]
        )
    diff = accuracy[True] - accuracy[False]
    # Model j has the same initialisation and member set on both paths; only
    # batch order and dropout differ. Under "same distribution" the paired
    # differences have mean 0. Their sd is bounded by that of one accuracy on
    # 300 test rows over training randomness; we bound it by 0.05 (observed
    # sd ~0.01), so the mean of 6 differences has sd <= 0.05 / sqrt(6) = 0.020
    # and |mean| > 0.085 (4.2 sd, normal two-sided p = 3e-5) fails a correct
    # implementation with probability < 1e-4.
    assert abs(diff.mean()) < 0.085
    # Both paths learn: the task's chance level is 1/3.
    assert accuracy[True].min() > 0.5


def test_audit_fast_path_consistent_with_slow_path(monkeypatch):
    X, y = make_classification(
        1200, 10, n_informative=6, n_classes=2, flip_y=0.05, random_state=4
    )
    X = X.astype(np.float32)
    target = CRLClassifier(
        hidden_units=(128,),
        max_epochs=40,
        batch_size=64,
        lr=0.01,
        crl=False,
        random_state=0,
    ).fit(X[:300], y[:300])
    pool_X, pool_y = X[:600], y[:600]
    membership = np.r_[np.ones(300), np.zeros(300)].astype(int)
    auc = {}
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(
                _references, "check_vectorizable", lambda recipe, X: "testing"
            )
        auditor = MembershipInferenceAuditor(
            FrozenEstimator(target), attack="rmia", n_references=4, random_state=0
        ).fit(pool_X, pool_y, X_population=X[600:], y_population=y[600:])
        auc[fast] = auditor.audit(pool_X, pool_y, membership, n_resamples=20).metrics[
            "auc"
        ]
        assert len(auditor.estimators_) == 4
    # The AUC of 300 members vs 300 non-members has a standard error of about
    # 0.022 at AUC 0.67 (Hanley & McNeil 1982); the two audits share records and
    # target, so their difference has sd <= 2 * 0.022 even if reference noise
    # were independent; 0.18 is > 4 sd (p < 1e-4).
    assert abs(auc[True] - auc[False]) < 0.18
    assert min(auc.values()) > 0.55


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_vectorized_references_train_on_the_recipes_cuda_device(data):
    from skprivacy.audit._references import train_reference_outputs

    X, y = data
    keep = balanced_keep_matrix(8, len(y), np.random.default_rng(0))
    seeds = list(range(8))
    outputs = {}
    for device in ("cuda", "cpu"):
        outputs[device] = train_reference_outputs(
            _net(max_epochs=10, device=device),
            X,
            y,
            keep,
            seeds,
            classes=np.unique(y),
            vectorize=True,
        )
    models = outputs["cuda"].estimators
    assert all(next(m.module_.parameters()).is_cuda for m in models)
    cuda, cpu = outputs["cuda"].accuracy(keep), outputs["cpu"].accuracy(keep)
    assert np.isfinite(outputs["cuda"].signals).all()
    # Same members, seeds and recipe on two devices: the same models up to
    # float rounding, batch order and dropout streams, so the same accuracy
    # within a few records (300 per half; chance level is 1/3).
    assert cuda[:, 0].min() > 0.6
    np.testing.assert_allclose(cuda.mean(axis=0), cpu.mean(axis=0), atol=0.05)
