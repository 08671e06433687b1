"""Many DPSGDClassifier models trained at once with :mod:`torch.func`.

The audit trains ``M`` models of one recipe on ``M`` member sets
(:class:`~skprivacy.audit.DefenseEvaluation`, reference models). For a
:class:`~skprivacy.defense.DPSGDClassifier` this module runs Opacus's
algorithm for all of them together: the models' parameters are stacked along
a leading axis (as :mod:`skprivacy.utils._vectorized` does for plain nets)
and one :func:`torch.func.vmap` over the models runs every model's step. Each
model keeps everything that makes it a separate DP-SGD fit, drawn from the
same seeds as that fit:

* its Poisson batches: each step, every member joins the batch independently
  with probability ``q = batch_size / n_members`` (the draws of Opacus's
  ``UniformWithReplacementSampler``, from the fit's own sampler generator);
* flat clipping of each record's gradient over all parameters to
  ``max_grad_norm`` (Opacus's clip factor ``min(1, C / (norm + 1e-6))``);
* Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm``
  added to the batch's sum of clipped gradients, drawn parameter by parameter
  from the fit's own noise generator, and the sum divided by the expected
  batch size ``max(1, round(q * n_members))`` when the criterion averages;
* ``epochs * int(1 / q)`` steps, empty batches included (they step with noise
  alone), its own optimizer state, and the accountant stepped once per step.

Without dropout a model is therefore the fit of a clone up to floating-point
summation order; with dropout its masks come from another stream.

Two clippers compute the clipped sums, with the same result. When every
parameter is in a ``Linear`` layer, :class:`_LinearClipper` gets each
record's gradient norm and the clipped sum from one backward pass, without
forming per-record gradients. Otherwise :class:`_GenericClipper` forms them
with :func:`torch.func.grad` vmapped over records and models, in pieces that
fit in memory (``max_physical_batch_size`` only bounds Opacus's memory and
changes nothing in the algorithm, so it is not used here).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib

import numpy as np

from skprivacy.defense._accounting import dp_sgd_plan
from skprivacy.utils import spawn_seeds, torch_seed
from skprivacy.utils._vectorized import (
    SkorchCrossEntropy,
    StackedOptimizer,
    _initialized_estimators,
    check_module,
    check_optimizer,
    check_skorch_settings,
    score_vectorized,
)

# Per-record gradient entries held at once (float32): 256 MiB.
_GRAD_SAMPLE_BUDGET = 2**26
# DataLoader arguments that change neither the batches nor their order:
# DPSGDClassifier samples its own batches (batch_size and shuffle are ignored).
_LOADER_KWARGS = frozenset(
    {"batch_size", "shuffle", "num_workers", "pin_memory", "persistent_workers"}
)
# Opacus adds this to each record's gradient norm before dividing by it.
_NORM_EPS = 1e-6


def check_dpsgd_vectorizable(recipe, X) -> str | None:
    """Why ``recipe`` cannot be trained by :func:`train_dpsgd_vectorized`.

    Parameters
    ----------
    recipe : DPSGDClassifier
        The models' training recipe.
    X : array-like
        The pool.

    Returns
    -------
    reason : str or None
        A sentence for the user, ``None`` when the recipe qualifies.
    """
    if recipe.secure_mode:
        return (
            "secure_mode draws the batches and the noise from a secure generator, "
            "one fit at a time"
        )
    if recipe.warm_start:
        return "warm_start is set"
    reason = check_skorch_settings(recipe, X, loader_kwargs=_LOADER_KWARGS)
    return reason or _CrossEntropyOfLogits.check(recipe, X) or check_optimizer(recipe)


class _CrossEntropyOfLogits(SkorchCrossEntropy):
    """The loss of a DPSGDClassifier, as a function of one model's output.

    DPSGDClassifier applies its criterion to the logits, averaged or summed
    over the batch; each record's gradient is that of its own loss either way.
    """

    @classmethod
    def check(cls, recipe, X):
        import torch

        if recipe.criterion is not torch.nn.CrossEntropyLoss:
            return (
                f"the criterion {getattr(recipe.criterion, '__name__', None)!r} "
                "is not CrossEntropyLoss"
            )
        kwargs = recipe.get_params_for("criterion")
        if set(kwargs) - {"reduction", "label_smoothing"} or kwargs.get(
            "reduction", "mean"
        ) not in ("mean", "sum"):
            return f"the criterion has arguments {sorted(kwargs)}"
        return None

    def __init__(self, estimators):
        super().__init__(estimators)
        self.classes = estimators[0].classes_

    def encode(self, X, y):
        # As fit does: float32 rows, labels as positions in classes_.
        target = np.searchsorted(self.classes, np.asarray(y))
        return np.asarray(X, dtype=np.float32), target

    def per_record(self, output, target):
        """Each record's loss (the criterion's, before reduction)."""
        import torch.nn.functional as F

        logits = output[0] if isinstance(output, (tuple, list)) else output
        return F.cross_entropy(
            logits, target, reduction="none", label_smoothing=self.label_smoothing
        )


def _noisy_gradients(summed, sigmas, max_grad_norm, divisors, generators, active):
    """Opacus's noisy step: clipped sum plus noise, over the expected batch."""
    import torch

    out = [g.clone() for g in summed]
    for j in np.flatnonzero(active):
        std = sigmas[j] * max_grad_norm
        for g in out:
            if std > 0:
                # Opacus draws one normal tensor per parameter, in order.
                g[j] += torch.normal(
                    0.0,
                    std,
                    size=g[j].shape,
                    generator=generators[j],
                    device=g.device,
                    dtype=g.dtype,
                )
            g[j] /= divisors[j]
    return out


