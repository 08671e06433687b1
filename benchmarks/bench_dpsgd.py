"""Accuracy of DP-SGD recipes against plain training, on small tabular data.

Measures the numbers of the high-utility recipe in docs/user_guide/dpsgd.rst:
test accuracy of

* ``plain``: ``CRLClassifier(crl=False)``, plain cross-entropy with Adam
  (lr 1e-3, 60 epochs, batch 128);
* ``old``: ``DPSGDClassifier`` with its former defaults (SGD at lr 0.5,
  batch 128, 30 epochs);
* ``new``: ``DPSGDClassifier`` with its current defaults;

the DP-SGD recipes each at noise multiplier 0 (clipping only, no guarantee),
at noise 0.05 (a vacuous epsilon in the tens of thousands) and at
``target_epsilon=8`` (``delta=1e-5``). Every network is an MLP (256, 128).
Data: 1,000 training rows drawn at random from UCI Letter (26 classes,
standardised with the training rows' statistics) and from UCI Adult
(``make_preprocessor``, ``fnlwgt`` dropped), each tested on 4,000 other
rows; each seed redraws the rows and the training randomness.

Single-threaded, about a minute per fit on a free core.

``--speed`` measures instead what one grid point of
:class:`~skprivacy.audit.DefenseEvaluation` costs (training ``M`` models on
random halves of the pool, attacking each with online LiRA and RMIA, the
accuracies): Adult pool 2,000 (each model trains on 1,000 rows), MLP (256,
128), 10 epochs, batches of 256 (DP-SGD: logical Poisson batches of expected
size 256, noise multiplier 1), for ``M`` = 8 and 16 models, for

* ``plain``: ``CRLClassifier(crl=False)``, trained all at once (vectorized);
* ``dpsgd vectorized``: ``DPSGDClassifier``, trained all at once;
* ``dpsgd sequential``: ``DPSGDClassifier`` fitted one clone after another
  through Opacus (physical batches of 128), the path before vectorization.

Each configuration runs in a fresh process (Opacus imported before the
timing), which reports the point's seconds and its peak resident memory
(``getrusage`` maxrss: torch's CPU allocations are not seen by tracemalloc).
Usage::

    python benchmarks/bench_dpsgd.py                    # seeds 0 1 2, both data sets
    python benchmarks/bench_dpsgd.py --seeds 3 4 --data letter
    OMP_NUM_THREADS=1 python benchmarks/bench_dpsgd.py --speed
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split

from skprivacy.audit import DefenseEvaluation
from skprivacy.datasets import load_adult, load_letter, make_preprocessor
from skprivacy.defense import CRLClassifier, DPSGDClassifier
from skprivacy.exceptions import DPParameterWarning

torch.set_num_threads(1)

HIDDEN = (256, 128)
N_TRAIN, N_TEST = 1_000, 4_000
OLD_RECIPE = {
    "optimizer": torch.optim.SGD,
    "lr": 0.5,
    "batch_size": 128,
    "max_epochs": 30,
}
PRIVACY = {
    "noise 0": {"noise_multiplier": 0.0},
    "noise 0.05": {"noise_multiplier": 0.05},
    "eps 8": {"target_epsilon": 8.0},
}


def _split(n_rows, seed):
    rows = np.random.default_rng(seed).permutation(n_rows)
    return rows[:N_TRAIN], rows[N_TRAIN : N_TRAIN + N_TEST]


def letter(seed):
    X, y = load_letter(return_X_y=True)
    X = np.asarray(X, dtype=float)
    train, test = _split(len(y), seed)
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    X = ((X - mean) / std).astype(np.float32)
    return X[train], y[train], X[test], y[test]


def adult(seed):
    bunch = load_adult(as_frame=True)
    X, y = bunch.data, np.asarray(bunch.target)
    train, test = _split(len(y), seed)
    pre = make_preprocessor(bunch, drop=["fnlwgt"]).fit(X.iloc[train])
    Xtr = pre.transform(X.iloc[train]).astype(np.float32)
    Xte = pre.transform(X.iloc[test]).astype(np.float32)
    return Xtr, y[train], Xte, y[test]


def recipes(seed):
    yield "plain", "-", CRLClassifier(crl=False, hidden_units=HIDDEN, random_state=seed)
    for name, recipe in (("old", OLD_RECIPE), ("new", {})):
        for level, privacy in PRIVACY.items():
            net = DPSGDClassifier(
                hidden_units=HIDDEN, random_state=seed, **recipe, **privacy
            )
            yield name, level, net


SPEED_RECIPE = {"hidden_units": HIDDEN, "max_epochs": 10, "batch_size": 256}
SPEED_KINDS = ("plain", "dpsgd vectorized", "dpsgd sequential")


def speed_point(kind, n_models):
    """Seconds and peak memory of one grid point (run in a fresh process)."""
    bunch = load_adult(as_frame=True)
    X_pool, _, y_pool, _ = train_test_split(
        bunch.data,
        bunch.target,
        train_size=2000,
        test_size=10,
        stratify=bunch.target,
        random_state=0,
    )
    pre = make_preprocessor(bunch, drop=["fnlwgt"])
    X = pre.fit_transform(X_pool).astype(np.float32)
    if kind == "plain":
        recipe = CRLClassifier(crl=False, **SPEED_RECIPE)
    else:
        recipe = DPSGDClassifier(noise_multiplier=1.0, **SPEED_RECIPE)
    if kind == "dpsgd sequential":
        # Without its declared trainer the audit fits clones through Opacus.
        DPSGDClassifier._skprivacy_capabilities = {}
    # Importing Opacus takes seconds once per process, not once per point.
    import opacus  # noqa: F401

    start = time.perf_counter()
    evaluation = DefenseEvaluation(
        {kind: recipe}, n_models=n_models, random_state=0
    ).fit(X, np.asarray(y_pool))
    row = evaluation.results_.iloc[0]
    return {
        "recipe": kind,
        "models": n_models,
        "point_seconds": float(row["fit_seconds"]),
        "total_seconds": time.perf_counter() - start,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "accuracy": float(row["accuracy"]),
    }


def speed():
    rows = []
    for n_models in (8, 16):
        for kind in SPEED_KINDS:
            out = subprocess.run(
                [sys.executable, __file__, "--speed-point", kind, str(n_models)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).set_index(["models", "recipe"])
    seconds = table["point_seconds"].unstack()
    ratios = pd.DataFrame(
        {
            "dpsgd / plain": seconds["dpsgd vectorized"] / seconds["plain"],
            "sequential / vectorized": seconds["dpsgd sequential"]
            / seconds["dpsgd vectorized"],
        }
    )
    with pd.option_context("display.width", 120, "display.precision", 2):
        print(table)
        print(ratios)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--data", nargs="+", default=["letter", "adult"], choices=["letter", "adult"]
    )
    parser.add_argument("--speed", action="store_true", help="time grid points")
    parser.add_argument("--speed-point", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_point:
        kind, n_models = args.speed_point
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            print(json.dumps(speed_point(kind, int(n_models))))
        return
    if args.speed:
        speed()
        return
    loaders = {"letter": letter, "adult": adult}
    rows = []
    for data in args.data:
        for seed in args.seeds:
            Xtr, ytr, Xte, yte = loaders[data](seed)
            for recipe, level, net in recipes(seed):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    # noise 0 announces that it trains without a guarantee.
                    warnings.simplefilter("ignore", DPParameterWarning)
                    net.fit(Xtr, ytr)
                row = {
                    "data": data,
                    "seed": seed,
                    "recipe": recipe,
                    "privacy": level,
                    "train_acc": float(np.mean(net.predict(Xtr) == ytr)),
                    "test_acc": float(np.mean(net.predict(Xte) == yte)),
                    "epsilon": getattr(net, "epsilon_", np.nan),
                    "noise": getattr(net, "noise_multiplier_", np.nan),
                    "seconds": time.perf_counter() - start,
                }
                rows.append(row)
                print(row, flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby(["data", "recipe", "privacy"], sort=False).agg(
        test_acc=("test_acc", "mean"),
        test_sd=("test_acc", "std"),
        train_acc=("train_acc", "mean"),
        epsilon=("epsilon", "mean"),
        noise=("noise", "mean"),
        seconds=("seconds", "mean"),
    )
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(summary)


if __name__ == "__main__":
    main()
