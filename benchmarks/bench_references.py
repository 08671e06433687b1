"""Time and peak memory of training and storing reference models, three ways.

Trains ``M`` reference MLPs (one-hot Adult features -> 64 -> 64 -> 2, ReLU,
cross-entropy, Adam lr=1e-2, batch 128, shuffled) on random halves of an
Adult pool (a balanced keep matrix, as the auditor uses), and keeps what the
auditor keeps with ``keep_models=False``: each reference's log-probabilities
on the pool. Three engines:

* ``skorch sequential``: ``M`` separate ``NeuralNetClassifier`` fits, one
  after another (the joblib path with ``n_jobs=None``);
* ``vectorized``: all models in one ``torch.func.vmap`` job on the recipe's
  device (``skprivacy.utils._vectorized``), scoring of the pool included;
* ``dask (2 workers)``: the joblib path on a ``dask.distributed.LocalCluster``
  of two single-threaded worker processes (cluster start-up and the
  workers' imports excluded).

Each configuration runs in a fresh process, so that its peak resident memory
(``ru_maxrss``, minus the process's memory before training; for Dask the
workers' peaks are added) is its own. ``stored`` is the size of what is kept
(the outputs) and ``models`` the size the fitted models would take. Times
are compared as ratios within one run: on a shared machine, say so.

Usage::

    python benchmarks/bench_references.py --quick        # 4 and 8 models, 2 epochs
    python benchmarks/bench_references.py                # 16 and 64 models, 5 epochs
    python benchmarks/bench_references.py --models 16 64 256 --epochs 20
    python benchmarks/bench_references.py --device cuda --methods vectorized
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

METHODS = ("skorch sequential", "vectorized", "dask (2 workers)")


def _peak_mb():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n_pool):
    import numpy as np

    from skprivacy.datasets import load_adult, make_preprocessor

    bunch = load_adult(as_frame=True)
    X = make_preprocessor(bunch).fit_transform(bunch.data.iloc[:n_pool])
    y = np.asarray(bunch.target)[:n_pool]
    return X.astype(np.float32), y


def run_one(method, n_models, epochs, n_pool, device):
    """Train and store ``n_models`` references one way; return a result dict."""
    import numpy as np
    import torch
    from joblib import parallel_config
    from skorch import NeuralNetClassifier
    from torch import nn

    from skprivacy.audit._references import (
        balanced_keep_matrix,
        train_reference_outputs,
    )

    X, y = _data(n_pool)
    n_features = X.shape[1]

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(n_features, 64),
                nn.ReLU(),
                nn.Linear(64, 64),
                nn.ReLU(),
                nn.Linear(64, 2),
            )

        def forward(self, X):
            return self.net(X)

    recipe = NeuralNetClassifier(
        MLP,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=epochs,
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    keep = balanced_keep_matrix(n_models, len(y), np.random.default_rng(0))
    seeds = list(range(100, 100 + n_models))
    cluster = client = None
    if method.startswith("dask"):
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        # Start-up excluded: the workers import the libraries before timing.
        client.run(lambda: __import__("skprivacy.audit._references").__name__)
    before = _peak_mb()
    start = time.perf_counter()
    backend = parallel_config(backend="dask") if client else parallel_config()
    with backend:
        outputs = train_reference_outputs(
            recipe,
            X,
            y,
            keep,
            seeds,
            classes=np.unique(y),
            keep_models=False,
            vectorize=method == "vectorized",
        )
    seconds = time.perf_counter() - start
    peak = _peak_mb() - before
    if client is not None:
        peaks = client.run(_peak_mb)
        peak += sum(peaks.values())
        client.close()
        cluster.close()
    model_bytes = sum(p.numel() * 4 for p in MLP().parameters()) * n_models
    return {
        "method": method,
        "models": n_models,
        "seconds": seconds,
        "peak_mb": peak,
        "stored_mb": outputs.signals.nbytes / 2**20,
        "models_mb": model_bytes / 2**20,
        "train_acc": float(outputs.accuracy(keep)[:, 0].mean()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 and 8 models")
    parser.add_argument("--models", type=int, nargs="+", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--pool", type=int, default=None, help="Adult rows")
    parser.add_argument("--device", default="cpu", help="torch device of the nets")
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    n_pool = args.pool or (1000 if args.quick else 4000)
    if args.one:
        method, n_models = args.one[0], int(args.one[1])
        print(json.dumps(run_one(method, n_models, epochs, n_pool, args.device)))
        return
    counts = args.models or ([4, 8] if args.quick else [16, 64])
    methods = [m for m in METHODS if m in args.methods or m.split()[0] in args.methods]
    results = []
    for n_models in counts:
        for method in methods:
            command = [
                sys.executable,
                __file__,
                "--one",
                method,
                str(n_models),
                "--epochs",
                str(epochs),
                "--pool",
                str(n_pool),
                "--device",
                args.device,
            ]
            # The child imports the skprivacy of this checkout.
            root = str(Path(__file__).resolve().parents[1])
            path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
            env = {**os.environ, "PYTHONPATH": path}
            out = subprocess.run(command, capture_output=True, text=True, env=env)
            if out.returncode:
                reason = (out.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{method}, {n_models} models failed: {reason}")
                continue
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    import torch

    print(
        f"\nReference MLPs on Adult (pool {n_pool} rows, each model on half), "
        f"{epochs} epochs, batch 128, torch {torch.__version__}, {args.device}\n"
    )
    header = (
        f"{'method':<20}{'models':>7}{'seconds':>9}{'speedup':>9}{'peak MB':>9}"
        f"{'stored MB':>10}{'models MB':>10}{'train acc':>10}"
    )
    print(header)
    for r in results:
        base = next(
            (
                s["seconds"]
                for s in results
                if s["models"] == r["models"] and s["method"] == "skorch sequential"
            ),
            float("nan"),
        )
        print(
            f"{r['method']:<20}{r['models']:>7}{r['seconds']:>9.2f}"
            f"{base / r['seconds']:>9.2f}{r['peak_mb']:>9.1f}{r['stored_mb']:>10.2f}"
            f"{r['models_mb']:>10.2f}{r['train_acc']:>10.3f}"
        )


if __name__ == "__main__":
    main()
