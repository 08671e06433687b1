"""Reference-free and class-threshold attacks: loss (Yeom), population, Song-Mittal."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import ClassVar

import numpy as np

from skprivacy.audit._attacks._base import BaseMembershipAttack
from skprivacy.audit._signals import SIGNALS, compute_signal
from skprivacy.utils._sklearn_compat import StrOptions, _fit_context

# Constraint of the attacks thresholding one signal of compute_signal.
SIGNAL_CONSTRAINT: dict = {"signal": [StrOptions(set(SIGNALS))]}


class SignalAttack(BaseMembershipAttack):
    """Attacks on one signal of :func:`compute_signal`, with nothing to learn."""

    _parameter_constraints: ClassVar[dict] = SIGNAL_CONSTRAINT

    def __init__(self, signal="loss"):
        self.signal = signal

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Nothing to learn; validates the signal and returns ``self``."""
        return self


class LossAttack(SignalAttack):
    """Global threshold on a per-record signal, by default the loss.

    Yeom et al. (2018, "Privacy risk in machine learning", Sec. 3.2) predict
    "member" when the loss is below a threshold. The score is the signal itself
    (the negative loss by default); the threshold is set by the auditor at its
    ``target_fpr`` from population records or reference models, never from the
    target's membership labels.

    Parameters
    ----------
    signal : {"loss", "confidence", "logit", "hinge", "mentr"}, default="loss"
        Per-record signal, see :func:`skprivacy.audit.compute_signal`.

    See Also
    --------
    EntropyAttack : The modified entropy instead of the loss.
    LiRA : Calibrated per record by references.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import LossAttack
    >>> attack = LossAttack().fit(None)
    >>> attack.score_samples(np.log([[0.9, 0.1], [0.5, 0.5]]), [0, 0], None, None)
    array([-0.105..., -0.693...])
    """

    def score_samples(self, signals, y, reference_signals, membership):
        """The target's signal on each record (higher: more member-like)."""
        return compute_signal(signals, y, self.signal)


class PopulationAttack(LossAttack):
    """Attack-P: a global threshold calibrated on population data.

    Ye et al. (2022, "Enhanced membership inference attacks against machine
    learning models", Sec. 4.1) set the threshold at the ``(1 - alpha)``-quantile
    of the target's signal on population records, which are non-members by
    construction, so the false-positive rate on non-members is at most alpha.
    This attack requires population data in
    :meth:`MembershipInferenceAuditor.fit` (``X_population``, ``y_population``).

    Parameters
    ----------
    signal : {"loss", "confidence", "logit", "hinge", "mentr"}, default="loss"
        Per-record signal.

    See Also
    --------
    ReferenceAttack : Thresholds per record from references.
    QuantileRegressionAttack : Thresholds per record from a regression.

    Examples
    --------
    >>> from skprivacy.audit import PopulationAttack
    >>> PopulationAttack(signal="logit")
    PopulationAttack(signal='logit')
    """

    needs_population = True


class EntropyAttack(BaseMembershipAttack):
    """Modified-entropy attack with class-dependent thresholds (Song & Mittal).

    Song & Mittal (2021, "Systematic evaluation of privacy risks of machine
    learning models", Sec. 3) predict "member" when the modified entropy
    ``Mentr`` of a record is below a threshold ``tau_y`` chosen per class on
    shadow models to maximise the in/out balanced accuracy. Here the shadows are
    the reference models; the score is ``tau_y - Mentr(x)``, so zero is their
    decision boundary, and the auditor's threshold moves it to ``target_fpr``.

    Parameters
    ----------
    signal : {"mentr", "confidence", "loss", "logit", "hinge"}, default="mentr"
        Signal thresholded per class (the paper also uses ``"confidence"``).

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_classes,)
        Per-class thresholds on the (member-oriented) signal.

    See Also
    --------
    LossAttack : The loss alone.

    Examples
    --------
    >>> from skprivacy.audit import EntropyAttack
    >>> EntropyAttack()
    EntropyAttack()
    """

    min_references = 1

    _parameter_constraints: ClassVar[dict] = SIGNAL_CONSTRAINT

    def __init__(self, signal="mentr"):
        self.signal = signal

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Choose one threshold per class on the references' in/out records."""
        signal = compute_signal(references.signals, references.y, self.signal)
        labels = np.broadcast_to(references.y, signal.shape)
        n_classes = references.signals.shape[2]
        self.thresholds_ = np.full(n_classes, np.median(signal))
        for c in range(n_classes):
            mask = labels == c
            self.thresholds_[c] = _best_balanced_threshold(
                signal[mask], references.membership[mask], self.thresholds_[c]
            )
        return self

    def score_samples(self, signals, y, reference_signals, membership):
        """Signal minus its class threshold (positive: member by Song-Mittal)."""
        return compute_signal(signals, y, self.signal) - self.thresholds_[y]


def _best_balanced_threshold(scores, is_member, default):
    """Threshold t maximising ½(TPR + TNR) of the rule ``score >= t``."""
    n_in, n_out = is_member.sum(), (~is_member).sum()
    if n_in == 0 or n_out == 0:
        return default
    order = np.argsort(-scores, kind="stable")
    s, m = scores[order], is_member[order]
    tpr = np.cumsum(m) / n_in
    fpr = np.cumsum(~m) / n_out
    # Only cut between distinct values, so the rule is well defined.
    last = np.r_[s[1:] != s[:-1], True]
    best = np.argmax(np.where(last, tpr - fpr, -np.inf))
    return s[best]
