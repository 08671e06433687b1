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
* ``crl_default``     : ``CRLClassifier()`` as shipped (1 point);
* ``self_distilled``  : ``SelfDistillationClassifier`` (SELENA) around the
  cross-entropy MLP, over ``(K, L)``: K sub-models, each record held out of L
  of them (SELENA's 25 and 10 first, then 10 and 3, 10 and 1, ...;
  ``--split-ai`` picks them);
* ``self_distilled_augmented``: not SELENA's recipe: ``K=25, L=10``, and the
  distilled net also trains on 8 noisy copies of each record, each with the
  record's soft label, over the noise scale (``--augment-scale``);
* ``dpsgd``           : ``DPSGDClassifier`` at several target epsilons (when
  available), the baseline every paper compares with, with the SGD recipe of
  the docs' tables (lr 0.5, batch 64);
* ``dpsgd_utility``   : DP-SGD run for utility (the estimator's defaults:
  Adam, logical batches of 256, 100 epochs, clipping norm 1) over the noise
  multiplier, from 0 (clipping only, no guarantee) to 1 (``--noise`` picks
  them);
* ``smoothed``        : a release through ``SmoothedClassifier`` (an
  inference-time defense: a different threat model, read it apart).

The tree family has a baseline of its own, ``plain_forest`` (scikit-learn's
``RandomForestClassifier`` with its defaults, ``min_samples_leaf=1``; 1
point), and the recipes compared with it: ``random_forest`` (the forest tuned
over ``min_samples_leaf``), ``hist_gradient_boosting`` (over the number of
boosting iterations, its early stopping; ``--boosting-iterations`` picks
them) and ``self_distilled_forest`` (SELENA around the default forest,
``K = 10`` sub-models, over ``L``, when available).

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
the canary table (worst case), the matched-accuracy tables (leakage at 0.5,
1.5 and 3 points of accuracy below the baseline, paired bootstrap intervals:
the nets against ``plain``, the trees, in tables of their own, against
``plain_forest``), the DP sanity checks and the wall time, and writes the
tables as CSV and markdown (and the frontier plot as PNG) to ``--output``.

The preprocessing (one-hot encoding and scaling) is fitted once on the pool,
outside the recipes, so that every recipe sees the same features and the MLP
recipes can be trained all at once with torch.func.

Usage::

    python benchmarks/bench_frontier.py --quick             # smoke run, minutes
    python benchmarks/bench_frontier.py --task letter       # one full task
    python benchmarks/bench_frontier.py --n-jobs 16 --output results/frontier
    # The sparse task on one core, three points a recipe, SELENA's setting only:
    python benchmarks/bench_frontier.py --task sparse --n-models 12 --n-jobs 1 \
        --recipes plain,crl_default,early_stopping,self_distilled \
        --n-points 3,self_distilled=1 --memory cache --output results/frontier

``--data-seed`` draws another instance of a task (the synthetic tasks anew,
the real ones split anew, and with them the canaries), to check that a result
holds beyond one pool; 0, the default, is the pool of the tables in the docs.

Twelve models per point on a pool of 2,000 give 12,000 non-member trials,
enough for the TPR at 0.1% FPR (at least 10 / FPR); eight do not.
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
from sklearn.base import clone
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
from skprivacy.defense import (
    DPSGDClassifier,
    SelfDistillationClassifier,
    TabularMLP,
)

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


