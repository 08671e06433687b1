"""DPAuditReport: the accountant's epsilon beside the audited lower bounds."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from skprivacy.audit._dp._bounds import bound_curve, multi_run_audit, one_run_audit
from skprivacy.audit._report_base import (
    ReportMixin,
    jsonable,
    png_src,
    report_versions,
)
from skprivacy.utils import _glossary as glossary
from skprivacy.utils._html import html_page

# The terms and papers of the page's glossary.
_TERMS = (
    "canary",
    "accountant epsilon",
    "one-run bound",
    "many-runs bound",
)
_PAPERS = (glossary.STEINKE, glossary.JAGIELSKI)
# What the verdict may be.
VERDICTS = ("claim_refuted", "consistent_with_claim", "no_claim")


def _verdict(report):
    """``(verdict, sentence)``: what the bounds say of the accountant's claim."""
    bounds = {
        "one-run": report.one_run["epsilon"],
        "many-runs": report.multi_run["epsilon"],
    }
    bounds = {k: float(v) for k, v in bounds.items() if not np.isnan(v)}
    name = max(bounds, key=bounds.get)
    best = bounds[name]
    # Each bound holds with probability `confidence`; reading the larger of
    # two costs a union bound.
    level = 1 - len(bounds) * (1 - report.confidence)
    dp = f"(epsilon, delta={report.delta:g})-DP"
    claim = report.accountant_epsilon
    if claim is None or not np.isfinite(claim):
        if best <= 0:
            return "no_claim", (
                "No claim to check (no finite accountant epsilon), and the audit "
                "shows no leakage: every lower bound is 0."
            )
        return "no_claim", (
            f"No claim to check (no finite accountant epsilon); the training is "
            f"provably not {dp} for any epsilon below {best:.3g}: the {name} "
            f"bound holds with probability at least {level:.0%}."
        )
    if best > claim:
        return "claim_refuted", (
            f"The claim is false: the {name} lower bound, epsilon >= {best:.3g}, "
            f"exceeds the claimed epsilon = {claim:.3g} at delta = "
            f"{report.delta:g}. This happens to a correct claim with probability "
            f"at most {1 - level:.0%}: look for a bug in the training or in its "
            "privacy accounting."
        )
    return "consistent_with_claim", (
        f"Consistent with the claim: no lower bound exceeds the claimed epsilon = "
        f"{claim:.3g} (the largest, {name}, is {best:.3g}). This says nothing of "
        "how tight the claim is: a stronger attack or other canaries might "
        "show more, and the true epsilon may lie anywhere up to the claim."
    )


