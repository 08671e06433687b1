# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest

from skprivacy.audit import (
    MembershipInferenceAuditor,
    MembershipInferenceDisplay,
    membership_auc,
    tpr_at_fpr,
)
from skprivacy.exceptions import UnresolvedMetricWarning

pytest.importorskip("matplotlib")


pytestmark = pytest.mark.usefixtures("close_figures")


def _scores(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    membership = np.r_[np.ones(n), np.zeros(n)].astype(int)
    return membership, rng.normal(size=2 * n) + membership


def test_from_predictions_follows_the_display_contract():
    membership, scores = _scores()
    display = MembershipInferenceDisplay.from_predictions(
        membership, scores, name="x", low_fpr=0.005
    )
    assert display.roc_auc == pytest.approx(membership_auc(membership, scores))
    assert display.tpr_at_low_fpr == tpr_at_fpr(membership, scores, 0.005)
    assert display.ax_.get_xscale() == "log" and display.ax_.get_yscale() == "log"
    assert display.figure_ is display.ax_.figure
    label = display.line_.get_label()
    assert label.startswith("x, AUC = ") and "TPR@0.5% FPR = " in label
    assert "n/a" not in label
    assert display.hist_ax_ is not None
    assert len(display.hist_ax_.patches) == 100  # 50 bins, two histograms


def test_unresolved_tpr_is_na_in_the_legend():
    # Issue 11, point 4: 2,000 non-members cannot resolve an FPR of 0.1%
    # (10 / 0.001 = 10,000 needed): the legend says n/a, with the typed warning.
    membership, scores = _scores()
    with pytest.warns(UnresolvedMetricWarning, match="cannot resolve"):
        display = MembershipInferenceDisplay.from_predictions(membership, scores)
    assert np.isnan(display.tpr_at_low_fpr)
    assert display.line_.get_label().endswith("TPR@0.1% FPR = n/a")


def test_plot_on_given_axes_and_without_histogram():
    import matplotlib.pyplot as plt

    membership, scores = _scores(300)
    _, ax = plt.subplots()
    display = MembershipInferenceDisplay.from_predictions(
        membership, scores, ax=ax, histogram=False, color="red"
    )
    assert display.ax_ is ax and display.hist_ax_ is None
    assert display.line_.get_color() == "red"
    _, (roc_ax, hist_ax) = plt.subplots(1, 2)
    display.plot(ax=roc_ax, hist_ax=hist_ax, name="again")
    assert display.hist_ax_ is hist_ax
    assert display.line_.get_label().startswith("again")


def test_from_estimator_uses_the_auditor_scores(memorizing_forest):
    target, X, y, membership, Xp, yp = memorizing_forest
    auditor = MembershipInferenceAuditor(target, attack="loss", n_references=0)
    auditor.fit(X, y, X_population=Xp, y_population=yp)
    display = MembershipInferenceDisplay.from_estimator(auditor, X, y, membership)
    scores = auditor.score_samples(X, y)
    assert display.roc_auc == pytest.approx(membership_auc(membership, scores))
    assert display.line_.get_label().startswith("loss")


def test_tied_scores_are_drawn_as_the_tests_with_a_coin_reach_them():
    # Issue 20, point 2: a release with constant outputs has the ROC TPR = FPR
    # (flag a share of the tied records at random). Straight lines between the
    # ROC's two points, (0, 0) and (1, 1), drew nothing on log axes, and the
    # axes shrank to the point (1, 1).
    membership = np.r_[np.ones(5000), np.zeros(5000)].astype(int)
    display = MembershipInferenceDisplay.from_predictions(
        membership, np.zeros(10_000), low_fpr=0.01, histogram=False
    )
    x, y = display.line_.get_data()
    np.testing.assert_allclose(y, x, rtol=1e-12)
    assert x.min() == pytest.approx(0.01) and x.max() == 1.0
    assert display.ax_.get_xlim() == pytest.approx((0.01, 1))
    assert display.line_.get_label().endswith("TPR@1.0% FPR = 1.00%")


def test_unresolved_fprs_are_shaded_and_not_drawn():
    # Issue 21, point 3: 500 non-members resolve FPRs from 10 / 500 = 2% up;
    # the table calls lower ones n/a, so the plot draws no curve there and
    # shades the band (before: the curve ran down to low_fpr = 0.1%).
    membership, scores = _scores(n=500)
    with pytest.warns(UnresolvedMetricWarning):
        display = MembershipInferenceDisplay.from_predictions(
            membership, scores, low_fpr=0.001, histogram=False
        )
    x, y = display.line_.get_data()
    drawn = np.isfinite(y)
    assert x[drawn].min() == pytest.approx(0.02)
    assert not drawn[x < 0.02].any()
    (band,) = [p for p in display.ax_.patches if p.get_gid() == "unresolved"]
    assert band.get_x() + band.get_width() == pytest.approx(0.02)
    assert "10 / 500 non-members" in band.get_label()
    # Tied scores draw from low_fpr = 1% up, which 5,000 non-members resolve:
    # no band, the whole curve.
    membership = np.r_[np.ones(5000), np.zeros(5000)].astype(int)
    display = MembershipInferenceDisplay.from_predictions(
        membership, np.zeros(10_000), low_fpr=0.01, histogram=False
    )
    assert not [p for p in display.ax_.patches if p.get_gid() == "unresolved"]
    assert np.isfinite(display.line_.get_data()[1]).all()
