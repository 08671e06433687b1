"""Many DPSGDClassifier models trained at once with :mod:`torch.func`.

The audit trains ``M`` models of one recipe on ``M`` member sets
(:class:`~skprivacy.audit.DefenseEvaluation`, reference models). For a
:class:`~skprivacy.defense.DPSGDClassifier` this module runs Opacus's
algorithm for all of them together: the models' parameters are stacked along
a leading axis (as :mod:`skprivacy.audit._vectorized` does for plain nets),
and per-record gradients come from :func:`torch.func.grad` vmapped over the
records of a batch and over the models. Each model keeps everything that
makes it a separate DP-SGD fit, drawn from the same seeds as that fit:

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
summation order; with dropout its masks come from another stream. Batches are
cut into physical pieces whose per-record gradients fit in memory; pieces do
not change the algorithm (their clipped gradients are summed before the
noisy step).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from skprivacy.audit._vectorized import (
    SkorchCrossEntropy,
    StackedOptimizer,
    _initialized_estimators,
    check_module,
    check_optimizer,
    check_skorch_settings,
    score_vectorized,
)
from skprivacy.defense._accounting import dp_sgd_plan
from skprivacy.utils import spawn_seeds, torch_seed

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


def clipped_gradient_sum(per_record_grad, leaves, xb, tb, wb, max_grad_norm):
    """Each model's sum of its records' gradients clipped to ``max_grad_norm``.

    Parameters
    ----------
    per_record_grad : callable
        ``(leaves, x, t) -> grads``, vmapped over models and records.
    leaves : list of torch.Tensor
        Stacked parameters, each of shape ``(M, ...)``.
    xb : torch.Tensor of shape (M, B, n_features)
    tb : torch.Tensor of shape (M, B)
    wb : torch.Tensor of shape (M, B)
        1 for each model's records, 0 for padding.
    max_grad_norm : float

    Returns
    -------
    summed : list of torch.Tensor
        Shaped like ``leaves``.
    norms : torch.Tensor of shape (M, B)
        Each record's gradient norm before clipping.
    """
    import torch

    grads = per_record_grad(leaves, xb, tb)
    norms = torch.stack([g.flatten(2).norm(dim=2) for g in grads], dim=2).norm(dim=2)
    factor = (max_grad_norm / (norms + _NORM_EPS)).clamp(max=1.0) * wb
    summed = [torch.einsum("mb,mb...->m...", factor, g) for g in grads]
    return summed, norms


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
    from torch.func import functional_call, grad, stack_module_state, vmap

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
    if first.max_physical_batch_size is not None:
        piece = min(piece, first.max_physical_batch_size)

    def record_loss(leaves_j, x, t):
        out = functional_call(
            module, dict(zip(names, leaves_j, strict=True)), (x[None],)
        )
        logits = out[0] if isinstance(out, (tuple, list)) else out
        return loss(logits, None, t[None], torch.ones(1, device=device), 0)

    per_record_grad = vmap(
        vmap(grad(record_loss), in_dims=(None, 0, 0), randomness="different"),
        randomness="different",
    )
    (dropout_seed,) = spawn_seeds(np.random.SeedSequence(list(seeds)), 1)
    steps = range(int(n_steps.max(initial=0)))
    if verbose:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="vectorized DP-SGD models")
    module.train()
    with torch_seed(dropout_seed):
        for step in steps:
            active = step < n_steps
            batches = [
                rows[torch.rand(len(rows), generator=gen[1]).to(device) < q]
                if on
                else rows[:0]
                for rows, gen, q, on in zip(
                    members, generators, rates, active, strict=True
                )
            ]
            summed = [torch.zeros_like(leaf) for leaf in leaves]
            width = max(len(b) for b in batches)
            for start in range(0, width, piece):
                chunks = [b[start : start + piece] for b in batches]
                size = max(len(c) for c in chunks)
                index = torch.zeros(len(keep), size, dtype=torch.int64, device=device)
                weight = torch.zeros(len(keep), size, device=device)
                for j, chunk in enumerate(chunks):
                    index[j, : len(chunk)] = chunk
                    weight[j, : len(chunk)] = 1.0
                part, _ = clipped_gradient_sum(
                    per_record_grad,
                    leaves,
                    X_t[index],
                    y_t[index],
                    weight,
                    max_grad_norm,
                )
                for total, p in zip(summed, part, strict=True):
                    total += p
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
