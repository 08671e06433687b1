"""Attacks that compare the target with reference models: Attack-R and LiRA."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np

from skprivacy.audit._attacks._base import BaseMembershipAttack
from skprivacy.audit._attacks._threshold import SignalAttack
from skprivacy.audit._signals import compute_signal
from skprivacy.utils._sklearn_compat import StrOptions, _fit_context

# Below this many references per side, a per-example variance is too noisy and
# one global variance works better (Carlini et al. 2022, Sec. 6.2). Measured in
# benchmarks/bench_audit.py: fixed wins at 8 per side, per-example at 16.
_FIX_VARIANCE_BELOW = 16
_MIN_STD = 1e-6


def _masked_median(values, mask):
    return np.nanmedian(np.where(mask, values, np.nan), axis=0)


def _pooled_std(values, mask):
    """Within-record standard deviation pooled over records (global variance)."""
    counts = mask.sum(axis=0)
    masked = np.where(mask, values, np.nan)
    usable = counts >= 2
    if not usable.any():
        return max(float(np.nanstd(masked)), _MIN_STD)
    deviations = masked[:, usable] - np.nanmean(masked[:, usable], axis=0)
    ss = np.nansum(deviations**2)
    return max(float(np.sqrt(ss / (counts[usable] - 1).sum())), _MIN_STD)


def _per_record_std(values, mask, fallback):
    counts = mask.sum(axis=0)
    with warnings.catch_warnings():
        # Records with fewer than two values get the fallback below.
        warnings.simplefilter("ignore", RuntimeWarning)
        std = np.nanstd(np.where(mask, values, np.nan), axis=0, ddof=1)
    std = np.where(counts >= 2, std, fallback)
    return np.maximum(std, _MIN_STD)


class InOutAttack(BaseMembershipAttack):
    """Base of attacks with an online form, which compares the target with
    references that trained on each record and references that did not, and
    an offline form, which has only the latter (parameter ``online``)."""

    # Fewest references of the offline form.
    _min_references_offline = 1
    # Whether online scores are log-likelihood ratios.
    _online_likelihood_ratio = False

    @property
    def min_references(self):
        # Online with one reference playing the target needs another in and out.
        return 4 if self.online else self._min_references_offline

    @property
    def needs_in_references(self):
        return bool(self.online)

    @property
    def is_likelihood_ratio(self):
        return bool(self.online) and self._online_likelihood_ratio

    def _check_references(self, membership):
        """Every record needs an out-reference, and online an in-reference."""
        name = type(self).__name__
        if not (~membership).any(axis=0).all():
            raise ValueError(
                f"{name} needs, for every record, a reference that did not train on it."
            )
        if self.online and not membership.any(axis=0).all():
            raise ValueError(
                f"Online {name} needs, for every record, a reference that trained "
                "on it: pass the audited records in the pool given to fit, or use "
                f"{name}(online=False)."
            )


def _norm_logpdf(x, mu, sigma):
    return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


class ReferenceAttack(SignalAttack):
    """Attack-R: a per-record threshold from reference models that left it out.

    Ye et al. (2022, "Enhanced membership inference attacks against machine
    learning models", Sec. 4.2): the target's signal on a record is compared with
    the signals of the references that did not train on it. The score is the
    share of those references with a lower signal (ties count one half), so
    ``score >= 1 - alpha`` is their per-record ``alpha``-quantile rule. With few
    references the score takes few values; prefer :class:`LiRA` or :class:`RMIA`.

    Parameters
    ----------
    signal : {"loss", "confidence", "logit", "hinge", "mentr"}, default="loss"
        Per-record signal.

    See Also
    --------
    PopulationAttack : One threshold from population data.
    LiRA : A likelihood ratio on the same references.

    Examples
    --------
    >>> from skprivacy.audit import ReferenceAttack
    >>> ReferenceAttack(signal="logit")
    ReferenceAttack(signal='logit')
    """

    min_references = 1

    def score_samples(self, signals, y, reference_signals, membership):
        """Share of out-references whose signal is below the target's."""
        target = compute_signal(signals, y, self.signal)
        refs = compute_signal(reference_signals, y, self.signal)
        out = ~membership
        below = ((refs < target) & out).sum(axis=0)
        ties = ((refs == target) & out).sum(axis=0)
        n_out = out.sum(axis=0)
        return np.where(n_out > 0, (below + 0.5 * ties) / np.maximum(n_out, 1), 0.5)


class LiRA(InOutAttack):
    """Likelihood-ratio attack (Carlini et al. 2022, "Membership inference attacks
    from first principles").

    The logit-scaled confidence ``phi = log(p_y / (1 - p_y))`` of a record under
    models trained with and without it is close to Gaussian (Sec. 4.2). Online,
    the score is the log-likelihood ratio
    ``log N(phi_t; mu_in, s_in^2) - log N(phi_t; mu_out, s_out^2)`` with the
    means estimated by medians over the references that did (not) train on the
    record (Algorithm 1). Offline, only out-references are used and the score
    is the standardised ``(phi_t - mu_out) / s_out``, which ranks exactly like
    the one-sided ``Phi((phi_t - mu_out) / s_out)`` of the paper but does not
    saturate at 1 in float64.

    Parameters
    ----------
    online : bool, default=True
        Use in- and out-references (every audited record must then be in the
        pool given to the auditor's ``fit``) or only out-references.
    fix_variance : bool or "auto", default="auto"
        Use one variance per side pooled over records instead of one per
        record; ``"auto"`` fixes it when there are fewer than 16 references
        per side, where the per-record estimate is too noisy.

    Attributes
    ----------
    std_in_, std_out_ : float
        Pooled within-record standard deviations of ``phi`` over the pool.

    See Also
    --------
    RMIA : The strongest attack with few references.
    BaVarIA : LiRA with Bayesian variances.

    Examples
    --------
    >>> from skprivacy.audit import LiRA
    >>> LiRA(online=False)
    LiRA(online=False)
    """

    _parameter_constraints: ClassVar[dict] = {
        "online": ["boolean"],
        "fix_variance": ["boolean", StrOptions({"auto"})],
    }

    _min_references_offline = 2
    _online_likelihood_ratio = True

    def __init__(self, online=True, fix_variance="auto"):
        self.online = online
        self.fix_variance = fix_variance

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Estimate the global variances and resolve ``fix_variance``."""
        phi = compute_signal(references.signals, references.y, "logit")
        keep = references.membership
        self.std_in_ = _pooled_std(phi, keep)
        self.std_out_ = _pooled_std(phi, ~keep)
        per_side = references.n_references // 2
        self.fix_variance_ = (
            per_side < _FIX_VARIANCE_BELOW
            if self.fix_variance == "auto"
            else bool(self.fix_variance)
        )
        return self

    def score_samples(self, signals, y, reference_signals, membership):
        """Log-likelihood ratio (online) or standardised ``phi`` (offline)."""
        self._check_references(membership)
        out = ~membership
        target = compute_signal(signals, y, "logit")
        phi = compute_signal(reference_signals, y, "logit")
        mu_out = _masked_median(phi, out)
        std_out = (
            np.full_like(target, self.std_out_)
            if self.fix_variance_
            else _per_record_std(phi, out, self.std_out_)
        )
        if not self.online:
            return (target - mu_out) / std_out
        mu_in = _masked_median(phi, membership)
        std_in = (
            np.full_like(target, self.std_in_)
            if self.fix_variance_
            else _per_record_std(phi, membership, self.std_in_)
        )
        return _norm_logpdf(target, mu_in, std_in) - _norm_logpdf(
            target, mu_out, std_out
        )