def _clip_factor(norms, weight, max_grad_norm):
    """Opacus's per-record clip factor, 0 on padding."""
    return (max_grad_norm / (norms + _NORM_EPS)).clamp(max=1.0) * weight


class _GenericClipper:
    """Clipped gradient sums from per-record gradients (any vmappable module).

    Per-record gradients are :func:`torch.func.grad` of one record's loss,
    vmapped over the records and over the models: they are held in memory
    (``M x B x n_parameters`` entries), so batches are cut into pieces.

    Parameters
    ----------
    module : torch.nn.Module
    names : list of str
        Parameter names, in the order of the stacked leaves.
    loss : _CrossEntropyOfLogits
    max_grad_norm : float
    piece : int
        Records per model in one vmapped call.
    """

    def __init__(self, module, names, loss, max_grad_norm, piece):
        import torch
        from torch.func import functional_call, grad, vmap

        def record_loss(leaves_j, x, t):
            params = dict(zip(names, leaves_j, strict=True))
            out = functional_call(module, params, (x[None],))
            return loss.per_record(out, t[None]).sum()

        self.grads = vmap(
            vmap(grad(record_loss), in_dims=(None, 0, 0), randomness="different"),
            randomness="different",
        )
        self.max_grad_norm = max_grad_norm
        self.piece = piece
        self._torch = torch

    def __call__(self, leaves, xb, tb, wb):
        """Each model's sum of clipped per-record gradients, and the norms.

        Parameters
        ----------
        leaves : list of torch.Tensor
            Stacked parameters, each of shape ``(M, ...)``.
        xb : torch.Tensor of shape (M, B, n_features)
        tb : torch.Tensor of shape (M, B)
        wb : torch.Tensor of shape (M, B)
            1 for each model's records, 0 for padding.

        Returns
        -------
        summed : list of torch.Tensor
            Shaped like ``leaves``.
        norms : torch.Tensor of shape (M, B)
            Each record's gradient norm before clipping.
        """
        torch = self._torch
        summed = [torch.zeros_like(leaf) for leaf in leaves]
        norms = []
        for start in range(0, xb.shape[1], self.piece):
            cut = slice(start, start + self.piece)
            grads = self.grads(leaves, xb[:, cut], tb[:, cut])
            norm = torch.stack([g.flatten(2).norm(dim=2) for g in grads], 2).norm(dim=2)
            factor = _clip_factor(norm, wb[:, cut], self.max_grad_norm)
            for total, g in zip(summed, grads, strict=True):
                total += torch.einsum("mb,mb...->m...", factor, g)
            norms.append(norm)
        return summed, torch.cat(norms, dim=1)


