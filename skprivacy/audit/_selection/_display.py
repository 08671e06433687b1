"""FrontierDisplay: accuracy against membership leakage, one line per recipe."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from skprivacy.utils._plotting import DisplayMixin


class FrontierDisplay(DisplayMixin):
    """Privacy-utility frontier: test accuracy against attack success.

    One line per recipe through its grid points (sorted by accuracy), with
    bootstrap confidence bars on both axes; TPRs at a fixed FPR are drawn on a
    log scale labelled in percent, with the chance level (TPR = FPR) dashed.
    Lower and further right is better. The legend is drawn outside the axes,
    on the right, so that it never covers a point. Create it with
    :meth:`from_estimator`, or from a saved :attr:`DefenseEvaluation.results_`
    table with the constructor.

    Parameters
    ----------
    results : pandas.DataFrame
        The :attr:`DefenseEvaluation.results_` table (or a copy read back from
        CSV).
    metric : str, default="tpr_at_0.001_fpr"
        Leakage column: ``"auc"`` or ``"tpr_at_<fpr>_fpr"``.
    attack : str, default="strongest"
        Rows of this attack.
    records : str, default="population"
        Rows of this record set (``"population"`` or a canary kind).

    Attributes
    ----------
    lines_ : dict
        Recipe name -> the matplotlib ``ErrorbarContainer`` of its line.
    ax_ : matplotlib Axes
        The axes.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    DefenseEvaluation : Plays the game this display draws.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from skprivacy.audit import FrontierDisplay
    >>> results = pd.DataFrame({
    ...     "recipe": ["plain", "plain", "dp"], "attack": "strongest",
    ...     "records": "population", "accuracy": [0.80, 0.78, 0.75],
    ...     "accuracy_low": [0.79, 0.77, 0.74], "accuracy_high": [0.81, 0.79, 0.76],
    ...     "tpr_at_0.01_fpr": [0.10, 0.05, 0.011],
    ...     "tpr_at_0.01_fpr_low": [0.08, 0.04, 0.008],
    ...     "tpr_at_0.01_fpr_high": [0.12, 0.06, 0.014],
    ... })
    >>> display = FrontierDisplay(results, metric="tpr_at_0.01_fpr").plot()
    >>> sorted(display.lines_)
    ['dp', 'plain']
    """

    def __init__(
        self,
        results,
        *,
        metric="tpr_at_0.001_fpr",
        attack="strongest",
        records="population",
    ):
        self.results = results
        self.metric = metric
        self.attack = attack
        self.records = records

    @classmethod
    def from_estimator(
        cls,
        evaluation,
        *,
        metric=None,
        attack="strongest",
        records="population",
        ax=None,
        **kwargs,
    ):
        """Plot the frontier of a fitted :class:`DefenseEvaluation`.

        Parameters
        ----------
        evaluation : DefenseEvaluation
            A fitted evaluation.
        metric : str, default=None
            Leakage column; ``None`` is the TPR at the evaluation's lowest FPR.
        attack : str, default="strongest"
            An attack of the evaluation, or ``"strongest"``.
        records : str, default="population"
            ``"population"`` or a canary kind.
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FrontierDisplay
        """
        cls._check_matplotlib("from_estimator")
        _, metric, _, _ = evaluation._view(metric, attack, records)
        return cls(
            evaluation.results_, metric=metric, attack=attack, records=records
        ).plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, log_scale=None, chance=True, **kwargs):
        """Draw one line per recipe with its confidence bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a figure.
        log_scale : bool, default=None
            Log-scaled leakage axis; ``None`` means yes for TPR metrics. On a
            log scale, TPRs below a tenth of the FPR are drawn at that floor.
        chance : bool, default=True
            Draw the chance level (TPR = FPR, or AUC = 0.5).
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.errorbar` for every line.

        Returns
        -------
        display : FrontierDisplay
        """
        metric = self.metric
        if metric not in self.results:
            raise ValueError(
                f"metric {metric!r} is not a column of results; use one of "
                f"{[c for c in self.results if c == 'auc' or c.endswith('_fpr')]}."
            )
        table = self.results[
            (self.results["attack"] == self.attack)
            & (self.results["records"] == self.records)
        ]
        if table.empty:
            raise ValueError(
                f"results has no rows for attack={self.attack!r} and "
                f"records={self.records!r}."
            )
        is_tpr = metric != "auc"
        log_scale = is_tpr if log_scale is None else log_scale
        fpr = float(metric.split("_")[2]) if is_tpr else None
        floor = fpr / 10 if is_tpr else 0.0
        # A figure of its own has room on the right for the legend.
        ax, _ = self._validate_plot_params(
            ax=ax, figsize=(7.5, 4.5), layout="constrained"
        )
        self.lines_ = {}
        for name, group in table.groupby("recipe", sort=False):
            group = group.sort_values("accuracy")
            x = group["accuracy"].to_numpy(dtype=float)
            y = group[metric].to_numpy(dtype=float)
            y_low = group.get(f"{metric}_low", group[metric]).to_numpy(dtype=float)
            y_high = group.get(f"{metric}_high", group[metric]).to_numpy(dtype=float)
            x_low = group.get("accuracy_low", group["accuracy"]).to_numpy(dtype=float)
            x_high = group.get("accuracy_high", group["accuracy"]).to_numpy(dtype=float)
            if log_scale:
                y, y_low, y_high = (np.maximum(v, floor) for v in (y, y_low, y_high))
            self.lines_[name] = ax.errorbar(
                x,
                y,
                xerr=np.nan_to_num([x - x_low, x_high - x]).clip(0),
                yerr=np.nan_to_num([y - y_low, y_high - y]).clip(0),
                **self._style({"marker": "o", "capsize": 2, "label": name}, kwargs),
            )
        if chance:
            level = fpr if is_tpr else 0.5
            ax.axhline(level, color="k", ls="--", lw=0.8, label="chance")
        if log_scale:
            ax.set_yscale("log")
        if is_tpr:
            _percent_ticks(ax.yaxis, log_scale)
        label = (
            f"TPR at {fpr:.1%} FPR" if is_tpr else "attack AUC"
        ) + f" ({self.attack}, {self.records})"
        ax.set(xlabel="Test accuracy", ylabel=label, title="Privacy-utility frontier")
        # Outside the axes, a legend covers no point; figure layouts
        # (tight_layout, constrained) make room for it.
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize="small",
        )
        return self._set_axes(ax)


def _percent_ticks(axis, log_scale):
    """Label rates in percent: 0.1%, 1%, 10% (not 10^-3) on a log axis."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if log_scale:
        low, high = axis.axes.get_ylim()
        # Within two decades 1-2-5 steps keep a few labels in view; wider
        # ranges get one label a decade.
        subs = (1.0, 2.0, 5.0) if np.log10(high / low) <= 2 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:.6g}%"))
