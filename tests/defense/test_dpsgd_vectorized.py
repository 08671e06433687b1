"""Tests of the vectorized DP-SGD trainer against Opacus's sequential fits."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
import torch
from opacus import GradSampleModule
from opacus.optimizers import DPOptimizer
from opacus.optimizers.optimizer import _generate_noise
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from scipy import stats
from sklearn.datasets import make_classification
from skorch.callbacks import Callback
from torch import nn
from torch.func import stack_module_state

from skprivacy.audit import DefenseEvaluation
from skprivacy.audit._references import fit_reference, train_references
from skprivacy.defense import DPSGDClassifier, TabularMLP
from skprivacy.defense._dpsgd_vectorized import (
    _clipper,
    _CrossEntropyOfLogits,
    _GenericClipper,
    _LinearClipper,
    _noisy_gradients,
    check_dpsgd_vectorizable,
    poisson_batches,
    train_dpsgd_vectorized,
)
from skprivacy.exceptions import DPParameterWarning
from skprivacy.utils import torch_generator
from skprivacy.utils._estimators import capability

FAST = {"hidden_units": (8,), "max_epochs": 2, "batch_size": 16}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=240, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def uneven_keep():
    # Member sets of 100, 117 and 64 records: different sampling rates,
    # expected batch sizes and numbers of steps.
    rng = np.random.default_rng(1)
    keep = np.zeros((3, 240), dtype=bool)
    for j, size in enumerate((100, 117, 64)):
        keep[j, rng.choice(240, size, replace=False)] = True
    return keep


class NormedMLP(nn.Module):
    """An MLP with a LayerNorm: parameters outside Linear layers."""

    def __init__(self, n_in=6, n_out=3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, n_out)
        )

    def forward(self, X):
        return self.body(X)


class TiedMLP(nn.Module):
    """A Linear layer run twice in one forward pass."""

    def __init__(self, n_in=6, n_out=3):
        super().__init__()
        self.inner = nn.Linear(n_in, n_in)
        self.head = nn.Linear(n_in, n_out)

    def forward(self, X):
        return self.head(torch.relu(self.inner(torch.relu(self.inner(X)))))


def test_dpsgd_classifier_declares_the_trainer():
    check, train = capability(DPSGDClassifier(), "vectorized_trainer")
    assert check is check_dpsgd_vectorizable
    assert train is train_dpsgd_vectorized


# ------------------------------------------------- the same fit as Opacus's


@pytest.mark.parametrize(
    "params",
    [
        {"noise_multiplier": 0.8},
        {"noise_multiplier": 0.5, "criterion__reduction": "sum", "lr": 0.001},
        {"noise_multiplier": 1.1, "module": NormedMLP, "optimizer": torch.optim.SGD},
        {"noise_multiplier": 0.0, "batch_size": -1},
    ],
)
def test_models_are_the_fits_of_clones(data, uneven_keep, params):
    # Without dropout each model is the Opacus fit of a clone with the same
    # seed: the same Poisson batches, clipping, noise, steps and optimizer,
    # so the same parameters up to float summation order, and the same
    # accounting exactly.
    X, y = data
    recipe = DPSGDClassifier(**{**FAST, "max_physical_batch_size": 8, **params})
    assert check_dpsgd_vectorizable(recipe, X) is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DPParameterWarning)
        estimators, lp = train_dpsgd_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    zero_noise = [w for w in caught if issubclass(w.category, DPParameterWarning)]
    assert len(zero_noise) == (3 if params.get("noise_multiplier") == 0 else 0)
    for j, row in enumerate(uneven_keep):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DPParameterWarning)
            sequential = fit_reference(recipe, X, y, np.flatnonzero(row), j + 1)
        vectorized = estimators[j]
        for a, b in zip(
            vectorized.module_.parameters(),
            sequential.module_.parameters(),
            strict=True,
        ):
            torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-4, atol=1e-5)
        for name in ("sample_rate_", "noise_multiplier_", "delta_", "n_steps_"):
            assert getattr(vectorized, name) == getattr(sequential, name), name
        assert vectorized.epsilon_ == sequential.epsilon_
        assert vectorized.accountant_.history == sequential.accountant_.history
        np.testing.assert_allclose(
            np.exp(lp[j]), sequential.predict_proba(X), rtol=1e-4, atol=1e-5
        )
    if params.get("noise_multiplier") == 0:
        assert all(np.isinf(e.epsilon_) for e in estimators)
    else:
        assert all(0 < e.epsilon_ < np.inf for e in estimators)


def test_non_members_cannot_change_a_model(data, uneven_keep):
    # Changing only rows a model never trains on leaves that model identical.
    X, y = data[0].copy(), data[1].copy()
    recipe = DPSGDClassifier(**FAST, noise_multiplier=1.0, dropout=0.2)
    before, _ = train_dpsgd_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    outside = ~uneven_keep[0]
    X[outside] = 100.0
    y[outside] = (y[outside] + 1) % 3
    after, _ = train_dpsgd_vectorized(recipe, X, y, uneven_keep, [1, 2, 3])
    for a, b in zip(
        before[0].module_.parameters(), after[0].module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert any(
        not torch.equal(a, b)
        for a, b in zip(
            before[1].module_.parameters(), after[1].module_.parameters(), strict=True
        )
    )


# ------------------------------------------------------------------ clipping


def _opacus_clipped_sum(module, x, t, max_grad_norm):
    """Opacus's sum of clipped per-record gradients of one batch, no noise."""
    private = GradSampleModule(module)
    optimizer = DPOptimizer(
        torch.optim.SGD(module.parameters(), lr=0.1),
        noise_multiplier=0.0,
        max_grad_norm=max_grad_norm,
        expected_batch_size=len(x),
    )
    logits = private(x)
    logits = logits[0] if isinstance(logits, tuple) else logits
    nn.functional.cross_entropy(logits, t).backward()
    optimizer.clip_and_accumulate()
    sums = [p.summed_grad.clone() for p in module.parameters()]
    private._close()
    return sums


