"""Privacy-utility frontier of skprivacy's defenses and their honest baselines.

For each task, :class:`skprivacy.audit.DefenseEvaluation` plays the membership
game (``M`` models per grid point on random halves of a pool, each attacked
with the others as references by online LiRA and RMIA: an adaptive attack,
scores pooled over models) for these recipes. The MLP family shares one
network:

* ``plain``           : plain cross-entropy, the undefended model (1 point);
* ``weight_decay``    : Adam's L2 weight decay;
* ``early_stopping``  : fewer epochs;
* ``label_smoothing`` : cross-entropy with smoothed targets;
* ``dropout``         : dropout after each hidden layer;
* ``relaxloss``       : ``CRLClassifier(center_weight=0)``, alpha in ln(C) units;
* ``crl``             : ``CRLClassifier(center_weight=0.1)``, alpha in ln(C) units;
* ``self_distilled``  : ``SelfDistillationClassifier`` (SELENA) around the
  cross-entropy MLP, over the number of sub-models that hold each record out
  (when available);
* ``dpsgd``           : ``DPSGDClassifier`` at several target epsilons (when
  available), the baseline every paper compares with, with the SGD recipe of
  the docs' tables (lr 0.5, batch 64);
* ``dpsgd_utility``   : the same epsilons with DP-SGD run for utility (the
  estimator's defaults: Adam, logical batches of 256, 100 epochs);
* ``smoothed``        : a release through ``SmoothedClassifier`` (an
  inference-time defense: a different threat model, read it apart).

The tree family: ``random_forest`` (over ``min_samples_leaf``),
``hist_gradient_boosting`` (over the number of boosting iterations, its early
stopping) and ``self_distilled_forest`` (SELENA around the forest, when
available).

Tasks (each model trains on half the pool):

* ``adult``, ``german``: the bundled Adult (pool 4,000) and German Credit
  (pool 700), one-hot encoded and scaled; MLP (128, 64), 30 and 60 epochs;
* ``synthetic``: 30 classes from ``make_classification`` (400 features of
  which 20 informative, pool 3,000; one plain MLP reaches about 65% test
  accuracy), MLP (256, 128), 60 epochs;
* ``letter``: the bundled UCI Letter Recognition, 26 classes, 16 integer
  features standardised, pool 2,000; MLP (256, 128), 100 epochs (it fits its
  1,000 rows and reaches about 0.80 test accuracy);
* ``sparse``: ``make_sparse_binary_classification``, a stand-in for sparse
  binary many-class benchmarks (check-in or purchase histories): 30 classes,
  400 binary features with 12% ones, pool 2,000; MLP (256, 128), 30 epochs
  (train accuracy 1, test about 0.55).

Each task prints the frontier table (strongest attack, population records),
the canary table (worst case), the matched-accuracy table (leakage at 0.5, 1.5
and 3 points of accuracy below plain, paired bootstrap intervals), the DP
sanity checks and the wall time, and writes the tables as CSV and markdown
(and the frontier plot as PNG) to ``--output``.

The preprocessing (one-hot encoding and scaling) is fitted once on the pool,
outside the recipes, so that every recipe sees the same features and the MLP
recipes can be trained all at once with torch.func.

Usage::

    python benchmarks/bench_frontier.py --quick             # smoke run, minutes
    python benchmarks/bench_frontier.py --task letter       # one full task
    python benchmarks/bench_frontier.py --n-jobs 16 --output results/frontier
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from torch import nn

from skprivacy import CRLClassifier, SmoothedClassifier
from skprivacy.audit import DefenseEvaluation, FrontierDisplay
from skprivacy.datasets import (
    load_adult,
    load_german_credit,
    load_letter,
    make_preprocessor,
    make_sparse_binary_classification,
)
from skprivacy.defense import TabularMLP

try:  # DP-SGD lands with issue 13, point 1.
    from skprivacy.defense import DPSGDClassifier
except ImportError:  # pragma: no cover - depends on the branch
    DPSGDClassifier = None
try:  # SELENA's self-distillation lands with issue 23.
    from skprivacy.defense import SelfDistillationClassifier
except ImportError:  # pragma: no cover - depends on the branch
    SelfDistillationClassifier = None

torch.set_num_threads(1)
DROPS = (0.5, 1.5, 3.0)


class LogitMLP(nn.Module):
    """TabularMLP returning logits only, for torch's CrossEntropyLoss."""

    def __init__(self, n_in, n_out, hidden_units=(128, 64)):
        super().__init__()
        self.mlp = TabularMLP(n_in, n_out, hidden_units)

    def forward(self, X):
        return self.mlp(X)[0]


