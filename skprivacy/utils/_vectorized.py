"""Vectorized training of torch reference models with :mod:`torch.func`.

Reference models of a skorch recipe (:class:`~skorch.NeuralNetClassifier`
with cross-entropy or NLL, or any skorch classifier that declares its training
loss as a :class:`~skprivacy.utils._functional_loss.FunctionalLoss`, as
:class:`~skprivacy.defense.CRLClassifier` does) are trained together: their
parameters are stacked along a leading model axis and one
:func:`torch.func.vmap` of :func:`torch.func.functional_call` runs every
model's forward and backward pass at once (the "model ensembling" recipe of
torch.func). Each model keeps what makes it a separate fit: its own
initialisation (the recipe's own, seeded as a separate fit would be), its own
minibatches drawn from its own member set only, its own dropout masks
(``randomness="different"``), its own optimizer state and step count, and the
loss's own trained state (CRL's class centers with their SGD-momentum
optimizer). The models are therefore distributed as separate fits, not
identical to them: batch order and dropout come from other streams.

Anything this module cannot reproduce faithfully (callbacks, validation
splits, batch normalisation, custom samplers or undeclared losses, ...) is
detected by :func:`check_vectorizable`, and the caller falls back to fitting
clones.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math

import numpy as np

from skprivacy.utils import spawn_generators, spawn_seeds, torch_seed
from skprivacy.utils._arrays import LOG_FLOOR, log_softmax, masked_mean
from skprivacy.utils._estimators import capability, set_random_states
from skprivacy.utils._functional_loss import FunctionalLoss
from skprivacy.utils._sklearn_compat import _safe_indexing

__all__ = ["check_vectorizable", "train_vectorized"]

# Optimizer keyword arguments that do not change the arithmetic of a step.
_IMPLEMENTATION_KWARGS = frozenset({"foreach", "fused", "capturable", "differentiable"})
_OPTIMIZER_KWARGS = {
    "Adam": {"betas", "eps", "weight_decay", "amsgrad", "maximize"},
    "AdamW": {"betas", "eps", "weight_decay", "amsgrad", "maximize"},
    "SGD": {"momentum", "dampening", "weight_decay", "nesterov", "maximize"},
}
# DataLoader arguments that only change how batches are produced, not which.
_LOADER_KWARGS = frozenset(
    {
        "shuffle",
        "batch_size",
        "drop_last",
        "num_workers",
        "pin_memory",
        "persistent_workers",
    }
)
# Records scored per vmapped forward pass.
_SCORE_CHUNK = 4096


def check_vectorizable(recipe, X) -> str | None:
    """Why ``recipe`` cannot be trained by the vectorized path, or ``None``.

    Only the recipe and the data type are checked here; the module itself is
    checked by :func:`check_module` once built.

    Parameters
    ----------
    recipe : estimator
        The reference models' training recipe.
    X : array-like
        The pool.

    Returns
    -------
    reason : str or None
        A sentence for the user, ``None`` when the recipe qualifies.
    """
    try:
        from skorch import NeuralNetClassifier
    except ImportError:  # pragma: no cover - skorch and torch are dependencies
        return "skorch is not installed"
    declared = capability(recipe, "vectorized_loss")
    if declared is None and type(recipe) is not NeuralNetClassifier:
        return (
            f"the recipe is a {type(recipe).__name__}, not a skorch "
            "NeuralNetClassifier (nor an estimator declaring a vectorized loss)"
        )
    if not isinstance(recipe, NeuralNetClassifier):
        return (
            f"the recipe {type(recipe).__name__} declares a vectorized loss but is "
            "not a skorch NeuralNetClassifier"
        )
    reason = check_skorch_settings(recipe, X)
    if reason is None:
        reason = (declared or SkorchCrossEntropy).check(recipe, X)
    return reason or check_optimizer(recipe)


def check_skorch_settings(recipe, X, loader_kwargs=_LOADER_KWARGS) -> str | None:
    """Why the skorch settings of ``recipe`` change what a fit trains, or ``None``.

    Parameters
    ----------
    recipe : NeuralNetClassifier
        The training recipe.
    X : array-like
        The pool.
    loader_kwargs : frozenset of str, default=_LOADER_KWARGS
        The training DataLoader arguments the trainer reproduces.

    Returns
    -------
    reason : str or None
    """
    import torch

    if hasattr(X, "toarray"):
        return "X is sparse"
    params = recipe.get_params(deep=False)
    if params.get("callbacks") not in (None, [], ()):
        return "the recipe has callbacks, which may change training"
    if params.get("train_split") is not None:
        return (
            "train_split is set: each fit would hold out part of its training "
            "set (pass train_split=None)"
        )
    if params.get("compile"):
        return "the recipe uses torch.compile"
    if params.get("iterator_train") is not torch.utils.data.DataLoader:
        return "the recipe uses a custom training iterator"
    extra = set(recipe.get_params_for("iterator_train")) - loader_kwargs
    if extra:
        return f"the training DataLoader has arguments {sorted(extra)}"
    if recipe.predict_nonlinearity != "auto":
        return "predict_nonlinearity is not 'auto'"
    return None


def check_optimizer(recipe) -> str | None:
    """Why :class:`StackedOptimizer` cannot step as the recipe's optimizer, or None."""
    import torch

    name = getattr(recipe.optimizer, "__name__", None)
    if recipe.optimizer not in (
        torch.optim.Adam,
        torch.optim.AdamW,
        torch.optim.SGD,
    ):
        return f"the optimizer {name or recipe.optimizer!r} is not Adam, AdamW or SGD"
    kwargs = recipe.get_params_for("optimizer")
    unknown = set(kwargs) - _OPTIMIZER_KWARGS[name] - _IMPLEMENTATION_KWARGS
    if unknown:
        return f"the optimizer has arguments {sorted(unknown)}"
    if kwargs.get("amsgrad") or kwargs.get("maximize"):
        return "amsgrad or maximize is set"
    return None


