"""Robust Privacy (Jin et al. 2026): the tabular task, label-only inversion, a sweep.

Three experiments (``--experiment insurance|inversion|recommendation|all``);
``--quick`` shrinks each. The tables and their reading are in
docs/user_guide/robust_privacy.rst (E1, E2) and attribute_privacy.rst (the sweep).

**E1, insurance (the paper's Table 1).** The Medical Insurance Cost data
(``--data-home`` with your ``insurance.csv``; otherwise the surrogate
``make_insurance_like(1338, random_state=0)``), label ``bmi >= 30`` (our
assumption), ``charges`` dropped, stratified 80/20 split (seed 0), features
standardized on the training rows. Base: MLP 64 ReLU units, Adam lr 1e-3, batch
64, 200 epochs (quick: 60), with ``SensitiveFocusPenalty`` (``--l1-penalty``,
default 1e-3) on every input but BMI. Releases: plain; ``SmoothedClassifier``
(``feature_scale="std"``, always-label, ``N = n_predict``) at sigma in {0.25, 0.5,
1, 2, 3} (and 4, beyond the paper's grid) with noise on every column and a
noise-trained base, N in {100, 1000, 10000} at sigma 2 (quick: 100, 1000), noise
on BMI only at sigma 1-3, and the plain model smoothed without retraining at
sigma 2; randomized response; DP-SGD (no focus penalty). Columns: accuracy,
positive rate, median compatible BMI length over positive / negative releases /
all rows (grid 0.1 BMI, quick 0.5), median lower end of positive intervals, mean
precision, average certified radius (CERTIFY n0=100, n=100,000 (quick: 1,000),
alpha=0.001), median certified widths (ball / 8-anchor chain), the label-only MAP
attack within +-2 BMI and the prior-only rate. The acceptance checks of the
reproduction spec follow the table.

**E2, inversion (CPU analogue of the paper's face experiment).** 100 identities
as Gaussian clusters in a 10-dimensional latent space, rendered to 40 features
by a fixed random decoder (also the attacker's generator); target MLP(128),
evaluator 5-NN on other samples; ``BoundaryRepulsionInversion`` against no
defense, ``SmoothedClassifier`` over the frozen target (sigma in feature units),
randomized response (p_keep) and DP-SGD. Columns: accuracy on the top-confidence
set and on test samples, ASR with its 95% Clopper-Pearson interval, top-5 ASR,
median queries per identity, forward passes. The face version is
``benchmarks/brep_faces.py`` (local assets, GPU).

**Recommendation sweep (issue 5).** ``make_recommendation(n_samples=8000,
random_state=0)``: the label "recommend" is driven mainly by ``bmi`` (column 0,
domain [15, 50]); base ``StandardScaler`` + ``MLPClassifier((32,))`` trained on
rows 0-3999 (also the adversary's prior data), targets rows 4000-4999 (quick:
300); the latent-score oracle (Bayes classifier), the plain MLP, randomized
response and ``SmoothedClassifier`` (noise on bmi or every column, abstain on or
off, several sigma and n_predict). Measured: accuracy and abstention rate; the
label-only MAP attack (35 unit bins, ``n_queries=2``) by exact bin and within +-2
BMI with 95% Clopper-Pearson intervals beside the prior-only rates; the median
compatible measure and hull; certified widths on the first 100 targets.

Run everything on one thread: ``python benchmarks/bench_robust_privacy.py``
(E1 full: tens of CPU minutes, dominated by N = 10,000 and n = 100,000; E2 full:
about an hour; quick: a few minutes each).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import itertools
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch
from threadpoolctl import threadpool_limits

from skprivacy import SmoothedClassifier
from skprivacy.audit import AttributeInferenceAttack
from skprivacy.certify import compatible_intervals
from skprivacy.datasets import make_recommendation
from skprivacy.defense import RandomizedResponseClassifier

BINS, TOLERANCE, N_QUERIES = 35, 2.0, 2


def base_model():
    return make_pipeline(
        StandardScaler(),
        MLPClassifier((32,), max_iter=300, random_state=0),
    )


class LatentScoreOracle:
    """The Bayes classifier of ``make_recommendation``: the sign of the latent score."""

    def __init__(self, rec):
        self.rec = rec

    def predict(self, X):
        X = np.asarray(X)
        z = (X[:, 0] - self.rec.threshold) / 6.0 + 0.3 * X[:, 1:] @ self.rec.coef
        return (z > 0).astype(int)


def measure(name, release, X_prior, X_t, y_t, domain, certifier=None):
    start = time.perf_counter()
    predicted = release.predict(X_t)
    abstained = ~np.isin(predicted, np.unique(y_t))
    attack = AttributeInferenceAttack(
        release, 0, domain=domain, bins=BINS, tolerance=TOLERANCE, n_queries=N_QUERIES
    ).fit(X_prior)
    report = attack.evaluate(X_t)
    compatible = compatible_intervals(
        release, X_t, 0, domain=domain, grid=BINS, released=predicted
    )
    row = {
        "release": name,
        "acc": float(np.mean(predicted == y_t)),
        "abst": float(np.mean(abstained)),
        "exact": report.success_rate,
        "exact_ci": report.success_rate_ci,
        "prior_exact": report.prior_success_rate,
        "tol": report.success_rate_within_tolerance,
        "tol_ci": report.success_rate_within_tolerance_ci,
        "prior_tol": report.prior_success_rate_within_tolerance,
        "prior_tol_ci": report.prior_success_rate_within_tolerance_ci,
        "adv": report.advantage,
        "measure": compatible.median_measure,
        "hull": compatible.median_hull_length,
        "cert": np.nan,
        "chain": np.nan,
    }
    if certifier is not None:
        rows = X_t[:100]
        for key, n_anchors in (("cert", 1), ("chain", 8)):
            _, lower, upper = certifier.certify_attribute(
                rows, 0, domain=domain, n_anchors=n_anchors
            )
            # Abstentions certify nothing: width 0.
            row[key] = float(np.median(np.nan_to_num(upper - lower, nan=0.0)))
    row["seconds"] = time.perf_counter() - start
    return row


def print_table(rows):
    header = (
        "| release | acc | abst | MAP exact [95% CI] | prior exact | MAP +-2 [95% CI] "
        "| prior +-2 [95% CI] | adv +-2 | median compat. measure | median hull "
        "| median cert. width (1 / 8 anchors) |"
    )
    print(header)
    print("|---" * 11 + "|")
    for r in rows:
        cert = "n/a" if np.isnan(r["cert"]) else f"{r['cert']:.2f} / {r['chain']:.2f}"
        print(
            f"| {r['release']} | {r['acc']:.3f} | {r['abst']:.3f} "
            f"| {r['exact']:.3f} [{r['exact_ci'][0]:.3f}, {r['exact_ci'][1]:.3f}] "
            f"| {r['prior_exact']:.3f} "
            f"| {r['tol']:.3f} [{r['tol_ci'][0]:.3f}, {r['tol_ci'][1]:.3f}] "
            f"| {r['prior_tol']:.3f} [{r['prior_tol_ci'][0]:.3f}, "
            f"{r['prior_tol_ci'][1]:.3f}] | {r['adv']:+.3f} "
            f"| {r['measure']:.1f} | {r['hull']:.1f} | {cert} |"
        )


def targets_met(rows):
    plain = rows[0]
    print()
    print("Targets (advantage = success within +-2 minus prior-only success):")
    low_loss = [
        r
        for r in rows
        if r["release"].startswith("smoothed")
        and r["acc"] >= plain["acc"] - 0.005
        and r["adv"] <= plain["adv"] * 2 / 3
    ]
    print(
        "1. accuracy drop <= 0.5 pt and advantage cut by >= 1/3: "
        + (", ".join(r["release"] for r in low_loss) if low_loss else "not met")
    )
    at_prior = [
        r
        for r in rows[1:]
        if r["release"].startswith("smoothed")
        and r["tol_ci"][0] <= r["prior_tol"]
        and r["exact_ci"][0] <= r["prior_exact"]
    ]
    print(
        "2. attack no better than the prior-only guess (prior rate inside or above "
        "the attack's 95% CI, both criteria): "
        + (
            ", ".join(f"{r['release']} (acc {r['acc']:.3f})" for r in at_prior)
            if at_prior
            else "not met"
        )
    )
    wider = [
        r
        for r in rows[1:]
        if r["release"].startswith("smoothed") and r["measure"] > plain["measure"]
    ]
    print(
        f"3. median compatible measure wider than the plain model's "
        f"({plain['measure']:.1f}): "
        + (
            ", ".join(f"{r['release']} ({r['measure']:.1f})" for r in wider)
            if wider
            else "not met"
        )
    )


def recommendation_experiment(args):
    rec = make_recommendation(n_samples=8000, random_state=0)
    X, y, domain = rec.data, rec.target, rec.sensitive_domain
    X_train, y_train = X[:4000], y[:4000]
    n_targets = 300 if args.quick else 1000
    X_t, y_t = X[4000 : 4000 + n_targets], y[4000 : 4000 + n_targets]
    sigmas = (0.1, 0.5, 2.0) if args.quick else (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
    epsilons = (2.0, 0.5) if args.quick else (4.0, 2.0, 1.0, 0.5)
    print(
        f"make_recommendation(8000, seed 0): train/prior 4000 rows, {n_targets} "
        f"targets; attack: {BINS} unit bins on {domain}, tolerance +-{TOLERANCE}, "
        f"{N_QUERIES} queries per bin"
    )
    rows = []
    plain = base_model().fit(X_train, y_train)
    rows.append(measure("plain MLP", plain, X_train, X_t, y_t, domain))
    oracle = LatentScoreOracle(rec)
    rows.append(
        measure("latent-score oracle (Bayes)", oracle, X_train, X_t, y_t, domain)
    )
    for eps in epsilons:
        rr = RandomizedResponseClassifier(base_model(), epsilon=eps, random_state=0)
        rows.append(
            measure(
                f"randomized response eps={eps:g}",
                rr.fit(X_train, y_train),
                X_train,
                X_t,
                y_t,
                domain,
            )
        )
    settings = [("bmi", s, 100) for s in sigmas]
    settings += [("bmi", 0.5, 1000), ("all", 0.5, 100)]
    if not args.quick:
        settings += [("bmi", 0.1, 1000), ("all", 0.1, 100)]
    for noised, sigma, n_predict in settings:
        smoothed = SmoothedClassifier(
            base_model(),
            sigma=sigma,
            n_predict=n_predict,
            n=10_000,
            noise_features=[0] if noised == "bmi" else None,
            feature_scale="std",
            n_augment=4,
            batch_size=65536,
            random_state=0,
        ).fit(X_train, y_train)
        for abstain in (False, True):
            smoothed.set_params(abstain=abstain)
            name = (
                f"smoothed noise={noised} sigma={sigma:g} n_predict={n_predict} "
                f"abstain={'on' if abstain else 'off'}"
            )
            rows.append(
                measure(
                    name,
                    smoothed,
                    X_train,
                    X_t,
                    y_t,
                    domain,
                    certifier=None if abstain else smoothed,
                )
            )
            print(f"  done: {name} ({rows[-1]['seconds']:.0f} s)", flush=True)
    print()
    print_table(rows)
    targets_met(rows)


# ---------------------------------------------------------------------------
# E1: the insurance BMI task of the paper (tabular; sigma in standard deviations)
# ---------------------------------------------------------------------------
PAPER_POSITIVE_LENGTH = (23.50, 29.96)  # median compatible length, base -> RP
PAPER_AVG_RADIUS = {1.0: 0.56, 2.0: 0.63, 3.0: 0.65}


def focus_net(args, focus=True):
    """The sensitive-focus MLP: 64 ReLU units, Adam, l1 on non-BMI inputs."""
    from skprivacy.defense import CRLClassifier, SensitiveFocusPenalty

    callbacks = [("focus", SensitiveFocusPenalty(1, l1_penalty=args.l1_penalty))]
    return CRLClassifier(
        crl=False,
        hidden_units=(64,),
        lr=1e-3,
        batch_size=64,
        max_epochs=60 if args.quick else 200,
        random_state=0,
        callbacks=callbacks if focus else None,
    )


def insurance_data(args):
    """Stratified 80/20 split, standardized with the training rows' statistics.

    The models see standardized features (the paper standardizes before
    training), so ``sigma`` and radii are in standard deviations; BMI lengths
    and ends are converted back to raw BMI units for the table.
    """
    from sklearn.model_selection import train_test_split

    from skprivacy.datasets import load_medical_insurance, make_insurance_like

    if args.data_home is not None:
        ins = load_medical_insurance(args.data_home)
        source = f"insurance.csv from {args.data_home}"
    else:
        ins = make_insurance_like(random_state=0)
        source = "make_insurance_like(1338, random_state=0) (surrogate)"
    X_tr, X_te, y_tr, y_te = train_test_split(
        ins.data, ins.target, test_size=0.2, stratify=ins.target, random_state=0
    )
    scaler = StandardScaler().fit(X_tr)
    mean, scale = scaler.mean_[1], scaler.scale_[1]
    low, high = ins.sensitive_domain
    return Bunch(
        source=source,
        X_train=scaler.transform(X_tr),
        X_test=scaler.transform(X_te),
        y_train=y_tr,
        y_test=y_te,
        bmi_test=X_te[:, 1],
        mean=mean,
        scale=scale,
        domain=((low - mean) / scale, (high - mean) / scale),
        raw_domain=(low, high),
    )


def measure_insurance(name, release, data, args, certifier=None):
    start = time.perf_counter()
    X_t, y_t, s = data.X_test, data.y_test, data.scale
    predicted = release.predict(X_t)
    positive = predicted == 1
    width = data.raw_domain[1] - data.raw_domain[0]
    grid = round(width / (0.5 if args.quick else 0.1))
    compatible = compatible_intervals(
        release, X_t, 1, domain=data.domain, grid=grid, released=predicted
    )
    attack = AttributeInferenceAttack(
        release,
        1,
        domain=data.domain,
        bins=BINS,
        tolerance=TOLERANCE / s,
        n_queries=N_QUERIES,
    ).fit(data.X_train)
    report = attack.evaluate(X_t)

    def median(values):
        return float(np.median(values)) if len(values) else np.nan

    row = {
        "release": name,
        "acc": float(np.mean(predicted == y_t)),
        "pos": float(np.mean(positive)),
        "len_all": s * median(compatible.measure),
        "len_pos": s * median(compatible.measure[positive]),
        "len_neg": s * median(compatible.measure[~positive]),
        "lower_pos": data.mean + s * median(compatible.lower[positive]),
        "precision": compatible.mean_precision,
        "tol": report.success_rate_within_tolerance,
        "tol_ci": report.success_rate_within_tolerance_ci,
        "prior_tol": report.prior_success_rate_within_tolerance,
        "avg_r": np.nan,
        "ball": np.nan,
        "chain": np.nan,
        "positive_bmi": data.bmi_test[positive],
    }
    if certifier is not None:
        rows = X_t if not args.quick else X_t[:100]
        _, radii = certifier.certify(rows)
        row["avg_r"] = float(np.mean(radii))  # abstentions have radius 0
        for key, n_anchors in (("ball", 1), ("chain", 8)):
            _, lower, upper = certifier.certify_attribute(
                rows, 1, domain=data.domain, n_anchors=n_anchors
            )
            row[key] = s * float(np.median(np.nan_to_num(upper - lower, nan=0.0)))
    row["seconds"] = time.perf_counter() - start
    return row


def insurance_releases(args, data):
    """Yield (name, release, certifier, setting) for every row of Table E1.

    ``setting`` holds the smoothing parameters of RP rows (``sigma``, ``N``,
    ``noise`` "all" or "bmi", ``fit_noise``), empty for the others.
    """
    from skprivacy.defense import DPSGDClassifier

    X, y = data.X_train, data.y_train
    plain = focus_net(args).fit(X, y)
    weights = plain.module_.body[0].weight.detach().numpy()
    print(
        f"  plain focus net: max |first-layer weight| bmi "
        f"{np.abs(weights[:, 1]).max():.3f}, other inputs "
        f"{np.abs(np.delete(weights, 1, axis=1)).max():.3g} "
        f"(l1_penalty={args.l1_penalty:g})",
        flush=True,
    )
    yield "plain (focus MLP)", plain, None, {}
    n_cert = 1_000 if args.quick else 100_000
    n_values = (100, 1000) if args.quick else (100, 1000, 10_000)
    sigmas = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)

    def smoothed(sigma, noise_features=None, fit_noise=True, net=None):
        return SmoothedClassifier(
            net if net is not None else focus_net(args),
            sigma=sigma,
            feature_scale="std",
            noise_features=noise_features,
            fit_noise=fit_noise,
            n_predict=100,
            n0=100,
            n=n_cert,
            alpha=0.001,
            batch_size=65536,
            random_state=0,
        ).fit(X, y)

    for sigma in sigmas:
        model = smoothed(sigma)
        extra = " (beyond the paper's grid)" if sigma > 3 else ""
        setting = {"sigma": sigma, "N": 100, "noise": "all", "fit_noise": True}
        yield f"RP sigma={sigma:g} all cols N=100{extra}", model, model, setting
        if sigma == 2.0:
            for n_predict in n_values[1:]:
                model.set_params(n_predict=n_predict)
                setting = {**setting, "N": n_predict}
                yield f"RP sigma=2 all cols N={n_predict}", model, None, setting
            model.set_params(n_predict=100)
    for sigma in (1.0, 2.0, 3.0):
        model = smoothed(sigma, noise_features=[1])
        setting = {"sigma": sigma, "N": 100, "noise": "bmi", "fit_noise": True}
        yield f"RP sigma={sigma:g} bmi only N=100", model, model, setting
    frozen = FrozenEstimator(plain)
    model = smoothed(2.0, fit_noise=False, net=frozen)
    setting = {"sigma": 2.0, "N": 100, "noise": "all", "fit_noise": False}
    yield "RP sigma=2 all cols, base not noise-trained", model, model, setting
    for eps in (4.0, 2.0, 1.0, 0.5) if not args.quick else (2.0, 0.5):
        rr = RandomizedResponseClassifier(frozen, epsilon=eps, random_state=0)
        yield f"randomized response eps={eps:g}", rr.fit(X, y), None, {}
    for eps in (8.0, 2.0) if args.quick else (16.0, 8.0, 4.0, 2.0, 1.0):
        dp = DPSGDClassifier(
            hidden_units=(64,),
            target_epsilon=eps,
            max_epochs=30,
            batch_size=64,
            optimizer=torch.optim.SGD,
            lr=0.5,
            random_state=0,
        ).fit(X, y)
        yield f"DP-SGD eps={eps:g} (delta={dp.delta_:.1e}, no focus)", dp, None, {}


def print_insurance_table(rows, data, args):
    n_cert = 1_000 if args.quick else 100_000
    print(
        f"\nTable E1. Data: {data.source}; stratified 80/20 split (seed 0), "
        f"{len(data.y_test)} test rows. sigma and Avg R in standard deviations of "
        f"the training columns; lengths and ends in raw BMI over "
        f"{data.raw_domain} (grid step {0.5 if args.quick else 0.1}). Always-label "
        f"release (no abstention), N = n_predict; CERTIFY n0=100, n={n_cert}, "
        f"alpha=0.001 on {100 if args.quick else len(data.y_test)} test rows "
        f"(abstention = radius 0, width 0). Attack: label-only MAP, {BINS} bins, "
        f"{N_QUERIES} queries per bin, success within +-{TOLERANCE} BMI [95% CI]."
    )
    header = (
        "| release | acc | pos. rate | median len, positive releases | median len, "
        "negative releases | median len, all | median lower end (pos.) | mean "
        "precision | Avg R | cert. width ball / chain-8 | MAP +-2 [95% CI] | prior "
        "+-2 |"
    )
    print(header)
    print("|---" * 12 + "|")
    for r in rows:
        cert = "n/a" if np.isnan(r["ball"]) else f"{r['ball']:.2f} / {r['chain']:.2f}"
        avg_r = "n/a" if np.isnan(r["avg_r"]) else f"{r['avg_r']:.2f}"
        print(
            f"| {r['release']} | {r['acc']:.3f} | {r['pos']:.2f} | {r['len_pos']:.2f} "
            f"| {r['len_neg']:.2f} | {r['len_all']:.2f} | {r['lower_pos']:.2f} "
            f"| {r['precision']:.3f} | {avg_r} | {cert} "
            f"| {r['tol']:.3f} [{r['tol_ci'][0]:.3f}, {r['tol_ci'][1]:.3f}] "
            f"| {r['prior_tol']:.3f} |"
        )


def insurance_acceptance(rows, data):
    """The reproduction spec's checks (robust_privacy_paper.md, section 3.3)."""
    real = not data.source.startswith("make_insurance_like")
    tolerance = 1.0 if real else 2.0
    plain = rows[0]

    def smoothed_rows(**wanted):
        return [
            r
            for r in rows
            if r["setting"]
            and all(r["setting"][key] == value for key, value in wanted.items())
        ]

    main = smoothed_rows(noise="all", fit_noise=True, N=100)
    sweep = [(r["setting"]["sigma"], r) for r in main]
    print(f"\nAcceptance (paper anchors; tolerance +-{tolerance} on lengths):")
    ok = abs(plain["len_pos"] - PAPER_POSITIVE_LENGTH[0]) <= tolerance
    print(
        f"- plain median length over positive releases {plain['len_pos']:.2f} vs "
        f"23.50: {'met' if ok else 'NOT met'}"
    )
    paper_grid = [(sg, r) for sg, r in sweep if sg <= 3]
    below = [sg for sg, r in paper_grid if r["len_pos"] <= PAPER_POSITIVE_LENGTH[1]]
    above = [sg for sg, r in paper_grid if r["len_pos"] >= PAPER_POSITIVE_LENGTH[1]]
    close = [
        (sg, r)
        for sg, r in sweep
        if abs(r["len_pos"] - PAPER_POSITIVE_LENGTH[1]) <= 1.5
    ]
    lengths_text = ", ".join(f"{sg:g}: {r['len_pos']:.2f}" for sg, r in sweep)
    everywhere = [r["len_pos"] for _, r in sweep]
    print(
        f"- sigma <= 3 brackets 29.96: {'met' if below and above else 'NOT met'}; "
        "with sigma = 4: "
        f"{'met' if min(everywhere) <= 29.96 <= max(everywhere) else 'NOT met'} "
        f"(lengths {lengths_text}); "
        + (
            f"first sigma within +-1.5: {close[0][0]:g} (accuracy "
            f"{close[0][1]['acc']:.3f})"
            if close
            else "no sigma within +-1.5"
        )
    )
    lengths = [r["len_pos"] for _, r in paper_grid]
    monotone = all(b >= a - 0.5 for a, b in itertools.pairwise(lengths))
    print(f"- non-decreasing in sigma (slack 0.5): {'met' if monotone else 'NOT met'}")
    radii = ", ".join(
        f"sigma={sg:g}: {r['avg_r']:.2f} (paper {PAPER_AVG_RADIUS[sg]:.2f})"
        for sg, r in sweep
        if sg in PAPER_AVG_RADIUS
    )
    print(f"- Avg R (not a blocker; depends on the unknown N, alpha): {radii}")
    n_rows = smoothed_rows(noise="all", fit_noise=True, sigma=2.0)
    first, last = n_rows[0], n_rows[-1]
    together = (
        last["acc"] >= first["acc"] - 0.01 and last["len_pos"] >= first["len_pos"] - 0.5
    )
    print(
        f"- N effect at sigma=2 ({first['release']} -> {last['release']}): accuracy "
        f"{first['acc']:.3f} -> {last['acc']:.3f}, length {first['len_pos']:.2f} -> "
        f"{last['len_pos']:.2f}: {'met' if together else 'NOT met'}"
    )
    nearest = min(sweep, key=lambda item: abs(item[1]["len_pos"] - 29.96))[1]
    print(
        f"- precision at the sigma closest to 29.96 ({nearest['release']}): "
        f"{nearest['precision']:.3f} < plain {plain['precision']:.3f}: "
        f"{'met' if nearest['precision'] < plain['precision'] else 'NOT met'}"
    )
    print(
        f"- honesty: negative releases' median length {plain['len_neg']:.2f} (plain) "
        f"-> {nearest['len_neg']:.2f}; positive {plain['len_pos']:.2f} -> "
        f"{nearest['len_pos']:.2f}: the boundary moves left, so what positives gain "
        "negatives lose."
    )


