"""Reports of the inversion attacks: success rates with their intervals.

Every audit in skprivacy returns a report object (:class:`AuditReport`,
:class:`DPAuditReport`, the two below) with ``to_dict``, ``to_json`` and
``to_frame``. These two replace the :class:`~sklearn.utils.Bunch` the inversion
attacks returned before, and still read like it: ``report.success_rate``,
``report["success_rate"]``, ``"success_rate_within_tolerance" in report`` and
``report.keys()`` work as they did (absent entries are the ``None`` fields).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skprivacy.audit._report_base import ReportMixin, jsonable


class _ReportFields(ReportMixin):
    """Mapping-style access to a report's fields, as the former Bunch gave."""

    def keys(self) -> list[str]:
        """Names of the fields that hold a value, in order.

        Returns
        -------
        keys : list of str
        """
        names = [field.name for field in dataclasses.fields(self)]
        return [name for name in names if getattr(self, name) is not None]

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def __getitem__(self, key):
        if key not in self:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self.keys())

    def to_dict(self) -> dict:
        """A JSON-compatible dictionary of the report (NaN becomes ``None``).

        Returns
        -------
        report : dict
        """
        return jsonable({key: self[key] for key in self.keys()})

    def to_frame(self) -> pd.DataFrame:
        """Each rate with the ends of its interval, one row per rate.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``value``, ``low`` and ``high``; the index names the rates.
        """
        rows = {
            key: (self[key], *self[f"{key}_ci"])
            for key in self.keys()
            if f"{key}_ci" in self
        }
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=["value", "low", "high"], dtype=np.float64
        )


@dataclass
class AttributeInferenceReport(_ReportFields):
    """The results of :meth:`AttributeInferenceAttack.evaluate`.

    Each rate is that of the guess that is Bayes-optimal for its criterion, for
    the attack and for the prior-only adversary alike; a release leaks only
    what the attack gains over the prior (``advantage``).

    Parameters
    ----------
    n_samples : int
        Number of targets scored.
    success_rate, prior_success_rate : float
        Exact bin (or category) recovered, by the attack and from the prior.
    success_rate_ci, prior_success_rate_ci : tuple of (float, float)
        Their two-sided Clopper-Pearson intervals.
    advantage : float
        Success minus prior success, on the criterion ``score`` uses (within
        the tolerance when there is one).
    confidence : float
        Level of the intervals.
    success_rate_within_tolerance, prior_success_rate_within_tolerance : \
            float or None
        For a continuous attribute with a ``tolerance``: the value recovered
        within it. ``None`` (and absent from :meth:`keys`) otherwise.
    success_rate_within_tolerance_ci, prior_success_rate_within_tolerance_ci : \
            tuple of (float, float) or None
        Their intervals.

    See Also
    --------
    AttributeInferenceAttack : The attack this reports.

    Examples
    --------
    >>> from skprivacy.audit import AttributeInferenceReport
    >>> report = AttributeInferenceReport(
    ...     n_samples=100, success_rate=0.4, success_rate_ci=(0.3, 0.5),
    ...     prior_success_rate=0.25, prior_success_rate_ci=(0.17, 0.35),
    ...     advantage=0.15, confidence=0.95,
    ... )
    >>> report.advantage, report["success_rate"]
    (0.15, 0.4)
    >>> report.to_frame().loc["success_rate", "low"]
    np.float64(0.3)
    """

    n_samples: int
    success_rate: float
    success_rate_ci: tuple
    prior_success_rate: float
    prior_success_rate_ci: tuple
    advantage: float
    confidence: float
    success_rate_within_tolerance: float | None = None
    success_rate_within_tolerance_ci: tuple | None = None
    prior_success_rate_within_tolerance: float | None = None
    prior_success_rate_within_tolerance_ci: tuple | None = None


@dataclass
class ModelInversionReport(_ReportFields):
    """The results of :meth:`BoundaryRepulsionInversion.evaluate`.

    Parameters
    ----------
    asr : float
        Top-1 attack success rate over the targets.
    asr_ci : tuple of (float, float)
        Its two-sided Clopper-Pearson interval.
    top_k_asr : float
        Top-``top_k`` success rate under the evaluator (NaN when the evaluator
        gives no scores).
    top_k_asr_ci : tuple of (float, float)
        Its interval.
    top_k : int
        The ``k`` of ``top_k_asr``.
    n_targets, n_successes : int
        Targets attacked, and top-1 successes.
    total_queries : int
        Label queries of the target, the start search included.
    median_queries : float
        Queries per target, median.
    forward_passes : int
        ``total_queries * query_cost`` (forward passes of the target).
    query_cost : int
        Forward passes per query (more than 1 for a smoothed release).
    confidence : float
        Level of the intervals.

    See Also
    --------
    BoundaryRepulsionInversion : The attack this reports.

    Examples
    --------
    >>> from skprivacy.audit import ModelInversionReport
    >>> report = ModelInversionReport(
    ...     asr=0.5, asr_ci=(0.19, 0.81), top_k_asr=0.8, top_k_asr_ci=(0.44, 0.97),
    ...     top_k=3, n_targets=10, n_successes=5, total_queries=1200,
    ...     median_queries=110.0, forward_passes=1200, query_cost=1,
    ...     confidence=0.95,
    ... )
    >>> report.to_frame().index.tolist()
    ['asr', 'top_k_asr']
    """

    asr: float
    asr_ci: tuple
    top_k_asr: float
    top_k_asr_ci: tuple
    top_k: int
    n_targets: int
    n_successes: int
    total_queries: int
    median_queries: float
    forward_passes: int
    query_cost: int
    confidence: float
