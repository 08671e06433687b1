"""The binomial statistics against scipy's exact tests and closed forms."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy.stats import binomtest, norm

from skprivacy.certify import (
    binomial_test_pvalue,
    certified_radius,
    clopper_pearson_lower,
    clopper_pearson_upper,
    min_samples_to_certify,
    min_samples_to_predict,
    sequential_checkpoints,
)


@pytest.mark.parametrize("n", [1, 10, 137, 1000])
@pytest.mark.parametrize("alpha", [0.2, 0.01, 0.001])
def test_clopper_pearson_matches_scipy_exact_interval(n, alpha):
    # One-sided at alpha == lower end of the two-sided exact interval at 1 - 2 alpha.
    k = np.unique(np.linspace(0, n, 7).astype(int))
    lower = clopper_pearson_lower(k, n, alpha)
    upper = clopper_pearson_upper(k, n, alpha)
    for i, ki in enumerate(k):
        ci = binomtest(int(ki), n).proportion_ci(1 - 2 * alpha, method="exact")
        assert lower[i] == pytest.approx(ci.low, abs=1e-10)
        assert upper[i] == pytest.approx(ci.high, abs=1e-10)


def test_clopper_pearson_edges():
    assert clopper_pearson_lower(0, 50, 0.01) == 0.0
    assert clopper_pearson_upper(50, 50, 0.01) == 1.0
    assert clopper_pearson_lower(10, 10, 0.001) == pytest.approx(0.001**0.1)


@pytest.mark.parametrize("n_top, n_second", [(10, 0), (7, 3), (5, 5), (60, 40), (0, 0)])
def test_binomial_pvalue_matches_scipy(n_top, n_second):
    expected = (
        1.0 if n_top + n_second == 0 else binomtest(n_top, n_top + n_second).pvalue
    )
    assert binomial_test_pvalue(n_top, n_second) == pytest.approx(expected, rel=1e-10)


def test_certified_radius():
    p = np.array([0.3, 0.5, 0.6844, 0.999])
    radius = certified_radius(p, sigma=0.5)
    np.testing.assert_allclose(
        radius, [0.0, 0.0, 0.5 * norm.ppf(0.6844), 0.5 * norm.ppf(0.999)]
    )


@pytest.mark.parametrize("alpha", [0.5, 0.1, 0.01, 0.001, 1e-6])
def test_min_samples(alpha):
    n = min_samples_to_certify(alpha)
    assert clopper_pearson_lower(n, n, alpha) >= 0.5 - 1e-12
    if n > 1:
        assert clopper_pearson_lower(n - 1, n - 1, alpha) < 0.5
    n = min_samples_to_predict(alpha)
    assert binomial_test_pvalue(n, 0) <= alpha
    assert binomial_test_pvalue(n - 1, 0) > alpha
    assert min_samples_to_certify(0.001) == 10
    assert min_samples_to_predict(0.001) == 11


@pytest.mark.parametrize("n_max", [10, 100, 1000, 100_000])
@pytest.mark.parametrize("alpha", [0.1, 0.001])
def test_sequential_checkpoints(n_max, alpha):
    checkpoints, alpha_look = sequential_checkpoints(n_max, alpha)
    assert checkpoints[-1] == n_max
    assert np.all(np.diff(checkpoints) > 0)
    assert alpha_look * len(checkpoints) == pytest.approx(alpha)
    if n_max >= min_samples_to_predict(alpha):
        # The first look can already decide.
        assert binomial_test_pvalue(checkpoints[0], 0) <= alpha_look