def insurance_experiment(args):
    data = insurance_data(args)
    rows = []
    for name, release, certifier, setting in insurance_releases(args, data):
        rows.append(measure_insurance(name, release, data, args, certifier))
        rows[-1]["setting"] = setting
        print(f"  done: {name} ({rows[-1]['seconds']:.0f} s)", flush=True)
    print_insurance_table(rows, data, args)
    insurance_acceptance(rows, data)
    return rows


# ---------------------------------------------------------------------------
# E2 analogue: BREP-MI against a many-class "identity" model (CPU)
# ---------------------------------------------------------------------------
def identity_task(n_identities=100, latent_dim=10, n_features=40, random_state=0):
    """A Gaussian mixture of identities rendered through a fixed random decoder.

    Identity ``c`` has a latent centre ``mu_c ~ N(0, 0.6^2 I)``; its samples
    are ``mu_c + 0.15 e``; the decoder ``G(z) = tanh(A z + b)`` (A with
    N(0, 1/latent_dim) entries) renders them as 40 "pixels" in [-1, 1]. The
    attacker's generator is ``G`` itself with the prior N(0, I) clipped to
    [-1.5, 1.5]: an attacker whose GAN is as good as it gets.
    """
    rng = np.random.default_rng(random_state)
    A = rng.normal(0, 1 / np.sqrt(latent_dim), size=(latent_dim, n_features))
    b = rng.normal(0, 0.1, size=n_features)
    centres = rng.normal(0, 0.6, size=(n_identities, latent_dim))

    def generator(Z):
        return np.tanh(np.asarray(Z) @ A + b)

    def sample(n_per_identity, seed):
        local = np.random.default_rng(seed)
        labels = np.repeat(np.arange(n_identities), n_per_identity)
        Z = centres[labels] + 0.15 * local.standard_normal((len(labels), latent_dim))
        return generator(Z), labels

    return generator, sample


