"""Tests of the DP-SGD accounting functions against analytic oracles."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings

import numpy as np
import pytest
from opacus.accountants import RDPAccountant
from scipy import optimize, stats
from sklearn.datasets import make_classification

from skprivacy.defense import (
    DPSGDClassifier,
    dp_epsilon,
    dp_noise_multiplier,
    dp_sgd_plan,
)
from skprivacy.exceptions import DPParameterWarning


def analytic_gaussian_epsilon(noise_multiplier, steps, delta):
    """Exact epsilon of ``steps`` full-batch Gaussian steps at ``delta``.

    At sampling rate 1, ``steps`` Gaussian mechanisms of sensitivity 1 and
    standard deviation sigma compose exactly into one of standard deviation
    ``sigma / sqrt(steps)``, which is mu-GDP with ``mu = sqrt(steps) / sigma``;
    its exact privacy curve is ``delta(eps) = Phi(-eps/mu + mu/2) - e^eps
    Phi(-eps/mu - mu/2)`` (Balle & Wang, ICML 2018, Theorem 8).
    """
    mu = math.sqrt(steps) / noise_multiplier

    def excess(eps):
        return (
            stats.norm.cdf(-eps / mu + mu / 2)
            - math.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2)
            - delta
        )

    return optimize.brentq(excess, 0.0, 500.0, xtol=1e-10)


GAUSSIAN_CASES = [(1.0, 1, 1e-5), (2.0, 1, 1e-5), (0.5, 1, 1e-5), (3.0, 50, 1e-6)]


@pytest.mark.parametrize("noise, steps, delta", GAUSSIAN_CASES)
def test_full_batch_epsilon_bounds_the_analytic_gaussian(noise, steps, delta):
    exact = analytic_gaussian_epsilon(noise, steps, delta)
    rdp = dp_epsilon(noise, sample_rate=1.0, steps=steps, delta=delta)
    prv = dp_epsilon(noise, sample_rate=1.0, steps=steps, delta=delta, accountant="prv")
    # Both are upper bounds. RDP's conversion to (eps, delta) loses under 10%
    # on the Gaussian; the PRV is exact up to its discretisation error
    # (Opacus's eps_error, 0.01 here, on the estimate and on the bound).
    assert exact <= rdp <= 1.1 * exact
    assert exact <= prv <= exact + 2 * 0.01


@pytest.mark.parametrize("noise, steps", [(1.0, 1), (0.7, 3), (4.0, 20)])
def test_full_batch_rdp_epsilon_is_the_closed_form(noise, steps):
    # At sampling rate 1 the Renyi divergence of order a of T Gaussian steps is
    # T a / (2 sigma^2) (Mironov 2017); Opacus converts it with
    # eps = rdp + log((a-1)/a) - (log delta + log a) / (a - 1) (Balle et al.
    # 2020, Theorem 21), minimised over its grid of orders.
    delta = 1e-5
    orders = np.asarray(RDPAccountant.DEFAULT_ALPHAS, dtype=float)
    rdp = steps * orders / (2 * noise**2)
    closed_form = np.min(
        rdp
        + np.log((orders - 1) / orders)
        - (np.log(delta) + np.log(orders)) / (orders - 1)
    )
    assert dp_epsilon(
        noise, sample_rate=1.0, steps=steps, delta=delta
    ) == pytest.approx(closed_form, rel=1e-9)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_epsilon_is_monotone_in_every_term(accountant):
    def eps(noise=1.0, sample_rate=0.1, steps=20, delta=1e-5):
        return dp_epsilon(
            noise,
            sample_rate=sample_rate,
            steps=steps,
            delta=delta,
            accountant=accountant,
        )

    assert eps(noise=0.8) > eps() > eps(noise=1.5)
    assert eps(sample_rate=0.05) < eps() < eps(sample_rate=0.2)
    assert eps(steps=10) < eps() < eps(steps=40)
    assert eps(delta=1e-3) < eps() < eps(delta=1e-7)


def test_degenerate_runs():
    # No steps: nothing is released. No noise: no finite epsilon.
    assert dp_epsilon(1.0, sample_rate=0.5, steps=0, delta=1e-5) == 0.0
    for accountant in ("rdp", "prv"):
        assert math.isinf(
            dp_epsilon(0.0, sample_rate=0.5, steps=3, delta=1e-5, accountant=accountant)
        )
    assert dp_noise_multiplier(1.0, sample_rate=0.5, steps=0, delta=1e-5) == 0.0


def test_prv_at_tiny_noise_falls_back_to_the_rdp_bound():
    # The PRV's numerics fail at this noise (and, with Opacus's fixed 0.01
    # discretisation error, its grid needs gigabytes): the RDP bound stands in.
    terms = {"sample_rate": 0.128, "steps": 234, "delta": 1e-5}
    rdp = dp_epsilon(0.05, **terms)
    assert 1e4 < rdp < math.inf
    assert dp_epsilon(0.05, **terms, accountant="prv") == rdp
    # At moderate noise the PRV is the tighter one.
    assert dp_epsilon(1.0, **terms, accountant="prv") < dp_epsilon(1.0, **terms)


@pytest.mark.parametrize(
    "target, terms, accountant",
    [
        (0.5, {"sample_rate": 0.01, "steps": 1000, "delta": 1e-5}, "rdp"),
        (8.0, {"sample_rate": 0.05, "steps": 2000, "delta": 1e-5}, "rdp"),
        (3.0, {"sample_rate": 1.0, "steps": 5, "delta": 1e-6}, "rdp"),
        (2.0, {"sample_rate": 0.1, "steps": 100, "delta": 1e-5}, "prv"),
    ],
)
def test_noise_multiplier_inverts_epsilon(target, terms, accountant):
    tolerance = 0.01
    sigma = dp_noise_multiplier(target, **terms, accountant=accountant)
    assert target - tolerance <= dp_epsilon(sigma, **terms, accountant=accountant)
    assert dp_epsilon(sigma, **terms, accountant=accountant) <= target
    # Less noise overshoots the budget by more than the tolerance allows.
    assert dp_epsilon(0.9 * sigma, **terms, accountant=accountant) > target


def test_target_below_the_rdp_floor_is_refused_at_once():
    terms = {"sample_rate": 0.1, "steps": 10, "delta": 1e-5}
    # RDP's conversion leaves about 0.1 at delta=1e-5 however large the noise
    # (at order 63: -(log delta + log 63) / 62 + log(62 / 63) = 0.103).
    assert dp_epsilon(1e5, **terms) > 0.1
    with pytest.raises(ValueError, match=r"stays above 0\.103"):
        dp_noise_multiplier(0.1, **terms)


@pytest.mark.slow
def test_unreachable_prv_target_raises():
    # The PRV has no floor: the search doubles the noise up to 1e6.
    terms = {"sample_rate": 0.01, "steps": 10, "delta": 1e-5}
    with pytest.raises(ValueError, match="No noise multiplier up to 1e"):
        dp_noise_multiplier(1e-9, **terms, accountant="prv")


def test_plan_matches_the_training_schedule():
    assert dp_sgd_plan(1000, batch_size=250, max_epochs=3) == {
        "sample_rate": 0.25,
        "steps": 12,
        "delta": 1e-5,
    }
    # int(1 / q) batches per epoch, as Opacus's Poisson sampler draws them.
    assert dp_sgd_plan(1000, batch_size=300, max_epochs=2).steps == 2 * 3
    for batch_size in (-1, 1000, 5000):
        plan = dp_sgd_plan(1000, batch_size=batch_size, max_epochs=7)
        assert (plan.sample_rate, plan.steps) == (1.0, 7)
    assert dp_sgd_plan(200_000, batch_size=10, max_epochs=1).delta == 1 / 2_000_000
    assert dp_sgd_plan(200, batch_size=10, max_epochs=1, delta=1e-4).delta == 1e-4
    with pytest.raises(ValueError, match="batch_size must be positive"):
        dp_sgd_plan(100, batch_size=0, max_epochs=1)


def test_plan_warns_on_a_delta_that_may_publish_a_record():
    with pytest.warns(DPParameterWarning, match="1 / n_samples"):
        dp_sgd_plan(100, batch_size=10, max_epochs=1, delta=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DPParameterWarning)
        dp_sgd_plan(100, batch_size=10, max_epochs=1, delta=0.009)


@pytest.mark.parametrize(
    "function, args, kwargs, match",
    [
        (dp_epsilon, (-1.0,), {}, "noise_multiplier"),
        (dp_epsilon, (1.0,), {"sample_rate": 0.0}, "sample_rate"),
        (dp_epsilon, (1.0,), {"delta": 1.0}, "delta"),
        (dp_epsilon, (1.0,), {"accountant": "gdp"}, "accountant"),
        (dp_noise_multiplier, (0.0,), {}, "target_epsilon"),
        (dp_noise_multiplier, (1.0,), {"epsilon_tolerance": 0.0}, "tolerance"),
    ],
)
def test_bad_parameters(function, args, kwargs, match):
    terms = {"sample_rate": 0.1, "steps": 10, "delta": 1e-5, **kwargs}
    with pytest.raises(ValueError, match=match):
        function(*args, **terms)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_a_fit_spends_the_planned_budget(data, accountant):
    X, y = data
    params = {"hidden_units": (8,), "max_epochs": 2, "batch_size": 16}
    plan = dp_sgd_plan(len(X), batch_size=16, max_epochs=2)
    clf = DPSGDClassifier(
        noise_multiplier=0.8, accountant=accountant, random_state=0, **params
    ).fit(X, y)
    assert (clf.sample_rate_, clf.n_steps_, clf.delta_) == tuple(plan.values())
    assert clf.epsilon_ == dp_epsilon(0.8, **plan, accountant=accountant)


def test_a_fit_solves_the_planned_noise(data):
    X, y = data
    params = {"hidden_units": (8,), "max_epochs": 2, "batch_size": 16}
    plan = dp_sgd_plan(len(X), batch_size=16, max_epochs=2)
    clf = DPSGDClassifier(target_epsilon=4.0, random_state=0, **params).fit(X, y)
    assert clf.noise_multiplier_ == dp_noise_multiplier(4.0, **plan)
    assert clf.epsilon_ == dp_epsilon(clf.noise_multiplier_, **plan)