class _LinearClipper:
    """Clipped gradient sums of a module whose parameters are all in Linear layers.

    A record's gradient of a linear layer ``z = W a + b`` is ``g a^T`` for
    the weight and ``g`` for the bias, where ``g`` is the gradient of the
    record's loss with respect to ``z``: its squared norm is
    ``|g|^2 (|a|^2 + 1)``, and the sum of clipped gradients is
    ``sum_i c_i g_i a_i^T``, one matrix product. One forward pass records
    each layer's input ``a`` (a forward hook) and adds a zero tensor to its
    output, whose gradient is ``g``. No per-record gradient is held in
    memory (the "ghost clipping" of Li et al., ICLR 2022); the result is
    that of :class:`_GenericClipper` (checked on a few records before use,
    see :func:`_clipper`).

    Parameters
    ----------
    module : torch.nn.Module
    names : list of str
        Parameter names, in the order of the stacked leaves.
    layers : dict
        ``{name: nn.Linear}``, every layer holding parameters of ``names``.
    loss : _CrossEntropyOfLogits
    max_grad_norm : float
    """

    def __init__(self, module, names, layers, loss, max_grad_norm):
        import torch
        from torch.func import functional_call, grad, vmap

        self.module, self.names, self.layers = module, names, layers
        self.max_grad_norm = max_grad_norm
        self._torch = torch
        self._inputs, self._taps = {}, {}

        def batch_loss(leaves_j, taps_j, xb, tb, wb):
            self._taps = dict(zip(layers, taps_j, strict=True))
            self._inputs.clear()
            params = dict(zip(names, leaves_j, strict=True))
            out = functional_call(module, params, (xb,))
            inputs = [self._inputs[layer] for layer in layers]
            return (loss.per_record(out, tb) * wb).sum(), inputs

        self.grads = vmap(
            grad(batch_loss, argnums=1, has_aux=True), randomness="different"
        )

    @contextlib.contextmanager
    def hooked(self):
        """Inside, the layers record their inputs and add their taps."""

        def hook(layer):
            def record(mod, args, output):
                if layer in self._inputs:
                    raise RuntimeError(f"layer {layer!r} runs twice in a forward pass")
                self._inputs[layer] = args[0]
                return output + self._taps[layer]

            return record

        handles = [
            m.register_forward_hook(hook(layer)) for layer, m in self.layers.items()
        ]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def __call__(self, leaves, xb, tb, wb):
        """As :meth:`_GenericClipper.__call__`, inside :meth:`hooked`."""
        torch = self._torch
        M, B = wb.shape
        taps = [
            torch.zeros(M, B, m.out_features, device=xb.device, dtype=xb.dtype)
            for m in self.layers.values()
        ]
        backprops, inputs = self.grads(leaves, taps, xb, tb, wb)
        squared = 0.0
        for m, g, a in zip(self.layers.values(), backprops, inputs, strict=True):
            squared = squared + g.square().sum(-1) * (
                a.square().sum(-1) + float(m.bias is not None)
            )
        norms = squared.sqrt()
        factor = _clip_factor(norms, wb, self.max_grad_norm)
        grads = {}
        for (layer, m), g, a in zip(
            self.layers.items(), backprops, inputs, strict=True
        ):
            scaled = factor[..., None] * g
            grads[_join(layer, "weight")] = torch.einsum("mbo,mbi->moi", scaled, a)
            if m.bias is not None:
                grads[_join(layer, "bias")] = scaled.sum(dim=1)
        return [grads[name] for name in self.names], norms


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _linear_layers(module, names):
    """``{name: layer}`` of the Linear layers holding exactly ``names``, or None."""
    import torch

    layers = {
        prefix: m
        for prefix, m in module.named_modules()
        if isinstance(m, torch.nn.Linear)
    }
    held = {
        _join(prefix, p): prefix
        for prefix, m in layers.items()
        for p, _ in m.named_parameters(recurse=False)
    }
    if set(held) != set(names):
        return None
    return {prefix: layers[prefix] for prefix in dict.fromkeys(held[n] for n in names)}


