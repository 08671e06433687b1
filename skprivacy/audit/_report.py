"""AuditReport: everything an audit measured, as dict, JSON, DataFrame or HTML."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import html
import json
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from skprivacy.audit._epsilon import empirical_epsilon
from skprivacy.audit._intervals import (
    bootstrap_ci,
    clopper_pearson,
    held_out_ci,
)
from skprivacy.audit._metrics import (
    check_membership,
    fpr_resolved,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_roc_curve,
    ppv_at_fpr,
    tpr_at_fpr,
)
from skprivacy.audit._report_base import (
    ReportMixin,
    fpr_key,
    jsonable,
    png_src,
    report_versions,
)
from skprivacy.audit._significance import (
    _holm,
    membership_p_values,
    slice_metrics,
)
from skprivacy.exceptions import DependentTrialsWarning, UnresolvedMetricWarning
from skprivacy.utils import _glossary as glossary
from skprivacy.utils._html import html_page
from skprivacy.utils._plotting import check_matplotlib_support

_REPORTED_FPRS = (0.001, 0.01)
# Metrics that are one operating point together: a combined report takes them
# from one attack, never each from its own.
_OPERATING_POINT = ("predict_tpr", "predict_fpr")
# The glossary's terms that the HTML page uses.
_TERMS = (
    "member / non-member",
    "AUC",
    "TPR at x% FPR",
    "n/a (unresolved)",
    "advantage",
    "eps >= (epsilon lower bound)",
    "FPR of predict",
    "p-value",
)


def _unique_names(names):
    """The names, with ``#2``, ``#3``... appended to repeats."""
    seen, unique = {}, []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique


@dataclass
class AuditReport(ReportMixin):
    """The results of :meth:`MembershipInferenceAuditor.audit`.

    A report holds one attack, or several attacks on the same records
    (:meth:`combine`): then :attr:`records` is the per-record table across
    attacks and :attr:`attacks` holds each attack's own report.

    Parameters
    ----------
    attack : str
        Name of the attack (``"A + B"`` for a combined report).
    metrics : dict
        Overall metrics: ``auc``, ``balanced_accuracy``, ``advantage``,
        ``tpr_at_<fpr>_fpr`` (report mode: the randomised-threshold ROC of
        the audited records read at exactly ``fpr``, a tied block of scores
        interpolated as an attacker who breaks ties with a coin would; NaN
        when fewer than ``10 / fpr`` non-members resolve it), ``ppv`` at
        ``target_fpr`` (NaN likewise),
        ``epsilon_lower_bound`` and the operating point of ``predict``
        (threshold set without membership labels): ``predict_tpr``,
        ``predict_fpr``. ``epsilon_lower_bound`` is :func:`empirical_epsilon`
        with ``trials="one_run"``: the audited records come from one training
        run, so it measures leakage but is a lower bound on epsilon with
        probability ``confidence`` only when the records are independent
        trials (multi-run auditing); use one-run auditing for a guarantee. In
        a combined report each metric is the largest over the attacks, except
        the operating point of ``predict``: ``predict_tpr`` and
        ``predict_fpr`` are both those of the attack whose decisions have the
        largest ``predict_tpr - predict_fpr`` (:attr:`strongest` names the
        attack of every metric).
    intervals : dict
        ``metric -> (low, high)`` at ``confidence``: stratified bootstrap for
        ``auc``; :func:`held_out_ci` for ``advantage``, ``balanced_accuracy``
        and ``tpr_at_<fpr>_fpr`` (threshold chosen on one half of the records,
        rates bounded on the other: the interval covers the value at that
        threshold, its lower end bounds the best value); Clopper-Pearson for
        ``predict_tpr`` and ``predict_fpr``. NaN where the metric is
        unresolved.
    resolved : dict
        ``fpr -> bool``: whether there were at least ``10 / fpr`` non-members.
    roc : dict
        ``fpr`` and ``tpr`` arrays of the ROC curve (of the attack with the
        highest AUC in a combined report).
    slices : pandas.DataFrame
        Metrics per class and per group, with Holm-adjusted p-values over all
        slices (see :func:`slice_metrics`); with an ``attack`` column in a
        combined report.
    records : pandas.DataFrame
        One row per audited record, indexed as the caller indexed the records
        (the index of the DataFrame or Series given to
        :meth:`MembershipInferenceAuditor.audit`; positions for arrays):
        ``y``, ``group``, ``membership``, ``score``,
        ``p_value`` (conformal p-value of "non-member") and ``predicted``. In a
        combined report: ``y``, ``group``, ``membership``, then
        ``score:<attack>`` and ``p_value:<attack>`` for every attack, and
        ``min_p_value``, ``p_value_bonferroni`` (``min(1, k * min_p_value)``
        over the ``k`` attacks, a valid p-value of "non-member" whatever their
        dependence) and ``most_exposed_by`` (the attack of the smallest
        p-value).
    params : dict
        The auditor's parameters.
    seeds : dict
        The seeds the audit used.
    versions : dict
        Library versions.
    confidence : float
        Coverage of the intervals and of the epsilon bound.
    created : str
        UTC time of the report.
    attacks : dict
        ``name -> AuditReport`` of each attack of a combined report; empty
        otherwise.
    strongest : dict
        ``metric -> name`` of the attack giving each metric of a combined
        report (the same attack for ``predict_tpr`` and ``predict_fpr``);
        empty otherwise.
    epsilon_side : {"positive", "negative"} or None
        Which inequality of (epsilon, delta)-DP gave ``epsilon_lower_bound``:
        ``"positive"`` for ``TPR <= e^eps FPR + delta``, ``"negative"`` for
        ``TNR <= e^eps FNR + delta`` (a bound from the latter can stand beside
        a chance-level TPR at low FPR), None when the bound is 0.

    See Also
    --------
    skprivacy.MembershipInferenceAuditor : Runs the audit this reports.
    MembershipInferenceDisplay : What :meth:`plot` draws.
    DPAuditReport : The report of a DP audit.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import AuditReport
    >>> membership = np.r_[np.ones(200), np.zeros(200)].astype(int)
    >>> scores = membership + np.random.default_rng(0).normal(size=400)
    >>> report = AuditReport.from_predictions(membership, scores, attack="demo")
    >>> round(report.metrics["auc"], 2)
    0.79
    >>> sorted(report.to_dict())[:3]
    ['attack', 'attacks', 'confidence']
    """

    attack: str
    metrics: dict
    intervals: dict
    resolved: dict
    roc: dict
    slices: pd.DataFrame
    records: pd.DataFrame
    params: dict = field(default_factory=dict)
    seeds: dict = field(default_factory=dict)
    versions: dict = field(default_factory=report_versions)
    confidence: float = 0.95
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    attacks: dict = field(default_factory=dict)
    strongest: dict = field(default_factory=dict)
    epsilon_side: str | None = None

    @classmethod
    def from_predictions(
        cls,
        membership,
        scores,
        *,
        attack="attack",
        y=None,
        groups=None,
        p_values=None,
        predicted=None,
        target_fpr=0.01,
        prior=0.5,
        n_resamples=200,
        confidence=0.95,
        random_state=0,
        params=None,
        seeds=None,
        index=None,
    ):
        """Build a report from memberships and attack scores.

        Rates at an FPR that fewer than ``10 / FPR`` non-members resolve are
        NaN, with one :class:`~skprivacy.exceptions.UnresolvedMetricWarning`
        naming them.

        Parameters
        ----------
        membership : array-like of shape (n_samples,)
            1 for members, 0 for non-members.
        scores : array-like of shape (n_samples,)
            Attack scores.
        attack : str, default="attack"
            Name of the attack.
        y : array-like of shape (n_samples,), default=None
            Class labels, for per-class slices.
        groups : array-like of shape (n_samples,), default=None
            User-given slices.
        p_values : array-like of shape (n_samples,), default=None
            Per-record p-values of "non-member".
        predicted : array-like of shape (n_samples,), default=None
            Decisions made without membership labels (the auditor's
            ``predict``); their TPR and FPR are reported when given.
        target_fpr : float, default=0.01
            FPR of the operating point and of the PPV.
        prior : float, default=0.5
            Share of members for the PPV.
        n_resamples : int, default=200
            Bootstrap resamples (of the AUC).
        confidence : float, default=0.95
            Coverage of intervals and of the epsilon bound.
        random_state : int, default=0
            Seed of the bootstrap and of the sample splits.
        params, seeds : dict, default=None
            Recorded in the report.
        index : array-like of shape (n_samples,), default=None
            Labels of the records, the index of :attr:`records` (e.g. the
            index of the caller's DataFrame); ``None`` numbers them from 0.

        Returns
        -------
        report : AuditReport
        """
        membership, scores = check_membership(membership, scores)
        if index is not None and len(index) != len(scores):
            raise ValueError(
                f"index has {len(index)} labels but there are {len(scores)} "
                "records; pass one label per record, in order."
            )
        m = membership.astype(int)
        n_out = int((~membership).sum())
        fprs = sorted(set(_REPORTED_FPRS) | {target_fpr})
        resolved = {f: fpr_resolved(n_out, f) for f in fprs}
        unresolved = [f for f, ok in resolved.items() if not ok]
        if unresolved:
            warnings.warn(
                f"{n_out} non-members cannot resolve a false-positive rate of "
                f"{', '.join(f'{f:g}' for f in unresolved)} (a TPR at FPR f needs "
                "10 / f non-members): the TPR and PPV there are reported as NaN.",
                UnresolvedMetricWarning,
                stacklevel=2,
            )
        with warnings.catch_warnings():
            # Unresolved rates are NaN and were announced once above; the epsilon
            # statistic's one-run caveat is in the class documentation.
            warnings.simplefilter("ignore", UnresolvedMetricWarning)
            warnings.simplefilter("ignore", DependentTrialsWarning)
            metrics = {
                "auc": membership_auc(m, scores),
                "balanced_accuracy": membership_balanced_accuracy(m, scores),
                "advantage": membership_advantage(m, scores),
                **{fpr_key(f): tpr_at_fpr(m, scores, f) for f in fprs},
                "ppv": ppv_at_fpr(m, scores, target_fpr, prior),
            }
            epsilon = empirical_epsilon(
                m,
                scores,
                confidence=confidence,
                trials="one_run",
                random_state=random_state,
                return_details=True,
            )
            metrics["epsilon_lower_bound"] = epsilon.epsilon
            intervals = {
                "auc": bootstrap_ci(
                    membership_auc,
                    m,
                    scores,
                    n_resamples=n_resamples,
                    confidence=confidence,
                    random_state=random_state,
                )
            }
            for name, kwargs in (
                ("advantage", {"metric": "advantage"}),
                ("balanced_accuracy", {"metric": "balanced_accuracy"}),
                *((fpr_key(f), {"metric": "tpr_at_fpr", "fpr": f}) for f in fprs),
            ):
                if min(m.sum(), n_out) < 2:  # no half holds both kinds of record
                    intervals[name] = (float("nan"), float("nan"))
                    continue
                intervals[name] = held_out_ci(
                    m,
                    scores,
                    confidence=confidence,
                    random_state=random_state,
                    **kwargs,
                )
        if predicted is not None:
            predicted = np.asarray(predicted, dtype=int)
            for name, positives, total in (
                ("predict_tpr", (predicted & m).sum(), m.sum()),
                ("predict_fpr", (predicted & (1 - m)).sum(), n_out),
            ):
                metrics[name] = float(positives / total)
                intervals[name] = tuple(
                    float(v) for v in clopper_pearson(positives, total, confidence)
                )
        fpr, tpr, _ = membership_roc_curve(m, scores)

        records = pd.DataFrame({"membership": m, "score": scores}, index=index)
        if y is not None:
            records.insert(0, "y", np.asarray(y))
        if groups is not None:
            records.insert(0, "group", np.asarray(groups))
        if p_values is not None:
            records["p_value"] = np.asarray(p_values, dtype=float)
        if predicted is not None:
            records["predicted"] = predicted

        tables = []
        for column in ("y", "group"):
            if column in records:
                table = slice_metrics(m, scores, records[column], fpr=target_fpr)
                table.insert(0, "slicing", "class" if column == "y" else "group")
                tables.append(table)
        slices = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        if len(slices):
            slices["p_value_holm"] = _holm(slices["p_value"].to_numpy(dtype=float))

        return cls(
            attack=attack,
            metrics=metrics,
            intervals=intervals,
            resolved=resolved,
            roc={"fpr": fpr, "tpr": tpr},
            slices=slices,
            records=records,
            params=params or {},
            seeds=seeds or {},
            confidence=confidence,
            epsilon_side=epsilon.side,
        )

    @classmethod
    def combine(cls, reports):
        """One report of several attacks on the same records, record by record.

        The per-record table (:attr:`records`) shows each record's score and
        p-value of "non-member" under every attack, the smallest p-value, its
        Bonferroni adjustment over the attacks and the attack that gives it:
        which records are most exposed, and by which attack
        (:meth:`vulnerable_records`). Scores of different attacks are on
        different scales; p-values compare them. A report without p-values
        (built by :meth:`from_predictions` without ``p_values``) gets
        empirical ones against its own non-members' scores.

        Parameters
        ----------
        reports : iterable of AuditReport
            Single-attack reports of the same records in the same order (same
            membership and, where present, the same labels and groups), at
            the same confidence; for example ``auditor.audit(X, y, membership)``
            of auditors with different attacks.

        Returns
        -------
        report : AuditReport
            Its metrics are the largest over the attacks (the strongest attack
            for each metric, named in :attr:`strongest`), with that attack's
            interval; the operating point of ``predict`` is kept whole:
            ``predict_tpr`` and ``predict_fpr`` both come from the attack whose
            decisions have the largest ``predict_tpr - predict_fpr``, so the
            pair is a point one attack reaches. :attr:`attacks` holds every
            attack's report.

        Examples
        --------
        >>> import numpy as np
        >>> from skprivacy.audit import AuditReport
        >>> rng = np.random.default_rng(0)
        >>> membership = np.r_[np.ones(200), np.zeros(200)].astype(int)
        >>> weak = AuditReport.from_predictions(
        ...     membership, rng.normal(size=400) + 0.2 * membership, attack="weak"
        ... )
        >>> strong = AuditReport.from_predictions(
        ...     membership, rng.normal(size=400) + membership, attack="strong"
        ... )
        >>> both = AuditReport.combine([weak, strong])
        >>> both.strongest["auc"]
        'strong'
        >>> both.to_frame().loc["auc", "attack"]
        'strong'
        >>> both.records.columns.tolist()[:3]
        ['membership', 'score:weak', 'p_value:weak']
        >>> both.vulnerable_records(1)["most_exposed_by"].tolist()
        ['strong']
        """
        reports = list(reports)
        if len(reports) < 2 or not all(isinstance(r, cls) for r in reports):
            raise TypeError(
                "combine takes two or more AuditReport objects, for example the "
                "reports of auditor.audit(X, y, membership) with different attacks."
            )
        if any(r.attacks for r in reports):
            raise ValueError(
                "combine takes single-attack reports; pass the reports in "
                "report.attacks.values() instead of a combined report."
            )
        names = _unique_names([r.attack for r in reports])
        attacks = dict(zip(names, reports, strict=True))
        first = reports[0]
        for name, report in attacks.items():
            if report.confidence != first.confidence:
                raise ValueError(
                    f"Report {name!r} has confidence {report.confidence}, but "
                    f"{names[0]!r} has {first.confidence}: audit at one confidence."
                )
            for column in ("membership", "y", "group"):
                if column not in first.records and column not in report.records:
                    continue
                same = column in first.records and column in report.records
                if not same or not np.array_equal(
                    first.records[column].to_numpy(), report.records[column].to_numpy()
                ):
                    raise ValueError(
                        f"Report {name!r} does not hold the records of "
                        f"{names[0]!r} in the same order (its {column!r} "
                        "differs): audit the same records with every attack."
                    )

        columns = [c for c in ("group", "y", "membership") if c in first.records]
        table = first.records[columns].copy()
        p_values = []
        for name, report in attacks.items():
            records = report.records
            if "p_value" in records:
                p = records["p_value"].to_numpy(dtype=float)
            else:
                score = records["score"].to_numpy(dtype=float)
                p = membership_p_values(score, score[records["membership"] == 0])
            table[f"score:{name}"] = records["score"].to_numpy()
            table[f"p_value:{name}"] = p
            p_values.append(p)
        p_values = np.column_stack(p_values)
        table["min_p_value"] = p_values.min(axis=1)
        table["p_value_bonferroni"] = np.minimum(
            1.0, len(reports) * table["min_p_value"]
        )
        table["most_exposed_by"] = np.asarray(names)[p_values.argmin(axis=1)]

        def value(report, metric):
            return report.metrics.get(metric, np.nan)

        metrics, intervals, strongest = {}, {}, {}
        for metric in dict.fromkeys(k for r in reports for k in r.metrics):
            group = (metric,)
            values = np.array([value(r, metric) for r in reports], dtype=float)
            if metric in _OPERATING_POINT:
                if metric in metrics:  # taken with the rest of its point
                    continue
                # The operating point whose decisions separate members from
                # non-members best: TPR - FPR (the advantage of the decisions).
                group = _OPERATING_POINT
                tpr, fpr = ([value(r, m) for r in reports] for m in group)
                values = np.subtract(tpr, fpr, dtype=float)
            if np.isnan(values).all():
                metrics.update(dict.fromkeys(group, float("nan")))
                continue
            best = int(np.nanargmax(values))
            for key in group:
                metrics[key] = float(value(reports[best], key))
                strongest[key] = names[best]
                if key in reports[best].intervals:
                    intervals[key] = reports[best].intervals[key]
        by_auc = reports[names.index(strongest.get("auc", names[0]))]
        slices = [
            r.slices.assign(attack=name) for name, r in attacks.items() if len(r.slices)
        ]
        return cls(
            attack=" + ".join(names),
            metrics=metrics,
            intervals=intervals,
            resolved={
                f: all(r.resolved.get(f, False) for r in reports)
                for f in first.resolved
            },
            roc=by_auc.roc,
            slices=pd.concat(slices, ignore_index=True) if slices else pd.DataFrame(),
            records=table,
            params={name: r.params for name, r in attacks.items()},
            seeds={name: r.seeds for name, r in attacks.items()},
            confidence=first.confidence,
            attacks=attacks,
            strongest=strongest,
            epsilon_side=(
                attacks[strongest["epsilon_lower_bound"]].epsilon_side
                if "epsilon_lower_bound" in strongest
                else None
            ),
        )

    def vulnerable_records(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` members the attack exposes most.

        Parameters
        ----------
        k : int, default=10
            Number of records.

        Returns
        -------
        records : pandas.DataFrame
            Rows of :attr:`records`, under the caller's index (the index of
            the DataFrame or Series audited, or positions for arrays): the
            highest scores, or in a combined report the smallest p-values over
            the attacks.
        """
        members = self.records[self.records["membership"] == 1]
        if self.attacks:
            return members.sort_values("min_p_value", kind="stable").head(k)
        return members.sort_values("score", ascending=False).head(k)

    def to_frame(self) -> pd.DataFrame:
        """Overall metrics with their intervals, one row per metric.

        Unresolved metrics are NaN (missing).

        Returns
        -------
        table : pandas.DataFrame
            Columns ``value``, ``low``, ``high`` (and ``attack``, the strongest
            attack for the metric, in a combined report); index the metric
            names.
        """
        rows = {
            name: {
                "value": value,
                "low": self.intervals.get(name, (np.nan, np.nan))[0],
                "high": self.intervals.get(name, (np.nan, np.nan))[1],
            }
            for name, value in self.metrics.items()
        }
        if self.attacks:
            for name, row in rows.items():
                row["attack"] = self.strongest.get(name)
        return pd.DataFrame.from_dict(rows, orient="index")

    def per_attack_frame(self) -> pd.DataFrame:
        """Every attack's metrics side by side (one column for a single attack).

        Returns
        -------
        table : pandas.DataFrame
            Index the metric names, one column per attack; NaN where a metric
            is unresolved or missing.
        """
        reports = self.attacks or {self.attack: self}
        return pd.DataFrame({name: r.metrics for name, r in reports.items()})

    def to_dict(self) -> dict:
        """A JSON-compatible dictionary of the whole report.

        Unresolved metrics and intervals are ``None``. ``"records"`` holds
        the columns of :attr:`records` and, under ``"index"``, their labels
        (the caller's index). A combined report also
        holds each attack's report (without its records, which the per-record
        table already holds) under ``"attacks"``.

        Returns
        -------
        report : dict
        """
        attacks = {}
        for name, report in self.attacks.items():
            attacks[name] = report.to_dict()
            for key in ("records", "versions"):
                del attacks[name][key]
        return jsonable(
            {
                "attack": self.attack,
                "metrics": self.metrics,
                "intervals": self.intervals,
                "resolved": {f"{k:g}": v for k, v in self.resolved.items()},
                "confidence": self.confidence,
                "roc": self.roc,
                "slices": self.slices.to_dict(orient="records"),
                # The caller's labels of the records come first, as "index".
                "records": {
                    "index": self.records.index.tolist(),
                    **self.records.to_dict(orient="list"),
                },
                "params": self.params,
                "seeds": self.seeds,
                "versions": self.versions,
                "created": self.created,
                "attacks": attacks,
                "strongest": self.strongest,
                "epsilon_side": self.epsilon_side,
            }
        )

    def plot(self, ax=None, **kwargs):
        """ROC curve (log-log) and score histograms of the audited records.

        A combined report draws every attack's ROC curve on one axes (no
        histograms: the attacks' scores have different scales).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes for the ROC curve.
        **kwargs : dict
            Passed to :meth:`MembershipInferenceDisplay.from_predictions`.

        Returns
        -------
        display : MembershipInferenceDisplay
            The display of the last attack drawn.
        """
        from skprivacy.audit._display import MembershipInferenceDisplay

        if not self.attacks:
            return MembershipInferenceDisplay.from_predictions(
                self.records["membership"],
                self.records["score"],
                name=self.attack,
                ax=ax,
                **kwargs,
            )
        if ax is None:
            check_matplotlib_support("AuditReport.plot")
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 5))
        kwargs.setdefault("histogram", False)
        with warnings.catch_warnings():
            # Announced once per attack when its report was built.
            warnings.simplefilter("ignore", UnresolvedMetricWarning)
            for name, report in self.attacks.items():
                display = MembershipInferenceDisplay.from_predictions(
                    report.records["membership"],
                    report.records["score"],
                    name=name,
                    ax=ax,
                    **kwargs,
                )
        return display

    def summary(self) -> str:
        """The audit's verdict in plain words, with the numbers behind it.

        How well the attack tells members from non-members (AUC), what it
        achieves at the lowest false-positive rate the non-members resolve
        (or that none is resolved), whether it beats guessing at
        ``confidence``, and the epsilon its rates imply; each with its
        interval. In a combined report each number names its attack.

        Returns
        -------
        text : str

        Examples
        --------
        >>> import numpy as np
        >>> from skprivacy.audit import AuditReport
        >>> membership = np.r_[np.ones(2000), np.zeros(2000)].astype(int)
        >>> scores = membership + np.random.default_rng(0).normal(size=4000)
        >>> report = AuditReport.from_predictions(membership, scores, attack="demo")
        >>> print(report.summary())  # doctest: +NORMALIZE_WHITESPACE
        demo tells members from non-members with AUC 0.756 (95% CI [0.742, 0.770];
        0.5 is guessing): it beats guessing at 95% confidence. At 1.0% false
        positives, demo flags 7.7% of the 2000 members (95% CI [4.6%, 13.6%],
        threshold chosen on held-out halves), 7.7 times what guessing flags.
        The rates imply epsilon >= 1.31, a measure of leakage from one
        training run, not a guaranteed bound.
        """
        level = f"{self.confidence:.0%}"

        def by(metric):
            attack = self.strongest.get(metric)
            return attack if attack is not None else self.attack

        def interval(metric, spec=".3f"):
            low, high = self.intervals.get(metric, (np.nan, np.nan))
            return f"{level} CI [{low:{spec}}, {high:{spec}}]"

        auc = self.metrics["auc"]
        low = self.intervals["auc"][0]
        n_members = int(self.records["membership"].sum())
        n_out = len(self.records) - n_members
        parts = [
            f"{by('auc')} tells members from non-members with AUC {auc:.3f} "
            f"({interval('auc')}; 0.5 is guessing)"
            + (
                f": it beats guessing at {level} confidence."
                if low > 0.5
                else f", which does not beat guessing at {level} confidence."
            )
        ]
        resolved = sorted(f for f, ok in self.resolved.items() if ok)
        if resolved:
            fpr = resolved[0]
            key = fpr_key(fpr)
            tpr = self.metrics[key]
            parts.append(
                f"At {fpr:.1%} false positives, {by(key)} flags {tpr:.1%} of the "
                f"{n_members} members ({interval(key, '.1%')}, threshold chosen "
                f"on held-out halves), {tpr / fpr:.1f} times what guessing flags."
            )
        else:
            smallest = min(self.resolved)
            parts.append(
                f"No TPR at a low FPR is reported: {n_out} non-members cannot "
                f"resolve an FPR of {smallest:g} (it needs {10 / smallest:.0f})."
            )
        eps = self.metrics["epsilon_lower_bound"]
        source = f" ({by('epsilon_lower_bound')})" if self.attacks else ""
        parts.append(
            f"The rates imply epsilon >= {eps:.2f}{source}, a measure of leakage "
            "from one training run, not a guaranteed bound."
        )
        return " ".join(parts)

    def to_html(self, path=None) -> str:
        """A self-contained HTML page: metrics, slices, records and plots.

        Plots are embedded as PNG data URIs, so the page needs no other file.

        Parameters
        ----------
        path : str or path-like, default=None
            Also write it there.

        Returns
        -------
        page : str
        """
        image = png_src(self.plot().figure_)
        unresolved = [f"{f:g}" for f, ok in self.resolved.items() if not ok]
        note = (
            f"<p><b>Unresolved FPRs</b> (fewer than 10/FPR non-members): "
            f"{', '.join(unresolved)}; their rates are shown as n/a.</p>"
            if unresolved
            else ""
        )
        params = html.escape(json.dumps(jsonable(self.params), indent=1))
        meta = html.escape(
            json.dumps(jsonable({"seeds": self.seeds, "versions": self.versions}))
        )
        table = {"float_format": "{:.4f}".format, "na_rep": "n/a"}
        slices = self.slices.to_html(index=False, **table) if len(self.slices) else ""
        per_attack = (
            "<h2>Metrics of every attack</h2>"
            + self.per_attack_frame().to_html(**table)
            if self.attacks
            else ""
        )
        exposed = (
            "Most exposed members (smallest p-value over the attacks)"
            if self.attacks
            else "Most exposed members"
        )
        sources = (
            "<p>Each metric is that of the attack in its row, the strongest for "
            "that metric; predict_tpr and predict_fpr are one attack's operating "
            "point (the largest predict_tpr - predict_fpr), never two attacks' "
            "figures side by side.</p>"
            if self.attacks
            else ""
        )
        side = (
            f"the {self.epsilon_side} side"
            if self.epsilon_side
            else "neither side (no bound above 0)"
        )
        names = list(self.attacks) or [self.attack]
        body = f"""<h1>Membership inference audit: {html.escape(self.attack)}</h1>
<p>Created {self.created}. Intervals at {self.confidence:.0%} confidence.</p>
<div class="verdict"><h2>Verdict</h2><p>{html.escape(self.summary())}</p></div>
{note}
<h2>Metrics</h2>{self.to_frame().to_html(**table)}
{sources}
<p>Here epsilon_lower_bound comes from {side} (see the glossary).</p>
{per_attack}
<h2>ROC curve and scores</h2><img alt="ROC curve" src="{image}">
<h2>Slices</h2>{slices or "None."}
<h2>{exposed}</h2>{self.vulnerable_records().to_html(**table)}
{glossary.glossary_html(glossary.terms(*_TERMS), names, papers=[glossary.AERNI])}
<h2>Parameters</h2><pre>{params}</pre>
<h2>Reproducibility</h2><pre>{meta}</pre>"""
        return html_page("Membership inference audit", body, path)
