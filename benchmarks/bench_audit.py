"""Membership-inference attacks of skprivacy side by side with ART's.

Setting (issue 6): ``make_classification(10000, 64, n_informative=32,
n_classes=4, random_state=0)``; the target is an MLP trained 50 epochs on 2,500
members; 2,500 non-members; the remaining 5,000 records are the population
(non-members of the target). ART's black-box attacks are supervised: they train
their attack model on the target's outputs on 1,250 members + 1,250 non-members,
so every attack is scored on the other 1,250 members + 1,250 non-members. Our
attacks never see membership labels: their references train on random halves of
the 5,000 members and non-members (2,500 records each, like the target), and
their ``predict`` threshold is set on the population at ``target_fpr``.

A TPR at FPR f is resolved only with at least 10/f non-members; unresolved
cells are starred.

Second table (issue 14), attack strength by number of references: every
attack at 0, 1, 2, 4, 16 and 64 references (``--quick``: up to 16) on the same
target, scored on the whole pool (all members and non-members), with AUC and
TPR at 1% and 0.1% FPR, with 95% intervals (AUC: stratified bootstrap; TPR:
``held_out_ci``, threshold and rate on separate halves); a TPR
at FPR f is NaN when fewer than 10/f non-members resolve it. Offline attacks
with one reference score only the records that reference left out (a record
it trained on has no out-reference). References of one size are trained once
and shared through a cache; ``--n-jobs`` trains them in parallel.

Run ``python benchmarks/bench_audit.py`` (a few minutes on one core) or with
``--quick``; ``--no-art`` skips ART (an optional, benchmark-only dependency);
``--table attacks|references`` runs one table only.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import tempfile
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skprivacy.audit import (
    RMIA,
    BaVarIA,
    EntropyAttack,
    LiRA,
    LossAttack,
    MembershipInferenceAuditor,
    PopulationAttack,
    QuantileRegressionAttack,
    ReferenceAttack,
    ShadowModelAttack,
    bootstrap_ci,
    held_out_ci,
    membership_auc,
    tpr_at_fpr,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small, fast setting")
    parser.add_argument("--no-art", action="store_true", help="skip ART")
    parser.add_argument("--n-jobs", type=int, default=1, help="reference jobs")
    parser.add_argument(
        "--hidden", type=int, default=256, help="hidden units of the target MLP"
    )
    parser.add_argument(
        "--data",
        choices=("synthetic", "adult"),
        default="synthetic",
        help="the synthetic 4-class task or rows of UCI Adult",
    )
    parser.add_argument(
        "--max-references",
        type=int,
        default=None,
        help="largest number of references of the strength table",
    )
    parser.add_argument(
        "--table",
        choices=("all", "attacks", "references"),
        default="all",
        help="attacks side by side (with ART), strength by references, or both",
    )
    return parser.parse_args()


def setting(quick):
    if quick:
        return {
            "n_samples": 4000,
            "epochs": 30,
            "refs": (4, 8),
            "main_refs": 8,
            "by_refs": (0, 1, 2, 4, 16),
        }
    return {
        "n_samples": 10000,
        "epochs": 50,
        "refs": (4, 8, 16, 32),
        "main_refs": 8,
        "by_refs": (0, 1, 2, 4, 16, 64),
    }


def metrics(membership, scores, seconds):
    n_out = int((membership == 0).sum())
    row = {"auc": membership_auc(membership, scores), "seconds": seconds}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for fpr in (0.01, 0.001):
            row[fpr] = (tpr_at_fpr(membership, scores, fpr), n_out >= 10 / fpr)
    return row


def fmt(row, name):
    cells = [f"{name:<40}", f"{row['auc']:6.3f}"]
    for fpr in (0.01, 0.001):
        tpr, resolved = row[fpr]
        cells.append(f"{100 * tpr:7.2f}%{'' if resolved else '*'}")
    cells.append(f"{row.get('predict', ''):>13}")
    cells.append(f"{row['train']:>7.1f}" if "train" in row else " " * 7)
    cells.append(f"{row['seconds']:8.1f}")
    return " ".join(cells)


def header():
    cols = ["attack".ljust(40), "   AUC", "TPR@1%  ", "TPR@0.1%", "predict TPR/FPR"]
    return " ".join(cols) + " refs(s) attack(s)"


def run_art(target, X, y, splits, quick):
    from art.attacks.inference.membership_inference import (
        MembershipInferenceBlackBox,
        MembershipInferenceBlackBoxRuleBased,
        ShadowModels,
    )
    from art.estimators.classification.scikitlearn import ScikitlearnClassifier

    n_classes = len(np.unique(y))
    onehot = np.eye(n_classes)
    art_target = ScikitlearnClassifier(target, clip_values=None)
    fit_in, fit_out, eval_idx, membership, population = splits
    Xe, ye = X[eval_idx], onehot[y[eval_idx]]
    rows = {}

    start = time.perf_counter()
    rule = MembershipInferenceBlackBoxRuleBased(art_target)
    scores = rule.infer(Xe, ye, probabilities=True)[:, -1]
    rows["ART rule-based (correct => member)"] = metrics(
        membership, scores, time.perf_counter() - start
    )
    epochs = 30 if quick else 100
    for head in ("rf", "nn"):
        start = time.perf_counter()
        attack = MembershipInferenceBlackBox(
            art_target, attack_model_type=head, nn_model_epochs=epochs
        )
        attack.fit(X[fit_in], onehot[y[fit_in]], X[fit_out], onehot[y[fit_out]])
        scores = attack.infer(Xe, ye, probabilities=True)[:, -1]
        rows[f"ART black-box ({head}), supervised"] = metrics(
            membership, scores, time.perf_counter() - start
        )

    start = time.perf_counter()
    # The fitted wrapper is the template: clone_for_refitting gives unfitted
    # copies of the target's recipe (an unfitted wrapper cannot be cloned).
    shadows = ShadowModels(art_target, num_shadow_models=3, random_state=0)
    member, non_member = shadows.generate_shadow_dataset(
        X[population], onehot[y[population]]
    )
    shadow_seconds = time.perf_counter() - start
    for head in ("rf", "nn"):
        start = time.perf_counter()
        attack = MembershipInferenceBlackBox(
            art_target, attack_model_type=head, nn_model_epochs=epochs
        )
        attack.fit(
            *member[:2], *non_member[:2], pred=member[2], test_pred=non_member[2]
        )
        scores = attack.infer(Xe, ye, probabilities=True)[:, -1]
        rows[f"ART shadow models x3 ({head})"] = metrics(
            membership, scores, time.perf_counter() - start + shadow_seconds
        )
    return rows


# Attack strength by number of references (issue 14). Each entry: the smallest
# number of references it runs with, and the attack.
BY_REFERENCES = {
    "loss (Yeom)": (0, LossAttack),
    "quantile regression (QMIA)": (0, QuantileRegressionAttack),
    "quantile, 50-NN regressor": (
        0,
        lambda: QuantileRegressionAttack(
            regressor=make_pipeline(StandardScaler(), KNeighborsRegressor(50))
        ),
    ),
    "RMIA offline": (1, RMIA),
    "LiRA offline": (2, lambda: LiRA(online=False)),
    "BaVarIA offline": (1, lambda: BaVarIA(online=False)),
    "RMIA online": (4, lambda: RMIA(online=True)),
    "LiRA online": (4, LiRA),
    "BaVarIA online": (4, BaVarIA),
}
# Reference-free attacks are only run at 0 references (more would not change
# their scores).
REFERENCE_FREE = tuple(name for name, (low, _) in BY_REFERENCES.items() if low == 0)
FPRS = (0.01, 0.001)


def membership_of_pool(members, pool):
    return np.isin(pool, members).astype(int)


def strength(membership, scores):
    """AUC and TPR at each FPR with 95% intervals; NaN if unresolved."""
    n_out = int((membership == 0).sum())
    row = {"n": len(membership)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        low, high = bootstrap_ci(membership_auc, membership, scores, random_state=0)
        row["auc"] = (membership_auc(membership, scores), low, high)
        for fpr in FPRS:
            if n_out < 10 / fpr:
                row[fpr] = (np.nan, np.nan, np.nan)
                continue
            # A threshold chosen on the resampled records makes a bootstrap
            # interval of a TPR too narrow: held_out_ci splits the records.
            low, high = held_out_ci(
                membership, scores, metric="tpr_at_fpr", fpr=fpr, random_state=0
            )
            row[fpr] = (tpr_at_fpr(membership, scores, fpr), low, high)
    return row


def strength_by_references(
    frozen, X, y, pool, membership, population, sizes, cache, n_jobs
):
    Xp, yp = X[pool], y[pool]
    rows, train_seconds = [], {}
    for M in sizes:
        for name, (minimum, make) in BY_REFERENCES.items():
            if M < minimum or (name in REFERENCE_FREE and M > 0):
                continue
            auditor = MembershipInferenceAuditor(
                frozen,
                attack=make(),
                n_references=M,
                n_jobs=n_jobs,
                memory=cache,
                random_state=0,
            )
            start = time.perf_counter()
            auditor.fit(Xp, yp, X_population=X[population], y_population=y[population])
            # The first auditor of a size trains its references; the others
            # load them from the cache.
            train_seconds.setdefault(M, time.perf_counter() - start)
            keep = auditor.reference_membership_
            # A record every reference trained on has no out-reference.
            scored = (~keep).any(axis=0) if M > 0 else np.ones(len(pool), bool)
            scores = auditor.score_samples(Xp[scored], yp[scored])
            rows.append((name, M, strength(membership[scored], scores)))
    print(
        "attack strength by number of references: scored on the pool "
        f"({membership.sum()} members + {(membership == 0).sum()} non-members; "
        "with 1 reference, the half it left out); [95% CI: AUC bootstrap, TPR "
        "held-out]; "
        "nan = FPR not resolved (fewer than 10/FPR non-members)"
    )
    print(
        "reference training: "
        + ", ".join(f"{M} refs {s:.1f}s" for M, s in train_seconds.items() if M)
        + "\n"
    )
    print(
        f"{'attack':<28} {'refs':>4} {'records':>7}  {'AUC [CI]':<21} "
        f"{'TPR@1% [CI]':<24} {'TPR@0.1% [CI]':<24}"
    )
    for name, M, row in rows:
        cells = [f"{name:<28} {M:>4} {row['n']:>7} "]
        for key, scale in (("auc", 1), (0.01, 100), (0.001, 100)):
            value, low, high = (scale * v for v in row[key])
            unit = "%" if scale == 100 else ""
            cells.append(
                f"{value:.3f} [{low:.3f}, {high:.3f}]{unit}".ljust(
                    21 if key == "auc" else 24
                )
            )
        print(" ".join(cells))
    by_name = {(name, M): row for name, M, row in rows}
    loss, quantile = (
        by_name[("loss (Yeom)", 0)],
        by_name[("quantile regression (QMIA)", 0)],
    )
    print(
        "\nzero references, TPR@1% FPR: quantile "
        f"{100 * quantile[0.01][0]:.2f}% vs loss {100 * loss[0.01][0]:.2f}%"
    )
    print()


def load_data(name, n):
    """``n`` numeric records: the synthetic task, or rows of Adult one-hot encoded
    (the quantile attack and the query attacks read numeric features)."""
    if name == "synthetic":
        X, y = make_classification(
            n_samples=n, n_features=64, n_informative=32, n_classes=4, random_state=0
        )
        return X, y, f"make_classification({n}, 64, n_informative=32, n_classes=4)"
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    from skprivacy.datasets import load_adult

    X, y = load_adult(as_frame=True, return_X_y=True, dropna=True)
    encode = make_column_transformer(
        (OneHotEncoder(), make_column_selector(dtype_include="category")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
        sparse_threshold=0,
    )
    X = np.column_stack([encode.fit_transform(X), y])
    # Adult repeats rows: a "non-member" equal to a member would be mislabelled.
    X = np.unique(X, axis=0)
    X = X[np.random.default_rng(0).permutation(len(X))[:n]]
    X, y = X[:, :-1], X[:, -1].astype(int)
    return X, y, f"Adult, {n} distinct rows, one-hot encoded ({X.shape[1]} columns)"


def main():
    args = parse_args()
    cfg = setting(args.quick)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    n = cfg["n_samples"]
    X, y, data_name = load_data(args.data, n)
    perm = np.random.default_rng(0).permutation(n)
    quarter = n // 4
    members, non_members, population = (
        perm[:quarter],
        perm[quarter : 2 * quarter],
        perm[2 * quarter :],
    )
    half = quarter // 2
    fit_in, fit_out = members[:half], non_members[:half]
    eval_idx = np.r_[members[half:], non_members[half:]]
    membership = np.r_[np.ones(quarter - half), np.zeros(quarter - half)].astype(int)
    pool = np.r_[members, non_members]

    recipe = MLPClassifier((args.hidden,), max_iter=cfg["epochs"], random_state=0)
    start = time.perf_counter()
    target = clone(recipe).fit(X[members], y[members])
    target_seconds = time.perf_counter() - start
    print(
        f"data: {data_name}; "
        f"target MLP({args.hidden}) {cfg['epochs']} epochs on {quarter} members in "
        f"{target_seconds:.1f}s: train acc {target.score(X[members], y[members]):.3f}, "
        f"test acc {target.score(X[non_members], y[non_members]):.3f}"
    )
    print(
        f"scored on {len(eval_idx) // 2} members + {len(eval_idx) // 2} non-members; "
        f"references on halves of a {len(pool)}-record pool; population "
        f"{len(population)}; * = FPR not resolved (fewer than 10/FPR non-members)\n"
    )
    frozen = FrozenEstimator(target)
    cache = tempfile.TemporaryDirectory()

    def audit(attack, n_references):
        auditor = MembershipInferenceAuditor(
            frozen,
            attack=attack,
            n_references=n_references,
            target_fpr=0.01,
            n_jobs=args.n_jobs,
            memory=cache.name,
            random_state=0,
        )
        start = time.perf_counter()
        auditor.fit(
            X[pool], y[pool], X_population=X[population], y_population=y[population]
        )
        scores = auditor.score_samples(X[eval_idx], y[eval_idx])
        predicted = auditor.predict(X[eval_idx], y[eval_idx])
        row = metrics(membership, scores, time.perf_counter() - start)
        row["predict"] = (
            f"{predicted[membership == 1].mean():.3f}/"
            f"{predicted[membership == 0].mean():.3f}"
        )
        return row

    if args.table in ("all", "references"):
        strength_by_references(
            frozen,
            X,
            y,
            pool,
            membership_of_pool(members, pool),
            population,
            [
                M
                for M in cfg["by_refs"]
                if args.max_references is None or M <= args.max_references
            ],
            cache.name,
            args.n_jobs,
        )
    if args.table in ("all", "attacks"):
        attacks_side_by_side(
            args,
            cfg,
            audit,
            target,
            X,
            y,
            (fit_in, fit_out, eval_idx, membership, population),
        )
    cache.cleanup()


def attacks_side_by_side(args, cfg, audit, target, X, y, splits):
    # Reference training, timed once per size (attacks then reuse the cache).
    train_seconds = {}
    for M in cfg["refs"]:
        start = time.perf_counter()
        audit(LossAttack(), M)
        train_seconds[M] = time.perf_counter() - start
    print(
        "reference training (MLP, same recipe as the target): "
        + ", ".join(f"{M} refs {s:.1f}s" for M, s in train_seconds.items())
        + "\n"
    )

    M = cfg["main_refs"]
    # Auditors of one size share references through the cache; the timing
    # above is the honest training cost.
    ours = {
        "loss (Yeom), no references": (LossAttack(), 0),
        "population (Attack-P, hinge)": (PopulationAttack(signal="hinge"), 0),
        f"mentr class thresholds, {M} refs": (EntropyAttack(), M),
        f"reference (Attack-R), {M} refs": (ReferenceAttack(signal="logit"), M),
        f"shadow (HGB head, per class), {M}": (ShadowModelAttack(), M),
        f"shadow (MLP head), {M} refs": (
            ShadowModelAttack(MLPClassifier((64,), max_iter=200), per_class=False),
            M,
        ),
        f"LiRA offline, {M} refs": (LiRA(online=False), M),
    }
    for M_ in cfg["refs"]:
        ours[f"LiRA online, {M_} refs"] = (LiRA(), M_)
        ours[f"RMIA offline, {M_} refs"] = (RMIA(), M_)
        ours[f"RMIA online, {M_} refs"] = (RMIA(online=True), M_)
    rows = {}
    for name, (attack, n_refs) in ours.items():
        rows[f"ours: {name}"] = audit(attack, n_refs)
        rows[f"ours: {name}"]["train"] = train_seconds.get(n_refs, 0.0)
    if not args.no_art:
        rows.update(run_art(target, X, y, splits, args.quick))

    print(header())
    for name, row in rows.items():
        print(fmt(row, name))
    best_ours = max((r["auc"], k) for k, r in rows.items() if k.startswith("ours"))
    best_tpr = max((r[0.01][0], k) for k, r in rows.items() if k.startswith("ours"))
    art = [(r["auc"], k) for k, r in rows.items() if k.startswith("ART")]
    print(f"\nbest AUC of ours: {best_ours[0]:.3f} ({best_ours[1]})")
    print(f"best TPR@1% FPR of ours: {100 * best_tpr[0]:.2f}% ({best_tpr[1]})")
    if art:
        best_art = max(art)
        print(
            f"best AUC of ART: {best_art[0]:.3f} ({best_art[1]}); "
            f"ratio ours/ART {best_ours[0] / best_art[0]:.3f}"
        )
    print(
        "refs(s): training the references once (shared by all attacks of that "
        "size); attack(s): ours = loading cached references + attack fit + "
        "scoring; ART = attack-model fit (+ shadow models) + inference."
    )


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)  # ART's nn attack model
    with threadpool_limits(1):  # one core each: the benchmark machine is shared
        main()