def recipes(
    n_features,
    n_classes,
    epochs,
    n_points,
    hidden,
    device="cpu",
    split_ai=None,
    noise=None,
    boosting=None,
    augment_scale=None,
):
    """Every recipe with its grid points (plain and crl_default have one).

    ``n_points`` is an int (every grid) or a dict ``{recipe: int}`` whose key
    ``None`` holds the number of the recipes it does not name. ``split_ai``
    lists the self-distilled nets' ``(K, L)`` in the order their grid takes
    them (``None``: :data:`SPLIT_AI`); ``noise`` the noise multipliers of
    ``dpsgd_utility`` (``None``: 0, then from 0.3 to 1); ``boosting`` the
    iterations of ``hist_gradient_boosting`` (``None``: from 10 to 200);
    ``augment_scale`` the noise scales of ``self_distilled_augmented``
    (``None``: :data:`AUGMENT_SCALE`).
    """
    if not isinstance(n_points, dict):
        n_points = {None: n_points}

    def size(name):
        return n_points.get(name, n_points[None])

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

    def alphas(name):
        return (np.linspace(0.2, 0.8, size(name)).round(3) * ln_c).round(4).tolist()

    grid = {
        "plain": plain,
        "weight_decay": (
            plain,
            {"optimizer__weight_decay": _spread(3e-4, 3e-2, size("weight_decay"))},
        ),
        "early_stopping": (
            plain,
            {
                "max_epochs": sorted(
                    {
                        max(1, int(e))
                        for e in _spread(2, epochs / 2, size("early_stopping"))
                    }
                )
            },
        ),
        "label_smoothing": (
            cross_entropy,
            {
                "criterion__label_smoothing": np.linspace(
                    0.2, 0.9, size("label_smoothing")
                )
                .round(3)
                .tolist()
            },
        ),
        "dropout": (
            plain,
            {"dropout": np.linspace(0.2, 0.8, size("dropout")).round(2).tolist()},
        ),
        "relaxloss": (
            CRLClassifier(center_weight=0.0, **common),
            {"alpha": alphas("relaxloss")},
        ),
        # CRL's center loss is off by default (then CRL is RelaxLoss on
        # normalised logits); the crl recipe keeps it on to be a recipe of its own.
        "crl": (
            CRLClassifier(center_weight=0.1, **common),
            {"alpha": alphas("crl")},
        ),
        # What a user gets from CRLClassifier() with the shared MLP: one point.
        "crl_default": CRLClassifier(**common),
    }
    # SELENA around the cross-entropy MLP (fit on soft labels natively):
    # each record is held out of L of the K sub-models.
    grid["self_distilled"] = (
        SelfDistillationClassifier(cross_entropy),
        [
            {"n_estimators": [k], "n_held_out": [held_out]}
            for k, held_out in (split_ai or SPLIT_AI)[: size("self_distilled")]
        ],
    )
    # Not SELENA's recipe: the distilled net also trains on AUGMENT_COPIES
    # noisy copies of each record, each with the record's soft label, for
    # 2 * epochs / (1 + copies) epochs (twice the plain net's steps, as
    # SELENA distils for twice its sub-models' epochs).
    grid["self_distilled_augmented"] = (
        SelfDistillationClassifier(
            cross_entropy,
            final_estimator=clone(cross_entropy).set_params(
                max_epochs=max(1, round(2 * epochs / (1 + AUGMENT_COPIES)))
            ),
            n_estimators=25,
            n_held_out=10,
            n_augment=AUGMENT_COPIES,
        ),
        {
            "augment_scale": list(augment_scale or AUGMENT_SCALE)[
                : size("self_distilled_augmented")
            ]
        },
    )
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
        {"target_epsilon": _spread(1.0, 32.0, size("dpsgd"))},
    )
    # ... and DP-SGD run for utility (the estimator's defaults: Adam at
    # lr 0.01, logical batches of 256, 100 epochs, clipping norm 1; see
    # the DP-SGD guide) over the noise multiplier, down to 0 (clipping
    # only, epsilon infinite): how much of the cut is the clipping's.
    grid["dpsgd_utility"] = (
        DPSGDClassifier(hidden_units=hidden, device=device),
        {
            "noise_multiplier": noise
            or [0.0, *_spread(0.3, 1.0, size("dpsgd_utility") - 1)]
        },
    )
    grid["smoothed"] = (
        SmoothedClassifier(plain, n_predict=64, feature_scale="std"),
        {"sigma": _spread(0.1, 1.0, size("smoothed"))},
    )
    # The tree family: scikit-learn's default forest is its baseline, tuned
    # by leaf size, and gradient boosting by early stopping.
    forest = RandomForestClassifier(n_estimators=100, n_jobs=1)
    grid["plain_forest"] = forest
    grid["random_forest"] = (
        forest,
        {
            "min_samples_leaf": sorted(
                {int(v) for v in _spread(1, 32, size("random_forest"))}
            )
        },
    )
    grid["hist_gradient_boosting"] = (
        HistGradientBoostingClassifier(early_stopping=False),
        {
            "max_iter": boosting
            or sorted(
                {int(v) for v in _spread(10, 200, size("hist_gradient_boosting"))}
            )
        },
    )
    grid["self_distilled_forest"] = (
        SelfDistillationClassifier(forest, n_estimators=10),
        {"n_held_out": _held_out_grid(size("self_distilled_forest"))},
    )
    return grid


