"""MembershipInferenceDisplay: log-log ROC curve and score histograms."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

from skprivacy.audit._metrics import (
    check_membership,
    membership_auc,
    membership_roc_curve,
    tpr_at_fpr,
)
from skprivacy.audit._roc import tpr_at
from skprivacy.audit._validation import attack_name
from skprivacy.utils._plotting import DisplayMixin


class MembershipInferenceDisplay(DisplayMixin):
    """ROC curve on log-log axes and score histograms of a membership attack.

    The low false-positive end of the ROC curve is what tells whether an attack
    confidently identifies some members (Carlini et al. 2022), hence the log
    axes; the legend gives the AUC and the TPR at ``low_fpr``, or "n/a" when
    fewer than ``10 / low_fpr`` non-members resolve it. When the non-members'
    scores are known, the FPRs below ``10 / n_non_members``, which they do not
    resolve, are shaded and the curve is not drawn there. Create it with
    :meth:`from_estimator` or :meth:`from_predictions`.

    Parameters
    ----------
    fpr, tpr : ndarray
        ROC curve, from ``(0, 0)`` to ``(1, 1)`` as
        :func:`membership_roc_curve` gives it. It is drawn linear between its
        points (curved on the log axes), as the tests that flag a random share
        of tied records reach it.
    roc_auc : float, default=None
        Area under the curve, shown in the legend.
    tpr_at_low_fpr : float, default=None
        TPR at ``low_fpr``, shown in the legend ("n/a" when NaN: unresolved).
    low_fpr : float, default=0.001
        The low false-positive rate reported.
    member_scores, non_member_scores : ndarray, default=None
        Scores for the histograms.
    name : str, default=None
        Name of the attack in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The ROC curve.
    ax_ : matplotlib Axes
        Axes with the ROC curve.
    hist_ax_ : matplotlib Axes or None
        Axes with the histograms.
    figure_ : matplotlib Figure
        Figure holding the axes.

    See Also
    --------
    membership_roc_curve : The ROC it draws.
    AuditReport : Draws one per attack.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skprivacy.audit import MembershipInferenceDisplay
    >>> membership = np.r_[np.ones(500), np.zeros(500)]
    >>> scores = membership + np.random.default_rng(0).normal(size=1000)
    >>> display = MembershipInferenceDisplay.from_predictions(
    ...     membership, scores, low_fpr=0.02
    ... )
    >>> round(display.roc_auc, 2)
    0.78
    >>> display.line_.get_label()
    'AUC = 0.779, TPR@2.0% FPR = 19.40%'

    """

    def __init__(
        self,
        *,
        fpr,
        tpr,
        roc_auc=None,
        tpr_at_low_fpr=None,
        low_fpr=0.001,
        member_scores=None,
        non_member_scores=None,
        name=None,
    ):
        self.fpr = fpr
        self.tpr = tpr
        self.roc_auc = roc_auc
        self.tpr_at_low_fpr = tpr_at_low_fpr
        self.low_fpr = low_fpr
        self.member_scores = member_scores
        self.non_member_scores = non_member_scores
        self.name = name

    def plot(self, ax=None, *, hist_ax=None, name=None, histogram=True, **kwargs):
        """Plot the ROC curve and, when there is room, the histograms.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes for the ROC curve; ``None`` creates a figure (with a second
            axes for the histograms when ``histogram`` and scores are given).
        hist_ax : matplotlib Axes, default=None
            Axes for the histograms when ``ax`` is given.
        name : str, default=None
            Overrides the name in the legend.
        histogram : bool, default=True
            Draw the score histograms.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the ROC curve.

        Returns
        -------
        display : MembershipInferenceDisplay
        """
        histogram = histogram and self.member_scores is not None
        if ax is None and histogram and hist_ax is None:
            (ax, hist_ax), name = self._validate_plot_params(
                name=name, ncols=2, figsize=(10, 4.2)
            )
        else:
            ax, name = self._validate_plot_params(ax=ax, name=name, figsize=(5, 4.2))
        label = [] if name is None else [name]
        if self.roc_auc is not None:
            label.append(f"AUC = {self.roc_auc:.3f}")
        if self.tpr_at_low_fpr is not None:
            value = self.tpr_at_low_fpr
            value = "n/a" if np.isnan(value) else f"{value:.2%}"
            label.append(f"TPR@{self.low_fpr:.1%} FPR = {value}")
        fpr, tpr = np.asarray(self.fpr, dtype=float), np.asarray(self.tpr, dtype=float)
        # Down to low_fpr even when the first tied block holds more non-members.
        floor = min(fpr[fpr > 0].min(initial=1.0), self.low_fpr)
        # A block of tied scores is a straight segment of the ROC (flagging part
        # of it at random), which a straight line on log axes is not: draw it
        # through points evenly spaced in log FPR.
        resolved = self._resolved_fpr()
        grid = np.logspace(np.log10(floor), 0, 200)
        if resolved > floor:  # the curve starts exactly where the data resolve
            grid = np.r_[grid, resolved]
        x, y = np.r_[fpr, grid], np.r_[tpr, tpr_at(tpr, fpr, grid)]
        order = np.lexsort((y, x))
        x, y = x[order], y[order]
        # Below 10 / n_non_members the FPR is unresolved (the tables say n/a):
        # shade that band (from far left, as callers may widen the axes) and
        # draw no curve into it.
        if resolved > floor:
            if not any(p.get_gid() == "unresolved" for p in ax.patches):
                ax.axvspan(
                    1e-12,
                    resolved,
                    color="0.85",
                    gid="unresolved",
                    label=f"unresolved: FPR < 10 / {self._n_non_members()} non-members",
                )
            y = np.where(x >= resolved, y, np.nan)
        style = self._style({"label": ", ".join(label) or None}, kwargs)
        (self.line_,) = ax.plot(x[x > 0], y[x > 0], **style)
        grid = np.logspace(np.log10(floor), 0, 50)
        ax.plot(grid, grid, "k--", lw=0.8, label="chance")
        ax.set(
            xscale="log",
            yscale="log",
            xlim=(floor, 1),
            ylim=(floor, 1.05),
            xlabel="False-positive rate",
            ylabel="True-positive rate",
            title="Membership inference ROC",
        )
        ax.legend(loc="lower right")
        self.hist_ax_ = None
        if histogram and hist_ax is not None:
            both = np.r_[self.member_scores, self.non_member_scores]
            bins = np.histogram_bin_edges(both, bins=50)
            hist_ax.hist(
                self.non_member_scores,
                bins,
                alpha=0.6,
                density=True,
                label="non-members",
            )
            hist_ax.hist(
                self.member_scores, bins, alpha=0.6, density=True, label="members"
            )
            hist_ax.set(
                xlabel="Attack score", ylabel="Density", title="Score histograms"
            )
            hist_ax.legend()
            self.hist_ax_ = hist_ax
        return self._set_axes(ax)

    def _n_non_members(self):
        return None if self.non_member_scores is None else len(self.non_member_scores)

    def _resolved_fpr(self):
        """The smallest FPR the non-members resolve (0 when their number is unknown)."""
        n = self._n_non_members()
        return 0.0 if not n else 10 / n

    @classmethod
    def from_predictions(
        cls,
        membership,
        scores,
        *,
        name=None,
        low_fpr=0.001,
        ax=None,
        histogram=True,
        **kwargs,
    ):
        """Plot from true memberships and attack scores.

        Parameters
        ----------
        membership : array-like of shape (n_samples,)
            1 for members, 0 for non-members.
        scores : array-like of shape (n_samples,)
            Attack scores.
        name : str, default=None
            Name of the attack in the legend.
        low_fpr : float, default=0.001
            FPR at which the TPR is put in the legend; "n/a", with an
            :class:`~skprivacy.exceptions.UnresolvedMetricWarning`, when fewer
            than ``10 / low_fpr`` non-members resolve it.
        ax : matplotlib Axes, default=None
            Axes for the ROC curve.
        histogram : bool, default=True
            Draw score histograms (in a second axes when ``ax`` is None).
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : MembershipInferenceDisplay
        """
        cls._check_matplotlib("from_predictions")
        membership, scores = check_membership(membership, scores)
        fpr, tpr, _ = membership_roc_curve(membership, scores)
        # NaN, with an UnresolvedMetricWarning, when the non-members are too few.
        low = tpr_at_fpr(membership, scores, low_fpr)
        display = cls(
            fpr=fpr,
            tpr=tpr,
            roc_auc=membership_auc(membership, scores),
            tpr_at_low_fpr=low,
            low_fpr=low_fpr,
            member_scores=scores[membership],
            non_member_scores=scores[~membership],
            name=name,
        )
        return display.plot(ax=ax, histogram=histogram, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        auditor,
        X,
        y,
        membership,
        *,
        name=None,
        low_fpr=0.001,
        ax=None,
        histogram=True,
        **kwargs,
    ):
        """Plot the attack of a fitted auditor on records of known membership.

        Parameters
        ----------
        auditor : MembershipInferenceAuditor
            Fitted auditor.
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.
        membership : array-like of shape (n_samples,)
            1 for members, 0 for non-members.
        name : str, default=None
            Name in the legend; defaults to the attack's class name.
        low_fpr : float, default=0.001
            FPR at which the TPR is put in the legend.
        ax : matplotlib Axes, default=None
            Axes for the ROC curve.
        histogram : bool, default=True
            Draw score histograms.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : MembershipInferenceDisplay
        """
        cls._check_matplotlib("from_estimator")
        scores = auditor.score_samples(X, y)
        name = attack_name(auditor.attack_) if name is None else name
        return cls.from_predictions(
            membership,
            scores,
            name=name,
            low_fpr=low_fpr,
            ax=ax,
            histogram=histogram,
            **kwargs,
        )
