"""Tests of SensitiveFocusPenalty, the l1 focus on the sensitive input."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skprivacy.datasets import make_insurance_like
from skprivacy.defense import CRLClassifier, SensitiveFocusPenalty


def focus_net(l1_penalty, sensitive=1, **kwargs):
    params = {"hidden_units": (16,), "max_epochs": 40, "lr": 0.01, "random_state": 0}
    return CRLClassifier(
        crl=False,
        callbacks=[("focus", SensitiveFocusPenalty(sensitive, l1_penalty=l1_penalty))],
        **{**params, **kwargs},
    )


def first_weight(model):
    return model[-1].module_.body[0].weight.detach().numpy()


@pytest.fixture(scope="module")
def insurance():
    ins = make_insurance_like(1338, random_state=0)
    return ins.data[:1000], ins.target[:1000], ins.data[1000:], ins.target[1000:]


def test_large_penalty_zeroes_other_inputs_at_high_accuracy(insurance):
    X, y, X_test, y_test = insurance
    focused = make_pipeline(StandardScaler(), focus_net(1.0)).fit(X, y)
    weight = first_weight(focused)
    others = np.delete(weight, 1, axis=1)
    assert np.abs(others).max() < 1e-3
    assert np.abs(weight[:, 1]).max() > 0.1  # bmi keeps its weights
    assert focused.score(X_test, y_test) >= 0.95
    penalties = [b["focus_l1"] for b in focused[-1].history_[-1, "batches"]]
    assert penalties[-1] == pytest.approx(np.abs(others).sum() * 1.0, abs=1e-6)


def test_without_penalty_other_inputs_keep_weight(insurance):
    # The same recipe with l1_penalty=0: the check above would fail.
    X, y, _, _ = insurance
    plain = make_pipeline(StandardScaler(), focus_net(0.0)).fit(X, y)
    assert np.abs(np.delete(first_weight(plain), 1, axis=1)).max() > 0.05


def test_names_and_several_sensitive_columns(insurance):
    import pandas as pd

    X, y, _, _ = insurance
    names = make_insurance_like(5).feature_names
    frame = pd.DataFrame(X, columns=names)
    net = focus_net(5.0, sensitive=["bmi", 0], max_epochs=5).fit(frame, y)
    weight = net.module_.body[0].weight.detach().numpy()
    assert np.abs(weight[:, 2:]).max() == 0.0
    assert np.abs(weight[:, [0, 1]]).max() > 0.0


def test_clone_and_reproducibility(insurance):
    X, y, _, _ = insurance
    net = focus_net(0.5, max_epochs=3)
    a = clone(net).fit(X, y).module_.body[0].weight.detach().numpy()
    b = clone(net).fit(X, y).module_.body[0].weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


class NoLinear(nn.Module):
    def __init__(self, n_in=9, n_out=2):
        super().__init__()
        self.conv = nn.Conv1d(1, n_out, n_in)

    def forward(self, X):
        return self.conv(X[:, None, :])[:, :, 0]


@pytest.mark.parametrize(
    "sensitive, l1_penalty, error, match",
    [
        (9, 1.0, ValueError, "out of range"),
        ("bmi", 1.0, ValueError, "not a feature name"),
        (1.5, 1.0, TypeError, "ints or feature names"),
        (1, -1.0, ValueError, "non-negative"),
    ],
)
def test_bad_parameters(insurance, sensitive, l1_penalty, error, match):
    X, y, _, _ = insurance
    with pytest.raises(error, match=match):
        focus_net(l1_penalty, sensitive=sensitive, max_epochs=1).fit(X, y)


def test_module_without_first_linear_layer(insurance):
    X, y, _, _ = insurance
    net = focus_net(1.0, max_epochs=1, module=NoLinear, feature_layer="conv")
    with pytest.raises(TypeError, match=r"torch.nn.Linear"):
        net.fit(X, y)


def test_first_linear_layer_must_read_the_features():
    layer = nn.Sequential(nn.Linear(4, 3))
    from skprivacy.defense._focus import _first_linear

    assert _first_linear(layer, 4) is layer[0]
    with pytest.raises(ValueError, match="takes 4 inputs"):
        _first_linear(layer, 9)
    assert torch.is_tensor(layer[0].weight)