# The tree family and its baseline, compared apart from the nets.
TREES = (
    "plain_forest",
    "random_forest",
    "hist_gradient_boosting",
    "self_distilled_forest",
)


def families(names):
    """``[(baseline, recipes)]``: the nets with ``plain``, the trees with
    ``plain_forest`` (each family's first recipe when its baseline is not run)."""
    out = []
    for baseline, members in (
        ("plain", [n for n in names if n not in TREES]),
        ("plain_forest", [n for n in names if n in TREES]),
    ):
        if members:
            out.append((baseline if baseline in members else members[0], members))
    return out


def _held_out_grid(n_points):
    """Values of SELENA's L among K = 10 sub-models, from 1 to 5."""
    return sorted({int(v) for v in np.linspace(1, 5, n_points).round()})


# (K, L) of the self-distilled nets, in the order a grid takes them: SELENA's
# setting of a prototype that cut leakage 6x on a sparse benchmark first (each
# sub-model sees 60% of the data), then sub-models that see more of it.
SPLIT_AI = ((25, 10), (10, 3), (10, 1), (10, 5), (25, 5))

# Noisy copies per record of self_distilled_augmented, and the noise scales
# its grid takes in order (bit-flip probability on binary features, else
# Gaussian noise in feature standard deviations).
AUGMENT_COPIES = 8
AUGMENT_SCALE = (0.1, 0.03, 0.3, 1.0)


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
            f"vs {matched.attrs['baseline']}": [
                _fmt(r.ratio, r.ratio_low, r.ratio_high) for r in matched.itertuples()
            ],
            "best": [
                ("yes (significant)" if s else "yes") if b else ""
                for b, s in zip(matched["best"], matched["significant"], strict=True)
            ],
        }
    )


def _canary_matched(evaluation, results, fprs, drops, **family):
    """Matched table on the mislabeled canaries at their lowest resolved FPR
    (``family``: the ``baseline`` and ``recipes`` of ``matched_accuracy``)."""
    rows = results[results["records"] == "mislabeled"]
    if rows.empty:
        return None
    n_out = int(rows["n_non_member_trials"].iloc[0])
    resolved = [f for f in fprs if n_out >= 10 / f]
    if not resolved:
        return None
    return evaluation.matched_accuracy(
        drops, metric=f"tpr_at_{min(resolved):g}_fpr", records="mislabeled", **family
    )


def _ratio(r):
    """A matched row as ``recipe (drop, ratio [interval])``."""
    return (
        f"{r['recipe']} (drop {r['drop']}, ratio {r['ratio']:.2f} "
        f"[{r['ratio_low']:.2f}, {r['ratio_high']:.2f}])"
    )


