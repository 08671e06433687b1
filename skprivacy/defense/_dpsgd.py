"""DPSGDClassifier: a skorch classifier trained with DP-SGD through Opacus."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral, Real
from typing import ClassVar

import torch
from skorch.utils import multi_indexing, to_tensor
from torch.utils.data import default_collate

from skprivacy.defense._accounting import (
    _epsilon,
    _import_opacus,
    dp_noise_multiplier,
    dp_sgd_plan,
)
from skprivacy.defense._dpsgd_vectorized import (
    check_dpsgd_vectorizable,
    train_dpsgd_vectorized,
)
from skprivacy.defense._net import BaseNetClassifier
from skprivacy.exceptions import DPParameterWarning
from skprivacy.utils import torch_generator
from skprivacy.utils._sklearn_compat import Interval, StrOptions


def _secure_generator():
    try:
        import torchcsprng
    except ImportError as exc:
        raise ImportError(
            "secure_mode=True draws the noise and the batches from a "
            "cryptographically secure generator, which needs the torchcsprng "
            "package; install it or use secure_mode=False."
        ) from exc
    return torchcsprng.create_random_device_generator("/dev/urandom")


class DPSGDClassifier(BaseNetClassifier):
    """Neural-network classifier trained with differentially private SGD.

    DP-SGD (Abadi et al., CCS 2016) clips each record's gradient to norm
    ``max_grad_norm``, adds Gaussian noise of standard deviation
    ``noise_multiplier * max_grad_norm`` to each batch's sum of clipped
    gradients, and forms batches by Poisson sampling (each record joins each
    batch independently with probability ``batch_size / n_samples``, so
    batches vary in size and may be empty). A privacy accountant turns the
    noise, the sampling rate and the number of steps into the guarantee:
    the fitted model is ``(epsilon_, delta_)``-differentially private with
    respect to adding or removing one training row. Training runs through
    `Opacus <https://opacus.ai>`_ (``pip install 'skprivacy[dp]'``).

    The defaults are a high-utility recipe for tabular networks, chosen by
    measurement (:ref:`dpsgd`): Adam at learning rate 0.01, logical batches
    of 256 rows, 100 epochs. ``noise_multiplier=0`` trains with clipping only
    (no guarantee, ``epsilon_`` is ``inf``), the strongest baseline to compare
    heuristic defenses with (Aerni, Zhang & Tramèr, CCS 2024). Plan a budget
    before training with :func:`dp_sgd_plan`, :func:`dp_epsilon` and
    :func:`dp_noise_multiplier`, which compute ``epsilon_`` and the noise of
    ``target_epsilon`` here.

    This is a skorch :class:`~skorch.classifier.NeuralNetClassifier`: skorch
    parameters (``module__*``, ``optimizer__*``, ``callbacks``...) work as
    usual, except the training iterator, which always samples Opacus's Poisson
    batches (``iterator_train__*`` other than ``batch_size`` and
    ``shuffle`` are passed to it).

    Parameters
    ----------
    module : torch module class, instance or None, default=None
        The network; it returns logits (one per class, also for binary
        tasks), or a tuple whose first element is the logits. ``None`` builds
        a :class:`TabularMLP` sized from the data. Every layer must support
        per-sample gradients: an unsupported one (BatchNorm, LSTM...) is named
        in a ``ValueError`` with its replacement.
    hidden_units : tuple of int, default=(128, 64)
        Hidden layer widths of the default module.
    dropout : float, default=0.0
        Dropout of the default module.
    noise_multiplier : float or None, default=None
        Noise standard deviation in units of ``max_grad_norm``. ``None``
        means 1.0, or, when ``target_epsilon`` is set, the smallest noise
        that the accountant certifies for ``target_epsilon``. Setting both is
        an error. ``0`` clips without noise: the model has no
        differential-privacy guarantee, ``epsilon_`` is ``inf`` and ``fit``
        raises a :class:`~skprivacy.exceptions.DPParameterWarning` saying so.
    max_grad_norm : float, default=1.0
        Per-record gradient clipping norm ``C``.
    target_epsilon : float or None, default=None
        Privacy budget of one ``fit``: the noise is solved by
        :func:`dp_noise_multiplier` (to within 0.01 in epsilon, from above)
        so that ``max_epochs`` epochs spend it. Further ``partial_fit`` or
        warm-start calls add to ``epsilon_``.
    delta : "auto" or float, default="auto"
        The ``delta`` of the guarantee. ``"auto"`` is ``min(1e-5, 1 / (10 n))``
        for ``n`` training rows. A value of at least ``1 / n`` raises a
        :class:`~skprivacy.exceptions.DPParameterWarning`: such a mechanism
        may publish a whole record.
    accountant : {"rdp", "prv"}, default="rdp"
        Opacus's privacy accountant: Rényi DP (Mironov 2017), or the tighter
        numerical privacy-random-variable accountant (Gopi et al. 2021); see
        :func:`dp_epsilon`.
    secure_mode : bool, default=False
        Draw the noise and the batches from a cryptographically secure
        generator (needs the ``torchcsprng`` package) and sample the noise in
        the way that resists floating-point attacks on the Gaussian
        mechanism. The guarantee then holds against an adversary who can
        predict a seeded generator, but training is no longer reproducible:
        ``random_state`` still seeds the initial weights and dropout only.
        Use it for a release; keep it off for experiments.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the Poisson batches, the noise and the
        dropout. An int makes ``fit`` reproducible (unless ``secure_mode``);
        torch's global random state is neither read nor changed.
    criterion : torch loss class, default=torch.nn.CrossEntropyLoss
        Loss of the logits; its reduction must be ``"mean"`` or ``"sum"``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer that steps with the noisy gradient. With
        ``torch.optim.SGD``, raise ``lr`` (DP-SGD papers use 0.5 to 4).
    lr : float, default=0.01
        Learning rate.
    max_epochs : int, default=100
        Number of epochs; one epoch is ``int(n / batch_size)`` Poisson batches.
    batch_size : int, default=256
        Expected (logical) batch size, the batch of one noisy step; ``-1``
        samples every row in every batch (full batch, sampling rate 1).
    max_physical_batch_size : int or None, default=128
        Largest batch whose per-row gradients are held in memory at once: a
        larger Poisson batch is cut into pieces whose clipped gradients are
        summed before the single noisy step (Opacus's
        ``BatchSplittingSampler``), so the steps, the noise and ``epsilon_``
        do not change. ``None`` never cuts. Pieces of about 128 rows are also
        the fastest on a CPU; raise it on a GPU.
    train_split : callable or None, default=None
        skorch's validation split; ``None`` trains, and accounts, on every
        row.
    classes : array-like or None, default=None
        All class labels, when ``y`` may not show every class.
    verbose : int, default=0
        ``1`` prints one line per epoch.
    **kwargs
        Other skorch parameters (``module__*``, ``optimizer__*``,
        ``callbacks``...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only for string column names).
    module_ : torch.nn.Module
        The fitted network (not wrapped by Opacus).
    optimizer_ : torch.optim.Optimizer
        The optimizer (not wrapped by Opacus).
    epsilon_ : float
        The accountant's epsilon at ``delta_`` after all training so far
        (:func:`dp_epsilon`); ``inf`` when trained without noise.
    delta_ : float
        The ``delta`` of the guarantee.
    noise_multiplier_ : float
        The noise multiplier used.
    sample_rate_ : float
        Poisson sampling rate ``batch_size / n`` of the last training call.
    n_steps_ : int
        Number of noisy steps taken so far.
    accountant_ : opacus.accountants.IAccountant
        The accountant; ``accountant_.history`` lists
        ``(noise_multiplier, sample_rate, steps)``.
    history_ : skorch.History
        Per-epoch and per-batch training records.
    seeds_ : dict
        The seeds drawn from ``random_state`` for this fit.

    See Also
    --------
    dp_epsilon : The epsilon of a training plan, before training.
    dp_noise_multiplier : The noise a training plan needs for an epsilon.
    CRLClassifier : A heuristic defense without a formal guarantee.

    Notes
    -----
    The guarantee covers the training rows (example-level DP) and assumes the
    model sees nothing else private: data-dependent preprocessing fitted on
    the same rows (a scaler in a Pipeline, say) is outside it. ``epsilon_``
    is an upper bound from the accountant; membership audits give lower
    bounds (:class:`~skprivacy.audit.MembershipInferenceAuditor`).
    ``sample_weight`` is refused: weighting a record scales its gradient
    beyond ``max_grad_norm``. Audits that train many models of this recipe
    (:class:`~skprivacy.audit.DefenseEvaluation`, reference models) train
    them all at once with :mod:`torch.func`, with the same sampling,
    clipping, noise and accounting per model.

    References
    ----------
    .. [1] M. Abadi et al., "Deep Learning with Differential Privacy",
       CCS 2016.
    .. [2] A. Yousefpour et al., "Opacus: User-Friendly Differential Privacy
       Library in PyTorch", arXiv:2109.12298, 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprivacy.defense import DPSGDClassifier
    >>> X, y = make_classification(n_samples=1000, n_features=8, random_state=0)
    >>> clf = DPSGDClassifier(hidden_units=(16,), max_epochs=5, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> clf.sample_rate_, clf.n_steps_, round(clf.epsilon_, 2), clf.delta_
    (0.256, 15, 8.19, 1e-05)
    """

    # The audit trains many models of this recipe at once, with the same
    # sampling, clipping, noise and accounting (see _dpsgd_vectorized).
    _skprivacy_capabilities: ClassVar[dict] = {
        "vectorized_trainer": (check_dpsgd_vectorizable, train_dpsgd_vectorized),
    }

    _parameter_constraints: ClassVar[dict] = {
        "hidden_units": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "noise_multiplier": [None, Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither")],
        "target_epsilon": [None, Interval(Real, 0, None, closed="neither")],
        "delta": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
        "accountant": [StrOptions({"rdp", "prv"})],
        "secure_mode": ["boolean"],
        "random_state": ["random_state"],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, -1, None, closed="left")],
        "max_physical_batch_size": [None, Interval(Integral, 1, None, closed="left")],
    }
    _sample_weight_reason = (
        "weighting a record scales its gradient beyond max_grad_norm, which "
        "the privacy accounting assumes bounds it."
    )

    def __init__(
        self,
        module=None,
        *,
        hidden_units=(128, 64),
        dropout=0.0,
        noise_multiplier=None,
        max_grad_norm=1.0,
        target_epsilon=None,
        delta="auto",
        accountant="rdp",
        secure_mode=False,
        random_state=None,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=100,
        batch_size=256,
        max_physical_batch_size=128,
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
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = max_grad_norm
        self.target_epsilon = target_epsilon
        self.delta = delta
        self.accountant = accountant
        self.secure_mode = secure_mode
        self.random_state = random_state
        self.max_physical_batch_size = max_physical_batch_size

    # ------------------------------------------------------------ validation

    def _validate_hyperparameters(self):
        super()._validate_hyperparameters()
        if self.noise_multiplier is not None and self.target_epsilon is not None:
            raise ValueError(
                "Set noise_multiplier or target_epsilon, not both: the noise is "
                "solved from target_epsilon when noise_multiplier is None."
            )
        if self.batch_size == 0:
            raise ValueError("batch_size must be positive, or -1 for full batches.")

    def _check_module_supported(self):
        from opacus.utils.module_utils import trainable_modules
        from opacus.validators import ModuleValidator

        problems = []
        for name, layer in trainable_modules(self.module_):
            validator = ModuleValidator.VALIDATORS.get(type(layer))
            for error in validator(layer) if validator else ():
                reason = str(error).split(". ")[0]
                problems.append(f"layer {name!r} ({type(layer).__name__}): {reason}")
        if problems:
            raise ValueError(
                "The module has layers that DP-SGD cannot train: "
                + "; ".join(problems)
                + ". Replace them (BatchNorm -> GroupNorm or LayerNorm, LSTM/GRU/RNN "
                "-> opacus.layers.DPLSTM/DPGRU/DPRNN), for example by passing "
                "opacus.validators.ModuleValidator.fix(module) as module."
            )
        reduction = getattr(self.criterion_, "reduction", None)
        if reduction not in ("mean", "sum"):
            raise ValueError(
                "DP-SGD needs a criterion with reduction 'mean' or 'sum' (per-record "
                f"gradients are recovered from it); got reduction={reduction!r}."
            )

    def _privacy_plan(self, n_train):
        """Sampling rate, steps, delta and noise of one training call."""
        resumed = bool(self.accountant_.history)
        # Resumed training keeps its guarantee's delta and noise.
        plan = dp_sgd_plan(
            n_train,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            delta=self.delta_ if resumed else self.delta,
        )
        if resumed:
            sigma = self.noise_multiplier_
        elif self.target_epsilon is not None:
            sigma = dp_noise_multiplier(
                self.target_epsilon, **plan, accountant=self.accountant
            )
        elif self.noise_multiplier is None:
            sigma = 1.0
        else:
            sigma = float(self.noise_multiplier)
        if sigma == 0 and plan.steps > 0 and not resumed:
            warnings.warn(
                "noise_multiplier=0: training clips each record's gradient but "
                "adds no noise, so the model has no differential-privacy "
                "guarantee (epsilon_ is inf). Clipping alone is a high-utility "
                "baseline to compare defenses with; report it as clipping, not "
                "as DP.",
                DPParameterWarning,
                stacklevel=5,
            )
        return n_train, plan.sample_rate, plan.steps, plan.delta, float(sigma)

    # --------------------------------------------------------- initialisation

    def initialize(self):
        """Draw this fit's seeds, build every part and a fresh accountant.

        Returns
        -------
        self : DPSGDClassifier
        """
        from opacus.accountants import create_accountant

        _import_opacus()
        super().initialize()
        self.accountant_ = create_accountant(mechanism=self.accountant)
        return self

    # --------------------------------------------------------------- training

    def _training_context(self, seeds, X, y):
        try:
            self._check_module_supported()
            dataset_train, _ = self.get_split_datasets(X, y)
            plan = self._privacy_plan(len(dataset_train))
        except Exception:
            if not self.accountant_.history:
                # Nothing was trained: do not look fitted.
                self.initialized_ = False
            raise
        return self._private_training(plan, seeds)

    @contextlib.contextmanager
    def _private_training(self, plan, seeds):
        from opacus.grad_sample import GradSampleModule
        from opacus.optimizers import DPOptimizer

        n_train, sample_rate, _, delta, sigma = plan
        noise_generator, sampler_generator = self._generators(seeds)
        module, optimizer = self.module_, self.optimizer_
        reduction = self.criterion_.reduction
        private_module = GradSampleModule(module, loss_reduction=reduction)
        private_optimizer = DPOptimizer(
            optimizer,
            noise_multiplier=sigma,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=max(1, round(sample_rate * n_train)),
            loss_reduction=reduction,
            generator=noise_generator,
            secure_mode=self.secure_mode,
        )
        private_optimizer.attach_step_hook(
            self.accountant_.get_optimizer_hook_fn(sample_rate=sample_rate)
        )
        self.delta_, self.noise_multiplier_ = delta, sigma
        self.sample_rate_ = sample_rate
        self._sampler_generator = sampler_generator
        self.module_, self.optimizer_ = private_module, private_optimizer
        try:
            with warnings.catch_warnings():
                # Opacus's per-sample hooks on the first layer see inputs without
                # gradients; torch's notice about it says nothing to the user.
                warnings.filterwarnings(
                    "ignore",
                    message="Full backward hook is firing",
                    category=UserWarning,
                )
                yield
        finally:
            # Fitted attributes stay plain torch objects: picklable, cloneable,
            # and predicting without Opacus's hooks.
            private_module._close()
            self.module_, self.optimizer_ = module, optimizer
            del self._sampler_generator
            self._record_guarantee()

    def _generators(self, seeds):
        """The noise and batch-sampling generators of one training call."""
        if self.secure_mode:
            generator = _secure_generator()
            return generator, generator
        # Noise is drawn where the gradients are; batches on the CPU.
        noise_seed, sampler_seed = seeds.spawn(2)
        noise_generator = torch_generator(
            noise_seed.generate_state(1)[0], device=self.device
        )
        return noise_generator, torch_generator(sampler_seed.generate_state(1)[0])

    def _record_guarantee(self):
        """Set ``n_steps_`` and ``epsilon_`` from the accountant's history."""
        self.n_steps_ = sum(step for _, _, step in self.accountant_.history)
        self.epsilon_ = _epsilon(self.accountant_.history, self.delta_, self.accountant)

    def get_iterator(self, dataset, training=False):
        """Poisson-sampled batches for training; skorch's iterator otherwise.

        Parameters
        ----------
        dataset : torch Dataset
            The data.
        training : bool, default=False
            Whether the iterator is for training.

        Returns
        -------
        iterator : torch DataLoader
        """
        if not training:
            return super().get_iterator(dataset, training=training)
        from opacus.utils.batch_memory_manager import BatchSplittingSampler
        from opacus.utils.uniform_sampler import UniformWithReplacementSampler

        kwargs = self.get_params_for("iterator_train")
        kwargs.pop("batch_size", None)
        kwargs.pop("shuffle", None)
        sampler = UniformWithReplacementSampler(
            num_samples=len(dataset),
            sample_rate=self.sample_rate_,
            generator=self._sampler_generator,
        )
        if self.max_physical_batch_size is not None:
            # Opacus's splitter: the optimizer clips and sums each physical
            # batch, and adds the noise and steps once per Poisson batch.
            sampler = BatchSplittingSampler(
                sampler=sampler,
                max_batch_size=self.max_physical_batch_size,
                optimizer=self.optimizer_,
            )
        # Poisson batches may be empty; collate those as zero rows of the data.
        template = default_collate([dataset[0]])

        def collate(rows):
            return default_collate(rows) if rows else multi_indexing(template, [])

        return torch.utils.data.DataLoader(
            dataset, batch_sampler=sampler, collate_fn=collate, **kwargs
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion of the logits; zero on an empty Poisson batch.

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
        logits = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        y_true = to_tensor(y_true, device=self.device)
        if len(y_true) == 0:
            # A mean over no rows is NaN; the noise is still added by the step.
            return logits.sum()
        return self.criterion_(logits, y_true)
