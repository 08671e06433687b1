"""Tests of make_recommendation."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kstest, truncnorm

from skprivacy.datasets import make_recommendation


def test_bunch_contents_and_reproducibility():
    rec = make_recommendation(n_samples=300, n_features=4, random_state=1)
    assert rec.data.shape == (300, 4)
    assert rec.feature_names == ["bmi", "x1", "x2", "x3"]
    assert rec.sensitive_features == ["bmi"] and rec.sensitive_index == 0
    assert rec.sensitive_domain == (15.0, 50.0)
    assert rec.coef.shape == (3,)
    np.testing.assert_allclose(np.linalg.norm(rec.coef), 1.0)
    again = make_recommendation(n_samples=300, n_features=4, random_state=1)
    np.testing.assert_array_equal(rec.data, again.data)
    np.testing.assert_array_equal(rec.target, again.target)
    other = make_recommendation(n_samples=300, n_features=4, random_state=2)
    assert not np.array_equal(rec.data, other.data)


def test_noiseless_target_is_the_threshold_rule():
    rec = make_recommendation(
        n_samples=2000, other_weight=0.0, noise=0.0, positive_rate=0.3, random_state=0
    )
    np.testing.assert_array_equal(rec.target, rec.data[:, 0] > rec.threshold)
    assert rec.target.sum() == 600


def test_target_follows_the_documented_latent_score():
    # With the returned threshold and coef, the latent score without noise agrees
    # with the label except where the noise (std 0.1) crosses the threshold.
    rec = make_recommendation(n_samples=5000, random_state=3)
    bmi, others = rec.data[:, 0], rec.data[:, 1:]
    z = (bmi - rec.threshold) / 6.0 + 0.3 * others @ rec.coef
    disagree = (z > 0) != rec.target.astype(bool)
    # A disagreement needs |z| below a few noise std: none beyond 6 std (p < 1e-8).
    assert np.all(np.abs(z[disagree]) < 0.6)
    assert 0 < disagree.mean() < 0.1


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_class_balance(rate):
    y = make_recommendation(n_samples=1000, positive_rate=rate, random_state=0).target
    assert abs(y.mean() - rate) <= 1e-3


def test_sensitive_attribute_law_is_the_truncated_normal():
    rec = make_recommendation(n_samples=4000, domain=(20.0, 40.0), random_state=5)
    bmi = rec.data[:, 0]
    assert bmi.min() >= 20.0 and bmi.max() <= 40.0
    a, b = (20.0 - 28.0) / 6.0, (40.0 - 28.0) / 6.0
    # A correct sampler fails the KS test at level 1e-4 with probability 1e-4.
    assert kstest(bmi, truncnorm(a, b, loc=28.0, scale=6.0).cdf).pvalue > 1e-4
    # The wrong law (no truncation, plain normal) is rejected.
    from scipy.stats import norm

    assert kstest(bmi, norm(28.0, 6.0).cdf).pvalue < 1e-4


@pytest.mark.parametrize("rho", [0.0, 0.5, -0.8])
def test_sensitive_correlation(rho):
    n = 5000
    rec = make_recommendation(n_samples=n, sensitive_correlation=rho, random_state=2)
    r = np.corrcoef(rec.data[:, 0], rec.data[:, 1])[0, 1]
    # Fisher z: atanh(r) ~ Normal(atanh(rho), 1 / sqrt(n - 3)); |dev| > 3.89 sd has
    # probability 1e-4.
    assert abs(np.arctanh(r) - np.arctanh(rho)) <= 3.89 / np.sqrt(n - 3)
    # Other columns stay uncorrelated with bmi (same bound).
    r2 = np.corrcoef(rec.data[:, 0], rec.data[:, 2])[0, 1]
    assert abs(np.arctanh(r2)) <= 3.89 / np.sqrt(n - 3)


def test_as_frame_and_return_X_y():
    rec = make_recommendation(n_samples=20, as_frame=True, random_state=0)
    assert isinstance(rec.data, pd.DataFrame) and rec.data.columns[0] == "bmi"
    assert rec.frame.shape == (20, 7)
    X, y = make_recommendation(n_samples=20, return_X_y=True, random_state=0)
    assert X.shape == (20, 6) and y.dtype == np.int64


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "The 'n_samples' parameter"),
        ({"n_features": 1.5}, TypeError, "The 'n_features' parameter"),
        ({"domain": (30.0, 30.0)}, ValueError, "low < high"),
        ({"domain": (1.0,)}, ValueError, "domain must be a pair"),
        ({"domain": "ab"}, ValueError, "The 'domain' parameter"),
        ({"domain": (200.0, 300.0)}, ValueError, "no mass"),
        ({"positive_rate": 1.0}, ValueError, "positive_rate"),
        ({"sensitive_std": 0.0}, ValueError, "sensitive_std"),
        ({"noise": -1.0}, ValueError, "noise"),
        ({"sensitive_correlation": 1.0}, ValueError, "sensitive_correlation"),
        (
            {"sensitive_correlation": 0.5, "n_features": 1},
            ValueError,
            "n_features >= 2",
        ),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_recommendation(**kwargs)
