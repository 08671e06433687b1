"""CRLClassifier: Center-based Relaxed Learning as a skorch classifier."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone
from skorch.callbacks import Callback
from skorch.utils import TeeGenerator, to_tensor

from skprivacy.defense._losses import (
    CRLLoss,
    crl_loss,
    normalized_ce_floor,
    tau_normalize,
)
from skprivacy.defense._net import BaseNetClassifier
from skprivacy.exceptions import DefenseConfigurationWarning
from skprivacy.utils import spawn_seeds, torch_seed
from skprivacy.utils._arrays import masked_mean
from skprivacy.utils._functional_loss import FunctionalLoss
from skprivacy.utils._sklearn_compat import Interval, StrOptions

# Parameters whose change needs a new module (and so new centers and optimizers).
_MODULE_PARAMS = frozenset({"hidden_units", "dropout"})
# Parameters whose change can change the feature dimension: new centers/optimizers.
_CRITERION_PARAMS = frozenset({"feature_layer"})
# Loss hyper-parameters: applied in place to the fitted criterion.
_LOSS_PARAMS = {
    "alpha": ("relax", "alpha"),
    "upper": ("relax", "upper"),
    "tau": ("relax", "tau"),
    "center_alpha": ("center", "alpha"),
    "center_upper": ("center", "upper"),
    "center_tau": ("center", "tau"),
}
# Centers optimizer settings: applied in place to its parameter group.
_CENTER_OPTIMIZER_PARAMS = {
    "center_lr": "lr",
    "center_momentum": "momentum",
    "center_weight_decay": "weight_decay",
}
_BRANCHES = ("ascent", "descent", "flatten")


def _schedule_offset(max_epochs):
    """Shift of the relaxation schedule that makes epoch ``max_epochs`` odd.

    CRL's loss alternates by epoch parity: odd epochs descend or flatten, even
    epochs take ``|L - alpha|``, gradient ascent once the loss is below
    ``alpha``. An even number of epochs counted from 1 would end on that
    branch, whose ascent lowers test accuracy (up to 12 points on 30 classes in
    the defaults' search); counted from 2 it ends on descent or flattening.
    The first epoch is then an ``|L - alpha|`` epoch, which is plain descent
    while the loss is above ``alpha``, as it is at initialisation.
    """
    return 1 - max_epochs % 2


# Fraction of the rows alpha="auto" holds out of its plain run.
_AUTO_HELD_OUT = 0.2


class _HeldOutLoss(Callback):
    """Record the normalised cross-entropy of held-out rows after each epoch."""

    def __init__(self, X, y, tau):
        self.X, self.y, self.tau = X, y, tau

    def initialize(self):
        self.losses_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        output = net.forward(self.X)
        logits = output[0] if isinstance(output, tuple) else output
        loss = F.cross_entropy(tau_normalize(logits, self.tau), torch.as_tensor(self.y))
        self.losses_.append(float(loss))


class _CRLFunctionalLoss(FunctionalLoss):
    """CRL's training loss as a pure function of one model, for vmapping.

    The loss of :meth:`CRLClassifier.get_loss` while training: :func:`crl_loss`
    with the classifier's parameters (plain cross-entropy of the raw logits
    when ``crl=False``); its state is the class centers, stepped by their own
    SGD optimizer as :meth:`CRLClassifier.train_step` does.
    """

    @classmethod
    def check(cls, recipe, X):
        if recipe.criterion is not CRLLoss:
            return "the CRL criterion is not CRLLoss"
        if recipe.feature_layer is not None:
            return "feature_layer is set (features captured by a hook)"
        if isinstance(recipe.alpha, str):
            return (
                f"alpha={recipe.alpha!r}: each model sets its own alpha from a "
                "held-out run on its own training set"
            )
        return None

    def __init__(self, estimators):
        first = estimators[0]
        self.classes = first.classes_
        self.centers = [est.criterion_.center.centers for est in estimators]
        self.offset = _schedule_offset(first.max_epochs)
        self.params = None
        if first.crl:
            self.params = {
                "alpha": float(first.alpha_),
                **{
                    key: float(getattr(first, key))
                    for key in (
                        "upper",
                        "tau",
                        "center_alpha",
                        "center_upper",
                        "center_tau",
                        "center_weight",
                    )
                },
            }
        # Without a center term the centers get no gradient, and torch
        # optimizers skip them (no weight decay either).
        if first.crl and first.center_weight:
            self.state_optimizer = (
                "SGD",
                first.center_lr,
                {
                    "momentum": first.center_momentum,
                    "weight_decay": first.center_weight_decay,
                },
            )

    def encode(self, X, y):
        # As fit does: float32 rows, labels as positions in classes_.
        target = np.searchsorted(self.classes, np.asarray(y))
        return np.asarray(X, dtype=np.float32), target

    def initial_state(self):
        if self.params is None:
            return None
        return torch.stack([centers.detach() for centers in self.centers]).clone()

    def __call__(self, output, state, target, weight, epoch):
        logits, features = (
            output if isinstance(output, (tuple, list)) else (output, None)
        )
        if self.params is None:
            per_sample = F.cross_entropy(logits, target, reduction="none")
            return masked_mean(per_sample, weight)
        return crl_loss(
            logits,
            features.flatten(1),
            state,
            target,
            weight,
            epoch + self.offset,
            self.params,
        )

    def proba_output(self, output):
        logits = output[0] if isinstance(output, (tuple, list)) else output
        return torch.softmax(logits, dim=-1)

    def write_back(self, estimators, state):
        if state is None:
            return
        with torch.no_grad():
            for est, centers in zip(estimators, state, strict=True):
                est.criterion_.center.centers.copy_(centers)


class CRLClassifier(BaseNetClassifier):
    """Neural-network classifier trained with Center-based Relaxed Learning.

    CRL (Fang & Kim, UAI 2024) is a training-time defense against
    membership inference: instead of driving the loss on training members to
    zero, it keeps the cross-entropy of norm-bounded logits near a target
    ``alpha`` (alternating epochs of ``|L - alpha|`` and descent/posterior
    flattening) and adds a relaxed center loss that keeps penultimate
    features near learned class centers. See :class:`ImpRelaxLoss`,
    :class:`RelaxedCenterLoss` and :class:`CRLLoss` for the formulas.

    This is a skorch :class:`~skorch.classifier.NeuralNetClassifier`: every
    skorch parameter (``module__*``, ``optimizer__*``, ``iterator_train__*``,
    ``callbacks``, ``device``...) works as usual. The loss alternates by
    epoch parity (odd epochs: descent or flattening; even epochs:
    ``|L - alpha|``, ascent below ``alpha``). The official code counts epochs
    from 1, so an even ``max_epochs`` ends on the ascent branch; here they are
    counted so that the last epoch of a fit of ``max_epochs`` epochs is odd
    (from 1 when ``max_epochs`` is odd, from 2 when it is even), which only
    changes which branch ends training: ending on ascent cost up to 12 points
    of accuracy in the defaults' search (see Notes).
    Training prints, and records in ``history_``, the batch cross-entropy of
    the normalised logits (``irl_ce``), the center distance (``rcl_dist``)
    and which branch of each loss fired (``irl_branch``, ``rcl_branch``;
    several branches in one epoch are joined with ``+``); with
    ``verbose=1`` they are printed each epoch, and
    ``skorch.callbacks.ProgressBar(postfix_keys=["irl_ce", "irl_branch"])``
    shows them per batch.

    Parameters
    ----------
    module : torch module class, instance or None, default=None
        The network. It must return ``(logits, features)`` with one logit per
        class (also for binary tasks), or return logits and name the layer
        whose output is the feature vector with ``feature_layer``. ``None``
        builds a :class:`TabularMLP` sized from the data.
    hidden_units : tuple of int, default=(128, 64)
        Hidden layer widths of the default module.
    dropout : float, default=0.0
        Dropout of the default module.
    feature_layer : str or None, default=None
        Name (as in ``module.named_modules()``) of the submodule whose output
        is used as the penultimate features, for modules that return only
        logits. ``None`` expects the module to return ``(logits, features)``.
    crl : bool, default=True
        Train with the CRL loss. ``False`` trains the same network with plain
        cross-entropy on the raw logits, the undefended baseline.
    alpha : float or "auto", default=0.2
        Target level ``alpha`` of the batch cross-entropy of the normalised
        logits (:class:`ImpRelaxLoss`), the privacy knob: the higher, the more
        members' losses look like non-members' and the lower the accuracy.
        ``"auto"`` sets it from the data as RelaxLoss sets its target: 20% of
        the rows are held out of a plain run of the same recipe (descent on the
        normalised logits, no center term) and ``alpha_`` is the lowest loss
        the held-out rows reach; this about doubles the cost of ``fit``. The
        recipe must train long enough for that loss to fall: a run too short
        to learn gives a level near chance and a near-constant predictor. A
        :class:`~skprivacy.exceptions.DefenseConfigurationWarning` is raised
        when it is at or below :func:`normalized_ce_floor` (then it has no
        effect) or at or above the chance-level loss, the entropy of the
        training labels (then training yields a constant predictor).
    upper : float, default=1.0
        Cap ``u`` on the true-class probability of the flattened soft target.
        With ``upper=1`` (the official code's setting) the soft target follows
        the raw softmax, which is not detached. A cap near ``exp(-alpha)``
        holds confident members at the relaxation level; in the defaults'
        search it cost accuracy on a 30-class Gaussian task and, at
        ``tau=0.02``, leaked more than plain training at 0.1% FPR on a sparse
        30-class task. It must exceed ``1 / n_classes``, or the target's most
        probable class would not be the true one.
    tau : float, default=0.025
        Logit normalisation temperature (logit norm stays below ``1 / tau``).
        The loss sees the logits divided by ``1 + tau * ||logits||``, a
        temperature that grows with the logits: until the relaxation level
        is reached, CRL is descent at that temperature, which enlarges
        members' margins (and the accuracy) beyond plain training's, and the
        released (raw) probabilities show it. ``0.05`` and ``0.1``, earlier
        defaults, leaked more than plain training on many-class data that way
        (see Notes).
    center_alpha : float, default=0.1
        Target level of the half mean squared center distance
        (:class:`RelaxedCenterLoss`); it lies in ``(0, 2 / center_tau**2)``.
    center_upper : float, default=1.0
        Cap on the confidence weights of the center loss.
    center_tau : float, default=1.0
        Feature and center normalisation temperature.
    center_weight : float, default=0.0
        Weight ``lambda`` of the center loss. The default ``0`` gives relaxed
        learning on normalised logits alone: in an earlier defaults search
        (see the user guide) the center term gained at most 0.7 points of
        accuracy on few classes and cost 7 points against plain training (13
        against ``center_weight=0``) on a 30-class task. ``0.1`` suits data
        with few classes.
    center_lr : float, default=0.01
        Learning rate of the centers' own SGD optimizer. It is constant:
        learning-rate schedulers act on the main ``optimizer_`` only.
    center_momentum : float, default=0.9
        Momentum of the centers' optimizer.
    center_weight_decay : float, default=5e-4
        Weight decay of the centers' optimizer.
    random_state : int, RandomState instance or None, default=None
        Seeds the module and center initialisation, the shuffling and the
        dropout of training. An int makes ``fit`` reproducible; torch's
        global random state is neither read nor changed.
    criterion : class, default=CRLLoss
        The CRL criterion class; it receives the parameters above. Its
        parameters are set through the top-level names, not ``criterion__*``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer of the module's parameters (the centers have their own).
    lr : float, default=1e-3
        Learning rate of ``optimizer``.
    max_epochs : int, default=60
        Number of epochs.
    batch_size : int, default=128
        Mini-batch size; CRL chooses its branch from batch means, so very
        small batches make the choice noisy.
    train_split : callable or None, default=None
        skorch's validation split. ``None`` trains on every row, so every
        training row is a member of the training set (what a membership
        audit assumes); skorch's own default would hold out 20%.
    classes : array-like or None, default=None
        All class labels, when ``y`` may not show every class.
    verbose : int, default=0
        ``1`` prints one line per epoch with the CRL terms.
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
    criterion_ : CRLLoss
        The fitted loss; ``criterion_.center.centers`` are the learned centers.
    optimizer_ : torch.optim.Optimizer
        Optimizer of ``module_``.
    optimizer_centers_ : torch.optim.SGD
        Optimizer of the centers.
    history_ : skorch.History
        Per-epoch and per-batch training records, including the CRL terms.
    seeds_ : dict
        The seeds drawn from ``random_state`` for this fit.
    alpha_ : float
        The target level used: ``alpha``, or the one ``alpha="auto"`` found.

    See Also
    --------
    CRLLoss : The loss this classifier trains with.

    Notes
    -----
    **Defaults are ours**: the paper's hyper-parameter values could not be
    retrieved and its experiments are on images and text. ``tau``, ``upper``,
    ``alpha`` and the epoch count that ends training on descent or flattening
    were chosen by ``python benchmarks/bench_crl.py --search``: the membership
    game of :class:`~skprivacy.audit.DefenseEvaluation` (12 models per setting
    on random halves of a pool with canaries, online LiRA and RMIA, TPR at 1%
    and 0.1% FPR of the strongest, paired bootstrap ratios to plain training)
    on Adult, German Credit, Letter, a 30-class Gaussian task and a 30-class
    sparse binary task
    (:func:`~skprivacy.datasets.make_sparse_binary_classification`), each at
    its benchmark epochs, twelve pools in all (each task with the benchmark's
    canaries and without; the sparse task and Letter also with 170 of each
    kind). Rule: on every pool, no ratio interval above 1 and at most 1.5
    points of accuracy lost. The defaults meet it on all twelve: accuracy -1.3
    to +2.1 points, TPR at 1% FPR 0.59 to 0.97 times plain's. The second
    defaults (``tau=0.05, upper=0.74, alpha=0.3``) did not: they leaked more
    on the sparse task with 170 canaries (ratio 1.22 [1.10, 1.33]; the
    canaries held the batch loss above ``alpha`` until epoch 29, so CRL was
    mostly descent at a high temperature, which trains further than plain
    training and enlarges members' margins), and, with epochs counted from 1,
    cost 6.1 points on the Gaussian task, most of it from ending on an ascent
    epoch. **CRL at these defaults is a mild defense**: its largest cut at 1%
    FPR is 0.59x (German Credit), and where the pool holds many canaries (170
    of each kind, on the sparse task and Letter) it cuts nothing significant
    (0.96 [0.87, 1.06] and 0.97 [0.92, 1.10]). For a larger cut, or to protect
    mislabeled and atypical records, compare other recipes at matched accuracy
    (user guide, "Where each defense helps"). ``center_weight=0`` comes from
    an earlier search (the center term cost 7.4 points on 30 classes).
    ``alpha="auto"`` protects more and costs more, and doubles the cost of
    every fit. The numbers are in the user guide (:ref:`crl`). Tune for your
    data, e.g. with :class:`~sklearn.model_selection.GridSearchCV`.

    **Persistence.** ``save_params(f_params=..., use_safetensors=True)``
    stores tensors only. To load them into a fresh estimator, build the
    same data-sized module first, for example with a zero-epoch fit::

        new = clone(net).set_params(max_epochs=0).fit(X, y)
        new.load_params(f_params="model.safetensors", use_safetensors=True)

    Pickling works as for any skorch net, but **only unpickle files from a
    trusted source**: unpickling can run arbitrary code.

    **Reference models.** :func:`sklearn.base.clone` gives an unfitted
    estimator with the identical training recipe, so membership audits can
    train reference (shadow) models exactly like the target.

    Closure-based optimizers (LBFGS) are not supported: the module and the
    centers are stepped once per batch after one backward pass, as in the
    official code.

    References
    ----------
    .. [1] X. Fang and J.-E. Kim, "Center-Based Relaxed Learning Against
       Membership Inference Attacks", UAI 2024, PMLR 244, arXiv:2404.17674.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprivacy import CRLClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = CRLClassifier(hidden_units=(16,), max_epochs=4, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> full = clf.set_params(center_weight=0.1, alpha="auto", lr=0.01)
    >>> full = full.fit(X, y)
    >>> sorted(key for key in full.history_[-1] if key.startswith(("irl", "rcl")))
    ['irl_branch', 'irl_ce', 'rcl_branch', 'rcl_dist']
    >>> bool(0 < full.alpha_ < 0.69)
    True
    """

    # What certify and audit need to know, declared instead of type-checked:
    # output column i is classes_[i]; predict is the arg max of the logits;
    # training batches are shuffled; the training loss as a pure function.
    _skprivacy_capabilities: ClassVar[dict] = {
        "encoded_labels": True,
        "predict_argmax": True,
        "train_shuffle": True,
        "vectorized_loss": _CRLFunctionalLoss,
    }

    _parameter_constraints: ClassVar[dict] = {
        "hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "feature_layer": [None, str],
        "crl": ["boolean"],
        "alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "upper": [Interval(Real, 0, 1, closed="right")],
        "tau": [Interval(Real, 0, None, closed="neither")],
        "center_alpha": [Interval(Real, 0, None, closed="left")],
        "center_upper": [Interval(Real, 0, 1, closed="right")],
        "center_tau": [Interval(Real, 0, None, closed="neither")],
        "center_weight": [Interval(Real, 0, None, closed="left")],
        "center_lr": [Interval(Real, 0, None, closed="neither")],
        "center_momentum": [Interval(Real, 0, 1, closed="left")],
        "center_weight_decay": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        module=None,
        *,
        hidden_units=(128, 64),
        dropout=0.0,
        feature_layer=None,
        crl=True,
        alpha=0.2,
        upper=1.0,
        tau=0.025,
        center_alpha=0.1,
        center_upper=1.0,
        center_tau=1.0,
        center_weight=0.0,
        center_lr=0.01,
        center_momentum=0.9,
        center_weight_decay=5e-4,
        random_state=None,
        criterion=CRLLoss,
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
        self.feature_layer = feature_layer
        self.crl = crl
        self.alpha = alpha
        self.upper = upper
        self.tau = tau
        self.center_alpha = center_alpha
        self.center_upper = center_upper
        self.center_tau = center_tau
        self.center_weight = center_weight
        self.center_lr = center_lr
        self.center_momentum = center_momentum
        self.center_weight_decay = center_weight_decay
        self.random_state = random_state

    _seed_names = ("module", "criterion", "train")
    _sample_weight_reason = (
        "CRL picks its branch (ascent, descent, flattening) from unweighted batch "
        "means."
    )

    # ------------------------------------------------------------ validation

    def _validate_hyperparameters(self):
        super()._validate_hyperparameters()
        if self.get_params_for("criterion"):
            raise ValueError(
                "Set the CRL loss parameters with their top-level names (alpha, "
                "tau, center_weight, ...), not criterion__*; got "
                f"{sorted(self.get_params_for('criterion'))}."
            )

    # --------------------------------------------------------- initialisation

    def _feature_dim(self):
        if self.module is None and self.feature_layer is None:
            return int(self.hidden_units[-1])
        # Any architecture: one forward pass in eval mode tells the dimension.
        n_in, _ = self._data_sizes()
        training = self.module_.training
        self.module_.eval()
        try:
            with torch.no_grad():
                y_pred = self.infer(torch.zeros(2, n_in))
        finally:
            self.module_.train(training)
        features = self._unpack(y_pred, need_features=self.crl)[1]
        # A logits-only module trained without CRL has no features: empty centers.
        return 0 if features is None else features.shape[1]

    def _fit_data_params(self, X, y):
        n_classes = len(self.classes_)
        if self.crl and self.upper <= 1 / n_classes:
            raise ValueError(
                f"upper={self.upper} must exceed 1 / n_classes = {1 / n_classes:.4g}: "
                "the flattened soft target keeps min(p_y, upper) on the true class "
                "and spreads the rest over the others, so a smaller cap makes "
                "another class the target's most probable one."
            )
        frequencies = np.bincount(y) / len(y)
        frequencies = frequencies[frequencies > 0]
        self._chance_loss = float(-np.sum(frequencies * np.log(frequencies)))
        if self.alpha != "auto":
            self.alpha_ = float(self.alpha)
        elif not self.crl:
            self.alpha_ = 0.0
        else:
            self.alpha_ = self._held_out_loss_level(X, y)

    def _held_out_loss_level(self, X, y):
        """Lowest normalised cross-entropy of held-out rows in a plain run."""
        seed = spawn_seeds(self.random_state, len(self._seed_names) + 1)[-1]
        rng = np.random.default_rng(seed)
        held_out = rng.random(len(y)) < _AUTO_HELD_OUT
        if held_out.all() or not held_out.any():
            raise ValueError(
                f"alpha='auto' holds out {_AUTO_HELD_OUT:.0%} of the rows and "
                f"needs rows on both sides; got {len(y)} rows. Pass a number."
            )
        monitor = _HeldOutLoss(X[held_out], y[held_out], self.tau)
        # The same recipe with plain descent on the normalised logits: alpha at
        # the floor and no center term.
        pilot = clone(self).set_params(
            alpha=0.0,
            center_weight=0.0,
            classes=np.arange(len(self.classes_)),
            callbacks=[("held_out_loss", monitor)],
            train_split=None,
            warm_start=False,
            verbose=0,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DefenseConfigurationWarning)
            pilot.fit(X[~held_out], y[~held_out])
        return min(monitor.losses_, default=self._chance_loss)

    def initialize_criterion(self):
        """Build the CRL loss (and its centers) from the top-level parameters.

        Returns
        -------
        self : CRLClassifier
        """
        _, n_classes = self._data_sizes()
        n_features = self._feature_dim()
        with torch_seed(self.seeds_["criterion"]):
            self.criterion_ = self.criterion(
                n_classes=n_classes,
                n_features=n_features,
                alpha=self.alpha_,
                upper=self.upper,
                tau=self.tau,
                center_alpha=self.center_alpha,
                center_upper=self.center_upper,
                center_tau=self.center_tau,
                center_weight=self.center_weight,
            )
        self._warn_ineffective_targets()
        return self

    def _warn_ineffective_targets(self):
        if not self.crl:
            return
        floor = normalized_ce_floor(len(self.classes_), self.tau)
        if self.alpha_ <= floor:
            warnings.warn(
                f"alpha={self.alpha_:.4g} is at or below the cross-entropy floor "
                f"{floor:.4g} of tau-normalised logits (tau={self.tau}, "
                f"{len(self.classes_)} classes): the relaxed loss reduces to plain "
                "descent. Raise alpha or lower tau.",
                DefenseConfigurationWarning,
                stacklevel=3,
            )
        if self.alpha_ >= self._chance_loss:
            warnings.warn(
                f"alpha={self.alpha_:.4g} is at or above the chance-level loss "
                f"{self._chance_loss:.4g} (the entropy of the training labels, the "
                "loss of predicting the class frequencies): training drives the "
                "network to a constant predictor. "
                + (
                    "The plain run of alpha='auto' did not bring held-out rows "
                    "below it: train longer (max_epochs, lr) or pass a number."
                    if self.alpha == "auto"
                    else "Use alpha below it, or 'auto'."
                ),
                DefenseConfigurationWarning,
                stacklevel=3,
            )
        ceiling = 2.0 / self.center_tau**2
        if self.center_weight and self.center_alpha >= ceiling:
            warnings.warn(
                f"center_alpha={self.center_alpha} is at or above the largest "
                f"reachable center distance 2 / center_tau**2 = {ceiling:.4g}: the "
                "center loss never descends. Lower center_alpha.",
                DefenseConfigurationWarning,
                stacklevel=3,
            )

    def initialize_optimizer(self, triggered_directly=None):
        """Build the module's optimizer and the centers' own SGD optimizer.

        Parameters
        ----------
        triggered_directly : None
            Deprecated by skorch; unused.

        Returns
        -------
        self : CRLClassifier
        """
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.module_.named_parameters()
        )
        self.optimizer_ = self.optimizer(*args, **kwargs)
        self.optimizer_centers_ = torch.optim.SGD(
            self.criterion_.parameters(),
            lr=self.center_lr,
            momentum=self.center_momentum,
            weight_decay=self.center_weight_decay,
        )
        return self

    def set_params(self, **params):
        """Set parameters; re-initialise what depends on them if initialised.

        Changing ``hidden_units`` or ``dropout`` rebuilds the module, centers
        and optimizers; ``feature_layer`` rebuilds the centers and optimizers;
        the loss parameters (``alpha``, ``tau``, ``center_weight``...) and the
        centers' optimizer settings are applied in place, keeping the learned
        centers.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : CRLClassifier
        """
        super().set_params(**params)
        if not self.initialized_ or not hasattr(self, "n_features_in_"):
            return self
        keys = set(params)
        if keys & _MODULE_PARAMS:
            reason = f"Re-initializing module because {sorted(keys)} were re-set."
            self._initialize_module(reason=reason)
            self._initialize_criterion(reason=reason)
            self._initialize_optimizer(reason=reason)
        elif keys & _CRITERION_PARAMS:
            reason = f"Re-initializing criterion because {sorted(keys)} were re-set."
            self._initialize_criterion(reason=reason)
            self._initialize_optimizer(reason=reason)
        else:
            if params.get("alpha", "auto") != "auto":
                self.alpha_ = params["alpha"]
            for key in keys & set(_LOSS_PARAMS):
                part, name = _LOSS_PARAMS[key]
                value = self.alpha_ if key == "alpha" else params[key]
                setattr(getattr(self.criterion_, part), name, value)
            if "center_weight" in keys:
                self.criterion_.center_weight = params["center_weight"]
            for group in self.optimizer_centers_.param_groups:
                for key in keys & set(_CENTER_OPTIMIZER_PARAMS):
                    group[_CENTER_OPTIMIZER_PARAMS[key]] = params[key]
            if keys & {*_LOSS_PARAMS, "center_weight", "crl"}:
                self._warn_ineffective_targets()
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

    def infer(self, x, **fit_params):
        """Forward one batch; return ``(logits, features)`` when a feature layer
        is named, the module's own output otherwise.

        Parameters
        ----------
        x : torch.Tensor or input accepted by skorch
            A batch.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        output : torch.Tensor or tuple
        """
        if self.feature_layer is None:
            return super().infer(x, **fit_params)
        try:
            layer = self.module_.get_submodule(self.feature_layer)
        except AttributeError as exc:
            raise ValueError(
                f"feature_layer={self.feature_layer!r} is not a submodule of the "
                "module; choose a name from module_.named_modules()."
            ) from exc
        captured = []
        handle = layer.register_forward_hook(lambda m, i, out: captured.append(out))
        try:
            output = super().infer(x, **fit_params)
        finally:
            handle.remove()
        if not captured or not isinstance(captured[-1], torch.Tensor):
            raise ValueError(
                f"feature_layer={self.feature_layer!r} produced no tensor output "
                "during the forward pass."
            )
        logits = output[0] if isinstance(output, (tuple, list)) else output
        return logits, captured[-1]

    def _unpack(self, y_pred, need_features):
        if isinstance(y_pred, (tuple, list)):
            if len(y_pred) != 2 or not all(
                isinstance(part, torch.Tensor) for part in y_pred
            ):
                raise TypeError(
                    "The module must return (logits, features) as two tensors, or "
                    "logits only with feature_layer naming the feature layer; got a "
                    f"{type(y_pred).__name__} of length {len(y_pred)}."
                )
            logits, features = y_pred
            features = features.flatten(1)
        elif isinstance(y_pred, torch.Tensor):
            if need_features:
                raise TypeError(
                    "CRL needs penultimate features, but the module returned a "
                    "single tensor: return (logits, features) from forward or set "
                    "feature_layer to the name of the feature layer."
                )
            logits, features = y_pred, None
        else:
            raise TypeError(
                "The module must return (logits, features) or logits; got "
                f"{type(y_pred).__name__}."
            )
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
        return logits, features

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """CRL loss while training; plain cross-entropy of the raw logits else.

        Parameters
        ----------
        y_pred : torch.Tensor or tuple
            Module output.
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
        use_crl = training and self.crl
        logits, features = self._unpack(y_pred, need_features=use_crl)
        y_true = to_tensor(y_true, device=self.device)
        if not use_crl:
            return F.cross_entropy(logits, y_true)
        epoch = len(self.history) + _schedule_offset(self.max_epochs)
        loss, terms = self.criterion_(
            logits, features, y_true, epoch=epoch, return_terms=True
        )
        for key, value in terms.items():
            self.history.record_batch(key, value)
        return loss

    def train_step(self, batch, **fit_params):
        """One backward pass, then one step of the module's and the centers'
        optimizers (official CRL procedure).

        Parameters
        ----------
        batch : tuple
            A batch from the iterator.
        **fit_params : dict
            Passed to the module's ``forward``.

        Returns
        -------
        step : dict
            ``{"loss": loss, "y_pred": y_pred}``.
        """
        # skorch's default passes a closure to each optimizer, which would run the
        # forward/backward pass once per optimizer.
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self._step_optimizer(None)
        return step

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Summarise the CRL terms of the epoch's batches into ``history_``."""
        # Plain list access: History's tuple indexing is slow for a per-epoch hook.
        batches = [b for b in self.history[-1]["batches"] if "irl_ce" in b]
        if not batches:
            return
        total = sum(b["train_batch_size"] for b in batches)
        for value_key, branch_key in (
            ("irl_ce", "irl_branch"),
            ("rcl_dist", "rcl_branch"),
        ):
            if value_key not in batches[0]:
                continue
            mean = sum(b[value_key] * b["train_batch_size"] for b in batches) / total
            self.history.record(value_key, mean)
            fired = {b[branch_key] for b in batches}
            self.history.record(
                branch_key, "+".join(name for name in _BRANCHES if name in fired)
            )
