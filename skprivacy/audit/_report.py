"""AuditReport: everything an audit measured, as dict, JSON, DataFrame or HTML."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import base64
import html
import io
import json
import platform
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from skprivacy.audit._metrics import (
    _check_membership,
    _holm,
    bootstrap_ci,
    clopper_pearson,
    empirical_epsilon,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_roc_curve,
    ppv_at_fpr,
    slice_metrics,
    tpr_at_fpr,
)

_REPORTED_FPRS = (0.001, 0.01)


def _versions():
    import scipy
    import sklearn

    import skprivacy

    versions = {
        "python": platform.python_version(),
        "skprivacy": skprivacy.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }
    for module in ("torch", "skorch"):
        if module in sys.modules:
            versions[module] = sys.modules[module].__version__
    return versions


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def _fpr_key(fpr):
    return f"tpr_at_{fpr:g}_fpr"


@dataclass
class AuditReport:
    """The results of :meth:`MembershipInferenceAuditor.audit`.

    Parameters
    ----------
    attack : str
        Name of the attack.
    metrics : dict
        Overall metrics: ``auc``, ``balanced_accuracy``, ``advantage``,
        ``tpr_at_<fpr>_fpr`` (report mode: best threshold on the audited
        records, never interpolated), ``ppv`` at ``target_fpr``,
        ``epsilon_lower_bound`` (threshold chosen on one half, bound on the
        other), and the operating point of ``predict`` (threshold set without
        membership labels): ``predict_tpr``, ``predict_fpr``.
    intervals : dict
        ``metric -> (low, high)`` at ``confidence``: bootstrap for the curve
        metrics, Clopper-Pearson for ``predict_tpr`` and ``predict_fpr``.
    resolved : dict
        ``fpr -> bool``: whether there were at least ``10 / fpr`` non-members.
    roc : dict
        ``fpr`` and ``tpr`` arrays of the ROC curve.
    slices : pandas.DataFrame
        Metrics per class and per group, with Holm-adjusted p-values over all
        slices (see :func:`slice_metrics`).
    records : pandas.DataFrame
        One row per audited record: ``y``, ``group``, ``membership``, ``score``,
        ``p_value`` (conformal p-value of "non-member") and ``predicted``.
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
    ['attack', 'confidence', 'created']
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
    versions: dict = field(default_factory=_versions)
    confidence: float = 0.95
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

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
    ):
        """Build a report from memberships and attack scores.

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
            Bootstrap resamples.
        confidence : float, default=0.95
            Coverage of intervals and of the epsilon bound.
        random_state : int, default=0
            Seed of the bootstrap and of the epsilon split.
        params, seeds : dict, default=None
            Recorded in the report.

        Returns
        -------
        report : AuditReport
        """
        membership, scores = _check_membership(membership, scores)
        m = membership.astype(int)
        n_out = int((~membership).sum())
        fprs = sorted(set(_REPORTED_FPRS) | {target_fpr})
        with warnings.catch_warnings():
            # Unresolved FPRs are flagged in ``resolved`` instead.
            warnings.simplefilter("ignore", UserWarning)
            metrics = {
                "auc": membership_auc(m, scores),
                "balanced_accuracy": membership_balanced_accuracy(m, scores),
                "advantage": membership_advantage(m, scores),
                **{_fpr_key(f): tpr_at_fpr(m, scores, f) for f in fprs},
                "ppv": ppv_at_fpr(m, scores, target_fpr, prior),
                "epsilon_lower_bound": empirical_epsilon(
                    m, scores, confidence=confidence, random_state=random_state
                ),
            }
            curve_metrics = {
                "auc": membership_auc,
                "advantage": membership_advantage,
                **{_fpr_key(f): _tpr_metric(f) for f in fprs},
            }
            intervals = {
                name: bootstrap_ci(
                    metric,
                    m,
                    scores,
                    n_resamples=n_resamples,
                    confidence=confidence,
                    random_state=random_state,
                )
                for name, metric in curve_metrics.items()
            }
        intervals["balanced_accuracy"] = tuple(
            0.5 * (1 + v) for v in intervals["advantage"]
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

        records = pd.DataFrame({"membership": m, "score": scores})
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
            resolved={f: bool(n_out >= 10 / f) for f in fprs},
            roc={"fpr": fpr, "tpr": tpr},
            slices=slices,
            records=records,
            params=params or {},
            seeds=seeds or {},
            confidence=confidence,
        )

    def vulnerable_records(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` members the attack exposes most (highest scores).

        Parameters
        ----------
        k : int, default=10
            Number of records.

        Returns
        -------
        records : pandas.DataFrame
            Rows of :attr:`records` (their index is the record's position).
        """
        members = self.records[self.records["membership"] == 1]
        return members.sort_values("score", ascending=False).head(k)

    def to_frame(self) -> pd.DataFrame:
        """Overall metrics with their intervals, one row per metric.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``value``, ``low``, ``high``; index the metric names.
        """
        rows = {
            name: {
                "value": value,
                "low": self.intervals.get(name, (np.nan, np.nan))[0],
                "high": self.intervals.get(name, (np.nan, np.nan))[1],
            }
            for name, value in self.metrics.items()
        }
        return pd.DataFrame.from_dict(rows, orient="index")

    def to_dict(self) -> dict:
        """A JSON-compatible dictionary of the whole report.

        Returns
        -------
        report : dict
        """
        return _jsonable(
            {
                "attack": self.attack,
                "metrics": self.metrics,
                "intervals": self.intervals,
                "resolved": {f"{k:g}": v for k, v in self.resolved.items()},
                "confidence": self.confidence,
                "roc": self.roc,
                "slices": self.slices.to_dict(orient="records"),
                "records": self.records.to_dict(orient="list"),
                "params": self.params,
                "seeds": self.seeds,
                "versions": self.versions,
                "created": self.created,
            }
        )

    def to_json(self, path=None, **kwargs) -> str:
        """The report as JSON, with library versions, parameters and seeds.

        Parameters
        ----------
        path : str or path-like, default=None
            Also write it there.
        **kwargs : dict
            Passed to :func:`json.dumps` (e.g. ``indent=2``).

        Returns
        -------
        text : str
        """
        text = json.dumps(self.to_dict(), **kwargs)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def plot(self, ax=None, **kwargs):
        """ROC curve (log-log) and score histograms of the audited records.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes for the ROC curve.
        **kwargs : dict
            Passed to :meth:`MembershipInferenceDisplay.from_predictions`.

        Returns
        -------
        display : MembershipInferenceDisplay
        """
        from skprivacy.audit._display import MembershipInferenceDisplay

        return MembershipInferenceDisplay.from_predictions(
            self.records["membership"],
            self.records["score"],
            name=self.attack,
            ax=ax,
            **kwargs,
        )

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
        import matplotlib.pyplot as plt

        display = self.plot()
        buffer = io.BytesIO()
        display.figure_.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        plt.close(display.figure_)
        image = base64.b64encode(buffer.getvalue()).decode("ascii")
        unresolved = [f"{f:g}" for f, ok in self.resolved.items() if not ok]
        note = (
            f"<p><b>Unresolved FPRs</b> (fewer than 10/FPR non-members): "
            f"{', '.join(unresolved)}.</p>"
            if unresolved
            else ""
        )
        params = html.escape(json.dumps(_jsonable(self.params), indent=1))
        meta = html.escape(
            json.dumps(_jsonable({"seeds": self.seeds, "versions": self.versions}))
        )
        slices = self.slices.to_html(index=False) if len(self.slices) else "None."
        page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Membership inference audit</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}</style>
</head><body>
<h1>Membership inference audit: {html.escape(self.attack)}</h1>
<p>Created {self.created}. Intervals at {self.confidence:.0%} confidence.</p>
{note}
<h2>Metrics</h2>{self.to_frame().to_html(float_format="{:.4f}".format)}
<h2>ROC curve and scores</h2><img alt="ROC curve" src="data:image/png;base64,{image}">
<h2>Slices</h2>{slices}
<h2>Most exposed members</h2>{self.vulnerable_records().to_html()}
<h2>Parameters</h2><pre>{params}</pre>
<h2>Reproducibility</h2><pre>{meta}</pre>
</body></html>
"""
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(page)
        return page


def _tpr_metric(fpr):
    def metric(membership, scores):
        return tpr_at_fpr(membership, scores, fpr)

    return metric
