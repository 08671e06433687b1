"""Robust membership inference attack (RMIA, Zarifzadeh et al. 2024)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import roc_auc_score

from skprivacy.audit._attacks._lira import InOutAttack
from skprivacy.audit._signals import compute_signal
from skprivacy.utils._sklearn_compat import Interval, StrOptions, _fit_context

_A_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)


def _log_mean(values, mask):
    """log of the mean of exp(values) over the masked references, per record."""
    masked = np.where(mask, values, -np.inf)
    return logsumexp(masked, axis=0) - np.log(np.maximum(mask.sum(axis=0), 1))


class RMIA(InOutAttack):
    """Robust membership inference attack (Zarifzadeh et al. 2024, "Low-cost
    high-power membership inference attacks", ICML).

    With ``Pr(x|theta) = p_y(x)`` the target's true-class probability and
    ``Pr(x)`` its average over reference models, the likelihood ratio is
    ``r(x) = Pr(x|theta) / Pr(x)`` and the score is ``log r(x)``. Online,
    ``Pr(x)`` averages in- and out-references equally. Offline (Sec. 3,
    "offline"), only out-references are available and
    ``Pr(x) = ½((1 + a) Pr_out(x) + (1 - a))`` linearly extrapolates the
    in-probability from the out-probability; ``a`` is tuned by attacking each
    reference with the others and keeping the best AUC, as ML Privacy Meter does.

    The paper's pairwise test ``mean_z 1[r(x) / r(z) >= gamma]`` over population
    records ``z`` is, for a fixed target, a non-decreasing function of ``r(x)``:
    it ranks records exactly like ``log r(x)``. Its role is calibration, which the
    auditor provides by setting the threshold at ``target_fpr`` on the target's
    population scores (``gamma = 1``).

    Parameters
    ----------
    online : bool, default=False
        Use in- and out-references (every audited record must then be in the
        pool) or only out-references.
    a : float in [0, 1] or "auto", default="auto"
        Offline extrapolation coefficient; ``"auto"`` tunes it on the references
        (with a single reference there is nothing to attack it with, and ``a = 1``,
        the plain ratio to the reference, is used: pass ``a`` to choose).

    Attributes
    ----------
    a_ : float
        The coefficient used offline (and online for records no reference
        trained on).

    See Also
    --------
    LiRA : The likelihood-ratio attack.
    BaVarIA : LiRA with Bayesian variances.

    Examples
    --------
    >>> from skprivacy.audit import RMIA
    >>> RMIA(a=0.3)
    RMIA(a=0.3)
    """

    _parameter_constraints: ClassVar[dict] = {
        "online": ["boolean"],
        "a": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
    }

    def __init__(self, online=False, a="auto"):
        self.online = online
        self.a = a

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Tune ``a`` (offline) on the references."""
        if self.a != "auto":
            self.a_ = float(self.a)
            return self
        self.a_ = self._tune_a(references) if references.n_references > 1 else 1.0
        return self

    def _tune_a(self, references):
        log_p = compute_signal(references.signals, references.y, "loss")
        keep = references.membership
        M = references.n_references
        aucs = np.zeros(len(_A_GRID))
        for j in range(M):
            others = np.arange(M) != j
            log_p_out = _log_mean(log_p[others], ~keep[others])
            usable = (~keep[others]).any(axis=0)
            if keep[j, usable].all() or not keep[j, usable].any():
                continue
            for k, a in enumerate(_A_GRID):
                score = log_p[j, usable] - self._log_pr_offline(log_p_out[usable], a)
                aucs[k] += roc_auc_score(keep[j, usable], score)
        return float(_A_GRID[np.argmax(aucs)])

    @staticmethod
    def _log_pr_offline(log_p_out, a):
        # log(½((1 + a) p_out + (1 - a))), in log space for tiny p_out.
        with np.errstate(divide="ignore"):
            log_one_minus_a = np.log1p(-a)
        return np.logaddexp(np.log1p(a) + log_p_out, log_one_minus_a) - np.log(2.0)

    def score_samples(self, signals, y, reference_signals, membership):
        """``log r(x) = log Pr(x|target) - log Pr(x)``."""
        log_p = compute_signal(signals, y, "loss")
        log_p_refs = compute_signal(reference_signals, y, "loss")
        self._check_references(membership)
        out = ~membership
        log_pr = self._log_pr_offline(_log_mean(log_p_refs, out), self.a_)
        if self.online:
            log_pr = np.logaddexp(
                _log_mean(log_p_refs, membership), _log_mean(log_p_refs, out)
            ) - np.log(2.0)
        return log_p - log_pr
