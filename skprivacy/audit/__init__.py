"""Attacks that measure what a model or a release leaks.

Membership-inference audits (attacks, metrics, reports and plots) and attribute
inference against released predictions.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.audit._attacks import (
    RMIA,
    BaseMembershipAttack,
    BaseQueryAttack,
    BaVarIA,
    BoundaryDistanceAttack,
    EntropyAttack,
    GapAttack,
    LabelNoiseAttack,
    LiRA,
    LossAttack,
    PerturbationAttack,
    PopulationAttack,
    QuantileRegressionAttack,
    ReferenceAttack,
    ReferenceSignals,
    ShadowModelAttack,
)
from skprivacy.audit._auditor import MembershipInferenceAuditor
from skprivacy.audit._display import MembershipInferenceDisplay
from skprivacy.audit._inversion import AttributeInferenceAttack
from skprivacy.audit._metrics import (
    bootstrap_ci,
    clopper_pearson,
    empirical_epsilon,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_p_values,
    membership_roc_curve,
    ppv_at_fpr,
    slice_metrics,
    tpr_at_fpr,
)
from skprivacy.audit._report import AuditReport
from skprivacy.audit._scoring import AuditRecorder, make_privacy_scorer, privacy_refit
from skprivacy.audit._signals import compute_signal

__all__ = [
    "RMIA",
    "AttributeInferenceAttack",
    "AuditRecorder",
    "AuditReport",
    "BaVarIA",
    "BaseMembershipAttack",
    "BaseQueryAttack",
    "BoundaryDistanceAttack",
    "EntropyAttack",
    "GapAttack",
    "LabelNoiseAttack",
    "LiRA",
    "LossAttack",
    "MembershipInferenceAuditor",
    "MembershipInferenceDisplay",
    "PerturbationAttack",
    "PopulationAttack",
    "QuantileRegressionAttack",
    "ReferenceAttack",
    "ReferenceSignals",
    "ShadowModelAttack",
    "bootstrap_ci",
    "clopper_pearson",
    "compute_signal",
    "empirical_epsilon",
    "make_privacy_scorer",
    "membership_advantage",
    "membership_auc",
    "membership_balanced_accuracy",
    "membership_p_values",
    "membership_roc_curve",
    "ppv_at_fpr",
    "privacy_refit",
    "slice_metrics",
    "tpr_at_fpr",
]