# --------------------------------------------------------------------- tasks
def _tabular(dataset, n_pool, n_test, seed):
    X, y = dataset.data, dataset.target
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, train_size=n_pool, test_size=n_test, stratify=y, random_state=seed
    )
    pre = make_preprocessor(dataset, drop=["fnlwgt"] if "fnlwgt" in X else ())
    X_pool = pre.fit_transform(X_pool).astype(np.float32)
    X_test = pre.transform(X_test).astype(np.float32)
    return X_pool, np.asarray(y_pool), X_test, np.asarray(y_test)


# name: (epochs, MLP hidden units) of the full run.
TASKS = {
    "adult": (30, (128, 64)),
    "german": (60, (128, 64)),
    "synthetic": (60, (256, 128)),
    "letter": (100, (256, 128)),
    "sparse": (30, (256, 128)),
}


def _standardised(X_pool, y_pool, X_test, y_test):
    scaler = StandardScaler().fit(X_pool)
    return (
        scaler.transform(X_pool).astype(np.float32),
        np.asarray(y_pool),
        scaler.transform(X_test).astype(np.float32),
        np.asarray(y_test),
    )


def task_data(name, quick, seed=0):
    """Pool and test split of a task (the pool is twice a model's training set)."""
    if name == "adult":
        n_pool, n_test = (1000, 1000) if quick else (4000, 5000)
        return _tabular(load_adult(as_frame=True), n_pool, n_test, seed)
    if name == "german":
        return _tabular(load_german_credit(as_frame=True), 700, 300, seed)
    if name == "letter":
        X, y = load_letter(return_X_y=True)
        n_pool = 1000 if quick else 2000
        split = train_test_split(
            X.astype(np.float64),
            y,
            train_size=n_pool,
            test_size=4000,
            stratify=y,
            random_state=seed,
        )
        return _standardised(split[0], split[2], split[1], split[3])
    if name == "sparse":
        n_pool = 1000 if quick else 2000
        X, y = make_sparse_binary_classification(
            n_pool + 2000,
            400,
            n_classes=30,
            density=0.12,
            class_sep=0.6,
            random_state=seed,
        )
        # Binary features are used as they are, as such benchmarks are.
        X = X.astype(np.float32)
        return X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:]
    n_train = 500 if quick else 1500
    X, y = make_classification(
        2 * n_train + 1500,
        400,
        n_informative=20,
        n_redundant=0,
        n_classes=30,
        n_clusters_per_class=1,
        class_sep=3.0,
        flip_y=0.02,
        random_state=seed,
    )
    X = X.astype(np.float32)
    return _standardised(
        X[: 2 * n_train], y[: 2 * n_train], X[2 * n_train :], y[2 * n_train :]
    )


# ------------------------------------------------------------------ recipes
def _spread(low, high, n):
    """``n`` values from ``low`` to ``high``, geometrically spaced."""
    return np.geomspace(low, high, n).round(6).tolist() if n > 1 else [high]