def goals(evaluation, matched, canary, nets=True):
    """The issue's goals, read off this run.

    ``matched`` maps each leakage metric to its matched-accuracy table (of one
    family, against its baseline); ``canary`` is the one on the mislabeled
    canaries. ``nets=False`` (the tree family) leaves out the lines on CRL and
    DP-SGD.
    """
    lines = []
    baseline = next(iter(matched.values())).attrs["baseline"]
    for metric, table in matched.items():
        within = table[(table["drop"] <= 1.5) & np.isfinite(table["ratio"])]
        # The smoothed release is an inference-time defense (another threat
        # model): read apart from the training-time recipes.
        smoothed = within["recipe"] == "smoothed"
        training = within[~smoothed]
        for label, rows, factor in (
            ("training-time defenses", training, 2),
            ("training-time defenses", training, 4),
            *([("smoothed release", within[smoothed], 2)] if nets else []),
        ):
            cut = rows[(rows["ratio"] <= 1 / factor) & (rows["ratio_high"] < 1)]
            found = ", ".join(map(_ratio, cut.to_dict("records")))
            lines.append(
                f"{metric}: {label} cutting {baseline}'s leakage {factor}x or "
                f"more at a drop <= 1.5 points (ratio interval below 1): "
                f"{found or 'none'}"
            )
        if len(training):
            best = training.loc[training["ratio"].idxmin()]
            lines.append(f"{metric}: lowest ratio at <= 1.5 points: {_ratio(best)}")
    if canary is not None:
        table = canary[(canary["drop"] <= 3) & np.isfinite(canary["ratio"])]
        table = table[table["recipe"] != "smoothed"]
        halved = table[(table["ratio"] <= 0.5) & (table["ratio_high"] < 1)]
        found = ", ".join(map(_ratio, halved.to_dict("records")))
        lines.append(
            f"mislabeled canaries, {canary.attrs['metric']}: training-time "
            f"defenses halving {baseline}'s at a drop <= 3 points (ratio "
            f"interval below 1): {found or 'none'}"
        )
    if not nets:
        return lines
    if "crl_default" in evaluation.recipes:
        # A drop of 100 points puts no constraint on accuracy: the ratio of
        # CRLClassifier()'s one point to the baseline's, paired. Its interval lies
        # below (above) 1 exactly when the paired difference's lies below
        # (above) 0: the two agree on every resample.
        rows = evaluation.results_.query(
            "attack == 'strongest' and records == 'population'"
        )
        acc = dict(zip(rows["recipe"], rows["accuracy"], strict=False))
        for metric in matched:
            r = (
                evaluation.matched_accuracy((100.0,), metric=metric)
                .query("recipe == 'crl_default'")
                .iloc[0]
            )
            lines.append(
                f"default CRL vs {baseline}, {metric}: ratio {r.ratio:.2f} "
                f"[{r.ratio_low:.2f}, {r.ratio_high:.2f}], accuracy "
                f"{100 * (acc['crl_default'] - acc[baseline]):+.1f} points; "
                f"leaks more (interval above 1): {r.ratio_low > 1}"
            )
    rows = evaluation.results_.query(
        "attack == 'strongest' and records == 'population'"
    )
    metric = next(iter(matched))
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
    X, y, X_test, y_test = task_data(name, quick, seed=args.data_seed)
    n_classes = len(np.unique(y))
    epochs, hidden = TASKS[name]
    if quick:
        epochs, hidden = 15, (128, 64)
    grid = recipes(
        X.shape[1],
        n_classes,
        epochs,
        {None: 2} if quick else args.n_points,
        hidden,
        args.device,
        args.split_ai,
        args.noise,
        args.boosting_iterations,
        args.augment_scale,
    )
    if args.recipes:
        grid = {k: v for k, v in grid.items() if k in args.recipes.split(",")}
    M = 6 if quick else args.n_models
    fprs = (0.001, 0.01, 0.1)
    n_canaries = 10 if quick else args.n_canaries or max(50, len(y) // 50)
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
    metrics = ["auc", *(f"tpr_at_{f:g}_fpr" for f in fprs)]
    # The TPR at every resolved FPR (at least 10 / FPR non-member trials),
    # lowest FPR first: the matched tables and the goals read each of them.
    leakages = [f"tpr_at_{f:g}_fpr" for f in fprs if n_out >= 10 / f] or ["auc"]
    metric = leakages[0]
    # Each family against its own baseline: the nets against plain, the trees
    # against the default forest (tagged "trees_").
    matched, canary, goal_lines = {}, {}, []
    for baseline, members in families(list(evaluation.recipes)):
        tag = "trees_" if members[0] in TREES else ""
        family = {"baseline": baseline, "recipes": members}
        matched[tag] = {
            m: evaluation.matched_accuracy(args.drops, metric=m, **family)
            for m in leakages
        }
        canary[tag] = _canary_matched(evaluation, results, fprs, args.drops, **family)
        goal_lines += [
            f"{tag[:-1]}: {line}" if tag else line
            for line in goals(evaluation, matched[tag], canary[tag], nets=not tag)
        ]

    header = (
        f"== {name} (data seed {args.data_seed}): pool {len(y)} records "
        f"({n_classes} classes, {X.shape[1]} features), "
        f"test {len(y_test)}, {M} models per point, "
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
    }
    for tag in matched:
        for m, table in matched[tag].items():
            tables[f"matched_{tag}{m}"] = matched_table(table)
        if canary[tag] is not None:
            key = f"matched_{tag}mislabeled_{canary[tag].attrs['metric']}"
            tables[key] = matched_table(canary[tag])
    goal_lines.append(f"wall time: {wall:.0f} s")
    lines = [
        header,
        "",
        "Frontier (strongest of online LiRA and RMIA, population records):",
        tables["frontier"].to_string(index=False),
        "",
        "Canaries (worst case):",
        tables["canaries"].to_string(index=False),
        "",
    ]
    for key, table in tables.items():
        if key.startswith("matched_"):
            lines += [
                f"Matched accuracy ({key[8:]}; paired bootstrap 95% intervals):",
                table.to_string(index=False),
                "",
            ]
    lines += [*goal_lines, ""]
    print("\n".join(lines), flush=True)
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        results.to_csv(out / f"{name}_results.csv", index=False)
        pd.concat(
            [
                t.assign(metric=m, baseline=t.attrs["baseline"])
                for tag in matched
                for m, t in matched[tag].items()
            ]
            + [
                c.assign(
                    metric=f"mislabeled {c.attrs['metric']}",
                    baseline=c.attrs["baseline"],
                )
                for c in canary.values()
                if c is not None
            ]
        ).to_csv(out / f"{name}_matched.csv", index=False)
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


def _n_points(text):
    """``"3,self_distilled=2"`` -> ``{None: 3, "self_distilled": 2}``."""
    sizes = {}
    for item in text.split(","):
        name, _, value = item.rpartition("=")
        sizes[name or None] = int(value)
    sizes.setdefault(None, 5)
    return sizes


def _numbers(kind):
    """Parser of ``"a,b,..."`` into ``[kind(a), kind(b), ...]``."""
    return lambda text: [kind(v) for v in text.split(",")]


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
        "--n-points",
        type=_n_points,
        default={None: 5},
        help="grid points per recipe: N, or N,recipe=N,... (e.g. 3,self_distilled=2)",
    )
    parser.add_argument(
        "--split-ai",
        type=lambda text: [tuple(map(int, kl.split(":"))) for kl in text.split(",")],
        default=None,
        help="(K, L) of the self-distilled nets, e.g. 10:1,25:10 (default: "
        "SELENA's 25:10, then 10:3, 10:1, 10:5, 25:5)",
    )
    parser.add_argument(
        "--noise",
        type=_numbers(float),
        default=None,
        help="noise multipliers of dpsgd_utility, e.g. 0.3,1 (default: 0, then "
        "--n-points - 1 of them from 0.3 to 1)",
    )
    parser.add_argument(
        "--boosting-iterations",
        type=_numbers(int),
        default=None,
        help="iterations of hist_gradient_boosting, e.g. 5,10,20 (default: "
        "--n-points of them from 10 to 200; 30 classes fit 30 trees an iteration)",
    )
    parser.add_argument(
        "--augment-scale",
        type=_numbers(float),
        default=None,
        help="noise scales of self_distilled_augmented, e.g. 0.1,0.03 (default: "
        "0.1, 0.03, 0.3, 1)",
    )
    parser.add_argument(
        "--drops",
        type=lambda text: tuple(float(v) for v in text.split(",")),
        default=DROPS,
        help="accuracy drops of the matched tables, in points (default 0.5,1.5,3)",
    )
    parser.add_argument(
        "--n-canaries",
        type=int,
        default=None,
        help="canaries of each kind (default: 2%% of the pool, at least 50)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="grid points trained in parallel"
    )
    parser.add_argument(
        "--data-seed",
        type=int,
        default=0,
        help="seed of the task's data: another pool, test set and canaries "
        "(synthetic tasks are drawn anew, real ones split anew; default 0)",
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
