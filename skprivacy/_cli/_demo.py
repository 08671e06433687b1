"""The end-to-end privacy demo: train, audit, smooth, certify, attack.

Every number the demo reports is computed here, from the data it is given.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np
from joblib import Memory
from sklearn.frozen import FrozenEstimator
from tqdm.auto import tqdm

from skprivacy.audit import AttributeInferenceAttack, MembershipInferenceAuditor
from skprivacy.certify import (
    SmoothedClassifier,
    average_certified_radius,
    certified_accuracy_curve,
)
from skprivacy.datasets import make_preprocessor
from skprivacy.defense import CRLClassifier
from skprivacy.utils import spawn_generators, spawn_seeds

# (name in the report, auditor ``attack``, whether it trains reference models).
MEMBERSHIP_ATTACKS = (
    ("loss", "loss", False),
    ("mentr", "mentr", True),
    ("RMIA", "rmia", True),
    ("LiRA", "lira", True),
)
# A smoothed release is audited on its vote frequencies (its predict_proba);
# reference-based attacks would retrain the whole smoothed model per reference.
SMOOTHED_ATTACKS = (("loss (votes)", "loss", False),)
# Models within this many points of the best test accuracy compete on leakage.
ACCURACY_SLACK = 0.015
# Certified accuracy is reported at these multiples of sigma.
RADII_IN_SIGMA = (0.0, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Settings:
    """Sizes of one demo run; ``quick`` is sized for continuous integration."""

    n_members: int
    n_population: int
    max_epochs: int
    n_references: int
    n_certify: int
    n_certify_samples: int
    n_predict: int
    n_attribute: int
    bins: int

    @classmethod
    def make(cls, quick: bool) -> "Settings":
        if quick:
            return cls(1000, 2000, 30, 4, 200, 1000, 100, 200, 20)
        return cls(2000, 4000, 60, 8, 500, 10_000, 200, 500, 30)


def _split(bunch, settings, seed):
    """Members, non-members (as many) and a population, drawn without overlap."""
    n = len(bunch.data)
    n_members = min(settings.n_members, n // 4)
    n_population = min(settings.n_population, n - 2 * n_members)
    (rng,) = spawn_generators(seed, 1)
    order = rng.permutation(n)
    members = order[:n_members]
    non_members = order[n_members : 2 * n_members]
    population = order[2 * n_members : 2 * n_members + n_population]
    return members, non_members, population


def _tolerance(bunch):
    """Attribute-inference tolerance: 5 years for an age, else 10% of the range."""
    column = bunch.data[bunch.sensitive]
    if bunch.sensitive == "age":
        return 5.0, "5 years"
    span = float(column.max() - column.min())
    raw = 0.1 * span
    return raw, f"{raw:.3g} ({bunch.sensitive} units, 10% of its range)"


class Demo:
    """Runs the demo's stages and collects their results in ``results``."""

    def __init__(self, bunch, *, quick, seed, n_jobs, sigma, progress=True):
        self.bunch = bunch
        self.quick = quick
        self.seed = seed
        self.n_jobs = n_jobs
        self.sigma = sigma
        self.settings = Settings.make(quick)
        self.progress = progress
        self.results = {}
        self.artifacts = {}
        self.timings = {}

    # -- stages -----------------------------------------------------------
    def prepare(self):
        bunch, s = self.bunch, self.settings
        split_seed, self.model_seed, self.audit_seed, self.smooth_seed = spawn_seeds(
            self.seed, 4
        )
        members, non_members, population = _split(bunch, s, split_seed)
        # The preprocessing is fitted on the population, data the adversary
        # may hold anyway, so it carries nothing of the members.
        self.preprocessor = make_preprocessor(bunch, drop=bunch.drop).fit(
            bunch.data.iloc[population]
        )
        Z = self.preprocessor.transform(bunch.data)
        y = bunch.target
        self.Z_in, self.y_in = Z[members], y[members]
        self.Z_out, self.y_out = Z[non_members], y[non_members]
        self.Z_pop, self.y_pop = Z[population], y[population]
        numerical = [c for c in bunch.numerical_features if c not in bunch.drop]
        self.numerical_columns = np.arange(len(numerical))
        self.sensitive_index = numerical.index(bunch.sensitive)
        scaler = self.preprocessor.named_transformers_["numerical"][-1]
        self.sensitive_scale = float(scaler.scale_[self.sensitive_index])
        column = Z[:, self.sensitive_index]
        self.sensitive_domain = (
            float(np.nextafter(column.min(), -np.inf)),
            float(np.nextafter(column.max(), np.inf)),
        )
        self.results["data"] = {
            "dataset": bunch.title,
            "n_rows": len(bunch.data),
            "n_features": Z.shape[1],
            "members": len(members),
            "non_members": len(non_members),
            "population": len(population),
            "sensitive": bunch.sensitive,
            "target_names": [str(t) for t in bunch.target_names],
        }

    def _recipe(self, crl):
        return CRLClassifier(
            crl=crl, max_epochs=self.settings.max_epochs, random_state=self.model_seed
        )

    def train(self, name, crl):
        model = self._recipe(crl).fit(self.Z_in, self.y_in)
        self.artifacts.setdefault("models", {})[name] = model
        self.results.setdefault("models", {})[name] = {
            "train_accuracy": float(model.score(self.Z_in, self.y_in)),
            "test_accuracy": float(model.score(self.Z_out, self.y_out)),
        }

    def audit(self, name, label, attack, uses_references, memory):
        model = (
            self.artifacts["smoothed"]
            if name == "smoothed"
            else self.artifacts["models"][name]
        )
        X = np.concatenate([self.Z_in, self.Z_out])
        y = np.concatenate([self.y_in, self.y_out])
        membership = np.r_[np.ones(len(self.Z_in)), np.zeros(len(self.Z_out))]
        auditor = MembershipInferenceAuditor(
            FrozenEstimator(model),
            attack=attack,
            n_references=self.settings.n_references if uses_references else 0,
            n_jobs=self.n_jobs,
            memory=memory,
            random_state=self.audit_seed,
        )
        # Every member and non-member is in the pool (online attacks need
        # them there); the population sets the threshold without labels.
        auditor.fit(X, y, X_population=self.Z_pop, y_population=self.y_pop)
        report = auditor.audit(X, y, membership)
        m = report.metrics
        self.artifacts.setdefault("reports", {})[(name, label)] = report
        self.results.setdefault("membership", []).append(
            {
                "model": name,
                "attack": label,
                "auc": float(m["auc"]),
                "tpr_at_1pct_fpr": float(m["tpr_at_0.01_fpr"]),
                "tpr_at_1pct_fpr_resolved": bool(report.resolved[0.01]),
                "epsilon_lower_bound": float(m["epsilon_lower_bound"]),
                "predict_fpr": float(m["predict_fpr"]),
                "auc_interval": [float(v) for v in report.intervals["auc"]],
            }
        )

    def choose(self):
        """The model that leaks least among those close to the best accuracy."""
        models = {k: v for k, v in self.results["models"].items() if k != "smoothed"}
        best_accuracy = max(r["test_accuracy"] for r in models.values())
        leakage = {
            name: max(
                r["auc"] for r in self.results["membership"] if r["model"] == name
            )
            for name in models
        }
        eligible = [
            name
            for name, r in models.items()
            if r["test_accuracy"] >= best_accuracy - ACCURACY_SLACK
        ]
        chosen = min(eligible, key=lambda name: (leakage[name], name))
        self.results["chosen"] = {
            "model": chosen,
            "rule": (
                "lowest worst-case membership AUC among the models within "
                f"{100 * ACCURACY_SLACK:.1f} points of the best test accuracy"
            ),
            "worst_auc": leakage,
        }
        return chosen

    def smooth(self, chosen):
        s = self.settings
        smoothed = SmoothedClassifier(
            self._recipe(chosen == "CRL"),
            sigma=self.sigma,
            n0=100,
            n=s.n_certify_samples,
            n_predict=s.n_predict,
            alpha=0.001,
            noise_features=self.numerical_columns,
            n_jobs=self.n_jobs,
            random_state=self.smooth_seed,
        ).fit(self.Z_in, self.y_in)
        self.artifacts["smoothed"] = smoothed
        self.results["models"]["smoothed"] = {
            "train_accuracy": float(smoothed.score(self.Z_in, self.y_in)),
            "test_accuracy": float(smoothed.score(self.Z_out, self.y_out)),
        }
        self.results["smoothed"] = {
            "base": chosen,
            "sigma": self.sigma,
            "noised_columns": len(self.numerical_columns),
            "n": s.n_certify_samples,
            "n_predict": s.n_predict,
            "alpha": 0.001,
        }

    def certify(self):
        smoothed = self.artifacts["smoothed"]
        X = self.Z_out[: self.settings.n_certify]
        y = self.y_out[: self.settings.n_certify]
        labels, radii = smoothed.certify(X)
        grid = self.sigma * np.asarray(RADII_IN_SIGMA)
        _, accuracy = certified_accuracy_curve(y, labels, radii, radius_grid=grid)
        self.artifacts["certified"] = (y, labels, radii)
        self.results["smoothed"].update(
            {
                "certified_rows": len(X),
                "abstain_rate": float(np.mean(labels == smoothed.abstain_label_)),
                "certified_accuracy": {
                    f"{r:g}": float(a) for r, a in zip(grid, accuracy, strict=True)
                },
                "average_certified_radius": float(
                    average_certified_radius(y, labels, radii)
                ),
            }
        )

    def attribute_attack(self, name):
        s = self.settings
        target = (
            self.artifacts["smoothed"]
            if name == "smoothed"
            else self.artifacts["models"][name]
        )
        tolerance, tolerance_text = _tolerance(self.bunch)
        attack = AttributeInferenceAttack(
            target,
            self.sensitive_index,
            domain=self.sensitive_domain,
            bins=s.bins,
            prior="empirical",
            tolerance=tolerance / self.sensitive_scale,
        ).fit(self.Z_pop)
        # The adversary knows a member's other features and sees the release.
        result = attack.evaluate(self.Z_in[: s.n_attribute])
        self.results.setdefault("attribute", []).append(
            {
                "release": name,
                "attribute": self.bunch.sensitive,
                "tolerance": tolerance_text,
                "n_targets": int(result.n_samples),
                "success_rate": float(result.success_rate_within_tolerance),
                "prior_success_rate": float(result.prior_success_rate_within_tolerance),
                "advantage": float(result.advantage),
                "success_rate_ci": [
                    float(v) for v in result.success_rate_within_tolerance_ci
                ],
            }
        )

    # -- driver -------------------------------------------------------------
    def run(self, stages=("audit", "smooth")):
        steps = [("preparing the data", self.prepare)]
        steps += [
            ("training the plain network", lambda: self.train("plain", False)),
            ("training the CRL network", lambda: self.train("CRL", True)),
        ]
        cache = tempfile.TemporaryDirectory(prefix="skprivacy-demo-")
        memory = Memory(cache.name, verbose=0)
        for name in ("plain", "CRL"):
            for label, attack, uses_references in MEMBERSHIP_ATTACKS:
                steps.append(
                    (
                        f"auditing {name} with {label}",
                        lambda n=name, la=label, a=attack, u=uses_references: (
                            self.audit(n, la, a, u, memory)
                        ),
                    )
                )
        if "smooth" in stages:
            chosen = []
            steps += [
                ("choosing a model", lambda: chosen.append(self.choose())),
                ("training the smoothed model", lambda: self.smooth(chosen[0])),
                ("certifying", self.certify),
            ]
            steps += [
                (
                    f"auditing smoothed with {label}",
                    lambda la=label, a=attack, u=uses_references: self.audit(
                        "smoothed", la, a, u, memory
                    ),
                )
                for label, attack, uses_references in SMOOTHED_ATTACKS
            ]
            steps += [
                (
                    f"attacking {self.bunch.sensitive} through {name}",
                    lambda n=name: self.attribute_attack(n),
                )
                for name in ("plain", "CRL", "smoothed")
            ]
        else:
            steps.append(("choosing a model", self.choose))
        try:
            with (
                warnings.catch_warnings(),
                tqdm(
                    total=len(steps),
                    disable=not self.progress,
                    unit="step",
                    bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]",
                ) as bar,
            ):
                # Reported in the tables instead: FPRs that the sample cannot
                # resolve, and sklearn's notes on the skorch internals.
                warnings.simplefilter("ignore", UserWarning)
                for description, step in steps:
                    bar.set_description(description)
                    start = time.perf_counter()
                    step()
                    self.timings[description] = time.perf_counter() - start
                    bar.update()
        finally:
            cache.cleanup()
        return self.results
