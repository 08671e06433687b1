"""Cost of a self-distillation grid point against a plain one (issue 22, point 3).

:class:`skprivacy.audit.DefenseEvaluation` plays the membership game for one
grid point of each recipe on the same pool, halves and seeds (``M`` models on
random halves of a pool of Letter records, each attacked with the others as
references by online LiRA and RMIA); the cost of a point, ``fit_seconds``, is
the training of its ``M`` models, the attacks and the test accuracy (wall
time). On a shared machine the process's CPU time of the whole evaluation (one
point, its bootstrap included) is printed as well: other processes slow the
wall clock, much less the CPU time. Recipes:

* ``plain``: a skorch ``NeuralNetClassifier`` MLP on cross-entropy (Adam,
  batches of 128, shuffled), its ``M`` models trained at once with
  torch.func;
* ``distilled``: ``SelfDistillationClassifier`` (SELENA) around the same net,
  ``K`` sub-models with each record held out of ``L`` of them and the
  distilled net fit on soft labels: the ``M * K`` sub-models at once, then the
  ``M`` distilled nets at once;
* ``distilled_sequential``: the same with ``vectorize=False``: the ``M``
  models one after the other, each fitting its ``K`` sub-models and its
  distilled net as skorch clones (the path before issue 22).

Run single-threaded, as the issue's figures were::

    OMP_NUM_THREADS=1 python benchmarks/bench_distillation.py
    OMP_NUM_THREADS=1 python benchmarks/bench_distillation.py --defaults

``--defaults`` adds the estimator's defaults (``K = 10, L = 3``);
``--no-sequential`` skips the sequential path. Timings are ratios within one
run.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import itertools
import time
import warnings

import numpy as np
import torch
from bench_frontier import task_data
from sklearn.base import clone
from skorch import NeuralNetClassifier
from torch import nn

from skprivacy import SelfDistillationClassifier
from skprivacy.audit import DefenseEvaluation

torch.set_num_threads(1)


class MLP(nn.Module):
    """Two hidden ReLU layers returning logits (torch's CrossEntropyLoss)."""

    def __init__(self, n_in, n_out, hidden=(256, 128)):
        super().__init__()
        sizes = (n_in, *hidden)
        layers = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], n_out))

    def forward(self, X):
        return self.net(X)


def mlp(n_features, n_classes, epochs):
    return NeuralNetClassifier(
        MLP,
        module__n_in=n_features,
        module__n_out=n_classes,
        max_epochs=epochs,
        batch_size=128,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
    )


def point(name, recipe, n_models, X, y, X_test, y_test):
    """One grid point of ``recipe`` in the game; its results row and wall time."""
    evaluation = DefenseEvaluation(
        {name: recipe},
        n_models=n_models,
        n_canaries=0,
        n_resamples=50,
        verbose=2,
        random_state=0,
    )
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluation.fit(X, y, X_test=X_test, y_test=y_test)
    cpu = time.process_time() - start
    row = evaluation.results_.query(
        "attack == 'strongest' and records == 'population'"
    ).iloc[0]
    return row, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-models", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--K", type=int, default=25)
    parser.add_argument("--L", type=int, default=10)
    parser.add_argument(
        "--defaults", action="store_true", help="also K=10, L=3 (the defaults)"
    )
    parser.add_argument("--no-sequential", action="store_true")
    args = parser.parse_args()

    # The Letter task of bench_frontier.py: pool 2,000, test 4,000, standardised.
    X, y, X_test, y_test = task_data("letter", quick=False)
    net = mlp(X.shape[1], len(np.unique(y)), args.epochs)
    M = args.n_models
    settings = [(args.K, args.L)] + ([(10, 3)] if args.defaults else [])
    runs = [("plain", net)]
    for K, L in settings:
        sdc = SelfDistillationClassifier(net, n_estimators=K, n_held_out=L)
        runs.append((f"distilled K={K} L={L}", sdc))
        if not args.no_sequential:
            runs.append(
                (
                    f"distilled_sequential K={K} L={L}",
                    clone(sdc).set_params(vectorize=False),
                )
            )
    print(
        f"Letter: pool {len(y)} ({len(np.unique(y))} classes, {X.shape[1]} "
        f"features), {M} models of {len(y) // 2} records per point, MLP 256-128, "
        f"{args.epochs} epochs, Adam, batch 128; torch threads "
        f"{torch.get_num_threads()}",
        flush=True,
    )
    # Warm-up (imports, torch's first vmaps), not timed.
    point("warm-up", clone(net).set_params(max_epochs=1), M, X, y, X_test, y_test)
    rows = []
    for name, recipe in runs:
        row, cpu = point(name, recipe, M, X, y, X_test, y_test)
        rows.append((name, row["fit_seconds"], cpu, row["accuracy"], row["auc"]))
        print(
            f"{name}: point {row['fit_seconds']:.1f} s wall, evaluation "
            f"{cpu:.1f} s CPU, accuracy {row['accuracy']:.3f}, strongest AUC "
            f"{row['auc']:.3f}",
            flush=True,
        )
    wall, cpu = rows[0][1:3]
    print(
        "\nrecipe | point wall (s) | x plain | evaluation CPU (s) | x plain | "
        "accuracy | AUC"
    )
    for name, seconds, cpu_seconds, accuracy, auc in rows:
        print(
            f"{name} | {seconds:.1f} | {seconds / wall:.1f} | {cpu_seconds:.1f} | "
            f"{cpu_seconds / cpu:.1f} | {accuracy:.3f} | {auc:.3f}"
        )


if __name__ == "__main__":
    main()
