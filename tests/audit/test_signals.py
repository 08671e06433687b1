# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprivacy.audit import compute_signal
from skprivacy.audit._signals import class_indices, log_proba


def test_signals_match_hand_computation():
    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    y = np.array([0, 1])
    lp = np.log(p)
    expected = {
        "loss": np.log([0.7, 0.25]),
        "confidence": [0.7, 0.25],
        "logit": np.log([0.7 / 0.3, 0.25 / 0.75]),
        "hinge": [np.log(0.7 / 0.2), np.log(0.25 / 0.5)],
        # Song & Mittal eq. 6: -(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i).
        "mentr": [
            0.3 * np.log(0.7) + 0.2 * np.log(0.8) + 0.1 * np.log(0.9),
            0.75 * np.log(0.25) + 0.25 * np.log(0.75) + 0.5 * np.log(0.5),
        ],
    }
    for signal, value in expected.items():
        np.testing.assert_allclose(compute_signal(lp, y, signal), value, rtol=1e-12)


def test_signals_keep_leading_axes():
    rng = np.random.default_rng(0)
    lp = np.log(rng.dirichlet(np.ones(3), size=(4, 5)))
    y = rng.integers(3, size=5)
    stacked = compute_signal(lp, y, "logit")
    assert stacked.shape == (4, 5)
    np.testing.assert_allclose(stacked[2], compute_signal(lp[2], y, "logit"))


def test_unknown_signal_raises():
    with pytest.raises(ValueError, match="signal must be one of"):
        compute_signal(np.log([[0.5, 0.5]]), [0], "entropy")


def test_logits_avoid_ties_of_saturated_probabilities():
    X, y = make_classification(300, 10, n_classes=3, n_informative=5, random_state=0)
    mlp = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    # Sharpen the output layer so that float64 softmax saturates to exactly 1
    # (logit gaps above 37) while exp(-gap) stays a normal float64.
    mlp.coefs_[-1] *= 15
    mlp.intercepts_[-1] *= 15
    idx = class_indices(mlp.classes_, y)
    with np.errstate(divide="ignore"):
        naive = np.log(mlp.predict_proba(X))[np.arange(len(y)), idx]
    ours = compute_signal(log_proba(mlp, X), idx, "loss")
    saturated = naive == 0.0
    assert saturated.sum() > 50
    # From logits the losses stay strictly negative and nearly all distinct.
    assert (ours[saturated] < 0).all()
    assert len(np.unique(ours[saturated])) > 0.95 * saturated.sum()


def test_log_proba_unwraps_pipelines_and_frozen_models():
    X, y = make_classification(200, 6, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=50)).fit(X, y)
    expected = np.log(pipe.predict_proba(X))
    np.testing.assert_allclose(log_proba(FrozenEstimator(pipe), X), expected, atol=1e-9)
    lr = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(log_proba(lr, X), lr.predict_log_proba(X), atol=1e-12)
    assert log_proba(clone(FrozenEstimator(lr)), X).dtype == np.float64


def test_skorch_net_uses_logits():
    torch = pytest.importorskip("torch")
    from skorch import NeuralNetClassifier

    X, y = make_classification(200, 6, random_state=0)
    X = X.astype(np.float32)
    net = NeuralNetClassifier(
        torch.nn.Sequential(
            torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
        ),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    ).fit(X, y)
    logits = net.forward(X).double()
    expected = torch.log_softmax(logits, dim=1).numpy()
    np.testing.assert_allclose(log_proba(net, X), expected, rtol=1e-12)


def test_unknown_labels_raise():
    with pytest.raises(ValueError, match="labels the target was not trained on"):
        class_indices(np.array([0, 1]), [0, 2])


def test_log_softmax_is_precise_at_the_top():
    from skprivacy.utils._arrays import log_softmax

    z = np.array([[0.0, -50.0, -60.0], [3.0, 1.0, 2.0]])
    expected_top = -np.log1p(np.exp(-50.0) + np.exp(-60.0))
    out = log_softmax(z)
    assert out[0, 0] == pytest.approx(expected_top, rel=1e-12)
    np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0)
