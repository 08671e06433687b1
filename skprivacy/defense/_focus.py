"""An l1 penalty that focuses a network's first layer on the sensitive inputs."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn


def _first_linear(module: nn.Module, n_features: int | None) -> nn.Linear:
    """The first ``nn.Linear`` of ``module`` (in registration order)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            if n_features is not None and layer.in_features != n_features:
                raise ValueError(
                    f"The first linear layer of the module takes {layer.in_features} "
                    f"inputs, but the data have {n_features} features: "
                    "SensitiveFocusPenalty needs a first layer that reads the "
                    "features directly."
                )
            return layer
    raise TypeError(
        "SensitiveFocusPenalty needs a module whose first layer is a "
        f"torch.nn.Linear; {type(module).__name__} has none."
    )


class SensitiveFocusPenalty(Callback):
    """An l1 penalty on the first-layer weights of all inputs but the sensitive ones.

    Training then minimises ``loss + l1_penalty * sum_{h, j not sensitive}
    |W1[h, j]|``, with ``W1`` the weight of the network's first
    :class:`torch.nn.Linear` layer: the weights of the other inputs are driven to
    exactly zero and the decision comes to depend on the sensitive inputs alone.
    This is how Jin et al. (Robust Privacy, 2026) made their tabular model's
    decision depend mainly on BMI (their penalty is on "the first-layer weights
    of all non-BMI inputs"); the biases and the sensitive columns are not
    penalised.

    The penalty's subgradient ``l1_penalty * sign(w)`` is added to the
    gradient of those weights before every optimizer step, as if the penalty
    were part of the loss, so any optimizer (Adam included) sees it at the
    scale of the loss. To get exact zeros, which a subgradient alone never
    reaches, the steps are orthant-wise (Andrew & Gao, 2007): a weight at zero
    gets the minimum-norm subgradient (it moves only where the loss gradient
    beats the penalty), and a weight whose step would cross zero, or leave
    zero against that subgradient, is set to zero.

    It does not act under Opacus (:class:`~skprivacy.defense.DPSGDClassifier`),
    whose optimizer rebuilds the gradient from per-sample gradients.

    Use it as a callback of any skorch net whose module reads the features
    with a first linear layer, e.g.
    ``CRLClassifier(crl=False, callbacks=[SensitiveFocusPenalty(1)])``. The
    penalty of the current weights is recorded per batch in ``history_`` as
    ``focus_l1``.

    Parameters
    ----------
    sensitive_features : int, str or sequence of int or str, default=0
        The unpenalised input columns: positions, or names seen in ``fit``
        (``feature_names_in_`` of the net).
    l1_penalty : float, default=1e-3
        Weight of the l1 penalty; 0 disables it.

    See Also
    --------
    skprivacy.defense.CRLClassifier : A skorch classifier this callback fits.

    References
    ----------
    G. Andrew and J. Gao. Scalable training of L1-regularized log-linear
    models. ICML 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.defense import CRLClassifier, SensitiveFocusPenalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 1] > 0).astype(int)
    >>> net = CRLClassifier(
    ...     crl=False, hidden_units=(8,), max_epochs=30, lr=0.02, random_state=0,
    ...     callbacks=[("focus", SensitiveFocusPenalty(1, l1_penalty=5.0))],
    ... ).fit(X, y)
    >>> weight = net.module_.body[0].weight.detach().numpy()
    >>> float(np.abs(weight[:, [0, 2]]).max()), bool(net.score(X, y) > 0.95)
    (0.0, True)
    """

    def __init__(self, sensitive_features=0, *, l1_penalty=1e-3):
        self.sensitive_features = sensitive_features
        self.l1_penalty = l1_penalty

    def _penalised_columns(self, net, n_inputs: int) -> np.ndarray:
        selection = self.sensitive_features
        if isinstance(selection, (numbers.Number, str)):
            selection = [selection]
        names = getattr(net, "feature_names_in_", None)
        keep = []
        for item in selection:
            if isinstance(item, str):
                if names is None or item not in list(names):
                    raise ValueError(
                        f"sensitive feature {item!r} is not a feature name seen in "
                        "fit; pass column positions or fit on a DataFrame."
                    )
                keep.append(list(names).index(item))
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
                if not 0 <= item < n_inputs:
                    raise ValueError(
                        f"sensitive feature {item} is out of range for "
                        f"{n_inputs} inputs."
                    )
                keep.append(int(item))
            else:
                raise TypeError(
                    f"sensitive_features must be ints or feature names, got {item!r}."
                )
        return np.setdiff1d(np.arange(n_inputs), keep)

    def initialize(self):
        if (
            not isinstance(self.l1_penalty, numbers.Real)
            or isinstance(self.l1_penalty, bool)
            or not self.l1_penalty >= 0
        ):
            raise ValueError(
                f"l1_penalty must be a non-negative number, got {self.l1_penalty!r}."
            )
        self.layer_ = None
        self.orthant_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.layer_ = _first_linear(net.module_, getattr(net, "n_features_in_", None))
        self.columns_ = self._penalised_columns(net, self.layer_.in_features)

    def on_grad_computed(
        self, net, named_parameters, batch=None, training=None, **kwargs
    ):
        weight = self.layer_.weight if self.layer_ is not None else None
        if not training or weight is None or weight.grad is None:
            return
        columns = torch.as_tensor(self.columns_, device=weight.device)
        with torch.no_grad():
            sign = weight[:, columns].sign()
            grad = weight.grad[:, columns]
            penalty = self.l1_penalty
            at_zero = grad.sign() * (grad.abs() - penalty).clamp(min=0)
            pseudo = torch.where(sign != 0, grad + penalty * sign, at_zero)
            weight.grad[:, columns] = pseudo
            # The orthant each weight may end the step in.
            self.orthant_ = torch.where(sign != 0, sign, -pseudo.sign())

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training or getattr(self, "orthant_", None) is None:
            return
        weight = self.layer_.weight
        columns = torch.as_tensor(self.columns_, device=weight.device)
        with torch.no_grad():
            stepped = weight[:, columns]
            weight[:, columns] = torch.where(
                stepped.sign() == self.orthant_, stepped, torch.zeros_like(stepped)
            )
            value = float(weight[:, columns].abs().sum()) * self.l1_penalty
        self.orthant_ = None
        net.history.record_batch("focus_l1", value)