def check_module(module, x, n_classes) -> str | None:
    """Why a built ``module`` cannot be vmapped, or ``None``.

    Parameters
    ----------
    module : torch.nn.Module
        A module built by the recipe.
    x : torch.Tensor of shape (n, n_features)
        A few input rows.
    n_classes : int
        Expected number of logits.

    Returns
    -------
    reason : str or None
    """
    import torch
    from torch.func import functional_call, stack_module_state, vmap

    if any(True for _ in module.buffers()):
        names = sorted({type(m).__name__ for m in module.modules() if m._buffers})
        return (
            f"the module has buffers updated in place during training ({names}, "
            "e.g. batch-norm running statistics)"
        )
    params, _ = stack_module_state([module, module])
    try:
        # Dropout in the trial pass must not move the caller's random state.
        with torch.no_grad(), torch_seed(0):
            out = vmap(
                lambda p, xb: functional_call(module, p, (xb,)),
                randomness="different",
            )(params, x.expand(2, *x.shape))
    except Exception as exc:  # any failure means "fall back"
        return f"the module cannot be vmapped ({type(exc).__name__}: {exc})"
    logits = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape[1:]) != (
        len(x),
        n_classes,
    ):
        return "the module's output is not one row of class scores per record"
    return None


# --------------------------------------------------------------------- losses


def cross_entropy_loss(output, target, weight, *, nll=False, label_smoothing=0.0):
    """Masked batch loss of a plain skorch classifier, for one model.

    ``nll=True`` follows skorch's NLLLoss path (the module outputs
    probabilities; ``log(p + eps)`` is taken); otherwise the module outputs
    logits for :class:`torch.nn.CrossEntropyLoss`, whose ``target`` is class
    indices or, float of shape ``(B, n_classes)``, probabilities.
    """
    import torch
    import torch.nn.functional as F

    if nll:
        eps = torch.finfo(output.dtype).eps
        per_sample = F.nll_loss(torch.log(output + eps), target, reduction="none")
    else:
        per_sample = F.cross_entropy(
            output, target, reduction="none", label_smoothing=label_smoothing
        )
    return masked_mean(per_sample, weight)