# Opacus's hooks on the first layer see inputs without gradients.
@pytest.mark.filterwarnings("ignore:Full backward hook is firing:UserWarning")
@pytest.mark.parametrize(
    "make, clipper",
    [
        (lambda: TabularMLP(6, 3, (8, 5)), _LinearClipper),
        (NormedMLP, _GenericClipper),
        (TiedMLP, _GenericClipper),
    ],
)
def test_clipped_sums_are_opacus(make, clipper):
    # Two models, each with its own batch of 12 records (the second padded
    # by 4): the clipped sum of each equals Opacus's for that model alone.
    torch.manual_seed(0)
    max_grad_norm = 0.05
    modules = [make(), make()]
    params, _ = stack_module_state(modules)
    names, leaves = list(params), [p.detach() for p in params.values()]
    x = torch.randn(2, 12, 6)
    t = torch.randint(0, 3, (2, 12))
    weight = torch.ones(2, 12)
    weight[1, 8:] = 0.0
    estimator = DPSGDClassifier(**FAST).fit(x[0].numpy(), [0, 1, 2] * 4)
    loss = _CrossEntropyOfLogits([estimator])
    clip, hooks = _clipper(
        modules[0], names, leaves, loss, max_grad_norm, 5, x[:, :4], t[:, :4]
    )
    assert type(clip) is clipper
    with hooks:
        summed, norms = clip(leaves, x, t, weight)
    for j, (module, size) in enumerate(zip(modules, (12, 8), strict=True)):
        expected = _opacus_clipped_sum(module, x[j, :size], t[j, :size], max_grad_norm)
        for a, b in zip(summed, expected, strict=True):
            torch.testing.assert_close(a[j], b, rtol=1e-5, atol=1e-7)
    # Records are clipped at this norm.
    assert (norms[weight > 0] > max_grad_norm).any()