def inversion_experiment(args):
    from sklearn.neighbors import KNeighborsClassifier

    from skprivacy.audit import BoundaryRepulsionInversion
    from skprivacy.defense import DPSGDClassifier

    generator, sample = identity_task()
    X_private, y_private = sample(30, seed=1)  # target's training data
    X_eval, y_eval = sample(30, seed=2)  # the evaluator's own data
    X_test, y_test = sample(10, seed=3)
    target = MLPClassifier((128,), max_iter=300, random_state=0)
    target.fit(X_private, y_private)
    evaluator = KNeighborsClassifier(5).fit(X_eval, y_eval)
    # Utility on the top-confidence set: per identity, the private sample the
    # target is most confident about (100% by construction for no defense).
    proba = target.predict_proba(X_private)
    top = np.array(
        [
            np.flatnonzero(y_private == c)[proba[y_private == c, c].argmax()]
            for c in target.classes_
        ]
    )
    X_top, y_top = X_private[top], y_private[top]
    n_targets = 30 if args.quick else 100
    patience, max_iter = (20, 150) if args.quick else (50, 400)
    n_predict = 20 if args.quick else 50
    print(
        f"\nTable E2 (CPU analogue). 100 identities, latent dim 10 -> 40 features "
        f"through a fixed tanh decoder; target MLP(128) on 3,000 private samples, "
        f"evaluator 5-nearest-neighbours on 3,000 other samples (test accuracy "
        f"{evaluator.score(X_test, y_test):.3f}); BREP-MI on {n_targets} untargeted "
        f"identities, initial radius 0.2, patience {patience}, at most {max_iter} "
        f"iterations, 32 sphere points, clamp +-1.5, seed 0; smoothing sigma in "
        f"feature units (the decoder's output range is [-1, 1]), N={n_predict}, "
        f"base not retrained (FrozenEstimator); success = evaluator predicts the "
        f"identity [95% Clopper-Pearson CI]."
    )
    frozen = FrozenEstimator(target)
    releases = [("no defense", frozen)]
    sigmas = (
        (0.1, 0.3, 0.5, 0.8) if args.quick else (0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2)
    )
    for sigma in sigmas:
        rp = SmoothedClassifier(
            frozen, sigma=sigma, n_predict=n_predict, fit_noise=False, random_state=0
        ).fit(X_private, y_private)
        releases.append((f"RP sigma={sigma:g}", rp))
    k = len(target.classes_)
    for p_keep in (0.95, 0.8, 0.6) if args.quick else (0.99, 0.95, 0.9, 0.8, 0.6):
        eps = float(np.log(p_keep * (k - 1) / (1 - p_keep)))
        rr = RandomizedResponseClassifier(frozen, epsilon=eps, random_state=0)
        releases.append(
            (f"RR p_keep={p_keep:g} (eps={eps:.2f})", rr.fit(X_private, y_private))
        )
    for eps in (8.0,) if args.quick else (50.0, 16.0, 8.0, 4.0, 2.0):
        dp = DPSGDClassifier(
            hidden_units=(128,),
            target_epsilon=eps,
            max_epochs=30 if args.quick else 60,
            batch_size=128,
            optimizer=torch.optim.SGD,
            lr=0.5,
            random_state=0,
        ).fit(X_private, y_private)
        releases.append((f"DP-SGD eps={eps:g}", FrozenEstimator(dp)))
    print(
        "| release | acc. top-confidence | acc. test | ASR top-1 [95% CI] | ASR top-5 "
        "| median queries / identity | forward passes | seconds |"
    )
    print("|---" * 8 + "|")
    rows = []
    for name, release in releases:
        start = time.perf_counter()
        attack = BoundaryRepulsionInversion(
            release,
            generator,
            evaluator=evaluator,
            latent_dim=10,
            n_targets=n_targets,
            initial_radius=0.2,
            patience=patience,
            max_iter=max_iter,
            random_state=0,
        ).fit()
        report = attack.evaluate()
        row = {
            "release": name,
            "acc_top": float(np.mean(release.predict(X_top) == y_top)),
            "acc_test": float(np.mean(release.predict(X_test) == y_test)),
            **report,
        }
        rows.append(row)
        print(
            f"| {name} | {row['acc_top']:.3f} | {row['acc_test']:.3f} | "
            f"{report.asr:.2f} [{report.asr_ci[0]:.2f}, {report.asr_ci[1]:.2f}] | "
            f"{report.top_k_asr:.2f} | {report.median_queries:.0f} | "
            f"{report.forward_passes:.2e} | {time.perf_counter() - start:.0f} |",
            flush=True,
        )
    inversion_acceptance(rows)
    return rows