def _clipper(module, names, leaves, loss, max_grad_norm, piece, xb, tb):
    """The fastest clipper whose result is that of per-record gradients.

    The Linear clipper is used when every parameter is in a Linear layer and
    it agrees with :class:`_GenericClipper` on the first records (the
    formula assumes each layer runs once per forward pass on one row per
    record). Both are compared without dropout.
    """
    import torch

    generic = _GenericClipper(module, names, loss, max_grad_norm, piece)
    layers = _linear_layers(module, names)
    if layers is None:
        return generic, contextlib.nullcontext()
    linear = _LinearClipper(module, names, layers, loss, max_grad_norm)
    weight = torch.ones(tb.shape, dtype=xb.dtype, device=xb.device)
    was_training = module.training
    module.eval()
    try:
        expected, _ = generic(leaves, xb, tb, weight)
        with linear.hooked():
            found, _ = linear(leaves, xb, tb, weight)
        agree = all(
            torch.allclose(a, b, rtol=1e-4, atol=1e-6)
            for a, b in zip(expected, found, strict=True)
        )
    except Exception:  # a layer run twice, inputs of another shape...
        agree = False
    finally:
        module.train(was_training)
    return (linear, linear.hooked()) if agree else (generic, contextlib.nullcontext())


def poisson_batches(members, generators, rates, active):
    """One step's Poisson batches of every model, padded to a common width.

    Parameters
    ----------
    members : list of torch.Tensor
        Each model's member rows of the pool.
    generators : list of torch.Generator
        Each model's sampler generator (on the CPU).
    rates : list of float
        Each model's sampling rate ``q``.
    active : ndarray of shape (M,), bool
        Models that take this step; the others get an empty batch.

    Returns
    -------
    index : torch.Tensor of shape (M, B), int64
        Pool rows of each batch; padding repeats the model's first member.
    weight : torch.Tensor of shape (M, B)
        1 for the batch's records, 0 for padding.
    """
    import torch

    # Opacus's UniformWithReplacementSampler: each member joins the batch
    # when its uniform draw is below q, one draw per member and step.
    batches = [
        rows[(torch.rand(len(rows), generator=gen) < q).to(rows.device)]
        if on
        else rows[:0]
        for rows, gen, q, on in zip(members, generators, rates, active, strict=True)
    ]
    width = max(len(b) for b in batches)
    device = members[0].device
    index = torch.stack([rows[:1].expand(width) for rows in members]).clone()
    weight = torch.zeros(len(members), width, device=device)
    for j, rows in enumerate(batches):
        index[j, : len(rows)] = rows
        weight[j, : len(rows)] = 1.0
    return index, weight


