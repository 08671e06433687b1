"""DP auditing of DP-SGD on Adult: the accountant's epsilon beside audited bounds.

For each privacy budget (and the same network without noise or clipping) the
table gives
the epsilon DP-SGD's accountant claims, the one-run lower bound of Steinke,
Nasr & Jagielski (2023) from a single training run with canaries, the
many-runs Clopper-Pearson bound (Jagielski et al. 2020) with as many runs as
fit the time budget, the test accuracy and the wall time. Every bound holds
with 95% confidence at the accountant's delta. Run ``--quick`` for a small
setting; the full table is meant to run unattended in under 20 minutes on 2
CPU cores. A many-runs bound needs at least 4 runs (half calibrate the test,
half are its trials) and hundreds to show much; when fewer fit the budget its
column is NaN: that cost is what one-run auditing removes.

The preprocessing (one-hot encoding, standardization) is fitted on all of
Adult once, as public knowledge; DP covers the rows of the training set.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd
import torch

from skprivacy.audit import DPAuditor
from skprivacy.datasets import load_adult, make_preprocessor
from skprivacy.defense import DPSGDClassifier
from skprivacy.exceptions import DPParameterWarning


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small, fast setting")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of many-runs training per row (default 130, quick 30)",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def setting(quick):
    if quick:
        return {
            "n_train": 2000,
            "n_canaries": 500,
            "epsilons": (1.0, 8.0, None),
            "max_epochs": 30,
            "budget": 30.0,
        }
    return {
        "n_train": 3000,
        "n_canaries": 1000,
        "epsilons": (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, None),
        "max_epochs": 30,
        "budget": 130.0,
    }


def recipe(epsilon, max_epochs, seed):
    """DP-SGD at ``epsilon``; ``None``: the same network, no noise or clipping."""
    private = epsilon is not None
    return DPSGDClassifier(
        hidden_units=(128, 64),
        max_epochs=max_epochs,
        batch_size=256,
        optimizer=torch.optim.SGD,
        lr=0.5,
        target_epsilon=epsilon,
        noise_multiplier=None if private else 0.0,
        max_grad_norm=1.0 if private else 1e3,
        random_state=seed,
    )


def main():
    args = parse_args()
    cfg = setting(args.quick)
    budget = cfg["budget"] if args.budget is None else args.budget
    adult = load_adult()
    X = make_preprocessor(adult, drop=["fnlwgt"]).fit_transform(adult.data)
    X, y = X.astype(np.float32), np.asarray(adult.target)
    order = np.random.default_rng(args.seed).permutation(len(y))
    n = cfg["n_train"]
    train, pool, test = np.split(order, [n, n + 3 * cfg["n_canaries"]])
    audit_data = (X[train], y[train])
    canary_pool = {"X_canary": X[pool], "y_canary": y[pool]}
    print(
        f"Adult: {n} training rows, {cfg['n_canaries']} out-of-distribution "
        "canaries, "
        f"{len(test)} test rows; {budget:.0f} s of many-runs training per row."
    )

    rows = []
    for epsilon in cfg["epsilons"]:
        name = "no DP" if epsilon is None else f"DP-SGD eps={epsilon:g}"
        print(f"{name}: one run...", flush=True)
        start = time.perf_counter()
        with warnings.catch_warnings():
            # No noise is the point of the no-DP row.
            warnings.simplefilter("ignore", DPParameterWarning)
            one = DPAuditor(
                recipe(epsilon, cfg["max_epochs"], args.seed),
                canaries="out_of_distribution",
                n_canaries=cfg["n_canaries"],
                random_state=args.seed,
            ).fit(*audit_data, **canary_pool)
            one_time = time.perf_counter() - start
            report = one.audit(X[test], y[test])
            n_runs = min(64, int(budget // one_time))
            multi_epsilon = math.nan
            if n_runs >= 4:
                print(f"{name}: {n_runs} runs...", flush=True)
                many = DPAuditor(
                    recipe(epsilon, cfg["max_epochs"], args.seed),
                    canaries="out_of_distribution",
                    n_canaries=cfg["n_canaries"],
                    n_runs=n_runs,
                    random_state=args.seed + 1,
                ).fit(*audit_data, **canary_pool)
                multi_epsilon = many.audit().multi_run["epsilon"]
        rows.append(
            {
                "model": name,
                "accountant eps": report.accountant_epsilon,
                "one-run bound": report.one_run["epsilon"],
                "guesses (right/made)": (
                    f"{report.one_run['n_correct']}/{report.one_run['n_guesses']}"
                    if report.one_run["epsilon"] > 0
                    else "-"
                ),
                "runs": n_runs if n_runs >= 4 else 1,
                "many-runs bound": multi_epsilon,
                "test accuracy": report.test_accuracy,
                "one-run time (s)": one_time,
                "row time (s)": time.perf_counter() - start,
            }
        )
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format="{:.3g}".format))
    print(f"delta = {report.delta:g}; bounds at 95% confidence.")
    print(f"Total time: {table['row time (s)'].sum():.0f} s.")


if __name__ == "__main__":
    main()
