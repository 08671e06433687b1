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

Single-threaded, about a minute per fit on a free core. Usage::

    python benchmarks/bench_dpsgd.py                    # seeds 0 1 2, both data sets
    python benchmarks/bench_dpsgd.py --seeds 3 4 --data letter
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--data", nargs="+", default=["letter", "adult"], choices=["letter", "adult"]
    )
    args = parser.parse_args()
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