def test_clipped_records_have_norm_at_most_c():
    # Per-record gradients times Opacus's clip factor have norm <= C, and
    # records already below C are left as they are.
    torch.manual_seed(1)
    modules = [TabularMLP(6, 3, (8,)) for _ in range(2)]
    params, _ = stack_module_state(modules)
    names, leaves = list(params), [p.detach() for p in params.values()]
    estimator = DPSGDClassifier(**FAST).fit(np.eye(6, dtype=np.float32), [0, 1, 2] * 2)
    loss = _CrossEntropyOfLogits([estimator])
    x, t = torch.randn(2, 40, 6) * 3, torch.randint(0, 3, (2, 40))
    generic = _GenericClipper(modules[0], names, loss, 1.0, 40)
    grads = generic.grads(leaves, x, t)
    norms = torch.stack([g.flatten(2).norm(dim=2) for g in grads], 2).norm(dim=2)
    max_grad_norm = float(norms.median())
    factor = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
    clipped = torch.stack(
        [(factor[..., None] * g.flatten(2)).norm(dim=2) for g in grads], 2
    ).norm(dim=2)
    assert (clipped <= max_grad_norm * (1 + 1e-5)).all()
    below = norms < max_grad_norm
    assert below.any() and (~below).any()
    torch.testing.assert_close(clipped[below], norms[below])


# --------------------------------------------------------------------- noise


def test_noise_is_opacus_noise_over_the_expected_batch():
    # Zero sums plus noise: model j's gradient is N(0, (sigma_j C / E_j)^2)
    # in every entry, drawn from its own generator exactly as Opacus draws
    # it (one tensor per parameter, in order). An inactive model is left as
    # it is.
    leaves = [torch.zeros(3, 40, 30), torch.zeros(3, 40)]
    sigmas, divisors, max_grad_norm = [1.3, 0.7, 2.0], [10, 25, 3], 0.5
    noisy = _noisy_gradients(
        leaves,
        sigmas,
        max_grad_norm,
        divisors,
        [torch_generator(seed) for seed in (5, 6, 7)],
        np.array([True, True, False]),
    )
    for j in range(2):
        generator = torch_generator(5 + j)
        std = sigmas[j] * max_grad_norm
        for g, leaf in zip(noisy, leaves, strict=True):
            expected = _generate_noise(std, leaf[j], generator) / divisors[j]
            torch.testing.assert_close(g[j], expected, rtol=0, atol=0)
        # The variance: sum of squares / s^2 ~ chi2(1240); each model fails
        # a correct implementation with probability 5e-5 (two tails of
        # 2.5e-5), both together at most 1e-4.
        s = std / divisors[j]
        statistic = sum(float((g[j] / s).square().sum()) for g in noisy)
        n = sum(g[j].numel() for g in noisy)
        assert stats.chi2.ppf(2.5e-5, n) < statistic < stats.chi2.isf(2.5e-5, n)
    assert all(float(g[2].abs().max()) == 0 for g in noisy)


# ------------------------------------------------------------------ sampling


def test_batches_are_opacus_poisson_batches():
    # Each model's batch at each step is the one Opacus's sampler draws with
    # the same generator, taken among its members; padding has weight 0.
    members = [torch.arange(0, 200, 2), torch.arange(1, 61, 2)]
    rates = [0.1, 0.3]
    ours = [torch_generator(1), torch_generator(2)]
    theirs = [
        iter(
            UniformWithReplacementSampler(
                num_samples=len(m),
                sample_rate=q,
                generator=torch_generator(s),
                steps=200,
            )
        )
        for m, q, s in zip(members, rates, (1, 2), strict=True)
    ]
    sizes = []
    for _ in range(200):
        index, weight = poisson_batches(members, ours, rates, np.array([True, True]))
        for j in range(2):
            rows = index[j][weight[j] > 0]
            torch.testing.assert_close(rows, members[j][next(theirs[j])])
            assert torch.isin(index[j], members[j]).all()
        sizes.append(weight.sum(dim=1))
    # The batch sizes of model 0 are Binomial(100, 0.1) each; their total over
    # 200 steps is Binomial(20000, 0.1): outside these quantiles with
    # probability <= 1e-4.
    total = int(torch.stack(sizes)[:, 0].sum())
    assert stats.binom.ppf(5e-5, 20000, 0.1) <= total
    assert total <= stats.binom.isf(5e-5, 20000, 0.1)
    # Inactive models get an empty batch.
    _, weight = poisson_batches(members, ours, rates, np.array([True, False]))
    assert float(weight[1].sum()) == 0


