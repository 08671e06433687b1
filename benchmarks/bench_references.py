"""Speed of reference-model training: separate skorch fits vs the vectorized path.

Trains ``M`` reference MLPs (64-256-256-4, ReLU, cross-entropy, Adam lr=1e-3,
batch 256, shuffled), each on a random half of a 5,000-row pool drawn from
``make_classification(n_features=64, n_informative=32, n_classes=4)`` (a
balanced keep matrix, as the auditor uses), three ways:

* ``skorch sequential``: ``M`` separate ``NeuralNetClassifier`` fits, one after
  another (the auditor's joblib path with ``n_jobs=None``);
* ``vectorized``: the auditor's fast path (``skprivacy.audit._vectorized``),
  all models in one ``torch.func.vmap`` job, scoring of the pool included;
* ``floor``: the same vmapped forward+backward passes, as many as the fast
  path runs, on one fixed batch, with no optimizer, batching or scoring: the
  compute the fast path cannot avoid.

Both trained sets of models are then scored on 5,000 fresh test rows; the
table gives the mean test accuracy and the per-model differences (the same
member set and initialisation for model ``j`` in both; batch order and
dropout differ by design). Times are compared as ratios within one run (the
machine may be shared).

Usage::

    python benchmarks/bench_references.py            # 16 models, 30 epochs
    python benchmarks/bench_references.py --quick    # 4 models, 5 epochs
    python benchmarks/bench_references.py --threads 2 --models 64
    python benchmarks/bench_references.py --device cuda --models 64
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import time

import numpy as np
import torch
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from skprivacy.audit._references import balanced_keep_matrix, train_references


class MLP(nn.Module):
    """The benchmark's 64-256-256-4 network."""

    def __init__(self, n_in=64, hidden=256, n_out=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_out),
        )

    def forward(self, X):
        return self.net(X)


def floor(n_models, n_steps, batch_size, n_features, device):
    """Run ``n_steps`` vmapped forward+backward passes of ``n_models`` MLPs."""
    models = [MLP(n_features).to(device) for _ in range(n_models)]
    params, _ = stack_module_state(models)
    names, leaves = list(params), [p.detach() for p in params.values()]
    x = torch.randn(n_models, batch_size, n_features, device=device)
    y = torch.randint(0, 4, (n_models, batch_size), device=device)

    def loss(leaves_j, xb, yb):
        out = functional_call(models[0], dict(zip(names, leaves_j, strict=True)), (xb,))
        return nn.functional.cross_entropy(out, yb)

    step = vmap(grad(loss))
    for _ in range(n_steps):
        step(leaves, x, y)
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 models, 5 epochs")
    parser.add_argument("--models", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--device", default="cpu", help="torch device of the nets")
    args = parser.parse_args(argv)
    n_models = args.models or (4 if args.quick else 16)
    epochs = args.epochs or (5 if args.quick else 30)
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_size, n_pool = 256, 5000

    X, y = make_classification(
        2 * n_pool,
        n_features=64,
        n_informative=32,
        n_classes=4,
        random_state=0,
    )
    X = X.astype(np.float32)
    X_pool, y_pool, X_test, y_test = X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:]
    keep = balanced_keep_matrix(n_models, n_pool, np.random.default_rng(0))
    seeds = list(range(100, 100 + n_models))
    recipe = NeuralNetClassifier(
        MLP,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        train_split=None,
        iterator_train__shuffle=True,
        device=args.device,
        verbose=0,
    )
    classes = np.unique(y_pool)

    n_steps = epochs * math.ceil(keep.sum(axis=1).max() / batch_size)
    # The vectorized path and the floor run twice, before and after the
    # sequential fits, and their faster run is kept: on a shared machine the
    # load changes during the benchmark.
    runs = {"skorch sequential": [], "vectorized": [], "floor (fwd+bwd only)": []}
    accuracy = {}
    for name in ("vectorized", "floor (fwd+bwd only)", "skorch sequential") * 2:
        if name == "skorch sequential" and runs[name]:
            continue
        start = time.perf_counter()
        if name.startswith("floor"):
            floor(n_models, n_steps, batch_size, 64, args.device)
        else:
            estimators, _, _ = train_references(
                recipe,
                X_pool,
                y_pool,
                keep,
                seeds,
                classes=classes,
                vectorize=name == "vectorized",
            )
            accuracy[name] = np.array(
                [np.mean(e.predict(X_test) == y_test) for e in estimators]
            )
        runs[name].append(time.perf_counter() - start)
    rows = [(name, min(seconds)) for name, seconds in runs.items()]

    times = dict(rows)
    print(
        f"\n{n_models} reference MLPs 64-256-256-4, {epochs} epochs, batch "
        f"{batch_size}, pool {n_pool} (each on ~{n_pool // 2} rows), torch "
        f"{torch.__version__}, {torch.get_num_threads()} thread(s), {args.device}\n"
    )
    print(f"{'method':<22}{'seconds':>9}{'x floor':>9}{'speedup':>9}{'test acc':>10}")
    for name, seconds in rows:
        acc = accuracy.get(name)
        print(
            f"{name:<22}{seconds:>9.2f}{seconds / times['floor (fwd+bwd only)']:>9.2f}"
            f"{times['skorch sequential'] / seconds:>9.2f}"
            + (f"{acc.mean():>10.4f}" if acc is not None else f"{'':>10}")
        )
    diff = accuracy["vectorized"] - accuracy["skorch sequential"]
    print(
        "\nper-model test accuracy, vectorized - separate fits: mean "
        f"{diff.mean():+.4f}, "
        f"sd {diff.std(ddof=1) if n_models > 1 else 0:.4f}, max |diff| "
        f"{np.abs(diff).max():.4f} (binomial sd of one accuracy on "
        f"{len(y_test)} rows: {np.sqrt(0.25 / len(y_test)):.4f} at most)"
    )


if __name__ == "__main__":
    main()
