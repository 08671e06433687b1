"""Tests of HAMP: soft labels, loss, regulariser and HAMPClassifier."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import xlogy
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from torch import nn

from skprivacy import HAMPClassifier
from skprivacy.defense import HAMPLoss, hamp_loss, soft_label_confidence
from skprivacy.utils._estimators import capability

FAST = {"hidden_units": (16,), "max_epochs": 4, "batch_size": 32, "lr": 0.01}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return HAMPClassifier(random_state=0, gamma=0.8, alpha=0.1, **FAST).fit(X, y)


def _soft_label(p, n_classes):
    return np.array([p] + [(1 - p) / (n_classes - 1)] * (n_classes - 1))


def _entropy(v):
    v = np.asarray(v, dtype=np.float64)
    v = v[v > 0]
    return float(-(v * np.log(v)).sum())


# ----------------------------------------------------------------- soft labels


@pytest.mark.parametrize("n_classes", [2, 3, 10, 26, 100])
@pytest.mark.parametrize("gamma", [0.0, 0.05, 0.5, 0.8, 0.95, 0.999])
def test_soft_labels_have_the_target_entropy(n_classes, gamma):
    # Analytic oracle: the entropy of (p, (1-p)/(C-1), ...) is gamma * log(C).
    p = soft_label_confidence(n_classes, gamma)
    assert _entropy(_soft_label(p, n_classes)) == pytest.approx(
        gamma * np.log(n_classes), abs=1e-9
    )
    # The true class stays the label's most probable class below gamma = 1.
    assert 1 / n_classes < p <= 1


def test_soft_label_confidence_ends_and_monotone():
    assert soft_label_confidence(5, 0.0) == 1.0
    assert soft_label_confidence(5, 1.0) == pytest.approx(0.2)
    ps = [soft_label_confidence(5, g) for g in np.linspace(0, 1, 21)]
    assert np.all(np.diff(ps) < 0)
    # Binary entropy at p = 0.89 is 0.3466 nats ~ log(2) / 2.
    assert soft_label_confidence(2, 0.5) == pytest.approx(0.8900, abs=1e-4)


@pytest.mark.parametrize(
    "n_classes, gamma, match",
    [(1, 0.5, "n_classes"), (2.5, 0.5, "n_classes"), (3, 1.5, "gamma")],
)
def test_soft_label_confidence_bad_input(n_classes, gamma, match):
    with pytest.raises(ValueError, match=match):
        soft_label_confidence(n_classes, gamma)


def test_the_loss_uses_exactly_those_soft_labels():
    # KL(s || q) is 0 exactly when q = s: logits log(s) give a zero KL term.
    n_classes, gamma = 7, 0.6
    p = soft_label_confidence(n_classes, gamma)
    target = torch.tensor([0, 3, 6])
    soft = np.stack([np.roll(_soft_label(p, n_classes), k) for k in (0, 3, 6)])
    logits = torch.log(torch.as_tensor(soft, dtype=torch.float64))
    value, terms = HAMPLoss(n_classes, gamma=gamma)(logits, target, return_terms=True)
    assert terms["hamp_kl"] == pytest.approx(0.0, abs=1e-12)
    assert terms["hamp_entropy"] == pytest.approx(gamma * np.log(n_classes))
    assert value.item() == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------ loss


def _closed_form(logits, target, p, alpha):
    z = np.asarray(logits, dtype=np.float64)
    q = np.exp(z - z.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    n_classes = z.shape[1]
    s = np.full_like(q, (1 - p) / (n_classes - 1))
    s[np.arange(len(z)), target] = p
    kl = (xlogy(s, s) - s * np.log(q)).sum(1)
    entropy = -(q * np.log(q)).sum(1)
    return kl.mean() - alpha * entropy.mean(), kl.mean(), entropy.mean()


def test_loss_equals_its_closed_form_on_a_tiny_batch():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], dtype=torch.float64)
    target = torch.tensor([0, 1])
    loss = HAMPLoss(n_classes=3, gamma=0.7, alpha=0.3)
    expected, kl, entropy = _closed_form(logits, target, loss.confidence, 0.3)
    value, terms = loss(logits, target, return_terms=True)
    assert value.item() == pytest.approx(expected, rel=1e-12)
    assert terms["hamp_kl"] == pytest.approx(kl, rel=1e-12)
    assert terms["hamp_entropy"] == pytest.approx(entropy, rel=1e-12)
    params = {"confidence": loss.confidence, "alpha": 0.3}
    assert hamp_loss(logits, target, None, params).item() == pytest.approx(expected)


def test_functional_loss_masks_padding_and_vmaps():
    rng = np.random.default_rng(0)
    logits = torch.as_tensor(rng.normal(size=(3, 5, 4)), dtype=torch.float64)
    target = torch.as_tensor(rng.integers(0, 4, size=(3, 5)))
    weight = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    weight = weight.to(torch.float64)
    params = {"confidence": soft_label_confidence(4, 0.5), "alpha": 0.2}
    stacked = torch.func.vmap(lambda z, t, w: hamp_loss(z, t, w, params))(
        logits, target, weight
    )
    for j in range(3):
        keep = weight[j].bool()
        alone = hamp_loss(logits[j][keep], target[j][keep], None, params)
        assert stacked[j].item() == pytest.approx(alone.item(), rel=1e-12)


def test_gamma_zero_alpha_zero_is_cross_entropy():
    logits = torch.tensor([[1.0, 0.0, -2.0], [0.3, 0.1, 0.2]])
    target = torch.tensor([2, 0])
    value = HAMPLoss(n_classes=3, gamma=0.0, alpha=0.0)(logits, target)
    expected = torch.nn.functional.cross_entropy(logits, target)
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)


def test_regulariser_gradient_has_the_closed_form_and_sign():
    # d(-alpha H(q)) / dz_k = alpha q_k (log q_k + H(q)) per record; at the most
    # probable class it is >= 0 (H >= -log max q), so descent lowers the top
    # logit and raises the entropy.
    rng = np.random.default_rng(1)
    z = torch.tensor(rng.normal(scale=3.0, size=(4, 5)), requires_grad=True)
    target = torch.as_tensor(rng.integers(0, 5, size=4))
    alpha = 0.7
    grads = []
    for a in (0.0, alpha):
        (g,) = torch.autograd.grad(HAMPLoss(5, gamma=0.5, alpha=a)(z, target), z)
        grads.append(g)
    regulariser = (grads[1] - grads[0]).numpy()
    q = torch.softmax(z.detach(), 1).numpy()
    entropy = -(q * np.log(q)).sum(1, keepdims=True)
    expected = alpha * q * (np.log(q) + entropy) / len(q)
    np.testing.assert_allclose(regulariser, expected, rtol=1e-9, atol=1e-15)
    top = q.argmax(1)
    assert (regulariser[np.arange(4), top] > 0).all()
    # One small descent step on the regulariser alone raises every entropy.
    stepped = torch.softmax(z.detach() - 0.1 * torch.as_tensor(regulariser), 1)
    new_entropy = -(stepped * stepped.log()).sum(1).numpy()
    assert (new_entropy > entropy.ravel()).all()


def test_loss_rejects_bad_parameters_and_shapes():
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\)"):
        HAMPLoss(3, gamma=1.0)
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        HAMPLoss(3, alpha=-0.1)
    with pytest.raises(ValueError, match="built for 3 classes"):
        HAMPLoss(3)(torch.zeros(2, 4), torch.tensor([0, 1]))


# ---------------------------------------------------------------- classifier


def _initial_logits(params, X, y):
    init = HAMPClassifier(random_state=0, **dict(params, max_epochs=0)).fit(X, y)
    init.module_.train()
    logits, _ = init.module_(torch.as_tensor(X))
    return init, logits


@pytest.mark.parametrize("gamma, alpha", [(0.0, 0.0), (0.8, 0.3)])
def test_first_full_batch_step_uses_the_hamp_loss(data, gamma, alpha):
    # One full batch, no dropout: the epoch-1 train loss is the loss of the
    # initial module on all rows, computed here outside the estimator.
    X, y = data
    params = dict(FAST, batch_size=-1, gamma=gamma, alpha=alpha)
    clf = HAMPClassifier(random_state=0, **dict(params, max_epochs=1)).fit(X, y)
    init, logits = _initial_logits(params, X, y)
    expected = _closed_form(logits.detach(), y, init.criterion_.confidence, alpha)
    assert clf.history[0, "train_loss"] == pytest.approx(expected[0], rel=1e-5)
    if gamma == 0.0 and alpha == 0.0:
        ce = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y))
        assert clf.history[0, "train_loss"] == pytest.approx(ce.item(), rel=1e-5)


def test_history_records_the_terms(data, capsys):
    X, y = data
    clf = HAMPClassifier(random_state=0, verbose=1, **FAST).fit(X, y)
    batches = clf.history[-1]["batches"]
    sizes = np.array([b["train_batch_size"] for b in batches])
    for key in ("hamp_kl", "hamp_entropy"):
        values = np.array([b[key] for b in batches])
        expected = (values * sizes).sum() / sizes.sum()
        assert clf.history[-1, key] == pytest.approx(expected, rel=1e-12)
    assert "hamp_entropy" in capsys.readouterr().out


def test_hamp_lowers_confidence_on_training_rows(data):
    # Deterministic (seeded) fits: plain training drives the members' true-class
    # probability up; HAMP holds it near the soft labels' p = 0.658 (gamma 0.8,
    # 3 classes) or below, with the regulariser.
    X, y = data
    params = dict(FAST, max_epochs=40, lr=0.03)
    plain = HAMPClassifier(gamma=0.0, alpha=0.0, random_state=0, **params).fit(X, y)
    hamp = HAMPClassifier(gamma=0.8, alpha=0.5, random_state=0, **params).fit(X, y)
    rows = np.arange(len(y))
    p_plain = plain.predict_proba(X)[rows, y].mean()
    p_hamp = hamp.predict_proba(X)[rows, y].mean()
    assert p_hamp < hamp.criterion_.confidence + 0.02 < p_plain
    assert hamp.score(X, y) > 0.8


def test_string_labels_logits_only_module_and_dataframe(data):
    X, y = data
    labels = np.array(["cat", "dog", "emu"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])

    class LogitsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(6, 3)

        def forward(self, X):
            return self.layer(X)

    clf = HAMPClassifier(LogitsNet, random_state=0, **FAST).fit(frame, labels)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    proba = clf.predict_proba(frame)
    np.testing.assert_array_equal(clf.predict(frame), clf.classes_[proba.argmax(1)])


def test_binary_task_with_one_logit_raises(data):
    X, y = data
    with pytest.raises(ValueError, match="two logits"):
        HAMPClassifier(module__n_out=1, **FAST).fit(X, y % 2)


def test_random_state_reproducible_and_global_rng_untouched(data):
    X, y = data
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    params = dict(FAST, dropout=0.2)
    a = HAMPClassifier(random_state=7, **params).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    b = HAMPClassifier(random_state=7, **params).fit(X, y)
    c = HAMPClassifier(random_state=8, **params).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    refit = clone(a).fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), a.predict_proba(X))


def test_training_batches_are_shuffled(data):
    X, y = data
    clf = HAMPClassifier(random_state=0, **dict(FAST, max_epochs=0)).fit(X, y)
    seen = []
    clf.module_.register_forward_hook(lambda m, inputs, out: seen.append(inputs[0]))
    clf.set_params(max_epochs=1).partial_fit(X, y)
    first = seen[0].numpy()
    assert not np.array_equal(first, X[: len(first)])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gamma": 1.0}, "'gamma' parameter"),
        ({"gamma": -0.1}, "'gamma' parameter"),
        ({"alpha": -1.0}, "'alpha' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"criterion__gamma": 0.5}, "top-level"),
    ],
)
def test_bad_parameters_raise(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        HAMPClassifier(**{**FAST, **params}).fit(X, y)


def test_sample_weight_is_refused(data):
    X, y = data
    with pytest.raises(TypeError, match="does not support sample_weight"):
        HAMPClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))


def test_set_params_rebuilds_what_depends_on_it(fitted, data):
    X, y = data
    clf = clone(fitted).fit(X, y)
    clf.set_params(gamma=0.3, alpha=0.7)
    assert clf.criterion_.confidence == soft_label_confidence(3, 0.3)
    assert clf.criterion_.alpha == 0.7
    clf.set_params(hidden_units=(11,))
    assert clf.module_.head.in_features == 11
    assert clf.optimizer_.param_groups[0]["params"][0] is clf.module_.body[0].weight


def test_grid_search_over_hamp_parameters(data):
    X, y = data
    search = GridSearchCV(
        HAMPClassifier(random_state=0, **FAST),
        {"gamma": [0.0, 0.9], "alpha": [0.0, 1.0]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_
    assert best.criterion_.confidence == soft_label_confidence(3, best.gamma)


def test_pipeline_in_grid_search():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"num": rng.normal(size=80), "cat": rng.choice(["a", "b", "c"], size=80)}
    )
    y = np.where(frame["num"] + (frame["cat"] == "a") > 0.3, "yes", "no")
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["num"]), ("cat", OneHotEncoder(), ["cat"])],
        sparse_threshold=0,
    )
    pipe = make_pipeline(pre, HAMPClassifier(random_state=0, **FAST))
    search = GridSearchCV(pipe, {"hampclassifier__gamma": [0.5, 0.9]}, cv=2)
    search.fit(frame, y)
    assert set(search.predict(frame)) <= {"no", "yes"}


def test_pickle_round_trip(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_declared_capabilities_and_exports():
    import skprivacy
    import skprivacy.defense
    from skprivacy.utils._vectorized import check_vectorizable

    assert skprivacy.HAMPClassifier is HAMPClassifier
    assert {"HAMPLoss", "hamp_loss", "soft_label_confidence"} <= set(
        skprivacy.defense.__all__
    )
    clf = HAMPClassifier()
    assert capability(clf, "encoded_labels") and capability(clf, "predict_argmax")
    assert capability(clf, "train_shuffle")
    # The vectorized reference trainer does not know HAMP's loss: it must fall
    # back to separate fits rather than train references with cross-entropy.
    assert capability(clf, "vectorized_loss") is None
    assert check_vectorizable(clf, np.zeros((4, 2))) is not None
