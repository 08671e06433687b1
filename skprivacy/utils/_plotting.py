"""What every display shares: the matplotlib check, the axes and the style.

Displays follow scikit-learn's (``RocCurveDisplay``, ``CalibrationDisplay``):
``__init__`` stores what was computed, ``plot`` draws it and keeps the
artists (``ax_``, ``figure_``), ``from_estimator`` reads a fitted estimator and
``from_predictions`` arrays of results, the former delegating to the latter
where both apply. matplotlib is an optional dependency (the ``plot`` extra):
without it every display says so by name instead of failing on a bare import.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from skprivacy.utils._sklearn_compat import _validate_style_kwargs


def check_matplotlib_support(caller_name: str) -> None:
    """Raise a clear ImportError when matplotlib is not installed.

    Parameters
    ----------
    caller_name : str
        What needs matplotlib, for the message (``"Display.plot"``).
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} needs matplotlib, which is not installed. Install it "
            "with pip install 'skprivacy[plot]' (or pip install matplotlib)."
        ) from exc


class DisplayMixin:
    """Base of skprivacy's displays: axes set-up, legend name and style."""

    @classmethod
    def _check_matplotlib(cls, method: str) -> None:
        """Refuse early, before a ``from_*`` method computes anything."""
        check_matplotlib_support(f"{cls.__name__}.{method}")

    def _validate_plot_params(self, *, ax=None, name=None, **subplots):
        """The axes to draw on and the legend name.

        Parameters
        ----------
        ax : matplotlib Axes or None
            ``None`` creates a figure with ``plt.subplots(**subplots)`` (then
            the returned ``ax`` is an array when several are asked for).
        name : str or None
            Overrides the display's own ``name`` attribute, if it has one.

        Returns
        -------
        ax : matplotlib Axes (or array of Axes)
        name : str or None
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(**subplots)
        return ax, getattr(self, "name", None) if name is None else name

    @staticmethod
    def _style(defaults: dict, kwargs: dict) -> dict:
        """The display's default style updated by the user's (aliases merged)."""
        return _validate_style_kwargs(defaults, kwargs)

    def _set_axes(self, ax):
        """Keep the axes and their figure; return the display."""
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
