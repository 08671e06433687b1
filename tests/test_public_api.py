"""The public names of each namespace, pinned.

A module moved inside a package (``skprivacy.audit``'s wings, say) must leave
every public name importable from where it was: this snapshot of each
``__all__`` fails on a name lost, renamed or added without a decision.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from importlib import import_module

import pytest

PUBLIC_NAMES = {
    "skprivacy": [
        "CRLClassifier",
        "DPSGDClassifier",
        "HAMPClassifier",
        "MembershipInferenceAuditor",
        "SelfDistillationClassifier",
        "SmoothedClassifier",
        "__version__",
    ],
    "skprivacy.audit": [
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
        "RMIA",
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
    ],
    "skprivacy.certify": [
        "CertifiedAccuracyDisplay",
        "SmoothedClassifier",
        "attribute_grid",
        "attribute_response",
        "average_certified_radius",
        "binomial_test_pvalue",
        "certified_accuracy_curve",
        "certified_accuracy_lower_bound",
        "certified_radius",
        "certify_spending_schedule",
        "clopper_pearson_lower",
        "clopper_pearson_upper",
        "compatible_intervals",
        "min_samples_to_certify",
        "min_samples_to_predict",
        "sequential_checkpoints",
    ],
    "skprivacy.datasets": [
        "load_adult",
        "load_german_credit",
        "load_letter",
        "load_medical_insurance",
        "load_movielens_100k",
        "make_insurance_like",
        "make_preprocessor",
        "make_recommendation",
        "make_sparse_binary_classification",
    ],
    "skprivacy.defense": [
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
    ],
    "skprivacy.exceptions": [
        "DPParameterWarning",
        "DataOverlapWarning",
        "DefenseConfigurationWarning",
        "DependentTrialsWarning",
        "ReferenceCalibrationWarning",
        "SkprivacyWarning",
        "SmallSampleWarning",
        "UnresolvedMetricWarning",
        "UntrainedReferenceWarning",
    ],
    "skprivacy.utils": [
        "all_displays",
        "all_estimators",
        "all_functions",
        "as_seed_sequence",
        "spawn_generators",
        "spawn_seeds",
        "torch_generator",
        "torch_seed",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_public_names_are_pinned(module):
    assert sorted(import_module(module).__all__) == PUBLIC_NAMES[module]


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_public_names_import_from_their_namespace(module):
    namespace = import_module(module)
    missing = [name for name in PUBLIC_NAMES[module] if not hasattr(namespace, name)]
    assert not missing, f"{module} lists names it does not define: {missing}"
