"""Certified-accuracy metrics and the display."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.datasets import make_classification

from skprivacy import SmoothedClassifier
from skprivacy.certify import (
    CertifiedAccuracyDisplay,
    average_certified_radius,
    certified_accuracy_curve,
    certified_accuracy_lower_bound,
)

Y = np.array([0, 1, 1, 0, 2])
PRED = np.array([0, 1, -1, 1, 2])
RADII = np.array([0.5, 1.0, 0.0, 2.0, 0.25])


def test_curve_by_definition():
    grid, accuracy = certified_accuracy_curve(Y, PRED, RADII)
    np.testing.assert_array_equal(grid, [0.0, 0.25, 0.5, 1.0])
    expected = [np.mean((PRED == Y) & (RADII >= r)) for r in grid]
    np.testing.assert_allclose(accuracy, expected)
    grid, accuracy = certified_accuracy_curve(Y, PRED, RADII, radius_grid=[1.5, 0.1])
    np.testing.assert_allclose(grid, [0.1, 1.5])
    np.testing.assert_allclose(accuracy, [0.6, 0.0])
    weights = np.array([1, 1, 1, 1, 4.0])
    _, accuracy = certified_accuracy_curve(Y, PRED, RADII, sample_weight=weights)
    assert accuracy[0] == pytest.approx(6 / 8)


def test_average_certified_radius():
    assert average_certified_radius(Y, PRED, RADII) == pytest.approx(1.75 / 5)


def test_lower_bound_is_exact_binomial_quantile():
    m, alpha, rho = 500, 0.01, 0.001
    y = np.zeros(m, dtype=int)
    bound = certified_accuracy_lower_bound(y, y, np.ones(m), alpha=alpha, rho=rho)
    assert bound == pytest.approx(1 - binom.ppf(1 - rho, m, alpha) / m)
    at_two = certified_accuracy_lower_bound(y, y, np.ones(m), radius=2.0, alpha=alpha)
    assert at_two < 0
    with pytest.raises(ValueError, match=r"The 'alpha' parameter of .* must be"):
        certified_accuracy_lower_bound(y, y, np.ones(m), alpha=1.5)


def _violation_probability(n_distinct, n_copies, alpha, rho, with_X):
    """Exact probability that the bound exceeds the true certified accuracy.

    Worst case of the guarantee: the smoothed classifier is wrong on every row
    (true certified accuracy 0), and each distinct row's certificate wrongly
    claims the true label with probability alpha, independently; its copies
    share it. With k such certificates the approximate certified accuracy is
    k * n_copies / m.
    """
    m = n_distinct * n_copies
    y = np.zeros(m, dtype=int)
    X = np.repeat(np.arange(n_distinct, dtype=float), n_copies)[:, None]
    # Counts beyond the 1 - 1e-9 quantile are counted as violations.
    last = int(binom.ppf(1 - 1e-9, n_distinct, alpha))
    total = binom.sf(last, n_distinct, alpha)
    for k in range(last + 1):
        pred = np.where(X[:, 0] < k, 0, 1)
        bound = certified_accuracy_lower_bound(
            y, pred, np.ones(m), alpha=alpha, rho=rho, X=X if with_X else None
        )
        total += binom.pmf(k, n_distinct, alpha) * (bound > 0)
    return total


@pytest.mark.parametrize("n_distinct, n_copies", [(400, 1), (40, 10), (8, 50)])
def test_lower_bound_holds_with_duplicate_rows(n_distinct, n_copies):
    # Issue 12, finding 2: duplicates share one certificate. Without X the
    # bound fails in 18% (40 x 10) and 4% (8 x 50) of cases at rho = 0.05 and
    # alpha = 0.005; counting distinct rows keeps every case at most rho
    # (exact probabilities, no sampling).
    alpha, rho = 0.005, 0.05
    assert _violation_probability(n_distinct, n_copies, alpha, rho, True) <= rho
    if n_copies == 1:
        # Without duplicates X changes nothing.
        assert _violation_probability(
            n_distinct, n_copies, alpha, rho, False
        ) == pytest.approx(_violation_probability(n_distinct, 1, alpha, rho, True))


def test_lower_bound_counts_copies():
    # Two distinct rows with 3 and 1 copies: W = 3 B1 + B2, alpha = 0.1; its
    # law is P(0)=.81, P(1)=.09, P(3)=.09, P(4)=.01, so the 0.95 quantile is 3.
    y = np.zeros(4, dtype=int)
    X = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 2.0], [1.0, 2.0]])
    bound = certified_accuracy_lower_bound(y, y, np.ones(4), alpha=0.1, rho=0.05, X=X)
    assert bound == pytest.approx(1 - 3 / 4)
    # Mixed types (a DataFrame with strings) are compared by value.
    import pandas as pd

    frame = pd.DataFrame({"a": ["u", "u", "v", "u"], "b": [1, 1, 1, 1]})
    assert certified_accuracy_lower_bound(
        y, y, np.ones(4), alpha=0.1, rho=0.05, X=frame
    ) == pytest.approx(bound)
    with pytest.raises(ValueError, match="X has 3 rows"):
        certified_accuracy_lower_bound(y, y, np.ones(4), X=X[:3])


@pytest.mark.parametrize(
    "radii, match",
    [([0.5, -1, 0, 0, 0], "non-negative"), ([0.5, np.nan, 0, 0, 0], "finite")],
)
def test_metric_errors(radii, match):
    with pytest.raises(ValueError, match=match):
        certified_accuracy_curve(Y, PRED, radii)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        average_certified_radius(Y, PRED, RADII[:3])


def test_display_contract():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    clf = SmoothedClassifier(n0=20, n=300, random_state=0).fit(X, y)
    display = CertifiedAccuracyDisplay.from_estimator(clf, X, y)
    labels, radii = clf.certify(X)
    grid, accuracy = certified_accuracy_curve(y, labels, radii)
    np.testing.assert_allclose(display.radius, grid)
    np.testing.assert_allclose(display.certified_accuracy, accuracy)
    np.testing.assert_allclose(display.line_.get_xdata(), grid)
    assert display.ax_.figure is display.figure_
    assert "SmoothedClassifier" in display.line_.get_label()
    # Issue 21, point 3: ACR spelled out, the radius said to be l2.
    acr = average_certified_radius(y, labels, radii)
    assert display.line_.get_label().endswith(
        f"average certified radius (ACR) = {acr:.3f}"
    )
    assert display.ax_.get_xlabel() == "Certified radius (l2)"
    _, ax = plt.subplots()
    again = display.plot(ax=ax, name="other", color="red")
    assert again is display and display.ax_ is ax
    assert display.line_.get_label().startswith("other")
    with pytest.raises(TypeError, match="no certify method"):
        CertifiedAccuracyDisplay.from_estimator(object(), X, y)
    plt.close("all")
