"""DPAuditDisplay: the audited epsilon lower bound against the audit's size."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from skprivacy.audit._dp._bounds import bound_curve
from skprivacy.utils._plotting import DisplayMixin


class DPAuditDisplay(DisplayMixin):
    """Epsilon lower bound against the number of canaries (or runs).

    The bound grows with the size of the audit; where it flattens, more
    canaries or runs would not help and only a stronger attack or better
    canaries would. The accountant's epsilon is drawn as a dashed line: the
    bound should stay below it. Create it with :meth:`from_estimator` or
    :meth:`from_predictions`.

    Parameters
    ----------
    sizes : ndarray
        Numbers of canaries (one-run) or of runs (many runs).
    epsilon : ndarray
        The lower bound at each size.
    accountant_epsilon : float, default=None
        The epsilon claimed.
    unit : {"canaries", "runs"}, default="canaries"
        What ``sizes`` count.
    confidence : float, default=None
        Confidence of the bounds, for the axis label.
    name : str, default=None
        Name in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The bound.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    DPAuditReport : Its :meth:`~DPAuditReport.plot` draws this display.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skprivacy.audit import DPAuditDisplay
    >>> rng = np.random.default_rng(0)
    >>> inclusion = rng.random(1000) < 0.5
    >>> scores = inclusion + rng.normal(size=1000)
    >>> display = DPAuditDisplay.from_predictions(inclusion, scores, random_state=0)
    >>> display.sizes.tolist()
    [10, 19, 37, 72, 139, 268, 518, 1000]
    """

    def __init__(
        self,
        *,
        sizes,
        epsilon,
        accountant_epsilon=None,
        unit="canaries",
        confidence=None,
        name=None,
    ):
        self.sizes = sizes
        self.epsilon = epsilon
        self.accountant_epsilon = accountant_epsilon
        self.unit = unit
        self.confidence = confidence
        self.name = name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the bound and the accountant's epsilon.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.
        name : str, default=None
            Overrides the name in the legend.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the bound.

        Returns
        -------
        display : DPAuditDisplay
        """
        ax, name = self._validate_plot_params(ax=ax, name=name, figsize=(5, 4))
        # A previous display on these axes fixed the y-limits: rescale.
        ax.set_autoscaley_on(True)
        style = self._style(
            {"marker": "o", "label": name or "audited lower bound"}, kwargs
        )
        (self.line_,) = ax.plot(self.sizes, self.epsilon, **style)
        # An infinite epsilon (no DP) claims nothing: no line to draw.
        if self.accountant_epsilon is not None and np.isfinite(self.accountant_epsilon):
            ax.axhline(
                self.accountant_epsilon,
                color="k",
                ls="--",
                lw=0.8,
                label=f"accountant epsilon = {self.accountant_epsilon:.3g}",
            )
        level = "" if self.confidence is None else f" ({self.confidence:.0%} conf.)"
        ax.set(
            xscale="log",
            xlabel=f"Number of {self.unit}",
            ylabel=f"Epsilon lower bound{level}",
            title="DP audit",
        )
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
        return self._set_axes(ax)

    @classmethod
    def from_predictions(
        cls,
        inclusion,
        scores,
        *,
        delta=0.0,
        confidence=0.95,
        n_guesses="auto",
        accountant_epsilon=None,
        name=None,
        random_state=None,
        ax=None,
        **kwargs,
    ):
        """Plot from canary inclusions and attack scores.

        Parameters
        ----------
        inclusion : array-like of shape (n_canaries,) or (n_runs, n_canaries)
            Which canaries were included: one run gives the one-run bound
            against the number of canaries (:func:`epsilon_one_run`), several
            the many-runs bound against the number of trial runs after the
            first half (:func:`epsilon_multi_run`).
        scores : array-like of the same shape
            Attack scores of the canaries.
        delta : float, default=0.0
            The delta audited.
        confidence : float, default=0.95
            Probability that each bound holds.
        n_guesses : "auto", int or tuple of (int, int), default="auto"
            Guesses of the one-run audit.
        accountant_epsilon : float, default=None
            The epsilon claimed, drawn as a dashed line.
        name : str, default=None
            Name in the legend.
        random_state : int, RandomState instance or None, default=None
            Seed of the order in which tied scores are guessed.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : DPAuditDisplay
        """
        cls._check_matplotlib("from_predictions")
        sizes, epsilon = bound_curve(
            inclusion,
            scores,
            delta=delta,
            confidence=confidence,
            n_guesses=n_guesses,
            random_state=random_state,
        )
        display = cls(
            sizes=sizes,
            epsilon=epsilon,
            accountant_epsilon=accountant_epsilon,
            unit="canaries" if np.ndim(inclusion) == 1 else "runs",
            confidence=confidence,
            name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, auditor, *, unit="canaries", name=None, ax=None, **kwargs):
        """Plot the bound of a fitted :class:`DPAuditor`.

        Parameters
        ----------
        auditor : DPAuditor
            Fitted auditor.
        unit : {"canaries", "runs"}, default="canaries"
            The one-run bound of the first trial run against the number of
            canaries, or the many-runs bound against the number of trial runs.
        name : str, default=None
            Name in the legend; defaults to the attack's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : DPAuditDisplay
        """
        cls._check_matplotlib("from_estimator")
        if unit not in ("canaries", "runs"):
            raise ValueError(f"unit must be 'canaries' or 'runs'; got {unit!r}.")
        first = auditor.n_calibration_
        if unit == "runs" and (first < 2 or auditor.n_runs - first < 2):
            raise ValueError(
                "A many-runs curve needs at least 2 calibration and 2 trial runs: "
                "fit the auditor with n_runs >= 4."
            )
        one_run = unit == "canaries"
        sizes, epsilon = bound_curve(
            auditor.inclusion_[first] if one_run else auditor.inclusion_,
            auditor.scores_[first] if one_run else auditor.scores_,
            delta=auditor.delta_,
            confidence=auditor.confidence,
            n_guesses=auditor.n_guesses,
            random_state=auditor._tie_seed,
            n_calibration=first,
        )
        display = cls(
            sizes=sizes,
            epsilon=epsilon,
            accountant_epsilon=auditor.accountant_epsilon_,
            unit=unit,
            confidence=auditor.confidence,
            name=type(auditor.attack_).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)