def recipes(n_features, n_classes, epochs, n_points, hidden, device="cpu"):
    """Every recipe with ``n_points`` grid points (plain has one)."""
    common = {
        "hidden_units": hidden,
        "max_epochs": epochs,
        "batch_size": 128,
        "device": device,
    }
    plain = CRLClassifier(crl=False, **common)
    # The same MLP on torch's cross-entropy, which takes smoothed or soft targets.
    cross_entropy = NeuralNetClassifier(
        LogitMLP,
        module__n_in=n_features,
        module__n_out=n_classes,
        module__hidden_units=hidden,
        max_epochs=epochs,
        batch_size=128,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    ln_c = math.log(n_classes)
    alphas = np.linspace(0.2, 0.8, n_points).round(3) * ln_c
    grid = {
        "plain": plain,
        "weight_decay": (
            plain,
            {"optimizer__weight_decay": _spread(3e-4, 3e-2, n_points)},
        ),
        "early_stopping": (
            plain,
            {
                "max_epochs": sorted(
                    {max(1, int(e)) for e in _spread(2, epochs / 2, n_points)}
                )
            },
        ),
        "label_smoothing": (
            cross_entropy,
            {
                "criterion__label_smoothing": np.linspace(0.2, 0.9, n_points)
                .round(3)
                .tolist()
            },
        ),
        "dropout": (
            plain,
            {"dropout": np.linspace(0.2, 0.8, n_points).round(2).tolist()},
        ),
        "relaxloss": (
            CRLClassifier(center_weight=0.0, **common),
            {"alpha": alphas.round(4).tolist()},
        ),
        # CRL's center loss is off by default (then CRL is RelaxLoss on
        # normalised logits); the crl recipe keeps it on to be a recipe of its own.
        "crl": (
            CRLClassifier(center_weight=0.1, **common),
            {"alpha": alphas.round(4).tolist()},
        ),
    }
    if SelfDistillationClassifier is not None:
        # SELENA around the cross-entropy MLP (fit on soft labels natively):
        # each record is held out of L of the K = 10 sub-models.
        grid["self_distilled"] = (
            SelfDistillationClassifier(cross_entropy, n_estimators=10),
            {"n_held_out": _held_out_grid(n_points)},
        )
    if DPSGDClassifier is not None:
        # The recipe of the docs' frontier tables (SGD at lr 0.5, the same epochs
        # as the other nets, batch 64), pinned so those tables reproduce ...
        grid["dpsgd"] = (
            DPSGDClassifier(
                hidden_units=hidden,
                optimizer=torch.optim.SGD,
                lr=0.5,
                max_epochs=epochs,
                batch_size=64,
                device=device,
            ),
            {"target_epsilon": _spread(1.0, 32.0, n_points)},
        )
        # ... and DP-SGD run for utility (the estimator's defaults: Adam at
        # lr 0.01, logical batches of 256, 100 epochs; see the DP-SGD guide).
        grid["dpsgd_utility"] = (
            DPSGDClassifier(hidden_units=hidden, device=device),
            {"target_epsilon": _spread(1.0, 32.0, n_points)},
        )
    grid["smoothed"] = (
        SmoothedClassifier(plain, n_predict=64, feature_scale="std"),
        {"sigma": _spread(0.1, 1.0, n_points)},
    )
    # The tree family: regularised by leaf size, and by early stopping.
    forest = RandomForestClassifier(n_estimators=100, n_jobs=1)
    grid["random_forest"] = (
        forest,
        {"min_samples_leaf": sorted({int(v) for v in _spread(1, 32, n_points)})},
    )
    grid["hist_gradient_boosting"] = (
        HistGradientBoostingClassifier(early_stopping=False),
        {"max_iter": sorted({int(v) for v in _spread(10, 200, n_points)})},
    )
    if SelfDistillationClassifier is not None:
        grid["self_distilled_forest"] = (
            SelfDistillationClassifier(forest, n_estimators=10),
            {"n_held_out": _held_out_grid(n_points)},
        )
    return grid


def _held_out_grid(n_points):
    """Values of SELENA's L among K = 10 sub-models, from 1 to 5."""
    return sorted({int(v) for v in np.linspace(1, 5, n_points).round()})


# ------------------------------------------------------------------ report
def _fmt(value, low=None, high=None, pct=False):
    if value is None or not np.isfinite(value):
        return "n/a"
    scale, unit = (100, "%") if pct else (1, "")
    text = f"{value * scale:.2f}{unit}"
    if low is not None and np.isfinite(low):
        text += f" [{low * scale:.2f}, {high * scale:.2f}]"
    return text


def frontier_table(results, records, metrics):
    rows = results[(results["attack"] == "strongest") & (results["records"] == records)]
    out = pd.DataFrame(
        {
            "recipe": rows["recipe"],
            "params": rows["params"].map(
                lambda p: (
                    ", ".join(f"{k.split('__')[-1]}={v}" for k, v in p.items()) or "-"
                )
            ),
            "accuracy": [
                _fmt(r.accuracy, r.accuracy_low, r.accuracy_high, pct=True)
                for r in rows.itertuples()
            ],
        }
    )
    for m in metrics:
        out[m] = [
            _fmt(r[m], r[f"{m}_low"], r[f"{m}_high"], pct=m != "auc")
            for _, r in rows.iterrows()
        ]
    # Nominal: the game's pooled trials are not independent (epsilon_nominal).
    out["eps_lb_nominal"] = rows["epsilon_lower_bound"].round(2).to_numpy()
    out["dp_eps"] = rows["dp_epsilon"].round(2).to_numpy()
    out["fit_s"] = rows["fit_seconds"].round(1).to_numpy()
    return out


def matched_table(matched):
    return pd.DataFrame(
        {
            "drop": matched["drop"],
            "recipe": matched["recipe"],
            "accuracy": [_fmt(a, pct=True) for a in matched["accuracy"]],
            "leakage": [
                _fmt(r.leakage, r.leakage_low, r.leakage_high, pct=True)
                for r in matched.itertuples()
            ],
            "vs plain": [
                _fmt(r.ratio, r.ratio_low, r.ratio_high) for r in matched.itertuples()
            ],
            "best": [
                ("yes (significant)" if s else "yes") if b else ""
                for b, s in zip(matched["best"], matched["significant"], strict=True)
            ],
        }
    )


def goals(evaluation, matched, metric):
    """The issue's goals, read off this run."""
    lines = []
    halved = matched[(matched["drop"] <= 1.5) & (matched["ratio"] <= 0.5)]
    # The smoothed release is an inference-time defense (another threat model).
    for label, rows in (
        ("training-time defense", halved[halved["recipe"] != "smoothed"]),
        ("smoothed release", halved[halved["recipe"] == "smoothed"]),
    ):
        found = ", ".join(
            f"{r.recipe} (drop {r.drop}, ratio {r.ratio:.2f} "
            f"[{r.ratio_low:.2f}, {r.ratio_high:.2f}])"
            for r in rows.itertuples()
        )
        lines.append(
            f"{label} halving plain's leakage at a drop <= 1.5 points: "
            f"{found or 'none'}"
        )
    rows = evaluation.results_.query(
        "attack == 'strongest' and records == 'population'"
    )
    acc, leak = rows["accuracy"].to_numpy(), rows[metric].to_numpy()
    low, high = rows[f"{metric}_low"].to_numpy(), rows[f"{metric}_high"].to_numpy()
    crl = np.flatnonzero(rows["recipe"].to_numpy() == "crl")
    status = "no CRL point" if not len(crl) else "off the frontier"
    for i in crl:
        better = (acc >= acc[i]) & (leak < leak[i])
        if not better.any():
            status = "on the frontier"
            break
        # Near: every point that dominates it has an overlapping leakage interval.
        if (low[better] <= high[i]).all():
            status = "near the frontier (overlapping intervals)"
    lines.append(f"CRL's best point: {status}")
    dp = rows[rows["dp_epsilon"].notna()]
    for r in dp.itertuples():
        lines.append(
            f"DP sanity (eps {r.dp_epsilon:.2f}): nominal audited lower bound "
            f"{r.epsilon_lower_bound:.2f} <= accountant's: "
            f"{r.epsilon_lower_bound <= r.dp_epsilon}; every threshold within "
            f"e^eps FPR + delta: {bool(r.dp_consistent)}"
        )
    return lines


def run_task(name, args):
    quick = args.quick
    start = time.perf_counter()
    X, y, X_test, y_test = task_data(name, quick)
    n_classes = len(np.unique(y))
    epochs, hidden = TASKS[name]
    if quick:
        epochs, hidden = 15, (128, 64)
    grid = recipes(
        X.shape[1], n_classes, epochs, 2 if quick else 5, hidden, args.device
    )
    if args.recipes:
        grid = {k: v for k, v in grid.items() if k in args.recipes.split(",")}
    M = 6 if quick else args.n_models
    fprs = (0.001, 0.01, 0.1)
    n_canaries = 10 if quick else max(50, len(y) // 50)
    evaluation = DefenseEvaluation(
        grid,
        n_models=M,
        fprs=fprs,
        n_canaries=n_canaries,
        n_resamples=50 if quick else 200,
        n_jobs=args.n_jobs,
        memory=args.memory,
        verbose=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unresolved rates become n/a, printed below
        evaluation.fit(X, y, X_test=X_test, y_test=y_test)
    wall = time.perf_counter() - start
    results = evaluation.results_
    population = results.query("records == 'population'")
    n_out = int(population["n_non_member_trials"].iloc[0])
    resolved = [f for f in fprs if n_out >= 10 / f]
    metric = f"tpr_at_{min(resolved):g}_fpr" if resolved else "auc"
    metrics = ["auc", *(f"tpr_at_{f:g}_fpr" for f in fprs)]
    matched = evaluation.matched_accuracy(DROPS, metric=metric)

    header = (
        f"== {name}: pool {len(y)} records ({n_classes} classes, {X.shape[1]} "
        f"features), test {len(y_test)}, {M} models per point, "
        f"{len(evaluation.points_)} points, {n_canaries} canaries of each kind; "
        f"{n_out} non-member trials"
    )
    tables = {
        "frontier": frontier_table(results, "population", metrics),
        "canaries": pd.concat(
            [
                frontier_table(results, kind, ["auc", "tpr_at_0.1_fpr"]).assign(
                    records=kind
                )
                for kind in ("mislabeled", "outlier")
            ]
        ),
        "matched": matched_table(matched),
    }
    goal_lines = [*goals(evaluation, matched, metric), f"wall time: {wall:.0f} s"]
    lines = [
        header,
        "",
        "Frontier (strongest of online LiRA and RMIA, population records):",
        tables["frontier"].to_string(index=False),
        "",
        "Canaries (worst case):",
        tables["canaries"].to_string(index=False),
        "",
        f"Matched accuracy (leakage = {metric}; paired bootstrap 95% intervals):",
        tables["matched"].to_string(index=False),
        "",
        *goal_lines,
        "",
    ]
    print("\n".join(lines), flush=True)
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        results.to_csv(out / f"{name}_results.csv", index=False)
        matched.to_csv(out / f"{name}_matched.csv", index=False)
        with open(out / f"{name}.md", "w") as f:
            f.write(f"## {name}\n\n{header}\n\n")
            for key, table in tables.items():
                f.write(f"### {key}\n\n{table.to_markdown(index=False)}\n\n")
            f.write("\n".join(f"- {line}" for line in goal_lines) + "\n")
        import matplotlib

        matplotlib.use("Agg")
        display = FrontierDisplay.from_estimator(evaluation, metric=metric)
        display.figure_.savefig(
            out / f"{name}_frontier.png", dpi=120, bbox_inches="tight"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--task",
        choices=(*TASKS, "all"),
        default="all",
    )
    parser.add_argument("--recipes", default="", help="comma-separated subset")
    parser.add_argument("--n-models", type=int, default=16)
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="grid points trained in parallel"
    )
    parser.add_argument("--memory", default=None, help="cache folder (resumable)")
    parser.add_argument("--output", default=None, help="folder for CSV/markdown/PNG")
    parser.add_argument("--device", default="cpu", help="torch device of the nets")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    tasks = tuple(TASKS) if args.task == "all" else (args.task,)
    for name in tasks:
        run_task(name, args)


if __name__ == "__main__":
    # Run from the importable module, not __main__: worker processes (and
    # joblib.Memory's hashing there) must find the recipes' classes by name.
    import bench_frontier

    bench_frontier.main()
