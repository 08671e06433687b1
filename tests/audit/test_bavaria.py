# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy import stats
from scipy.special import log_expit
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skprivacy.audit import (
    BaVarIA,
    LiRA,
    MembershipInferenceAuditor,
    ReferenceSignals,
)
from skprivacy.audit._attacks._bavaria import variance_prior
from skprivacy.audit._references import balanced_keep_matrix


def _binary_log_proba(phi):
    """Log-probabilities whose logit-scaled confidence of class 1 is ``phi``."""
    return np.stack([log_expit(-phi), log_expit(phi)], axis=-1)


def _gaussian_references(n_references, n_records, seed):
    """References whose ``phi`` on a record is N(mu_in, s_in^2) when they trained
    on it and N(mu_out, s_out^2) otherwise, with record-specific parameters."""
    rng = np.random.default_rng(seed)
    mu_out = rng.normal(size=n_records)
    mu_in = mu_out + rng.uniform(0.5, 2.0, n_records)
    s_out = np.exp(rng.normal(0, 0.5, n_records))
    s_in = s_out * np.exp(rng.normal(0, 0.2, n_records))
    keep = balanced_keep_matrix(n_references, n_records, rng)
    noise = rng.normal(size=(n_references, n_records))
    phi = np.where(keep, mu_in + s_in * noise, mu_out + s_out * noise)
    refs = ReferenceSignals(_binary_log_proba(phi), keep, np.ones(n_records, int))
    target = rng.normal(mu_out, s_out)
    return refs, _binary_log_proba(target), (mu_in, s_in, mu_out, s_out, target)


def test_variance_prior_recovers_known_hyperparameters():
    # sigma_i^2 ~ d0 s0^2 / chi2(d0) and s_i^2 ~ sigma_i^2 chi2(d) / d.
    rng = np.random.default_rng(0)
    G, d, d0, s0_sq = 200_000, 3, 8.0, 2.0
    sigma_sq = d0 * s0_sq / rng.chisquare(d0, G)
    sample_var = sigma_sq * rng.chisquare(d, G) / d
    est_d0, est_s0_sq = variance_prior(sample_var, np.full(G, d))
    # Var(log s^2) = trigamma(1.5) + trigamma(4) = 1.22; its sample variance over
    # 200,000 records has standard error about 1.22 * sqrt(3 / 200,000) = 0.0047
    # (log-chi2 excess kurtosis < 2), moving d0 by 0.0047 / |d trigamma(d0/2)|
    # = 0.12 (0.13 measured over 30 seeds). |error| < 1.0 is > 7 standard
    # errors (two-sided p < 1e-4 with room for the normal approximation); the
    # log of s0^2 has standard error 0.0035 and gets 14x that.
    assert abs(est_d0 - d0) < 1.0
    assert abs(np.log(est_s0_sq / s0_sq)) < 0.05


def test_variance_prior_of_equal_variances_is_a_point_mass():
    rng = np.random.default_rng(1)
    G, d = 200_000, 3
    sample_var = 2.0 * rng.chisquare(d, G) / d
    est_d0, est_s0_sq = variance_prior(sample_var, np.full(G, d))
    # The excess log-variance is 0 up to a standard error of 0.0047; beyond
    # +3.8 standard errors (p < 1e-4) it would give d0 ~ 2 / 0.018 = 110
    # (30 seeds: smallest 241).
    assert est_d0 > 100
    assert abs(np.log(est_s0_sq / 2.0)) < 0.05


