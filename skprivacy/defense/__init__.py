"""Training-time and release-time defenses against privacy attacks.

:class:`CRLClassifier` trains a skorch network with Center-based Relaxed
Learning (Fang & Kim, UAI 2024); its losses are usable on their own.
:class:`HAMPClassifier` trains one on HAMP's high-entropy soft labels with an
entropy regulariser (Chen & Pattabiraman, NDSS 2024);
:class:`HAMPReleaseClassifier` is HAMP's release-time part, which replaces the
released scores of any classifier by those of a random input.
:class:`DPSGDClassifier` trains one with differentially private SGD (Opacus),
the baseline with a formal guarantee; :func:`dp_sgd_plan`, :func:`dp_epsilon`
and :func:`dp_noise_multiplier` plan its privacy budget before training.
:class:`RandomizedResponseClassifier` releases labels through k-ary randomized
response, a local differential-privacy baseline.
:class:`SelfDistillationClassifier` wraps any classifier in SELENA's
self-distillation: the released model learns from out-of-sample soft labels.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.defense._accounting import (
    dp_epsilon,
    dp_noise_multiplier,
    dp_sgd_plan,
)
from skprivacy.defense._crl import CRLClassifier
from skprivacy.defense._distillation import SelfDistillationClassifier
from skprivacy.defense._dpsgd import DPSGDClassifier
from skprivacy.defense._focus import SensitiveFocusPenalty
from skprivacy.defense._hamp import HAMPClassifier
from skprivacy.defense._hamp_release import HAMPReleaseClassifier
from skprivacy.defense._losses import (
    CRLLoss,
    HAMPLoss,
    ImpRelaxLoss,
    RelaxedCenterLoss,
    crl_loss,
    hamp_loss,
    normalized_ce_floor,
    soft_label_confidence,
    tau_normalize,
)
from skprivacy.defense._modules import TabularMLP
from skprivacy.defense._randomized_response import RandomizedResponseClassifier

__all__ = [
    "CRLClassifier",
    "CRLLoss",
    "DPSGDClassifier",
    "HAMPClassifier",
    "HAMPLoss",
    "HAMPReleaseClassifier",
    "ImpRelaxLoss",
    "RandomizedResponseClassifier",
    "RelaxedCenterLoss",
    "SelfDistillationClassifier",
    "SensitiveFocusPenalty",
    "TabularMLP",
    "crl_loss",
    "dp_epsilon",
    "dp_noise_multiplier",
    "dp_sgd_plan",
    "hamp_loss",
    "normalized_ce_floor",
    "soft_label_confidence",
    "tau_normalize",
]
