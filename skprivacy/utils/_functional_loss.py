"""The loss an estimator declares so that many of its models train at once.

The audit trains the reference models of a torch recipe together: their
parameters are stacked along a leading model axis and one
:func:`torch.func.vmap` of a functional forward and backward pass runs every
model's step at once. What the loss of a batch is, which tensors it trains
beside the module, and how the module's output becomes probabilities belong to
the estimator, not to the audit. An estimator class says it with a capability
(see :func:`~skprivacy.utils._estimators.capability`)::

    class MyNet(NeuralNetClassifier):
        _skprivacy_capabilities = {"vectorized_loss": MyNetLoss}

where ``MyNetLoss`` subclasses :class:`FunctionalLoss`. The trainer then asks
the subclass and never looks at the estimator's type or attributes, so any
skorch classifier that declares its loss gets the fast path.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np


class FunctionalLoss:
    """Base of the functional loss a skorch classifier declares.

    The vectorized trainer builds one instance from the recipe's clones, each
    already initialised by a 0-epoch fit (so they hold their ``module_``,
    ``criterion_`` and ``classes_``), in model order. It calls
    :meth:`__call__` and :meth:`proba_output` inside :func:`torch.func.vmap`
    over the models: they must be pure tensor functions without Python
    branches on data.

    Parameters
    ----------
    estimators : list of estimators
        The initialised clones, one per model; all share the recipe's
        hyper-parameters.

    Attributes
    ----------
    logits : bool
        Whether :meth:`proba_output` returns logits (then log-probabilities
        are their float64 log-softmax, as skprivacy reads them from nets
        trained on logits) rather than probabilities.
    state_optimizer : tuple of (str, float, dict) or None
        ``(name, lr, kwargs)`` of the optimizer (``"Adam"``, ``"AdamW"`` or
        ``"SGD"``) that steps the tensors of :meth:`initial_state` after each
        batch, or ``None`` when they are not trained.
    """

    logits = False
    state_optimizer = None

    def __init__(self, estimators):
        """Read what the loss needs from the initialised clones."""

    @classmethod
    def check(cls, recipe, X) -> str | None:
        """Why this function cannot stand for ``recipe``'s training, or ``None``.

        Called on the unfitted recipe, after the trainer's own checks of the
        skorch settings (callbacks, optimizer, data loader).

        Parameters
        ----------
        recipe : estimator
            The training recipe.
        X : array-like
            The training records.

        Returns
        -------
        reason : str or None
            A sentence for the user.
        """
        return None

    def encode(self, X, y):
        """The module's input rows and the loss's integer targets.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
            Records.
        y : array-like of shape (n,)
            Labels, as passed to ``fit``.

        Returns
        -------
        X : ndarray of shape (n, n_features)
        target : ndarray of shape (n,), int
        """
        return np.asarray(X), np.asarray(y)

    def initial_state(self):
        """Tensors the loss trains beside the module, stacked over models.

        Returns
        -------
        state : torch.Tensor of shape (n_models, ...) or None
            ``None`` when the loss has no trainable tensor of its own.
        """
        return None

    def __call__(self, output, state, target, weight, epoch):
        """The loss of one model on one padded batch.

        Parameters
        ----------
        output : torch.Tensor or tuple of torch.Tensor
            The module's output on the batch.
        state : torch.Tensor
            This model's slice of :meth:`initial_state` (a placeholder when
            there is none).
        target : torch.Tensor of shape (B,), int64
            Encoded targets.
        weight : torch.Tensor of shape (B,)
            1 for the batch's records, 0 for padding.
        epoch : int
            The 1-based epoch.

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        raise NotImplementedError

    def proba_output(self, output):
        """The module's output as ``predict_proba`` reads it (see ``logits``).

        Parameters
        ----------
        output : torch.Tensor or tuple of torch.Tensor
            The module's output on some records.

        Returns
        -------
        scores : torch.Tensor of shape (n, n_classes)
            Logits when ``logits`` is true, else probabilities.
        """
        return output[0] if isinstance(output, (tuple, list)) else output

    def write_back(self, estimators, state):
        """Copy the trained ``state`` into the estimators (the module is done).

        Parameters
        ----------
        estimators : list of estimators
            The clones the instance was built from, in the same order.
        state : torch.Tensor or None
            The trained :meth:`initial_state`.
        """