def test_with_many_references_the_score_tends_to_lira():
    refs, target_lp, (mu_in, s_in, mu_out, s_out, phi) = _gaussian_references(
        1000, 200, seed=2
    )
    y = refs.y
    bavaria = (
        BaVarIA().fit(refs).score_samples(target_lp, y, refs.signals, refs.membership)
    )
    lira = (
        LiRA(fix_variance=False)
        .fit(refs)
        .score_samples(target_lp, y, refs.signals, refs.membership)
    )
    oracle = stats.norm.logpdf(phi, mu_in, s_in) - stats.norm.logpdf(phi, mu_out, s_out)
    # With 500 values per side the sample means and deviations are within
    # 4 / sqrt(500) = 0.18 standard deviations of the truth for every record
    # (p < 1e-4 over 200 records x 4 estimates), so both scores lie close to
    # the true log-likelihood ratio and to each other; the bound below is what
    # such errors allow for log-ratios of this size (|oracle| < 40).
    scale = np.abs(oracle).max()
    assert np.abs(bavaria - oracle).max() < 0.15 * scale
    assert np.abs(bavaria - lira).max() < 0.15 * scale
    assert stats.spearmanr(bavaria, lira).statistic > 0.99
    # And the pooled prior no longer matters: the Student-t has many degrees
    # of freedom and ranks like the Gaussian of the same scale.
    gaussian = (
        BaVarIA(predictive="gaussian")
        .fit(refs)
        .score_samples(target_lp, y, refs.signals, refs.membership)
    )
    assert stats.spearmanr(bavaria, gaussian).statistic > 0.999


def test_heterogeneous_variances_give_a_finite_prior_and_offline_scores():
    refs, target_lp, _ = _gaussian_references(8, 2000, seed=3)
    attack = BaVarIA(online=False).fit(refs)
    # Record variances spread log-normally (sd 0.5 on log s): d0 is finite.
    assert np.isfinite(attack.prior_df_out_)
    scores = attack.score_samples(target_lp, refs.y, refs.signals, refs.membership)
    # Offline scores are standard-normal quantiles of the out-predictive's
    # tail: for non-members they are roughly N(0, 1).
    assert np.all(np.isfinite(scores))
    assert abs(np.mean(scores)) < 0.15 and 0.8 < np.std(scores) < 1.2


@pytest.fixture(scope="module")
def logistic():
    X, y = make_classification(1600, 8, n_informative=5, random_state=0)
    target = LogisticRegression(C=100).fit(X[:400], y[:400])
    return FrozenEstimator(target), X, y


@pytest.mark.parametrize("attack", ["bavaria", "bavaria_offline"])
def test_zero_references_are_refused(logistic, attack):
    target, X, y = logistic
    auditor = MembershipInferenceAuditor(
        target, attack=attack, n_references=0, random_state=0
    )
    with pytest.raises(ValueError, match="at least"):
        auditor.fit(X[:800], y[:800], X_population=X[800:], y_population=y[800:])


def test_one_reference_needs_population(logistic):
    target, X, y = logistic
    auditor = MembershipInferenceAuditor(
        target, attack="bavaria_offline", n_references=1, random_state=0
    )
    with pytest.raises(ValueError, match="two values"):
        auditor.fit(X[:800], y[:800])
    auditor.fit(X[:800], y[:800], X_population=X[800:], y_population=y[800:])
    assert np.isfinite(auditor.attack_.prior_var_out_)
    assert auditor.calibration_ == "population"


def test_auditor_online_fit_predict_audit(logistic):
    target, X, y = logistic
    auditor = MembershipInferenceAuditor(
        target, attack="bavaria", n_references=4, random_state=0
    ).fit(X[:800], y[:800], X_population=X[800:], y_population=y[800:])
    assert isinstance(auditor.attack_, BaVarIA)
    scores = auditor.score_samples(X[:800], y[:800])
    again = MembershipInferenceAuditor(
        target, attack="bavaria", n_references=4, random_state=0
    ).fit(X[:800], y[:800], X_population=X[800:], y_population=y[800:])
    np.testing.assert_array_equal(scores, again.score_samples(X[:800], y[:800]))
    proba = auditor.predict_proba(X[:800], y[:800])  # a likelihood ratio online
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    report = auditor.audit(X[:800], y[:800], np.r_[np.ones(400), np.zeros(400)])
    assert report.attack == "bavaria"  # the registry key, as in the CLI


def test_invalid_parameters_are_rejected(logistic):
    target, X, y = logistic
    auditor = MembershipInferenceAuditor(
        target, attack=BaVarIA(predictive="laplace"), n_references=4, random_state=0
    )
    with pytest.raises(ValueError):
        auditor.fit(X[:800], y[:800])
