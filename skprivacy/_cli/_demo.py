"""The end-to-end privacy demo: train, audit, smooth, certify, attack.

Every number the demo reports is computed here, from the data it is given.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np
from joblib import Memory
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from tqdm.auto import tqdm

from skprivacy._cli._data import CLIError
from skprivacy.audit import (
    AttributeInferenceAttack,
    AuditReport,
    LabelNoiseAttack,
    MembershipInferenceAuditor,
    get_attack,
    tpr_at_fpr,
)
from skprivacy.certify import (
    SmoothedClassifier,
    average_certified_radius,
    certified_accuracy_curve,
)
from skprivacy.datasets import make_preprocessor
from skprivacy.defense import CRLClassifier
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils import spawn_generators, spawn_seeds
from skprivacy.utils._arrays import concat_rows

# Every release faces the same attacks, so that their worst cases compare like
# with like. They are named by their keys of MembershipInferenceAuditor(attack=
# ...), as in the API's reports. The decision-boundary attack is left out by
# default: about 90 queries per record, each of which costs a smoothed release
# ``n_predict`` forward passes.
MEMBERSHIP_ATTACKS = ("loss", "mentr", "rmia", "lira", "label_gap", "label_noise")
# Operating point of every audit: the FPR of the auditor's decisions (a record is
# "flagged" at it) and of the summary's TPR column, the auditor's default.
TARGET_FPR = 0.01
# Models within this many points of the best test accuracy compete on leakage.
ACCURACY_SLACK = 0.015
# Certified accuracy is reported at these multiples of sigma.
RADII_IN_SIGMA = (0.0, 0.5, 1.0, 2.0)
# Fewest members, and non-members on each side of the user's model audit.
MIN_AUDITED = 20


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
    n_noise_queries: int
    n_attribute: int
    bins: int

    @classmethod
    def make(cls, quick: bool) -> "Settings":
        if quick:
            return cls(1000, 2000, 30, 4, 200, 1000, 100, 4, 200, 20)
        return cls(2000, 4000, 60, 8, 500, 10_000, 200, 16, 500, 30)


def _split(bunch, settings, seed):
    """Members, non-members (as many) and a population, drawn without overlap.

    Rows are drawn among distinct records (the features the model sees, and the
    label): a record duplicated across the sets would be a member and a
    non-member at once (Adult has thousands of such copies once ``fnlwgt`` is
    dropped), which breaks the audit's thresholds and p-values.
    """
    records = bunch.data.drop(columns=list(bunch.drop or []))
    distinct = np.flatnonzero(
        ~records.assign(_target=np.asarray(bunch.target)).duplicated().to_numpy()
    )
    n = len(distinct)
    n_members = min(settings.n_members, n // 4)
    n_population = min(settings.n_population, n - 2 * n_members)
    (rng,) = spawn_generators(seed, 1)
    order = distinct[rng.permutation(n)]
    members = order[:n_members]
    non_members = order[n_members : 2 * n_members]
    population = order[2 * n_members : 2 * n_members + n_population]
    return members, non_members, population


def _split_by_membership(membership, settings, seed, population=None):
    """The user's members and non-members: some audited, some the population.

    Without ``population`` (the 0/1 flags of ``--population-column``), half the
    non-members are audited and the other half set the attack thresholds.
    """
    rng_in, rng_out = spawn_generators(seed, 2)
    members = rng_in.permutation(np.flatnonzero(membership == 1))
    if population is None:
        others = rng_out.permutation(np.flatnonzero(membership == 0))
        n_out = min(len(others) // 2, settings.n_members)
        chosen = others[n_out : n_out + settings.n_population]
        others = others[:n_out]
        need = (
            f"{2 * MIN_AUDITED} non-members (half are audited, half set the attack "
            "thresholds)"
        )
    else:
        chosen = np.flatnonzero(population == 1)
        others = rng_out.permutation(
            np.flatnonzero((membership == 0) & (population == 0))
        )
        others = others[: settings.n_members]
        need = (
            f"{MIN_AUDITED} non-members outside --population-column and "
            f"{MIN_AUDITED} in it"
        )
    if min(len(members), len(others), len(chosen)) < MIN_AUDITED:
        raise CLIError(
            f"--member-column marks {len(members)} members and "
            f"{int(np.sum(membership == 0))} non-members"
            + ("" if population is None else f" ({len(chosen)} of them population)")
            + f"; the audit needs at least {MIN_AUDITED} members and {need}."
        )
    return members[: settings.n_members], others, chosen


def _tolerance(bunch):
    """Attribute-inference tolerance: 5 years for an age, else 10% of the range."""
    column = bunch.data[bunch.sensitive]
    if bunch.sensitive == "age":
        return 5.0, "5 years"
    span = float(column.max() - column.min())
    raw = 0.1 * span
    return raw, f"{raw:.3g} ({bunch.sensitive} units, 10% of its range)"


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def _number(value):
    """A float for the results, or None for a rate the data cannot resolve
    (NaN) or any other non-finite value (JSON has neither)."""
    value = float(value)
    return value if np.isfinite(value) else None


def attack_reads(attack):
    """What an attack reads of a release: "proba" (a network's probabilities, a
    smoothed release's vote frequencies) or "labels" (the prediction alone)."""
    return "labels" if get_attack(attack).query_output == "labels" else "proba"


def min_references(attack):
    """Reference models an attack needs (0: it needs none)."""
    return get_attack(attack).min_references


def tpr_at_reported_fprs(report):
    """``{fpr: TPR or None}`` at the FPRs of the API's report, None (n/a) where
    its non-members cannot resolve the FPR (the API's NaN), computed as the
    report computes its ``tpr_at_<fpr>_fpr``."""
    records = report.records
    with warnings.catch_warnings():
        # Unresolved FPRs are not computed; a resolved one never warns.
        warnings.simplefilter("error", UnresolvedMetricWarning)
        return {
            f"{fpr:g}": (
                float(tpr_at_fpr(records["membership"], records["score"], fpr))
                if ok
                else None
            )
            for fpr, ok in sorted(report.resolved.items())
        }


def _decisions_resolved(auditor):
    """Whether the auditor's nulls hold enough scores to flag at its target FPR
    (else ``predict`` flags nothing: no threshold is that far in the tail)."""
    nulls = (auditor.null_scores_, auditor.pool_null_scores_)
    return all(
        math.ceil((1 - auditor.target_fpr) * (len(n) + 1)) <= len(n) for n in nulls
    )


class Demo:
    """Runs the demo's stages and collects their results in ``results``.

    Without ``model``, trains the demo's networks (the training recipe) on
    ``bunch``; with a fitted ``model``, audits it on the rows that
    ``bunch.membership`` marks as its members and non-members.
    """

    def __init__(
        self,
        bunch,
        *,
        quick,
        seed,
        n_jobs,
        sigma=0.25,
        model=None,
        model_name="your model",
        progress=True,
        attacks=None,
        n_references=None,
    ):
        self.bunch = bunch
        self.quick = quick
        self.seed = seed
        self.n_jobs = n_jobs
        self.sigma = sigma
        self.model = model
        self.model_name = model_name
        self.settings = Settings.make(quick)
        self.attacks = MEMBERSHIP_ATTACKS if attacks is None else tuple(attacks)
        self.n_references = (
            self.settings.n_references if n_references is None else n_references
        )
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
        self.dropped_features = []
        if self.model is None:
            members, non_members, population = _split(bunch, s, split_seed)
            X, y = self._preprocess(population), bunch.target
            # The smoothed release costs n_predict passes per record: the
            # networks are tested on the audited non-members.
            test = non_members
        else:
            members, non_members, population = _split_by_membership(
                bunch.membership, s, split_seed, getattr(bunch, "population", None)
            )
            X, y = bunch.raw_data, bunch.raw_target
            if not hasattr(self.model, "feature_names_in_"):
                X = X.to_numpy()  # it was fitted on an array, without names
            # Every row the model was not trained on, audited or not.
            test = np.flatnonzero(bunch.membership == 0)
        self.X_in, self.y_in = _rows(X, members), y[members]
        self.X_out, self.y_out = _rows(X, non_members), y[non_members]
        self.X_pop, self.y_pop = _rows(X, population), y[population]
        self.X_test, self.y_test = _rows(X, test), y[test]
        self.split = {
            "member": members,
            "non-member": non_members,
            "population": population,
            "test": test,
        }
        self.results["data"] = {
            "dataset": bunch.title,
            "n_rows": len(bunch.data),
            "n_features": X.shape[1],
            "members": len(members),
            "non_members": len(non_members),
            "population": len(population),
            "test_rows": len(test),
            "sensitive": bunch.sensitive,
            "target_names": [str(t) for t in bunch.target_names],
            "dropped_features": self.dropped_features,
        }
        if self.model is not None:
            self._register_model()

    def _preprocess(self, population):
        """Fit the preprocessing; locate the noised and the sensitive columns.

        The preprocessing is fitted on the population, data the adversary may
        hold anyway, so it carries nothing of the members. Columns are found by
        name in its output: the imputer drops a numeric column without observed
        values there, which shifts every position after it.
        """
        bunch = self.bunch
        with warnings.catch_warnings():
            # The dropped columns are reported in the results instead.
            warnings.filterwarnings("ignore", "Skipping features without any observed")
            self.preprocessor = make_preprocessor(bunch, drop=bunch.drop).fit(
                bunch.data.iloc[population]
            )
            Z = self.preprocessor.transform(bunch.data)
        # Output names are "<transformer>__<column>" ("numerical__age"); the
        # scaler's statistics follow the numerical block's own order.
        names = list(self.preprocessor.get_feature_names_out())
        numerical = [n for n in names if n.startswith("numerical__")]
        kept = [n.removeprefix("numerical__") for n in numerical]
        self.dropped_features = [
            c for c in bunch.numerical_features if c not in bunch.drop and c not in kept
        ]
        self.numerical_columns = np.array([names.index(n) for n in numerical])
        if bunch.sensitive is not None:
            if bunch.sensitive not in kept:
                raise CLIError(
                    f"--sensitive {bunch.sensitive!r} has no observed values in the "
                    "population records the preprocessing is fitted on, so it is "
                    "dropped and the models never see it; choose another numeric "
                    "column."
                )
            self.sensitive_index = names.index(f"numerical__{bunch.sensitive}")
            scaler = self.preprocessor.named_transformers_["numerical"][-1]
            self.sensitive_scale = float(scaler.scale_[kept.index(bunch.sensitive)])
            column = Z[:, self.sensitive_index]
            self.sensitive_domain = (
                float(np.nextafter(column.min(), -np.inf)),
                float(np.nextafter(column.max(), np.inf)),
            )
        return Z

    def _register_model(self):
        self.results["data"]["model"] = self.model_name
        self._register("model", self.model)

    def _register(self, name, model):
        self.artifacts.setdefault("models", {})[name] = model
        self.results.setdefault("models", {})[name] = {
            "train_accuracy": float(model.score(self.X_in, self.y_in)),
            "test_accuracy": float(model.score(self.X_test, self.y_test)),
        }

    def _recipe(self, crl):
        return CRLClassifier(
            crl=crl, max_epochs=self.settings.max_epochs, random_state=self.model_seed
        )

    def train(self, name, crl):
        self._register(name, self._recipe(crl).fit(self.X_in, self.y_in))

    def _release(self, name):
        if name == "smoothed":
            return self.artifacts["smoothed"]
        return self.artifacts["models"][name]

    def applicable_attacks(self, name):
        """``(attacks, skipped)``: the attacks that apply to a release, and why not.

        The demo's own releases face every attack. A user's model may lack
        ``predict_proba``, refuse ``clone`` (reference models are unfitted
        clones of it, trained on halves of the audited records) or take
        non-numeric columns (label-only and perturbation attacks perturb
        records, the quantile attack regresses on them).
        """
        if name != "model":
            return list(self.attacks), {}
        skipped = {}

        def skip(reason, applies):
            skipped.update({a: reason for a in self.attacks if applies(a)})

        try:
            clone(self.model)
        except Exception as exc:  # any failure means no references
            skip(
                f"the model cannot be cloned to train references ({exc})",
                lambda a: min_references(a) > 0,
            )
        if not hasattr(self.model, "predict_proba"):
            skip("the model has no predict_proba", lambda a: attack_reads(a) == "proba")
        features = self.bunch.raw_data
        if features.select_dtypes("number").shape[1] < features.shape[1]:
            skip(
                "they read numeric records (the label-only ones perturb them): "
                "some columns are not numeric",
                lambda a: get_attack(a).perturbs_records,
            )
        attacks = [a for a in self.attacks if a not in skipped]
        return attacks, skipped

    def _attack(self, key):
        if key == "label_noise":
            return LabelNoiseAttack(n_samples=self.settings.n_noise_queries)
        return key

    def audit(self, name, attack, memory):
        X = concat_rows(self.X_in, self.X_out)
        y = np.concatenate([self.y_in, self.y_out])
        membership = np.r_[np.ones(len(self.X_in)), np.zeros(len(self.X_out))]
        reads = attack_reads(attack)
        # The references of a smoothed release are unfitted clones of it, so
        # they are trained through the same noise-augmented recipe and release
        # vote frequencies too: the attack is adaptive to the defense.
        auditor = MembershipInferenceAuditor(
            FrozenEstimator(self._release(name)),
            attack=self._attack(attack),
            release=reads,
            n_references=self.n_references if min_references(attack) > 0 else 0,
            target_fpr=TARGET_FPR,
            n_jobs=self.n_jobs,
            memory=memory,
            random_state=self.audit_seed,
        )
        # Every member and non-member is in the pool (online attacks need
        # them there); the population sets the threshold without labels.
        auditor.fit(X, y, X_population=self.X_pop, y_population=self.y_pop)
        report = auditor.audit(X, y, membership)
        m = report.metrics
        self.artifacts.setdefault("reports", {})[(name, attack)] = report
        if not _decisions_resolved(auditor):
            self.artifacts.setdefault("unflagged", set()).add((name, attack))
        self.results.setdefault("membership", []).append(
            {
                "model": name,
                "attack": report.attack,
                "reads": reads,
                "auc": float(m["auc"]),
                "auc_interval": [float(v) for v in report.intervals["auc"]],
                "tpr_at_fpr": tpr_at_reported_fprs(report),
                "epsilon_lower_bound": _number(m["epsilon_lower_bound"]),
                "epsilon_side": report.epsilon_side,
                "predict_fpr": float(m["predict_fpr"]),
                # What the references were, so that a reader can check that
                # they share the release's recipe (a smoothed one included).
                "references": [type(r).__name__ for r in auditor.estimators_],
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
                "the lowest AUC of its strongest membership attack among the "
                f"models within {100 * ACCURACY_SLACK:.1f} points of the best test "
                "accuracy"
            ),
            "highest_auc": leakage,
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
        ).fit(self.X_in, self.y_in)
        self.artifacts["smoothed"] = smoothed
        self.results["models"]["smoothed"] = {
            "train_accuracy": float(smoothed.score(self.X_in, self.y_in)),
            "test_accuracy": float(smoothed.score(self.X_test, self.y_test)),
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
        X = self.X_out[: self.settings.n_certify]
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
        tolerance, tolerance_text = _tolerance(self.bunch)
        attack = AttributeInferenceAttack(
            self._release(name),
            self.sensitive_index,
            domain=self.sensitive_domain,
            bins=s.bins,
            prior="empirical",
            tolerance=tolerance / self.sensitive_scale,
        ).fit(self.X_pop)
        # The adversary knows a member's other features and sees the release.
        result = attack.evaluate(self.X_in[: s.n_attribute])
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
    def _audit_steps(self, name, memory):
        attacks, skipped = self.applicable_attacks(name)
        if not attacks:
            raise CLIError(
                f"No membership attack applies to {self.model_name}: "
                + "; ".join(sorted(set(skipped.values())))
                + "."
            )
        if skipped:
            self.results.setdefault("skipped_attacks", {})[name] = skipped
        return [
            (
                f"auditing {name} with {attack}",
                lambda a=attack: self.audit(name, a, memory),
            )
            for attack in attacks
        ]

    def run(self, stages=("audit", "smooth")):
        cache = tempfile.TemporaryDirectory(prefix="skprivacy-demo-")
        memory = Memory(cache.name, verbose=0)
        steps = [("preparing the data", self.prepare)]
        if self.model is None:
            steps += [
                ("training the plain network", lambda: self.train("plain", False)),
                ("training the CRL network", lambda: self.train("CRL", True)),
            ]
            releases = ["plain", "CRL"]
        else:
            releases = ["model"]
        steps += [step for name in releases for step in self._audit_steps(name, memory)]
        if "smooth" in stages:
            chosen = []
            steps += [
                ("choosing a model", lambda: chosen.append(self.choose())),
                ("training the smoothed model", lambda: self.smooth(chosen[0])),
                ("certifying", self.certify),
                *self._audit_steps("smoothed", memory),
            ]
            steps += [
                (
                    f"attacking {self.bunch.sensitive} through {name}",
                    lambda n=name: self.attribute_attack(n),
                )
                for name in ("plain", "CRL", "smoothed")
            ]
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
                # Unresolved rates are reported as n/a in the tables instead.
                warnings.simplefilter("ignore", UnresolvedMetricWarning)
                for description, step in steps:
                    bar.set_description(description)
                    start = time.perf_counter()
                    step()
                    self.timings[description] = time.perf_counter() - start
                    bar.update()
        finally:
            cache.cleanup()
        # The summary's TPR column is at the FPR of the auditor's decisions, n/a
        # where the non-members cannot resolve it: no fallback to another FPR,
        # as in the API's reports.
        self.results["data"]["tpr_fpr"] = TARGET_FPR
        self.results["per_record"] = {
            name: self.per_record(name) for name in self.results["models"]
        }
        return self.results

    def per_record(self, name):
        """The API's per-record table of a release's audits, with each record's
        data row and whether each attack flags it at ``TARGET_FPR``.

        Returns ``{"columns": [...], "rows": [[...], ...]}``: ``row`` (0-based
        data row of the CSV or bundled dataset), ``membership``, ``label``, then
        ``score:<attack>``, ``p_value:<attack>`` and ``flagged:<attack>`` (1 if
        the auditor's ``predict`` flags it; None where the population is too
        small to set a threshold at that FPR) for every attack, then
        ``p_value_bonferroni`` and ``most_exposed_by`` across the attacks.
        """
        reports = {
            attack: report
            for (release, attack), report in self.artifacts["reports"].items()
            if release == name
        }
        if len(reports) > 1:
            table = AuditReport.combine(list(reports.values())).records
        else:  # one attack: its p-value is the smallest, adjusted for one test
            (report,) = reports.values()
            table = report.records.rename(
                columns={
                    "score": f"score:{report.attack}",
                    "p_value": f"p_value:{report.attack}",
                }
            )
            table["p_value_bonferroni"] = table[f"p_value:{report.attack}"]
            table["most_exposed_by"] = report.attack
        rows = np.concatenate([self.split["member"], self.split["non-member"]])
        names = np.asarray(self.bunch.target_names, dtype=object)
        y = np.concatenate([self.y_in, self.y_out])
        labels = names[y] if self.model is None else y
        frame = {"row": rows, "membership": table["membership"], "label": labels}
        unflagged = self.artifacts.get("unflagged", set())
        for attack, report in reports.items():
            key = report.attack
            frame[f"score:{key}"] = table[f"score:{key}"]
            frame[f"p_value:{key}"] = table[f"p_value:{key}"]
            frame[f"flagged:{key}"] = (
                [None] * len(rows)
                if (name, attack) in unflagged
                else report.records["predicted"].to_numpy()
            )
        frame["p_value_bonferroni"] = table["p_value_bonferroni"]
        frame["most_exposed_by"] = table["most_exposed_by"]
        columns = list(frame)
        values = [np.asarray(v, dtype=object).tolist() for v in frame.values()]

        def cell(value):
            if isinstance(value, float):
                return _number(value)
            return value.item() if hasattr(value, "item") else value

        return {
            "columns": columns,
            "rows": [[cell(v) for v in row] for row in zip(*values, strict=True)],
        }