class SkorchCrossEntropy(FunctionalLoss):
    """The loss of a plain :class:`~skorch.NeuralNetClassifier`.

    :class:`torch.nn.CrossEntropyLoss` (optionally with label smoothing) on
    the module's logits, or :class:`torch.nn.NLLLoss` on its probabilities,
    averaged over the batch; nothing trained beside the module.
    """

    @classmethod
    def check(cls, recipe, X):
        import torch

        if hasattr(X, "iloc"):
            return "X is a DataFrame"
        criterion = recipe.criterion
        if criterion not in (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss):
            return (
                f"the criterion {getattr(criterion, '__name__', criterion)!r} is "
                "not CrossEntropyLoss or NLLLoss"
            )
        allowed = (
            {"label_smoothing"} if criterion is torch.nn.CrossEntropyLoss else set()
        )
        criterion_kwargs = recipe.get_params_for("criterion")
        if criterion_kwargs.get("reduction", "mean") != "mean" or set(
            criterion_kwargs
        ) - allowed - {"reduction"}:
            return f"the criterion has arguments {sorted(criterion_kwargs)}"
        return None

    def __init__(self, estimators):
        import torch

        first = estimators[0]
        self.nll = first.criterion is torch.nn.NLLLoss
        self.label_smoothing = float(
            first.get_params_for("criterion").get("label_smoothing", 0.0)
        )
        # skprivacy reads log-probabilities from the logits of nets trained
        # with cross-entropy (see skprivacy.audit._signals.log_proba).
        self.logits = isinstance(first.criterion_, torch.nn.CrossEntropyLoss)

    def __call__(self, output, state, target, weight, epoch):
        return cross_entropy_loss(
            output,
            target,
            weight,
            nll=self.nll,
            label_smoothing=self.label_smoothing,
        )


# ----------------------------------------------------------------- optimizers


class StackedOptimizer:
    """Adam, AdamW or SGD over stacked parameters, one state per model.

    Model ``j``'s parameters are the views ``p[j]`` of the stacked leaves;
    each view has its own optimizer state (moments or momentum buffer, step
    count), and a step runs torch's own functional optimizer
    (``torch.optim.adam.adam``, ``torch.optim.sgd.sgd``; fused kernels on CPU
    and CUDA) on the views of the models that had records in the batch. A
    model without records in a step (its epoch has fewer batches) is left
    untouched, parameters and state, as if that step did not exist.

    Parameters
    ----------
    name : {"Adam", "AdamW", "SGD"}
    params : list of torch.Tensor
        Stacked leaves, each of shape ``(M, ...)``; updated in place.
    lr : float
    **kwargs : dict
        The optimizer's own keyword arguments.
    """

    def __init__(self, name, params, lr, **kwargs):
        import torch

        self.name = name
        self.views = [[p[j] for p in params] for j in range(params[0].shape[0])]
        device = params[0].device
        self.fused = device.type in ("cpu", "cuda")
        default_decay = 0.01 if name == "AdamW" else 0.0
        common = {
            "lr": float(lr),
            "weight_decay": float(kwargs.get("weight_decay", default_decay)),
            "maximize": False,
        }
        if name == "SGD":
            self.options = {
                **common,
                "momentum": float(kwargs.get("momentum", 0.0)),
                "dampening": float(kwargs.get("dampening", 0.0)),
                "nesterov": bool(kwargs.get("nesterov", False)),
            }
            self.buffers = [[None] * len(params) for _ in self.views]
        else:
            beta1, beta2 = kwargs.get("betas", (0.9, 0.999))
            self.options = {
                **common,
                "amsgrad": False,
                "beta1": float(beta1),
                "beta2": float(beta2),
                "eps": float(kwargs.get("eps", 1e-8)),
                "decoupled_weight_decay": name == "AdamW",
            }
            self.exp_avg = [[torch.zeros_like(v) for v in row] for row in self.views]
            self.exp_avg_sq = [[torch.zeros_like(v) for v in row] for row in self.views]
            # One step count per tensor, as torch keeps it (float32 scalars).
            self.steps = [
                [torch.zeros((), dtype=torch.float32, device=device) for _ in row]
                for row in self.views
            ]

    @classmethod
    def of(cls, estimator, params):
        """The optimizer ``estimator`` trains with, over stacked ``params``."""
        kwargs = {
            k: v
            for k, v in estimator.get_params_for("optimizer").items()
            if k not in _IMPLEMENTATION_KWARGS
        }
        lr = kwargs.pop("lr", estimator.lr)
        return cls(estimator.optimizer.__name__, params, lr, **kwargs)

    def step(self, grads, active):
        """Update the models marked ``active`` (bool array of shape (M,)).

        Parameters
        ----------
        grads : list of torch.Tensor
            Stacked gradients, shaped like the stacked leaves.
        active : array-like of shape (M,), bool
            Models that had records in this batch.
        """
        import torch
        from torch.optim.adam import adam
        from torch.optim.sgd import sgd

        rows = np.flatnonzero(np.asarray(active, dtype=bool))
        params = [v for j in rows for v in self.views[j]]
        grads = [g[j] for j in rows for g in grads]
        flags = {"fused": True} if self.fused else {"foreach": False}
        with torch.no_grad():
            if self.name != "SGD":
                adam(
                    params,
                    grads,
                    [m for j in rows for m in self.exp_avg[j]],
                    [v for j in rows for v in self.exp_avg_sq[j]],
                    [],
                    [t for j in rows for t in self.steps[j]],
                    **flags,
                    **self.options,
                )
                return
            slots = [(j, i) for j in rows for i in range(len(self.views[j]))]
            # torch starts a momentum buffer at a tensor's first step; models
            # reach theirs at different times, so first steps run on their own.
            first = [self.buffers[j][i] is None for j, i in slots]
            for group in (True, False):
                chosen = [k for k, f in enumerate(first) if f is group]
                if not chosen:
                    continue
                buffers = [self.buffers[slots[k][0]][slots[k][1]] for k in chosen]
                sgd(
                    [params[k] for k in chosen],
                    [grads[k] for k in chosen],
                    buffers,
                    **flags,
                    **self.options,
                )
                for k, buffer in zip(chosen, buffers, strict=True):
                    self.buffers[slots[k][0]][slots[k][1]] = buffer


