"""BaVarIA: LiRA with Bayesian variances, for few reference models."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.optimize import brentq
from scipy.special import digamma, ndtri, polygamma
from scipy.stats import norm, t

from skprivacy.audit._attacks._lira import InOutAttack
from skprivacy.audit._signals import compute_signal
from skprivacy.utils._sklearn_compat import StrOptions, _fit_context

# Above this many prior degrees of freedom the variances are taken as equal
# (the inverse-gamma prior is then a point mass: LiRA's fixed variance).
_MAX_PRIOR_DF = 1e8


def _record_moments(values, mask):
    """Per record: number of values, their mean and their sum of squares."""
    n = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    mean = total / np.maximum(n, 1)
    ss = np.where(mask, (values - mean) ** 2, 0.0).sum(axis=0)
    return n, mean, ss


def _inverse_trigamma(y):
    """The x > 0 with trigamma(x) = y (trigamma decreases from +inf to 0)."""
    return brentq(lambda x: polygamma(1, x) - y, 1e-8, 1e9, xtol=1e-12)


def variance_prior(sample_var, df):
    """Empirical-Bayes inverse-gamma prior of variances from sample variances.

    Each record ``i`` has a sample variance ``s_i^2`` on ``d_i`` degrees of
    freedom, ``s_i^2 | sigma_i^2 ~ sigma_i^2 chi2(d_i) / d_i``, and the record
    variances are drawn from a scaled inverse-chi-squared prior,
    ``sigma_i^2 ~ d_0 s_0^2 / chi2(d_0)``; then ``s_i^2 / s_0^2`` is
    ``F(d_i, d_0)``-distributed. ``d_0`` and ``s_0^2`` are the moment
    estimates of Smyth (2004, "Linear models and empirical Bayes methods for
    assessing differential expression in microarray experiments", Sec. 6.2)
    on ``log s_i^2``, whose mean and variance under that law are
    ``log s_0^2 + digamma(d_i/2) - log(d_i/2) - digamma(d_0/2) + log(d_0/2)``
    and ``trigamma(d_i/2) + trigamma(d_0/2)``.

    Returns ``(d_0, s_0^2)``; ``d_0 = inf`` when the log-variances spread no
    more than sampling alone explains (all records share one variance).
    """
    sample_var = np.asarray(sample_var, dtype=np.float64)
    half = np.asarray(df, dtype=np.float64) / 2
    # Exact ties give a zero variance; a floor far below the typical variance
    # keeps their logarithm finite without moving the estimates.
    floor = 1e-8 * max(float(np.median(sample_var)), np.finfo(float).tiny)
    e = np.log(np.maximum(sample_var, floor)) - digamma(half) + np.log(half)
    excess = np.var(e, ddof=1) - np.mean(polygamma(1, half)) if len(e) > 1 else 0.0
    if excess <= 1 / _MAX_PRIOR_DF:
        return np.inf, float(np.exp(np.mean(e)))
    half_prior = _inverse_trigamma(excess)
    prior_var = np.exp(np.mean(e) + digamma(half_prior) - np.log(half_prior))
    return 2 * half_prior, float(prior_var)


class BaVarIA(InOutAttack):
    """Bayesian-variance likelihood-ratio attack (Brännvall 2026), for few references.

    Brännvall ("Exponential-family membership inference: from LiRA and RMIA to
    BaVarIA", arXiv 2603.11799, 2026) shows that variance estimation is what
    limits LiRA with few reference models, and replaces LiRA's switch between
    per-record and global variances by conjugate normal-inverse-gamma priors
    on each record's in- and out-distribution of the logit-scaled confidence
    ``phi``. The attack here follows that recipe (from the paper's abstract
    and framework; its details are our own choices, documented):

    - per side (in, out), each record's values ``phi_j`` over the references
      are ``N(mu_i, sigma_i^2)``; the mean ``mu_i`` has a flat prior (records
      differ too much to pool it: that difference is what the attack exploits),
      the variance ``sigma_i^2`` a scaled inverse-chi-squared prior
      ``(d_0, s_0^2)`` shared by all records of that side;
    - ``(d_0, s_0^2)`` are estimated by empirical Bayes from the sample
      variances of all records (Smyth 2004, see ``variance_prior``); for the
      out side the population records add replicates (every reference and
      the target are out-models for them). A side where no record has two
      values borrows the other side's prior;
    - the posterior predictive of ``phi`` on a record with ``n`` values, mean
      ``m`` and sum of squares ``S`` is Student-t with ``d_0 + n - 1`` degrees
      of freedom, location ``m`` and squared scale
      ``(d_0 s_0^2 + S) / (d_0 + n - 1) * (1 + 1 / n)``.

    ``d_0 = inf`` is LiRA's fixed (global) variance, ``d_0 -> 0`` its
    per-record variance; the data choose between them, so no threshold on the
    number of references is needed. With many references both sides' scales
    tend to the per-record standard deviations and the score to LiRA's.

    Online, the score is the log-likelihood ratio of the two predictives (the
    paper's BaVarIA-t; ``predictive="gaussian"`` replaces each Student-t by a
    Gaussian of the same scale, its BaVarIA-n). Offline, only out-references
    are used and the score is the out-predictive's one-sided tail turned into
    a standard normal quantile, ``Phi^-1(T(phi_t))``, which ranks records with
    different numbers of references on one scale.

    Zero references leave nothing to learn per record: the attack refuses
    them (use :class:`QuantileRegressionAttack` or :class:`LossAttack`). One
    reference works offline when population data give the out side replicates.

    Parameters
    ----------
    online : bool, default=True
        Use in- and out-references (every audited record must then be in the
        pool given to the auditor's ``fit``) or only out-references.
    predictive : {"student", "gaussian"}, default="student"
        Posterior predictive (BaVarIA-t) or a Gaussian with the same
        stabilised variance (BaVarIA-n).

    Attributes
    ----------
    prior_df_in_, prior_df_out_ : float
        Prior degrees of freedom ``d_0`` of each side (``inf``: one shared
        variance).
    prior_var_in_, prior_var_out_ : float
        Prior scale ``s_0^2`` of each side's variances.

    See Also
    --------
    LiRA : The same test with point estimates of the variances.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import BaVarIA, ReferenceSignals
    >>> rng = np.random.default_rng(0)
    >>> logit = rng.normal(size=(8, 50))  # 8 references, 50 records, binary
    >>> lp = np.stack([-np.logaddexp(0, logit), -np.logaddexp(0, -logit)], -1)
    >>> keep = np.arange(8)[:, None] % 2 == np.arange(50) % 2
    >>> refs = ReferenceSignals(lp, keep, np.ones(50, dtype=int))
    >>> attack = BaVarIA().fit(refs)
    >>> attack.score_samples(lp[0], refs.y, lp[1:], keep[1:]).shape
    (50,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "online": ["boolean"],
        "predictive": [StrOptions({"student", "gaussian"})],
    }

    _online_likelihood_ratio = True

    def __init__(self, online=True, predictive="student"):
        self.online = online
        self.predictive = predictive

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Estimate each side's variance prior from all records."""
        phi = compute_signal(references.signals, references.y, "logit")
        keep = references.membership
        priors = {}
        for side, mask in (("in", keep), ("out", ~keep)):
            n, _, ss = _record_moments(phi, mask)
            var, df = [ss[n >= 2] / (n[n >= 2] - 1)], [n[n >= 2] - 1]
            if side == "out" and references.population_signals is not None:
                pop = compute_signal(
                    np.concatenate(
                        [
                            references.population_reference_signals,
                            references.population_signals[None],
                        ]
                    ),
                    references.population_y,
                    "logit",
                )
                if len(pop) >= 2:
                    var.append(pop.var(axis=0, ddof=1))
                    df.append(np.full(pop.shape[1], len(pop) - 1))
            var, df = np.concatenate(var), np.concatenate(df)
            priors[side] = variance_prior(var, df) if len(var) else None
        if priors["out"] is None and priors["in"] is None:
            raise ValueError(
                "BaVarIA needs records with two values on one side to learn the "
                "variances: use at least 2 references (4 online) or pass "
                "population records to the auditor's fit."
            )
        priors["out"] = priors["out"] or priors["in"]
        priors["in"] = priors["in"] or priors["out"]
        self.prior_df_in_, self.prior_var_in_ = priors["in"]
        self.prior_df_out_, self.prior_var_out_ = priors["out"]
        return self

    def _predictive(self, phi, mask, prior_df, prior_var):
        """Degrees of freedom, location and scale of each record's predictive."""
        n, mean, ss = _record_moments(phi, mask)
        n = np.maximum(n, 1)
        if np.isinf(prior_df):
            df, var = np.full(n.shape, np.inf), np.full(n.shape, prior_var)
        else:
            df = prior_df + n - 1
            var = (prior_df * prior_var + ss) / df
        return df, mean, np.sqrt(var * (1 + 1 / n))

    def _logpdf(self, x, df, loc, scale):
        if self.predictive == "gaussian" or np.isinf(df).all():
            return norm.logpdf(x, loc, scale)
        return t.logpdf(x, df, loc, scale)

    def score_samples(self, signals, y, reference_signals, membership):
        """Log-likelihood ratio (online) or normal quantile of the out-tail."""
        self._check_references(membership)
        out = ~membership
        target = compute_signal(signals, y, "logit")
        phi = compute_signal(reference_signals, y, "logit")
        df_out, loc_out, scale_out = self._predictive(
            phi, out, self.prior_df_out_, self.prior_var_out_
        )
        if not self.online:
            z = (target - loc_out) / scale_out
            if self.predictive == "gaussian" or np.isinf(df_out).all():
                return z
            # -Phi^-1(upper tail) keeps its precision far in the tail; a tail
            # that underflows to 0 keeps the (already extreme) t-statistic.
            tail = t.sf(z, df_out)
            with np.errstate(divide="ignore"):
                return np.where(tail > 0, -ndtri(tail), z)
        df_in, loc_in, scale_in = self._predictive(
            phi, membership, self.prior_df_in_, self.prior_var_in_
        )
        return self._logpdf(target, df_in, loc_in, scale_in) - self._logpdf(
            target, df_out, loc_out, scale_out
        )
