"""Plot of the certified accuracy curve."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from skprivacy.certify._metrics import (
    average_certified_radius,
    certified_accuracy_curve,
)
from skprivacy.utils._plotting import DisplayMixin


class CertifiedAccuracyDisplay(DisplayMixin):
    """Certified accuracy as a function of the l2 radius.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; the
    constructor only stores the curve.

    Parameters
    ----------
    radius : ndarray of shape (n_radii,)
        Increasing radii.
    certified_accuracy : ndarray of shape (n_radii,)
        Certified accuracy at each radius.
    average_certified_radius : float, default=None
        Shown in the legend when given, as "average certified radius (ACR)":
        the radius averaged over records, 0 for wrong or abstained ones.
    name : str, default=None
        Name of the model, for the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the curve.

    See Also
    --------
    certified_accuracy_curve : Compute the curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skprivacy.certify import CertifiedAccuracyDisplay
    >>> display = CertifiedAccuracyDisplay.from_predictions(
    ...     [0, 1, 1, 0], [0, 1, -1, 1], [0.5, 1.0, 0.0, 2.0], name="smoothed")
    >>> display.ax_.get_xlabel()
    'Certified radius (l2)'
    >>> display.line_.get_label()
    'smoothed, average certified radius (ACR) = 0.375'
    """

    def __init__(
        self, radius, certified_accuracy, *, average_certified_radius=None, name=None
    ):
        self.radius = radius
        self.certified_accuracy = certified_accuracy
        self.average_certified_radius = average_certified_radius
        self.name = name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; a new figure is created when ``None``.
        name : str, default=None
            Legend name; defaults to the stored ``name``.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CertifiedAccuracyDisplay
            The object, with ``line_``, ``ax_`` and ``figure_`` set.
        """
        ax, name = self._validate_plot_params(ax=ax, name=name)
        label = name
        if self.average_certified_radius is not None:
            acr = (
                f"average certified radius (ACR) = {self.average_certified_radius:.3f}"
            )
            label = acr if label is None else f"{label}, {acr}"
        # Certified accuracy at r counts radii >= r: constant on (r_i, r_{i+1}].
        defaults = {"drawstyle": "steps-pre"}
        if label is not None:
            defaults["label"] = label
        style = self._style(defaults, kwargs)
        (self.line_,) = ax.plot(self.radius, self.certified_accuracy, **style)
        # Radii are l2 in the units of the noise (SmoothedClassifier's
        # feature_scale_: raw units, or standard deviations with "std").
        ax.set_xlabel("Certified radius (l2)")
        ax.set_ylabel("Certified accuracy")
        ax.set_ylim(0, 1.02)
        if "label" in style:
            ax.legend(loc="upper right")
        return self._set_axes(ax)

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        radii,
        *,
        radius_grid=None,
        sample_weight=None,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Plot the curve from certified labels and radii.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like of shape (n_samples,)
            Certified labels.
        radii : array-like of shape (n_samples,)
            Certified radii.
        radius_grid : array-like, default=None
            See :func:`certified_accuracy_curve`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str, default=None
            Legend name.
        ax : matplotlib Axes, default=None
            Axes to plot on.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CertifiedAccuracyDisplay
        """
        cls._check_matplotlib("from_predictions")
        radius, accuracy = certified_accuracy_curve(
            y_true, y_pred, radii, radius_grid=radius_grid, sample_weight=sample_weight
        )
        acr = average_certified_radius(
            y_true, y_pred, radii, sample_weight=sample_weight
        )
        display = cls(radius, accuracy, average_certified_radius=acr, name=name)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        radius_grid=None,
        sample_weight=None,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Certify ``X`` with a fitted smoothed classifier and plot the curve.

        Parameters
        ----------
        estimator : fitted SmoothedClassifier
            Any fitted estimator with ``certify(X) -> (labels, radii)``.
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,)
            True labels.
        radius_grid : array-like, default=None
            See :func:`certified_accuracy_curve`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str, default=None
            Legend name; defaults to the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to plot on.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : CertifiedAccuracyDisplay
        """
        cls._check_matplotlib("from_estimator")
        if not hasattr(estimator, "certify"):
            raise TypeError(
                f"{type(estimator).__name__} has no certify method; pass a fitted "
                "SmoothedClassifier."
            )
        labels, radii = estimator.certify(X)
        return cls.from_predictions(
            y,
            labels,
            radii,
            radius_grid=radius_grid,
            sample_weight=sample_weight,
            name=type(estimator).__name__ if name is None else name,
            ax=ax,
            **kwargs,
        )