def inversion_acceptance(rows):
    """Relative acceptance of the CPU analogue (robust_privacy_paper.md, 3.6)."""
    plain = rows[0]
    rp = [r for r in rows if r["release"].startswith("RP")]
    print("\nAcceptance (relative; a development aid, not a reproduction):")
    print(
        f"- no-defense ASR {plain['asr']:.2f} >= 0.6: "
        f"{'met' if plain['asr'] >= 0.6 else 'NOT met'}"
    )
    asrs = [r["asr"] for r in rp]
    decreasing = all(b <= a + 0.05 for a, b in itertools.pairwise(asrs))
    print(
        f"- ASR non-increasing in sigma (slack 0.05): "
        f"{'met' if decreasing else 'NOT met'} ({', '.join(f'{a:.2f}' for a in asrs)})"
    )
    useful = [r for r in rp if r["acc_top"] >= 0.98]
    if useful:
        best = useful[-1]
        cut = 1 - best["asr"] / plain["asr"] if plain["asr"] else np.nan
        print(
            f"- at the largest sigma keeping top-confidence accuracy >= 0.98 "
            f"({best['release']}): ASR {best['asr']:.2f}, a {cut:.0%} relative cut "
            f"(target >= 25%): {'met' if cut >= 0.25 else 'NOT met'}"
        )
    else:
        print("- no smoothed release keeps top-confidence accuracy >= 0.98")
    for other in rows:
        if other["release"].startswith(("RR", "DP-SGD")):
            dominated = any(
                r["acc_top"] >= other["acc_top"] and r["asr"] <= other["asr"] + 0.02
                for r in rp
            )
            print(
                f"- {other['release']} (acc {other['acc_top']:.2f}, ASR "
                f"{other['asr']:.2f}) dominated by a smoothed release: "
                f"{'yes' if dominated else 'no'}"
            )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small, fast setting")
    parser.add_argument(
        "--experiment",
        choices=("insurance", "inversion", "recommendation", "all"),
        default="all",
        help="which experiment to run (default: all)",
    )
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding insurance.csv (default: the synthetic surrogate)",
    )
    parser.add_argument(
        "--l1-penalty",
        type=float,
        default=1e-3,
        help="l1 weight of the sensitive-focus penalty (default 1e-3)",
    )
    return parser.parse_args()


def main():
    args = parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.experiment in ("insurance", "all"):
        insurance_experiment(args)
    if args.experiment in ("inversion", "all"):
        inversion_experiment(args)
    if args.experiment in ("recommendation", "all"):
        recommendation_experiment(args)


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
