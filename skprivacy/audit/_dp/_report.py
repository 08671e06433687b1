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
from skprivacy.utils._html import html_page


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
        ``epsilon``, the guesses ``k_plus`` and ``k_minus``, ``n_correct``,
        ``n_guesses``, ``n_canaries``, ``n_included`` and ``grid_size`` (the
        number of guess counts tried, each tested at ``(1 - confidence) /
        grid_size``).
    one_run_epsilons : list of float
        The one-run bound of every trial run (each valid on its own; their
        maximum is not).
    multi_run : dict
        The many-runs audit (:func:`epsilon_multi_run`): ``epsilon``,
        ``n_runs``, the ``canary`` and ``threshold`` chosen on the calibration
        runs and the counts on the trial runs.
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
        claimed = (
            "no accountant epsilon"
            if self.accountant_epsilon is None
            else f"accountant epsilon {self.accountant_epsilon:.4g}"
        )
        body = f"""<h1>DP audit: {html.escape(self.attack)} on
{html.escape(self.canary_kind)} canaries</h1>
<p>Created {self.created}. Lower bounds at {self.confidence:.0%} confidence and
delta = {self.delta:g}, beside the {claimed}. A bound above the accountant's
epsilon contradicts the claim; a bound below it does not confirm it.</p>
<h2>Bounds</h2>{self.to_frame().to_html(float_format="{:.4g}".format)}
<h2>Bound against the audit's size</h2>{"".join(images)}
<h2>Details</h2><pre>{details}</pre>"""
        return html_page("DP audit", body, path)
