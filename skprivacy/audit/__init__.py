"""Attacks that measure what a model or a release leaks.

Membership-inference audits (attacks, metrics, reports and plots), attribute
inference against released predictions, and audits of differential-privacy
claims with canaries.
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
    get_attack,
    get_attack_names,
)
from skprivacy.audit._auditor import MembershipInferenceAuditor
from skprivacy.audit._canaries import CanarySet, make_canaries
from skprivacy.audit._display import MembershipInferenceDisplay
from skprivacy.audit._dp._auditor import DPAuditor
from skprivacy.audit._dp._bounds import epsilon_multi_run, epsilon_one_run
from skprivacy.audit._dp._display import DPAuditDisplay
from skprivacy.audit._dp._report import DPAuditReport
from skprivacy.audit._epsilon import empirical_epsilon, epsilon_from_guesses
from skprivacy.audit._intervals import (
    bootstrap_ci,
    clopper_pearson,
    held_out_ci,
)
from skprivacy.audit._inversion._attribute import AttributeInferenceAttack
from skprivacy.audit._inversion._boundary import BoundaryRepulsionInversion
from skprivacy.audit._inversion._report import (
    AttributeInferenceReport,
    ModelInversionReport,
)
from skprivacy.audit._metrics import (
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    membership_roc_curve,
    ppv_at_fpr,
    tpr_at_fpr,
)
from skprivacy.audit._report import AuditReport
from skprivacy.audit._selection._display import FrontierDisplay
from skprivacy.audit._selection._game import DefenseEvaluation
from skprivacy.audit._selection._scoring import (
    AuditRecorder,
    make_privacy_scorer,
    privacy_refit,
)
from skprivacy.audit._signals import compute_signal
from skprivacy.audit._significance import (
    membership_p_values,
    slice_metrics,
)

__all__ = [
    "RMIA",
    "AttributeInferenceAttack",
    "AttributeInferenceReport",
    "AuditRecorder",
    "AuditReport",
    "BaVarIA",
    "BaseMembershipAttack",
    "BaseQueryAttack",
    "BoundaryDistanceAttack",
    "BoundaryRepulsionInversion",
    "CanarySet",
    "DPAuditDisplay",
    "DPAuditReport",
    "DPAuditor",
    "DefenseEvaluation",
    "EntropyAttack",
    "FrontierDisplay",
    "GapAttack",
    "LabelNoiseAttack",
    "LiRA",
    "LossAttack",
    "MembershipInferenceAuditor",
    "MembershipInferenceDisplay",
    "ModelInversionReport",
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
    "epsilon_from_guesses",
    "epsilon_multi_run",
    "epsilon_one_run",
    "get_attack",
    "get_attack_names",
    "held_out_ci",
    "make_canaries",
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