# ---------------------------------------------------------- the audit's use


@pytest.mark.filterwarnings("ignore::skprivacy.exceptions.UntrainedReferenceWarning")
def test_dp_sanity_checks_hold_for_a_vectorized_grid_point(capsys):
    # Any (1, delta)-DP training bounds every membership test by
    # TPR <= e FPR + delta: the frontier's Clopper-Pearson bounds (confidence
    # 1 - 1e-4, split over thresholds) must be consistent with each model's
    # epsilon, and the audited lower bound may not exceed it. A correct
    # implementation fails with probability <= 1e-4.
    X, y = make_classification(
        240, 8, n_informative=4, n_classes=2, flip_y=0.2, random_state=0
    )
    dp = DPSGDClassifier(hidden_units=(16,), max_epochs=3, target_epsilon=1.0)
    evaluation = DefenseEvaluation(
        {"dp": dp},
        n_models=6,
        fprs=(0.05,),
        n_resamples=30,
        confidence=1 - 1e-4,
        random_state=0,
        verbose=2,
    ).fit(X.astype(np.float32), y)
    assert "DPSGDClassifier reference models together" in capsys.readouterr().out
    table = evaluation.results_
    assert (table["dp_epsilon"] <= 1.0 + 1e-6).all()
    assert table["dp_consistent"].astype(bool).all()
    assert (table["epsilon_lower_bound"] <= table["dp_epsilon"]).all()


class _Noop(Callback):
    pass


@pytest.mark.parametrize(
    "params, reason",
    [
        ({"secure_mode": True}, "secure_mode"),
        ({"callbacks": [_Noop()]}, "callbacks"),
        ({"criterion": nn.NLLLoss}, "not CrossEntropyLoss"),
        ({"criterion__weight": torch.ones(3)}, "criterion has arguments"),
        ({"iterator_train__drop_last": True}, "DataLoader has arguments"),
        ({"optimizer": torch.optim.RMSprop}, "not Adam, AdamW or SGD"),
        ({"warm_start": True}, "warm_start"),
    ],
)
def test_what_cannot_be_reproduced_is_refused(data, params, reason):
    assert reason in check_dpsgd_vectorizable(
        DPSGDClassifier(**FAST, **params), data[0]
    )


class FrozenMLP(TabularMLP):
    def __init__(self, n_in=6, n_out=3):
        super().__init__(n_in, n_out, (8,))
        self.body[0].weight.requires_grad_(False)


@pytest.mark.parametrize(
    "module, keep_rows, reason",
    [
        (FrozenMLP, None, "the module has frozen parameters"),
        (None, "one_class", "some member sets miss a class"),
    ],
)
def test_fits_clones_when_built_models_cannot_be_trained_here(
    data, uneven_keep, capsys, module, keep_rows, reason
):
    X, y = data
    keep = uneven_keep.copy()
    if keep_rows == "one_class":
        keep[0] = y != 2
    recipe = DPSGDClassifier(**FAST, module=module, noise_multiplier=1.0)
    estimators, _, _ = train_references(
        recipe, X, y, keep, [1, 2, 3], classes=np.unique(y), verbose=1
    )
    assert f"not vectorized because {reason}" in capsys.readouterr().out
    # The clones trained through Opacus, which records its epochs.
    assert all(len(e.history_) == FAST["max_epochs"] for e in estimators)
