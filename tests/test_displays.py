"""What every display shares (skprivacy.utils._plotting.DisplayMixin)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

import numpy as np
import pandas as pd
import pytest

from skprivacy.audit import (
    DPAuditDisplay,
    FrontierDisplay,
    MembershipInferenceDisplay,
)
from skprivacy.certify import CertifiedAccuracyDisplay
from skprivacy.utils import all_displays
from skprivacy.utils._plotting import DisplayMixin

pytest.importorskip("matplotlib")


@pytest.fixture
def pyplot():
    """pyplot, with every figure closed after the test."""
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


MEMBERSHIP = np.array([1, 0, 1, 0, 1, 0])
SCORES = np.array([0.9, 0.1, 0.8, 0.3, 0.4, 0.5])
FRONTIER = pd.DataFrame(
    {
        "recipe": ["plain", "dp"],
        "attack": "strongest",
        "records": "population",
        "accuracy": [0.8, 0.7],
        "tpr_at_0.001_fpr": [0.01, 0.002],
    }
)

# A stored display of each kind, and its from_predictions call where it has one.
DISPLAYS = {
    "CertifiedAccuracyDisplay": lambda: CertifiedAccuracyDisplay(
        [0.0, 1.0], [1.0, 0.5]
    ),
    "DPAuditDisplay": lambda: DPAuditDisplay(sizes=[10, 20], epsilon=[0.1, 0.2]),
    "FrontierDisplay": lambda: FrontierDisplay(FRONTIER),
    "MembershipInferenceDisplay": lambda: MembershipInferenceDisplay(
        fpr=[0.0, 0.5, 1.0], tpr=[0.0, 0.7, 1.0]
    ),
}
FROM_PREDICTIONS = {
    "CertifiedAccuracyDisplay": lambda: CertifiedAccuracyDisplay.from_predictions(
        [0, 1], [0, 1], [0.5, 1.0]
    ),
    "DPAuditDisplay": lambda: DPAuditDisplay.from_predictions(
        MEMBERSHIP.astype(bool), SCORES, random_state=0
    ),
    "MembershipInferenceDisplay": lambda: MembershipInferenceDisplay.from_predictions(
        MEMBERSHIP, SCORES
    ),
}


def test_every_display_is_listed_and_shares_the_base():
    displays = dict(all_displays())
    assert set(displays) == set(DISPLAYS)
    for name, cls in displays.items():
        assert issubclass(cls, DisplayMixin), name
        assert callable(getattr(cls, "from_estimator", None)), name


@pytest.mark.parametrize("name", sorted(DISPLAYS))
def test_plot_sets_the_axes(name, pyplot):
    display = DISPLAYS[name]().plot()
    assert display.figure_ is display.ax_.figure


@pytest.mark.parametrize("name", sorted(DISPLAYS))
def test_without_matplotlib_the_message_says_what_to_install(name, monkeypatch):
    # None in sys.modules makes "import matplotlib" fail as if not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    display = DISPLAYS[name]()
    match = rf"{name}\.plot needs matplotlib.*pip install 'skprivacy\[plot\]'"
    with pytest.raises(ImportError, match=match):
        display.plot()
    if name in FROM_PREDICTIONS:
        # Refused before anything is computed.
        with pytest.raises(ImportError, match=rf"{name}\.from_predictions needs"):
            FROM_PREDICTIONS[name]()


@pytest.mark.parametrize("name", sorted(FROM_PREDICTIONS))
def test_style_aliases_are_merged(name, pyplot):
    display = DISPLAYS[name]()
    display.plot(c="tab:red")
    with pytest.raises(TypeError, match="aliases of one another"):
        display.plot(c="tab:red", color="tab:blue")