def train_dpsgd_vectorized(recipe, X, y, keep, seeds, *, verbose=0):
    """Train one DPSGDClassifier of ``recipe`` per row of ``keep``, all at once.

    Parameters
    ----------
    recipe : DPSGDClassifier
        A recipe accepted by :func:`check_dpsgd_vectorizable`.
    X, y : array-like
        The pool.
    keep : ndarray of shape (M, n), bool
        Training membership of each model.
    seeds : list of int
        One seed per model, as the ``random_state`` of a separate fit: its
        initialisation, its batches and its noise; together the dropout.
    verbose : int, default=0
        Shows a progress bar over steps when positive.

    Returns
    -------
    estimators : list of fitted DPSGDClassifier, or None
        Clones of ``recipe`` holding the trained parameters and the
        guarantee of their training (``epsilon_``, ``delta_``, ``n_steps_``,
        ``accountant_``...); their ``history_`` has no epochs. ``None`` when
        the models cannot be trained here (then ``log_proba`` is the reason).
    log_proba : ndarray of shape (M, n, n_classes) or str
        Log-probabilities of every model on every pool record.
    """
    import torch
    from torch.func import stack_module_state

    # The 0-epoch fits build each model and its privacy plan (sampling rate,
    # noise, delta), as the fit of a clone would.
    estimators = _initialized_estimators(recipe, X, y, keep, seeds)
    first = estimators[0]
    if any(not np.array_equal(e.classes_, first.classes_) for e in estimators):
        return None, "some member sets miss a class"
    loss = _CrossEntropyOfLogits(estimators)
    device = torch.device(first.device)
    X_np, targets = loss.encode(X, y)
    X_t = torch.as_tensor(X_np, device=device)
    y_t = torch.as_tensor(targets, dtype=torch.int64, device=device)
    module = first.module_
    reason = check_module(module, X_t[:2], len(first.classes_))
    if reason is None and not all(p.requires_grad for p in module.parameters()):
        reason = "the module has frozen parameters"
    if reason is not None:
        return None, reason

    params, _ = stack_module_state([est.module_ for est in estimators])
    names = list(params)
    leaves = [params[k].detach().clone() for k in names]
    optimizer = StackedOptimizer.of(first, leaves)

    members = [torch.as_tensor(np.flatnonzero(row), device=device) for row in keep]
    rates = [est.sample_rate_ for est in estimators]
    sigmas = [est.noise_multiplier_ for est in estimators]
    n_steps = np.array(
        [
            dp_sgd_plan(
                len(rows),
                batch_size=est.batch_size,
                max_epochs=est.max_epochs,
                delta=est.delta_,
            ).steps
            for rows, est in zip(members, estimators, strict=True)
        ]
    )
    mean = first.criterion_.reduction == "mean"
    divisors = [
        max(1, round(q * len(rows))) if mean else 1
        for q, rows in zip(rates, members, strict=True)
    ]
    generators = [est._generators(est._training_seeds()) for est in estimators]
    max_grad_norm = float(first.max_grad_norm)
    n_params = sum(leaf[0].numel() for leaf in leaves)
    piece = max(1, _GRAD_SAMPLE_BUDGET // (len(keep) * n_params))
    # A few of each model's own members: non-members never enter a model's
    # computation, not even as padding.
    trial = torch.stack(
        [rows[torch.arange(4, device=device) % len(rows)] for rows in members]
    )
    clip, hooks = _clipper(
        module, names, leaves, loss, max_grad_norm, piece, X_t[trial], y_t[trial]
    )

    (dropout_seed,) = spawn_seeds(np.random.SeedSequence(list(seeds)), 1)
    steps = range(int(n_steps.max(initial=0)))
    if verbose:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="vectorized DP-SGD models")
    module.train()
    with torch_seed(dropout_seed), hooks:
        for step in steps:
            active = step < n_steps
            index, weight = poisson_batches(
                members, [gen[1] for gen in generators], rates, active
            )
            summed, _ = clip(leaves, X_t[index], y_t[index], weight)
            noisy = _noisy_gradients(
                summed,
                sigmas,
                max_grad_norm,
                divisors,
                [gen[0] for gen in generators],
                active,
            )
            optimizer.step(noisy, active)

    with torch.no_grad():
        for j, est in enumerate(estimators):
            for name, leaf in zip(names, leaves, strict=True):
                est.module_.get_parameter(name).copy_(leaf[j])
    for est, q, sigma, count in zip(estimators, rates, sigmas, n_steps, strict=True):
        # The accountant's own step, as Opacus's optimizer hook calls it.
        for _ in range(count):
            est.accountant_.step(noise_multiplier=sigma, sample_rate=q)
        est._record_guarantee()
    return estimators, score_vectorized(loss, module, names, leaves, X_t)