# ------------------------------------------------------------------- batching


def batch_plan(keep, batch_size, *, shuffle, drop_last, generators):
    """Per-model minibatches of one epoch, padded to a common shape.

    Parameters
    ----------
    keep : ndarray of shape (M, n), bool
        Each model's member set.
    batch_size : int
        Records per batch (``-1``: the whole member set).
    shuffle : bool
        Draw each model's order from its own generator (as a shuffling
        DataLoader does); otherwise members are taken in pool order.
    drop_last : bool
        Drop each model's last incomplete batch.
    generators : list of numpy.random.Generator
        One per model.

    Returns
    -------
    index : ndarray of shape (n_steps, M, B), int64
        Pool rows of each model's batch at each step (0 where padded).
    weight : ndarray of shape (n_steps, M, B), bool
        Which entries are real records. A model's batches only ever hold its
        own members.
    """
    members = [np.flatnonzero(row) for row in keep]
    sizes = [len(m) for m in members]
    B = max(sizes) if batch_size == -1 else int(batch_size)
    counts = [
        (s // B if drop_last else math.ceil(s / B)) if batch_size != -1 else 1
        for s in sizes
    ]
    n_steps = max(counts)
    index = np.zeros((n_steps, len(keep), B), dtype=np.int64)
    weight = np.zeros((n_steps, len(keep), B), dtype=bool)
    for j, (rows, rng) in enumerate(zip(members, generators, strict=True)):
        order = rows[rng.permutation(len(rows))] if shuffle else rows
        for s in range(counts[j]):
            chunk = order[s * B : (s + 1) * B]
            index[s, j, : len(chunk)] = chunk
            weight[s, j, : len(chunk)] = True
    return index, weight


# ------------------------------------------------------------------- training


def _training_settings(recipe):
    """Batch size, shuffling and dropping of the recipe's training DataLoader."""
    loader = recipe.get_params_for("iterator_train")
    batch_size = loader.get("batch_size", recipe.batch_size)
    # skorch's DataLoader does not shuffle by default; some recipes declare
    # that they do.
    shuffle = loader.get("shuffle", capability(recipe, "train_shuffle", False))
    return batch_size, bool(shuffle), bool(loader.get("drop_last", False))


def _soft_targets(recipe, y):
    """Whether ``y`` holds probability targets, refusing recipes that cannot
    take them.

    Probability targets are float matrices: ``(n, n_classes)`` shared by every
    model or ``(M, n, n_classes)``, one per model. Only torch's
    :class:`~torch.nn.CrossEntropyLoss` is defined on them (skorch passes
    ``y`` to it unchanged), and the recipe must be told its ``classes``: they
    cannot be read off probabilities.
    """
    import torch

    y = np.asarray(y)
    if y.ndim < 2 or not np.issubdtype(y.dtype, np.floating):
        return False
    if (
        capability(recipe, "vectorized_loss") is not None
        or recipe.criterion is not torch.nn.CrossEntropyLoss
    ):
        raise ValueError(
            "Probability targets need a NeuralNetClassifier trained on "
            "torch.nn.CrossEntropyLoss."
        )
    if recipe.get_params().get("classes") is None:
        raise ValueError(
            "Probability targets need the recipe's classes (set classes=...): "
            "they cannot be inferred from the targets."
        )
    return True


def _model_targets(y, j):
    """Model ``j``'s targets: its own slice of per-model targets, else ``y``."""
    return y[j] if np.ndim(y) == 3 else y


def _initialized_estimators(recipe, X, y, keep, seeds):
    """Fresh clones, initialised exactly as separate fits would be (0 epochs)."""
    from sklearn.base import clone

    estimators = []
    for j, (row, seed) in enumerate(zip(keep, seeds, strict=True)):
        est = set_random_states(clone(recipe), seed)
        idx = np.flatnonzero(row)
        y_j = _safe_indexing(_model_targets(y, j), idx)
        with torch_seed(seed):
            est.fit(_safe_indexing(X, idx), y_j, epochs=0)
        estimators.append(est)
    return estimators


def train_vectorized(recipe, X, y, keep, seeds, *, verbose=0):
    """Train one model of ``recipe`` per row of ``keep``, all at once.

    Parameters
    ----------
    recipe : NeuralNetClassifier
        A recipe accepted by :func:`check_vectorizable`: a plain skorch
        classifier or one declaring its ``"vectorized_loss"``.
    X : array-like of shape (n, n_features)
        The pool.
    y : array-like of shape (n,), (n, n_classes) or (M, n, n_classes)
        The pool's labels; or, for a recipe on
        :class:`~torch.nn.CrossEntropyLoss` with its ``classes`` set,
        probability targets (float), shared by every model or one matrix
        per model (a model reads only its members' rows).
    keep : ndarray of shape (M, n), bool
        Training membership of each model.
    seeds : list of int
        One seed per model: its initialisation (as for a separate fit), its
        batch order, and together the dropout stream.
    verbose : int, default=0
        Shows a progress bar over epochs when positive.

    Returns
    -------
    estimators : list of fitted estimators, or None
        Clones of ``recipe`` holding the trained parameters (their
        ``history_`` has no epochs: training happened here). ``None`` when the
        built module cannot be vectorized (then ``log_proba`` is the reason).
    log_proba : ndarray of shape (M, n, n_classes) or str
        Log-probabilities of every model on every pool record, computed as
        :func:`~skprivacy.audit._signals.log_proba` does for the estimator.
    """
    import torch
    from torch.func import functional_call, grad, stack_module_state, vmap

    soft = _soft_targets(recipe, y)
    estimators = _initialized_estimators(recipe, X, y, keep, seeds)
    first = estimators[0]
    loss = (capability(first, "vectorized_loss") or SkorchCrossEntropy)(estimators)
    device = torch.device(first.device)
    X_np, targets = loss.encode(X, y)
    X_t = torch.as_tensor(X_np, device=device)
    y_t = torch.as_tensor(
        targets, dtype=X_t.dtype if soft else torch.int64, device=device
    )
    # Per-model targets are gathered at (model, record); shared ones at record.
    model_rows = (
        (torch.arange(len(keep), device=device)[:, None],) if y_t.ndim == 3 else ()
    )
    n_classes = len(first.classes_)
    module = first.module_
    reason = check_module(module, X_t[:2], n_classes)
    if reason is not None:
        return None, reason

    params, _ = stack_module_state([est.module_ for est in estimators])
    names = list(params)
    leaves = [params[k].detach().clone() for k in names]
    state = loss.initial_state()
    # A placeholder keeps one signature for every model function.
    stepped = (
        torch.zeros(len(estimators), 1, device=device)
        if state is None
        else state.to(device)
    )
    state_optimizer = None
    if loss.state_optimizer is not None:
        state_name, state_lr, state_kwargs = loss.state_optimizer
        state_optimizer = StackedOptimizer(
            state_name, [stepped], state_lr, **state_kwargs
        )

    def loss_of_model(leaves_j, state_j, xb, yb, wb, epoch):
        out = functional_call(module, dict(zip(names, leaves_j, strict=True)), (xb,))
        return loss(out, state_j, yb, wb, epoch)

    optimizer = StackedOptimizer.of(first, leaves)
    batch_size, shuffle, drop_last = _training_settings(first)
    generators = [spawn_generators(seed, 1)[0] for seed in seeds]
    (dropout_seed,) = spawn_seeds(np.random.SeedSequence(list(seeds)), 1)

    epochs = range(1, first.max_epochs + 1)
    if verbose:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="vectorized reference models")
    module.train()
    with torch_seed(dropout_seed):
        for epoch in epochs:
            step_grad = vmap(
                grad(
                    lambda lv, c, xb, yb, wb, e=epoch: loss_of_model(
                        lv, c, xb, yb, wb, e
                    ),
                    argnums=(0, 1),
                ),
                randomness="different",
            )
            index, weight = batch_plan(
                keep,
                batch_size,
                shuffle=shuffle,
                drop_last=drop_last,
                generators=generators,
            )
            index = torch.as_tensor(index, device=device)
            weight = torch.as_tensor(weight, device=device)
            for s in range(len(index)):
                w = weight[s]
                g_leaves, g_state = step_grad(
                    leaves,
                    stepped,
                    X_t[index[s]],
                    y_t[(*model_rows, index[s])],
                    w.to(X_t.dtype),
                )
                active = w.any(dim=1).cpu().numpy()
                optimizer.step(list(g_leaves), active)
                if state_optimizer is not None:
                    state_optimizer.step([g_state], active)

    with torch.no_grad():
        for j, est in enumerate(estimators):
            for name, leaf in zip(names, leaves, strict=True):
                est.module_.get_parameter(name).copy_(leaf[j])
    loss.write_back(estimators, None if state is None else stepped)
    return estimators, score_vectorized(loss, module, names, leaves, X_t)


def score_vectorized(loss, module, names, leaves, X_t):
    """Log-probabilities of every model on every record in one vmapped pass.

    Follows :func:`~skprivacy.audit._signals.log_proba`: logits (when the
    declared loss says the net is read from them) go to a float64
    log-softmax; probabilities are logged in float64.
    """
    import torch
    from torch.func import functional_call, vmap

    def forward(leaves_j, xb):
        out = functional_call(module, dict(zip(names, leaves_j, strict=True)), (xb,))
        return loss.proba_output(out)

    module.eval()
    with torch.no_grad():
        outputs = torch.cat(
            [
                vmap(forward, in_dims=(0, None))(
                    leaves, X_t[start : start + _SCORE_CHUNK]
                )
                for start in range(0, len(X_t), _SCORE_CHUNK)
            ],
            dim=1,
        )
    outputs = outputs.to("cpu").numpy().astype(np.float64)
    if not loss.logits:
        with np.errstate(divide="ignore"):
            outputs = np.maximum(np.log(outputs), LOG_FLOOR)
    return np.stack([np.maximum(log_softmax(z), LOG_FLOOR) for z in outputs])
