"""Default torch module of :class:`~skprivacy.defense.CRLClassifier`."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


class TabularMLP(nn.Module):
    """Multi-layer perceptron for tabular data returning ``(logits, features)``.

    ``Linear -> ReLU [-> Dropout]`` blocks followed by a linear head. The
    output of the last hidden block (the input of the head) is the
    penultimate feature vector that CRL's center loss acts on.

    Parameters
    ----------
    n_in : int
        Number of input features.
    n_out : int
        Number of logits (one per class, also for binary tasks).
    hidden_units : sequence of int, default=(128, 64)
        Widths of the hidden layers; at least one.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import TabularMLP
    >>> logits, features = TabularMLP(5, 3, hidden_units=(8,))(torch.zeros(2, 5))
    >>> tuple(logits.shape), tuple(features.shape)
    ((2, 3), (2, 8))
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        hidden_units: Sequence[int] = (128, 64),
        dropout: float = 0.0,
    ):
        super().__init__()
        hidden_units = tuple(hidden_units)
        if not hidden_units or any(int(h) != h or h < 1 for h in hidden_units):
            raise ValueError(
                "hidden_units must be a non-empty sequence of positive ints (the "
                f"last one is the feature dimension); got {hidden_units}."
            )
        layers = []
        width = n_in
        for units in hidden_units:
            layers += [nn.Linear(width, int(units)), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(units)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_out)

    def forward(self, X):
        features = self.body(X)
        return self.head(features), features
