"""What every report of audit shares: JSON values, versions, ``to_json``.

:class:`AuditReport`, :class:`DPAuditReport` and the inversion reports derive
from :class:`ReportMixin` and build their ``to_dict`` on :func:`jsonable`, so
that every report writes the same JSON and records the same versions; their
HTML pages come from :func:`skprivacy.utils._html.html_page`, as the command
line's report does.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import base64
import io
import json
import platform
import sys

import numpy as np
import pandas as pd

from skprivacy.utils._plotting import check_matplotlib_support


def report_versions():
    """The versions of Python and of the libraries a result depends on."""
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


def jsonable(value):
    """``value`` in JSON's types: arrays as lists, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def png_src(figure):
    """A matplotlib figure as an embedded PNG ``src``; the figure is closed."""
    check_matplotlib_support("to_html")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def fpr_key(fpr):
    """The column name of the TPR at ``fpr`` in every report."""
    return f"tpr_at_{fpr:g}_fpr"


class ReportMixin:
    """``to_json`` for a report that has ``to_dict``."""

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
