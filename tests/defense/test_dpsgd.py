"""Tests of DPSGDClassifier: clipping, noise, sampling, accounting, sklearn API."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib.util
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from opacus.accountants import PRVAccountant, RDPAccountant
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from skprivacy.defense import DPSGDClassifier
from skprivacy.exceptions import DPParameterWarning

FAST = {"hidden_units": (8,), "max_epochs": 2, "batch_size": 16}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return DPSGDClassifier(random_state=0, **FAST).fit(X, y)


class Steps(Callback):
    """Record the weights before each batch and the batch's size."""

    def initialize(self):
        self.records = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            weights = nn.utils.parameters_to_vector(net.module_.parameters())
            self.records.append((len(batch[1]), weights.detach().clone()))


def one_full_batch_update(X, y, **params):
    """Weight change of a single full-batch step (sampling rate 1)."""
    clf = DPSGDClassifier(
        hidden_units=(8,),
        max_epochs=1,
        batch_size=-1,
        optimizer=torch.optim.SGD,
        lr=1.0,
        random_state=0,
        **params,
    ).fit(X, y)
    before = clone(clf).set_params(max_epochs=0).fit(X, y)
    after = nn.utils.parameters_to_vector(clf.module_.parameters())
    start = nn.utils.parameters_to_vector(before.module_.parameters())
    assert clf.n_steps_ == 1
    return (after - start).detach().numpy()


# ------------------------------------------------------------------ mechanism


NOISELESS = "ignore:noise_multiplier=0:skprivacy.exceptions.DPParameterWarning"


@pytest.mark.filterwarnings(NOISELESS)
def test_clipping_bounds_the_update(data):
    X, y = data
    # Noise-free full batch: update = lr * mean of clipped gradients, norm <= lr*C.
    update = one_full_batch_update(X, y, noise_multiplier=0.0, max_grad_norm=1e-3)
    assert 0 < np.linalg.norm(update) <= 1e-3 * (1 + 1e-5)
    unclipped = one_full_batch_update(X, y, noise_multiplier=0.0, max_grad_norm=1e6)
    assert np.linalg.norm(unclipped) > 1e-2


@pytest.mark.filterwarnings(NOISELESS)
def test_noise_has_the_calibrated_scale(data):
    X, y = data
    sigma, clip = 2.0, 0.5
    clean = one_full_batch_update(X, y, noise_multiplier=0.0, max_grad_norm=clip)
    noisy = one_full_batch_update(X, y, noise_multiplier=sigma, max_grad_norm=clip)
    # The same clipped gradients (same weights, every row in the batch), plus
    # N(0, (sigma C)^2) per coordinate divided by the expected batch size n.
    noise = (noisy - clean) * len(X) / (sigma * clip)
    dof = noise.size
    statistic = float(np.sum(noise.astype(np.float64) ** 2))
    # Two-sided chi-square test of the variance at total level 1e-4.
    assert stats.chi2.ppf(5e-5, dof) < statistic < stats.chi2.isf(5e-5, dof)
    assert abs(noise.mean()) < 3.9 / np.sqrt(dof)  # P(|Z| > 3.9) < 1e-4


def test_poisson_batches_have_the_accounted_rate(data):
    X, y = data
    spy = Steps()
    clf = DPSGDClassifier(
        hidden_units=(8,), max_epochs=20, batch_size=4, random_state=0, callbacks=[spy]
    ).fit(X, y)
    sizes = np.array([size for size, _ in spy.records])
    q = 4 / len(X)
    assert clf.sample_rate_ == q
    # int(1 / q) batches per epoch, every one accounted, empty ones included.
    assert len(sizes) == clf.n_steps_ == 20 * int(1 / q)
    assert clf.accountant_.history == [(clf.noise_multiplier_, q, clf.n_steps_)]
    assert (sizes == 0).any()
    # Total rows drawn ~ Binomial(n * steps, q); |z| > 3.9 has probability < 1e-4.
    trials = len(X) * len(sizes)
    z = (sizes.sum() - trials * q) / np.sqrt(trials * q * (1 - q))
    assert abs(z) < 3.9
    assert np.isfinite(clf.history[:, "train_loss"]).all()


