"""HAMPClassifier: HAMP's training-time defense as a skorch classifier."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import torch
import torch.nn.functional as F
from skorch.utils import to_tensor

from skprivacy.defense._losses import HAMPLoss
from skprivacy.defense._net import BaseNetClassifier
from skprivacy.utils._sklearn_compat import Interval

# Parameters whose change needs a new module (and so a new optimizer).
_MODULE_PARAMS = frozenset({"hidden_units", "dropout"})
# Loss hyper-parameters: a new (parameter-free) criterion.
_LOSS_PARAMS = frozenset({"gamma", "alpha"})
# Per-batch terms the loss records, summarised per epoch.
_TERMS = ("hamp_kl", "hamp_entropy")


class HAMPClassifier(BaseNetClassifier):
    """Neural-network classifier trained with HAMP's high-entropy soft labels.

    HAMP (Chen & Pattabiraman, NDSS 2024) is a defense against membership
    inference built on the observation that attacks exploit a model's
    overconfidence on its training records. Its training part, implemented
    here, fits the network to **high-entropy soft labels** (the true class
    gets probability ``p``, every other class ``(1 - p) / (C - 1)``, with
    ``p`` set so that the label's entropy is ``gamma * log(C)``) and adds an
    **entropy regulariser** that rewards high output entropy on the training
    records (weight ``alpha``); see :class:`HAMPLoss` for the formula. The
    model then predicts with low confidence on members and non-members alike;
    whether that lowers what an attack learns depends on the data (on two
    tabular tasks it did not, see Notes).

    HAMP's other part, replacing each released score vector by the scores of a
    random input while keeping the predicted label, acts at release time,
    not in training, and is not part of this estimator: its membership
    numbers must be reported apart from training-time defenses (see the
    user guide, :ref:`hamp`).

    This is a skorch :class:`~skorch.classifier.NeuralNetClassifier`: every
    skorch parameter (``module__*``, ``optimizer__*``, ``iterator_train__*``,
    ``callbacks``, ``device``...) works as usual. Training records, in
    ``history_``, the batch mean of the KL term (``hamp_kl``) and of the output
    entropy (``hamp_entropy``); ``verbose=1`` prints them each epoch.

    Parameters
    ----------
    module : torch module class, instance or None, default=None
        The network; it returns logits (one per class, also for binary
        tasks), or a tuple whose first element is the logits. ``None`` builds a
        :class:`TabularMLP` sized from the data.
    hidden_units : tuple of int, default=(128, 64)
        Hidden layer widths of the default module.
    dropout : float, default=0.0
        Dropout of the default module.
    gamma : float, default=0.8
        Entropy threshold, in ``[0, 1)``: the soft labels' entropy as a
        fraction of the largest one, ``log(C)``. The higher, the less
        confident the labels (:func:`soft_label_confidence` gives ``p``);
        ``0`` gives one-hot labels.
    alpha : float, default=0.1
        Weight of the entropy regulariser. ``gamma=0, alpha=0`` is plain
        cross-entropy training, the undefended baseline. The official code's
        ``alpha`` is this one divided by ``C`` (see :class:`HAMPLoss`).
    random_state : int, RandomState instance or None, default=None
        Seeds the module initialisation, the shuffling and the dropout of
        training. An int makes ``fit`` reproducible; torch's global random
        state is neither read nor changed.
    criterion : class, default=HAMPLoss
        The HAMP criterion class; it receives ``n_classes``, ``gamma`` and
        ``alpha``. Set them through the top-level names, not ``criterion__*``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the module's parameters.
    lr : float, default=1e-3
        Learning rate of ``optimizer``.
    max_epochs : int, default=60
        Number of epochs.
    batch_size : int, default=128
        Mini-batch size.
    train_split : callable or None, default=None
        skorch's validation split. ``None`` trains on every row, so every
        training row is a member of the training set (what a membership
        audit assumes); skorch's own default would hold out 20%.
    classes : array-like or None, default=None
        All class labels, when ``y`` may not show every class.
    verbose : int, default=0
        ``1`` prints one line per epoch with the HAMP terms.
    **kwargs
        Other skorch parameters (``device``, ``callbacks``, ``module__*``,
        ``optimizer__*``, ``iterator_train__*``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (any hashable type, strings included).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only for string column names).
    module_ : torch.nn.Module
        The fitted network.
    criterion_ : HAMPLoss
        The loss; ``criterion_.confidence`` is the soft labels' ``p``.
    optimizer_ : torch.optim.Optimizer
        Optimizer of ``module_``.
    history_ : skorch.History
        Per-epoch and per-batch training records, including the HAMP terms.
    seeds_ : dict
        The seeds drawn from ``random_state`` for this fit.

    See Also
    --------
    HAMPLoss : The loss this classifier trains with.
    CRLClassifier : Another heuristic training-time defense.
    DPSGDClassifier : A training-time defense with a formal guarantee.

    Notes
    -----
    **No formal guarantee.** HAMP is a heuristic: it narrows the gap between
    members' and non-members' outputs, which population-level attacks read,
    but nothing bounds what an adaptive attack learns about the most exposed
    records. Aerni, Zhang & Tramèr (CCS 2024) found on CIFAR-10 that HAMP's
    training part alone still let LiRA reach 9.4% TPR at 0.1% FPR on typical
    records and 58.7% on canaries (13.4% and 100% undefended). Audit it with
    :class:`~skprivacy.audit.DefenseEvaluation`, with canaries.

    **Defaults are ours.** The paper's recipes use ``gamma`` from 0.5 to 0.95
    and, in this scaling, ``alpha`` from 0.01 to 1 (0.001 to 0.01 in the
    official code, whose KL term is divided by ``C``) on Purchase100, Texas100,
    Location30 and CIFAR; its Purchase100 script trains with SGD (learning rate
    0.5, momentum 0.99) for 200 epochs. The defaults here come from a small
    search on two tabular tasks (Letter and Adult, 1,000 members, MLP (256,
    128), Adam, 100 epochs; adaptive loss attack and RMIA) with this
    estimator's own optimizer, and that search found **no protection**: every
    setting of the grid (``gamma`` 0.5-0.95, ``alpha`` 0-1) raised the loss
    attack's AUC (Letter 0.62 to 0.68-0.71, Adult 0.57 to 0.64-0.67) and none
    lowered RMIA's beyond its interval, while test accuracy rose by 2-3.5
    points on Letter. The numbers are in the user guide (:ref:`hamp`). Measure
    before relying on it, e.g. with
    :class:`~skprivacy.audit.DefenseEvaluation`.

    :func:`sklearn.base.clone` gives an unfitted estimator with the identical
    training recipe, so membership audits can train reference models exactly
    like the target. Persistence works as for :class:`CRLClassifier`
    (``save_params(..., use_safetensors=True)``, or pickling files from a
    trusted source only).

    References
    ----------
    .. [1] Z. Chen and K. Pattabiraman, "Overconfidence is a Dangerous Thing:
       Mitigating Membership Inference Attacks by Enforcing Less Confident
       Prediction", NDSS 2024, arXiv:2307.01610.
    .. [2] M. Aerni, J. Zhang and F. Tramèr, "Evaluations of Machine Learning
       Privacy Defenses are Misleading", CCS 2024, arXiv:2404.17399.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprivacy.defense import HAMPClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = HAMPClassifier(hidden_units=(16,), gamma=0.8, alpha=0.1,
    ...                      max_epochs=5, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> round(clf.criterion_.confidence, 3)  # p of the soft labels, 2 classes
    0.757
    >>> sorted(key for key in clf.history_[-1] if key.startswith("hamp"))
    ['hamp_entropy', 'hamp_kl']
    """

    # What certify and audit need to know, declared instead of type-checked:
    # output column i is classes_[i]; predict is the arg max of the logits;
    # training batches are shuffled. No vectorized loss is declared: the
    # vectorized reference trainer does not know hamp_loss yet, so reference
    # models of this recipe are trained as separate fits.
    _skprivacy_capabilities: ClassVar[dict] = {
        "encoded_labels": True,
        "predict_argmax": True,
        "train_shuffle": True,
    }

    _parameter_constraints: ClassVar[dict] = {
        "hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        module=None,
        *,
        hidden_units=(128, 64),
        dropout=0.0,
        gamma=0.8,
        alpha=0.1,
        random_state=None,
        criterion=HAMPLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=60,
        batch_size=128,
        train_split=None,
        classes=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            classes=classes,
            verbose=verbose,
            **kwargs,
        )
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.gamma = gamma
        self.alpha = alpha
        self.random_state = random_state

    _sample_weight_reason = (
        "its loss is an unweighted mean of the KL term and of the output "
        "entropy over each batch."
    )

    # ------------------------------------------------------------ validation

    def _validate_hyperparameters(self):
        super()._validate_hyperparameters()
        if self.get_params_for("criterion"):
            raise ValueError(
                "Set the HAMP loss parameters with their top-level names (gamma, "
                "alpha), not criterion__*; got "
                f"{sorted(self.get_params_for('criterion'))}."
            )

    # --------------------------------------------------------- initialisation

    def initialize_criterion(self):
        """Build the HAMP loss from the top-level parameters.

        Returns
        -------
        self : HAMPClassifier
        """
        _, n_classes = self._data_sizes()
        self.criterion_ = self.criterion(
            n_classes=n_classes, gamma=self.gamma, alpha=self.alpha
        )
        return self

    def set_params(self, **params):
        """Set parameters; re-initialise what depends on them if initialised.

        Changing ``hidden_units`` or ``dropout`` rebuilds the module and the
        optimizer; ``gamma`` or ``alpha`` rebuild the loss, which has no
        learned state.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : HAMPClassifier
        """
        super().set_params(**params)
        if not self.initialized_ or not hasattr(self, "n_features_in_"):
            return self
        keys = set(params)
        if keys & _MODULE_PARAMS:
            reason = f"Re-initializing module because {sorted(keys)} were re-set."
            self._initialize_module(reason=reason)
            self._initialize_optimizer(reason=reason)
        if keys & _LOSS_PARAMS:
            reason = f"Re-initializing criterion because {sorted(keys)} were re-set."
            self._initialize_criterion(reason=reason)
        return self

    # --------------------------------------------------------------- training

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; training batches are shuffled unless overridden.

        Parameters
        ----------
        dataset : torch Dataset
            The data.
        training : bool, default=False
            Whether the iterator is for training.

        Returns
        -------
        iterator : torch DataLoader (or ``iterator_train``/``iterator_valid``)
        """
        if training:
            return self._build_iterator(dataset, training, shuffle=True)
        return super().get_iterator(dataset, training=training)

    def _logits(self, y_pred):
        logits = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        n_classes = len(self.classes_)
        if logits.ndim != 2 or logits.shape[1] != n_classes:
            binary_hint = (
                " Binary tasks need two logits (one per class), not one."
                if n_classes == 2 and logits.shape[-1] == 1
                else ""
            )
            raise ValueError(
                f"The module returned logits of shape {tuple(logits.shape)}; "
                f"expected (n_samples, {n_classes}).{binary_hint}"
            )
        return logits

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """HAMP loss while training; plain cross-entropy of the logits else.

        Parameters
        ----------
        y_pred : torch.Tensor or tuple
            Module output; a tuple's first element is the logits.
        y_true : torch.Tensor
            Encoded labels.
        X : input data, default=None
            Unused.
        training : bool, default=False
            Whether this is a training step.

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        logits = self._logits(y_pred)
        y_true = to_tensor(y_true, device=self.device)
        if not training:
            return F.cross_entropy(logits, y_true)
        loss, terms = self.criterion_(logits, y_true, return_terms=True)
        for key, value in terms.items():
            self.history.record_batch(key, value)
        return loss

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Summarise the HAMP terms of the epoch's batches into ``history_``.

        A skorch hook, called by the training loop after each epoch.

        Parameters
        ----------
        net : HAMPClassifier
            This net.
        dataset_train, dataset_valid : torch Dataset or None, default=None
            Unused.
        **kwargs : dict
            Unused.
        """
        # Plain list access: History's tuple indexing is slow for a per-epoch hook.
        batches = [b for b in self.history[-1]["batches"] if _TERMS[0] in b]
        if not batches:
            return
        total = sum(b["train_batch_size"] for b in batches)
        for key in _TERMS:
            mean = sum(b[key] * b["train_batch_size"] for b in batches) / total
            self.history.record(key, mean)
