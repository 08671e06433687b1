"""Privacy/utility of HAMPClassifier against plain training (the defaults' search).

Plays the membership game of :class:`~skprivacy.audit.DefenseEvaluation` on

* Letter (UCI, 26 classes, 16 integer features, standardised): a pool of
  2,000 rows, each model training on a random half (1,000 members), and
  1,000 other rows for test accuracy;
* Adult (UCI, binary, one-hot features from ``make_preprocessor``): the same
  sizes;

with an MLP (256, 128), Adam (lr 1e-3), batch 128, 100 epochs, for plain
training (``gamma=0, alpha=0``) and a grid of HAMP's ``gamma`` and ``alpha``.
Each model is attacked with the others as references (the loss attack and
offline RMIA, whose references follow the same recipe: an adaptive attack).
Reported: test accuracy, attack AUC and TPR at 1% FPR with bootstrap
intervals (resampling models and records).

The rule behind HAMPClassifier's defaults: among the settings losing at most
1.5 points of test accuracy against plain training on both tasks, the lowest
RMIA AUC summed over tasks.

``--release`` evaluates HAMP's release-time part apart (a different threat
model: it changes what is published, not the model): plain training and
HAMPClassifier's defaults, each with and without
:class:`~skprivacy.defense.HAMPReleaseClassifier`, under the loss attack
and RMIA (whose references publish through the same release). Label-only
attacks are not played: the release keeps the model's labels, so they score
exactly as against the model itself.

Usage::

    python benchmarks/bench_hamp.py            # both tasks (about 15 minutes
                                               # on one core)
    python benchmarks/bench_hamp.py --quick    # tiny smoke run
    python benchmarks/bench_hamp.py --release  # the release-time part
    # one setting again, with 6 models and another seed of the game:
    python benchmarks/bench_hamp.py --tasks letter --n-models 6 --seed 1 \\
        --gammas 0.95 --alphas 1.0
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprivacy import HAMPClassifier
from skprivacy.audit import DefenseEvaluation
from skprivacy.datasets import load_adult, make_preprocessor
from skprivacy.defense import HAMPReleaseClassifier

torch.set_num_threads(1)

LETTER = Path("/work/shared/data/letter/letter-recognition.csv.gz")


def letter(seed, n_pool, n_test):
    frame = pd.read_csv(LETTER)
    rows = np.random.default_rng(seed).permutation(len(frame))
    X = frame.drop(columns="Letter").to_numpy(np.float64)
    y = frame["Letter"].to_numpy()
    pool, test = rows[:n_pool], rows[n_pool : n_pool + n_test]
    return X[pool], y[pool], X[test], y[test], StandardScaler()


def adult(seed, n_pool, n_test):
    bunch = load_adult(as_frame=True)
    rows = np.random.default_rng(seed).permutation(len(bunch.target))
    pool, test = rows[:n_pool], rows[n_pool : n_pool + n_test]
    X, y = bunch.data, np.asarray(bunch.target)
    return X.iloc[pool], y[pool], X.iloc[test], y[test], make_preprocessor(bunch)


def run(name, loader, args):
    X, y, X_test, y_test, preprocessor = loader(0, args.n_pool, args.n_test)
    net = HAMPClassifier(
        hidden_units=(256, 128),
        max_epochs=args.epochs,
        gamma=0.0,
        alpha=0.0,
        random_state=0,
    )
    recipe = make_pipeline(preprocessor, net)
    grid = {
        "hampclassifier__gamma": args.gammas,
        "hampclassifier__alpha": args.alphas,
    }
    evaluation = DefenseEvaluation(
        {"plain": (recipe, {}), "hamp": (recipe, grid)},
        n_models=args.n_models,
        attacks=("loss", "rmia"),
        fprs=(0.01,),
        n_resamples=200,
        random_state=args.seed,
    )
    start = time.perf_counter()
    evaluation.fit(X, y, X_test=X_test, y_test=y_test)
    seconds = time.perf_counter() - start
    table = evaluation.results_.query("records == 'population'").copy()
    table["params"] = table["params"].map(
        lambda p: (
            ", ".join(f"{k.split('__')[-1]}={v}" for k, v in p.items())
            or "gamma=0, alpha=0"
        )
    )
    columns = ["params", "attack", "accuracy", "auc", "auc_low", "auc_high"]
    columns += ["tpr_at_0.01_fpr", "tpr_at_0.01_fpr_low", "tpr_at_0.01_fpr_high"]
    print(
        f"\n== {name}: pool {len(y)}, test {len(y_test)}, {args.n_models} "
        f"models, {args.epochs} epochs ({seconds:.0f} s)"
    )
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.query("attack != 'strongest'")[columns].round(3).to_string())
    return table


def run_release(name, loader, args):
    X, y, X_test, y_test, preprocessor = loader(0, args.n_pool, args.n_test)
    nets = {
        "plain": HAMPClassifier(gamma=0.0, alpha=0.0),
        "hamp (defaults)": HAMPClassifier(),
    }
    recipes = {}
    for label, net in nets.items():
        net.set_params(hidden_units=(256, 128), max_epochs=args.epochs, random_state=0)
        recipes[label] = make_pipeline(preprocessor, net)
        release = HAMPReleaseClassifier(net, random_state=0)
        recipes[f"{label} + release"] = make_pipeline(preprocessor, release)
    evaluation = DefenseEvaluation(
        recipes,
        n_models=args.n_models,
        attacks=("loss", "rmia"),
        fprs=(0.01,),
        n_resamples=200,
        random_state=0,
    )
    start = time.perf_counter()
    evaluation.fit(X, y, X_test=X_test, y_test=y_test)
    seconds = time.perf_counter() - start
    table = evaluation.results_.query("records == 'population'")
    columns = ["recipe", "attack", "accuracy", "auc", "auc_low", "auc_high"]
    columns += ["tpr_at_0.01_fpr", "tpr_at_0.01_fpr_low", "tpr_at_0.01_fpr_high"]
    print(
        f"\n== release, {name}: pool {len(y)}, test {len(y_test)}, "
        f"{args.n_models} models, {args.epochs} epochs ({seconds:.0f} s)"
    )
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.query("attack != 'strongest'")[columns].round(3).to_string())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", nargs="+", default=["letter", "adult"])
    parser.add_argument("--release", action="store_true")
    parser.add_argument("--n-models", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0, help="of the game")
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.5, 0.8, 0.95])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    args = parser.parse_args()
    args.n_pool, args.n_test, args.epochs = 2000, 1000, 100
    if args.quick:
        args.n_pool, args.n_test, args.epochs, args.n_models = 600, 200, 5, 4
        args.gammas, args.alphas = [0.8], [0.1]
    loaders = {"letter": letter, "adult": adult}
    if args.release:
        # Six models: with three references RMIA's AUC varied by model.
        args.n_models = max(args.n_models, 6)
        for task in args.tasks:
            run_release(task, loaders[task], args)
        return
    tables = {task: run(task, loaders[task], args) for task in args.tasks}

    # The defaults' rule, on the RMIA rows.
    summary = None
    for task, table in tables.items():
        rmia = table.query("attack == 'rmia'").set_index("params")
        drop = 100 * (rmia.loc["gamma=0, alpha=0", "accuracy"] - rmia["accuracy"])
        part = pd.DataFrame({f"{task}_drop": drop, f"{task}_auc": rmia["auc"]})
        summary = part if summary is None else summary.join(part)
    drops = summary.filter(like="_drop")
    summary["eligible"] = (drops <= 1.5).all(axis=1)
    summary["auc_sum"] = summary.filter(like="_auc").sum(axis=1)
    print("\n== defaults' rule (RMIA AUC, accuracy drop in points)")
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