@pytest.mark.parametrize("batch_size", [-1, 40])
def test_physical_batches_take_the_same_steps(data, batch_size):
    X, y = data
    params = {
        "hidden_units": (8,),
        "max_epochs": 2,
        "batch_size": batch_size,
        "noise_multiplier": 0.7,
        "random_state": 0,
    }
    whole = DPSGDClassifier(max_physical_batch_size=None, **params).fit(X, y)
    spy = Steps()
    split = DPSGDClassifier(max_physical_batch_size=7, callbacks=[spy], **params)
    split.fit(X, y)
    sizes = np.array([size for size, _ in spy.records])
    assert sizes.max() <= 7 and len(sizes) > split.n_steps_
    assert split.accountant_.history == whole.accountant_.history
    assert split.epsilon_ == whole.epsilon_
    # The same Poisson batches, clipped row by row and noised once per logical
    # batch: the same weights, up to the rounding of the sums. A step per
    # physical batch would have taken several times as many steps.
    for a, b in zip(
        whole.module_.parameters(), split.module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_noiseless_training_warns_and_has_no_finite_epsilon(data):
    X, y = data
    with pytest.warns(DPParameterWarning, match="no differential-privacy guarantee"):
        clf = DPSGDClassifier(noise_multiplier=0.0, random_state=0, **FAST).fit(X, y)
    assert clf.noise_multiplier_ == 0.0
    assert math.isinf(clf.epsilon_)
    assert clf.n_steps_ == 2 * int(len(X) / 16)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_epsilon_is_opacus_accountant_for_the_realised_steps(data, accountant):
    X, y = data
    clf = DPSGDClassifier(
        accountant=accountant, noise_multiplier=1.3, random_state=0, **FAST
    ).fit(X, y)
    steps = sum(len(epoch["batches"]) for epoch in clf.history)
    reference = {"rdp": RDPAccountant, "prv": PRVAccountant}[accountant]()
    reference.history = [(1.3, 16 / len(X), steps)]
    assert clf.n_steps_ == steps == 2 * int(len(X) / 16)
    assert clf.epsilon_ == pytest.approx(reference.get_epsilon(delta=clf.delta_))
    assert clf.delta_ == 1e-5


def test_target_epsilon_is_met_from_above(data):
    X, y = data
    clf = DPSGDClassifier(target_epsilon=2.0, random_state=0, **FAST).fit(X, y)
    # Opacus's search stops within 0.01 below the target.
    assert 2.0 - 0.011 <= clf.epsilon_ <= 2.0
    weaker = DPSGDClassifier(target_epsilon=8.0, random_state=0, **FAST).fit(X, y)
    assert weaker.noise_multiplier_ < clf.noise_multiplier_


def test_partial_fit_adds_to_the_budget(data):
    X, y = data
    clf = DPSGDClassifier(random_state=0, **FAST).fit(X, y)
    first = clf.epsilon_
    clf.partial_fit(X, y)
    assert clf.n_steps_ == 2 * 2 * int(len(X) / 16)
    assert clf.epsilon_ > first


def test_delta_auto_and_warning(data):
    X, y = data
    big = np.repeat(X, 800, axis=0)[:120_000], np.repeat(y, 800)[:120_000]
    assert (
        DPSGDClassifier(**{**FAST, "max_epochs": 0}).fit(*big).delta_ == 1 / 1_200_000
    )
    with pytest.warns(DPParameterWarning, match="1 / n_samples"):
        DPSGDClassifier(delta=0.01, random_state=0, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DPParameterWarning)
        DPSGDClassifier(delta=1e-4, random_state=0, **FAST).fit(X, y)


# ------------------------------------------------------------------ bad input


def test_unreachable_target_epsilon_fails_and_leaves_nothing_fitted(data):
    X, y = data
    clf = DPSGDClassifier(target_epsilon=1e-9, random_state=0, **FAST)
    with pytest.raises(ValueError, match="reaches target_epsilon=1e-09"):
        clf.fit(X, y)
    assert not hasattr(clf, "epsilon_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(6, 8)
        self.norm = nn.BatchNorm1d(8)
        self.out = nn.Linear(8, 3)

    def forward(self, X):
        return self.out(torch.relu(self.norm(self.hidden(X))))


def test_unsupported_layer_is_named_with_its_fix(data):
    X, y = data
    clf = DPSGDClassifier(BatchNormNet, random_state=0, **FAST)
    with pytest.raises(ValueError, match=r"'norm' \(BatchNorm1d\).*GroupNorm"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"noise_multiplier": 1.0, "target_epsilon": 1.0}, "not both"),
        ({"accountant": "gdp"}, "accountant"),
        ({"delta": 0.0}, "delta"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"criterion__reduction": "none"}, "reduction"),
    ],
)
def test_bad_parameters(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        DPSGDClassifier(**{**FAST, **params}).fit(X, y)


def test_sample_weight_is_refused_also_through_cross_validate(data):
    X, y = data
    clf = DPSGDClassifier(**FAST)
    with pytest.raises(TypeError, match="does not support sample_weight"):
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


@pytest.mark.skipif(
    importlib.util.find_spec("torchcsprng") is not None,
    reason="torchcsprng (not a dependency) is installed",
)
def test_secure_mode_needs_torchcsprng(data):
    X, y = data
    with pytest.raises(ImportError, match="torchcsprng"):
        DPSGDClassifier(secure_mode=True, **FAST).fit(X, y)


# --------------------------------------------------------------- sklearn API


def test_fitted_parts_are_plain_torch_and_proba_is_softmax(fitted, data):
    X, _ = data
    assert type(fitted.module_).__module__.startswith("skprivacy")
    assert type(fitted.optimizer_) is torch.optim.Adam
    assert not hasattr(next(fitted.module_.parameters()), "grad_sample")
    with torch.no_grad():
        logits, _ = fitted.module_(torch.as_tensor(X))
    np.testing.assert_allclose(
        fitted.predict_proba(X), torch.softmax(logits, 1).numpy(), rtol=1e-5
    )


def test_random_state_reproducible_and_global_rng_untouched(data):
    X, y = data
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    a = DPSGDClassifier(random_state=3, **FAST).fit(X, y)
    b = DPSGDClassifier(random_state=3, **FAST).fit(X, y)
    proba = a.predict_proba(X)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert np.array_equal(numpy_state[1], np.random.get_state()[1])
    np.testing.assert_array_equal(proba, b.predict_proba(X))
    c = DPSGDClassifier(random_state=4, **FAST).fit(X, y)
    assert not np.array_equal(proba, c.predict_proba(X))


def test_string_labels_pickle_and_clone(data):
    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    clf = DPSGDClassifier(random_state=0, **FAST).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.epsilon_ == clf.epsilon_
    refit = clone(restored).fit(X, labels)
    np.testing.assert_array_equal(refit.predict_proba(X), clf.predict_proba(X))


def test_pipeline_and_grid_search(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), DPSGDClassifier(random_state=0, **FAST))
    grid = {"dpsgdclassifier__noise_multiplier": [0.5, 2.0]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.best_estimator_[-1].noise_multiplier_ in (0.5, 2.0)
    assert search.predict(X).shape == y.shape