@dataclass
class DPAuditReport(ReportMixin):
    """The results of :meth:`DPAuditor.audit`.

    Parameters
    ----------
    accountant_epsilon : float or None
        The epsilon the training recipe claims.
    delta : float
        The delta audited.
    confidence : float
        Probability that each lower bound holds.
    one_run : dict
        The one-run audit of the first trial run (:func:`epsilon_one_run`):
        ``epsilon``; the guesses, "in" for the ``k_plus`` highest-scoring
        canaries and "out" for the ``k_minus`` lowest-scoring, ``n_guesses``
        in all, of which ``n_correct`` were right; ``n_abstained`` canaries
        not guessed, out of ``n_canaries`` (``n_included`` of them in
        training); and ``grid_size`` (the number of guess counts tried, each
        tested at ``(1 - confidence) / grid_size``).
    one_run_epsilons : list of float
        The one-run bound of every trial run (each valid on its own; their
        maximum is not).
    multi_run : dict
        The many-runs audit (:func:`epsilon_multi_run`): ``epsilon``,
        ``n_runs``, the ``canary`` and ``threshold`` chosen on the calibration
        runs and the counts on the trial runs; ``epsilon`` is NaN, and
        ``reason`` says why, when no bound could be computed (with fewer than
        4 runs).
    curves : dict
        ``"canaries"`` (one-run bound of the first trial run) and, with at
        least 2 calibration and 2 trial runs, ``"runs"`` (many-runs bound
        against the number of trial runs): ``sizes`` and ``epsilon`` of the
        bound on growing prefixes.
    n_canaries, n_runs : int
        Size of the audit.
    canary_kind : str
        How the canaries were made.
    attack : str
        The attack that scored them.
    test_accuracy : float or None
        Accuracy of the first run's model on held-out records.
    params : dict
        The auditor's parameters.
    versions : dict
        Library versions.
    created : str
        UTC time of the report.

    Attributes
    ----------
    verdict : {"claim_refuted", "consistent_with_claim", "no_claim"}
        What the audit says of the claim: ``"claim_refuted"`` when a lower
        bound exceeds ``accountant_epsilon`` (the claim is false, with the
        probability stated in :attr:`verdict_text`); ``"consistent_with_claim"``
        when none does (which says nothing of how tight the claim is);
        ``"no_claim"`` when there is no finite epsilon to check (the bounds
        then say that the training is not DP with any smaller epsilon).
    verdict_text : str
        The verdict in a sentence, with the numbers behind it.

    See Also
    --------
    DPAuditor : Runs the audit this reports.
    DPAuditDisplay : What :meth:`plot` draws.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import DPAuditReport
    >>> rng = np.random.default_rng(0)
    >>> inclusion = rng.random((8, 500)) < 0.5
    >>> scores = inclusion + rng.normal(size=(8, 500))
    >>> report = DPAuditReport.from_predictions(inclusion, scores, random_state=0)
    >>> report.to_frame().loc["one_run_epsilon", "value"] > 0
    np.True_
    """

    accountant_epsilon: float | None
    delta: float
    confidence: float
    one_run: dict
    one_run_epsilons: list
    multi_run: dict
    curves: dict
    n_canaries: int
    n_runs: int
    canary_kind: str = "custom"
    attack: str = "attack"
    test_accuracy: float | None = None
    params: dict = field(default_factory=dict)
    versions: dict = field(default_factory=report_versions)
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    verdict: str = field(init=False)
    verdict_text: str = field(init=False)

    def __post_init__(self):
        self.verdict, self.verdict_text = _verdict(self)

    @classmethod
    def from_audit(
        cls,
        *,
        inclusion,
        scores,
        n_calibration,
        one_run,
        multi_run,
        accountant_epsilon,
        delta,
        confidence,
        n_guesses,
        canary_kind,
        attack,
        test_accuracy,
        params,
        random_state,
    ):
        """Assemble a report from the audits of :class:`DPAuditor`."""
        settings = {"delta": delta, "confidence": confidence}
        sizes, epsilon = bound_curve(
            inclusion[n_calibration],
            scores[n_calibration],
            n_guesses=n_guesses,
            random_state=random_state,
            **settings,
        )
        curves = {"canaries": {"sizes": sizes, "epsilon": epsilon}}
        if n_calibration >= 2 and len(inclusion) - n_calibration >= 2:
            sizes, epsilon = bound_curve(
                inclusion,
                scores,
                n_guesses=n_guesses,
                random_state=random_state,
                n_calibration=n_calibration,
                **settings,
            )
            curves["runs"] = {"sizes": sizes, "epsilon": epsilon}
        return cls(
            accountant_epsilon=accountant_epsilon,
            one_run=one_run[0],
            one_run_epsilons=[r["epsilon"] for r in one_run],
            multi_run=multi_run,
            curves=curves,
            n_canaries=inclusion.shape[1],
            n_runs=inclusion.shape[0],
            canary_kind=canary_kind,
            attack=attack,
            test_accuracy=test_accuracy,
            params=params,
            **settings,
        )

    @classmethod
    def from_predictions(
        cls,
        inclusion,
        scores,
        *,
        accountant_epsilon=None,
        delta=0.0,
        confidence=0.95,
        n_guesses="auto",
        attack="attack",
        random_state=None,
    ):
        """Build a report from canary inclusions and scores of your own runs.

        Use it when the runs were trained outside :class:`DPAuditor` (e.g.
        with :meth:`CanarySet.insert` in a custom training loop). Reference
        attacks must score each run with references from other runs only.

        Parameters
        ----------
        inclusion : array-like of shape (n_runs, n_canaries)
            Which canaries each run included (each with probability 1/2). The
            first ``n_runs // 2`` runs calibrate the many-runs test; the
            one-run bounds are those of the other runs (with one run, of it).
        scores : array-like of shape (n_runs, n_canaries)
            Attack scores of the canaries on each run's model.
        accountant_epsilon : float, default=None
            The epsilon claimed.
        delta : float, default=0.0
            The delta audited.
        confidence : float, default=0.95
            Probability that each bound holds.
        n_guesses : "auto", int or tuple of (int, int), default="auto"
            Guesses of the one-run audit.
        attack : str, default="attack"
            Name of the attack.
        random_state : int, RandomState instance or None, default=None
            Seed of the order in which tied scores are guessed.

        Returns
        -------
        report : DPAuditReport
        """
        inclusion = np.atleast_2d(np.asarray(inclusion))
        scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        settings = {"delta": delta, "confidence": confidence}
        n_calibration = len(inclusion) // 2
        one_run = [
            one_run_audit(
                i, s, n_guesses=n_guesses, random_state=random_state, **settings
            )
            for i, s in zip(
                inclusion[n_calibration:], scores[n_calibration:], strict=True
            )
        ]
        return cls.from_audit(
            inclusion=inclusion,
            scores=scores,
            n_calibration=n_calibration,
            one_run=one_run,
            multi_run=multi_run_audit(inclusion, scores, **settings),
            accountant_epsilon=accountant_epsilon,
            n_guesses=n_guesses,
            canary_kind="custom",
            attack=attack,
            test_accuracy=None,
            params={},
            random_state=random_state,
            **settings,
        )

    def to_frame(self) -> pd.DataFrame:
        """The headline numbers, one row each.

        Returns
        -------
        table : pandas.DataFrame
            Column ``value``; index ``accountant_epsilon``,
            ``one_run_epsilon``, ``multi_run_epsilon``, ``delta``,
            ``confidence``, ``n_canaries``, ``n_runs``, ``test_accuracy``.
        """
        rows = {
            "accountant_epsilon": self.accountant_epsilon,
            "one_run_epsilon": self.one_run["epsilon"],
            "multi_run_epsilon": self.multi_run["epsilon"],
            "delta": self.delta,
            "confidence": self.confidence,
            "n_canaries": self.n_canaries,
            "n_runs": self.n_runs,
            "test_accuracy": self.test_accuracy,
        }
        return pd.DataFrame(
            {"value": [np.nan if v is None else float(v) for v in rows.values()]},
            index=list(rows),
        )

    def to_dict(self) -> dict:
        """A JSON-compatible dictionary of the whole report.

        Returns
        -------
        report : dict
        """
        return jsonable(
            {
                name: getattr(self, name)
                for name in self.__dataclass_fields__  # every field, in order
            }
        )

    def plot(self, unit="canaries", ax=None, **kwargs):
        """The bound against the number of canaries (first run) or of runs.

        Parameters
        ----------
        unit : {"canaries", "runs"}, default="canaries"
            Which curve.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`DPAuditDisplay.plot`.

        Returns
        -------
        display : DPAuditDisplay
        """
        from skprivacy.audit._dp._display import DPAuditDisplay

        if unit not in self.curves:
            raise ValueError(
                f"This report has no {unit!r} curve; it has {sorted(self.curves)}."
            )
        display = DPAuditDisplay(
            sizes=self.curves[unit]["sizes"],
            epsilon=self.curves[unit]["epsilon"],
            accountant_epsilon=self.accountant_epsilon,
            unit=unit,
            confidence=self.confidence,
            name=self.attack,
        )
        return display.plot(ax=ax, **kwargs)

    def to_html(self, path=None) -> str:
        """A self-contained HTML page: the bounds, the curves and the settings.

        Parameters
        ----------
        path : str or path-like, default=None
            Also write it there.

        Returns
        -------
        page : str
        """
        images = []
        for unit in self.curves:
            src = png_src(self.plot(unit).figure_)
            images.append(f'<img alt="bound against {unit}" src="{src}">')
        details = html.escape(
            json.dumps(
                jsonable(
                    {
                        "one_run": self.one_run,
                        "one_run_epsilons": self.one_run_epsilons,
                        "multi_run": self.multi_run,
                        "params": self.params,
                        "versions": self.versions,
                    }
                ),
                indent=1,
            )
        )
        body = f"""<h1>DP audit: {html.escape(self.attack)} on
{html.escape(self.canary_kind)} canaries</h1>
<p>Created {self.created}. Lower bounds at {self.confidence:.0%} confidence and
delta = {self.delta:g}.</p>
<div class="verdict"><h2>Verdict: {html.escape(self.verdict.replace("_", " "))}</h2>
<p>{html.escape(self.summary())}</p></div>
<h2>Bounds</h2>{self.to_frame().to_html(float_format="{:.4g}".format, na_rep="n/a")}
<h2>Bound against the audit's size</h2>{"".join(images)}
{glossary.glossary_html(glossary.terms(*_TERMS), papers=_PAPERS)}
<h2>Details</h2><pre>{details}</pre>"""
        return html_page("DP audit", body, path)

    def summary(self) -> str:
        """The verdict, then how each bound was reached, in plain words.

        Returns
        -------
        text : str
        """
        one = self.one_run
        guesses = " and ".join(
            text
            for k, text in (
                (one["k_plus"], f"'in' for the {one['k_plus']} highest-scoring"),
                (one["k_minus"], f"'out' for the {one['k_minus']} lowest-scoring"),
            )
            if k
        )
        parts = [
            self.verdict_text,
            f"One run: the attack guessed {guesses} of {one['n_canaries']} "
            f"canaries and abstained on {one['n_abstained']}; "
            f"{one['n_correct']} of its {one['n_guesses']} guesses were right "
            f"(guessing would get about half), which bounds epsilon at "
            f"{one['epsilon']:.3g} (the best of {one['grid_size']} guess counts, "
            "each tested at its share of the confidence).",
        ]
        multi = self.multi_run
        if np.isnan(multi["epsilon"]):
            parts.append(f"Many runs: no bound ({multi['reason']}).")
        else:
            parts.append(
                f"Many runs: canary {multi['canary']}, chosen on the calibration "
                f"runs, was flagged in {multi['true_positives']} of the "
                f"{multi['n_included']} trial runs that included it and "
                f"{multi['false_positives']} of the "
                f"{multi['n_trials'] - multi['n_included']} that did not: epsilon "
                f">= {multi['epsilon']:.3g}."
            )
        return " ".join(parts)
