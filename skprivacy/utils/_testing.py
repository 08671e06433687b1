"""Per-estimator tables for the common sklearn checks (``tests/test_common.py``).

Every estimator that :func:`~skprivacy.utils.all_estimators` finds is run through
:func:`sklearn.utils.estimator_checks.parametrize_with_checks` with the fast
parameters below, except the estimators in ``EXEMPT_FROM_COMMON_CHECKS``, whose
methods take other arguments than sklearn's by design and have their own API tests.
A check may only be expected to fail with a written reason.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

# Class name -> list of fast, converging constructor parameters (one instance each).
INIT_PARAMS: dict[str, list[dict]] = {
    # Delegates to LogisticRegression; a small sample keeps the row copies cheap.
    "AuditRecorder": [{"n_members": 20, "random_state": 0}],
    # Tiny nets with a large learning rate so the many fits of the checks stay fast;
    # one with the full CRL loss, one with its center part off and dropout on.
    "CRLClassifier": [
        {
            "hidden_units": (16,),
            "center_weight": 0.1,
            "max_epochs": 8,
            "lr": 0.03,
            "batch_size": 32,
        },
        {
            "hidden_units": (16,),
            "dropout": 0.1,
            "center_weight": 0.0,
            "max_epochs": 8,
            "lr": 0.03,
            "batch_size": 32,
        },
    ],
    # Tiny nets with a large learning rate, as for CRL; one with HAMP's soft
    # labels and regulariser, one with dropout on.
    "HAMPClassifier": [
        {
            "hidden_units": (16,),
            "gamma": 0.8,
            "alpha": 0.1,
            "max_epochs": 8,
            "lr": 0.03,
            "batch_size": 32,
        },
        {
            "hidden_units": (16,),
            "dropout": 0.1,
            "gamma": 0.5,
            "alpha": 1.0,
            "max_epochs": 8,
            "lr": 0.03,
            "batch_size": 32,
        },
    ],
    # A fast inner model; the release keeps its labels and ranks, so the
    # accuracy checks pass while the score replacement runs.
    "HAMPReleaseClassifier": [
        {"estimator": LogisticRegression(), "random_state": 0},
        {
            "estimator": LogisticRegression(),
            "feature_range": (-3.0, 3.0),
            "random_state": 0,
        },
    ],
    # Little noise (sigma=0.01) keeps the accuracy checks passing while the
    # clipping, noise and Poisson-sampling code runs; tests/defense covers the rest.
    "DPSGDClassifier": [
        {
            "hidden_units": (16,),
            "noise_multiplier": 0.01,
            "max_epochs": 8,
            "batch_size": 32,
            "random_state": 0,
        },
    ],
    # A large epsilon keeps the accuracy checks passing (flip rate (k-1)/(e^8+k-1)
    # < 1e-3) while still running the flipping code; tests/defense covers small ones.
    "RandomizedResponseClassifier": [{"epsilon": 8.0, "random_state": 0}],
    # Few, fast sub-models: every check fits K + 1 = 4 trees. The second instance
    # takes the argmax path.
    "SelfDistillationClassifier": [
        {
            "estimator": DecisionTreeClassifier(max_depth=4),
            "n_estimators": 3,
            "n_held_out": 1,
            "random_state": 0,
        },
        {
            "estimator": DecisionTreeClassifier(max_depth=4),
            "n_estimators": 4,
            "n_held_out": 2,
            "soft_labels": "argmax",
            "random_state": 0,
        },
        {
            "estimator": DecisionTreeClassifier(max_depth=4),
            "n_estimators": 3,
            "n_held_out": 1,
            "n_augment": 2,
            "random_state": 0,
        },
    ],
    "SmoothedClassifier": [
        {"n0": 20, "n": 200, "n_predict": 100, "batch_size": 2048},
        {
            "n0": 20,
            "n": 200,
            "n_predict": 100,
            "adaptive": True,
            "feature_scale": "std",
            "n_augment": 2,
        },
    ],
}

# The checks skorch's NeuralNet fails, inherited by skprivacy's skorch estimators.
_SKORCH_FAILURES = {
    "check_no_attributes_set_in_init": (
        "inherited from skorch: NeuralNet.__init__ sets history_, initialized_ "
        "and virtual_params_; they are reset by initialize() before training."
    ),
    "check_set_params": (
        "inherited from skorch: NeuralNet.get_params exposes its private "
        "_params_to_validate set, which the check fuzzes with a float."
    ),
}

# Class name -> {check name: why it fails and why that is acceptable}.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "CRLClassifier": _SKORCH_FAILURES,
    "DPSGDClassifier": _SKORCH_FAILURES,
    "HAMPClassifier": _SKORCH_FAILURES,
}

# Class name -> why sklearn's common checks cannot apply to it.
_ATTACK_REASON = (
    "a membership attack strategy, not an estimator of X: it is fit on reference "
    "signals and scores (log-probabilities, labels), and is only used through "
    "MembershipInferenceAuditor; API tests in tests/audit."
)
EXEMPT_FROM_COMMON_CHECKS: dict[str, str] = {
    "AttributeInferenceAttack": (
        "An attack, not a learner: `estimator` is an already fitted target queried "
        "as a black box, `fit` only learns the adversary's prior, and "
        "`infer`/`posterior`/`score`/`evaluate` take the observed releases as their "
        "second argument instead of a target y. Its API (clone, get/set_params, "
        "pickling, reproducibility, errors) is tested in tests/audit/test_inversion.py."
    ),
    "DPAuditor": (
        "an audit, not a learner: fit(X, y, X_canary=..., y_canary=...) trains the "
        "audited recipe several times on X plus canaries made from held-out records "
        "and has no predict or transform; audit() returns a DPAuditReport. Own API "
        "tests (clone, reproducibility, errors) in tests/audit/test_dp_audit.py."
    ),
    "BoundaryRepulsionInversion": (
        "An attack, not a learner: `estimator` and `evaluator` are fitted models "
        "queried as black boxes and `fit` takes no data (it runs the attack). Its "
        "API (clone, reproducibility, errors) is tested in "
        "tests/audit/test_boundary_inversion.py."
    ),
    "DefenseEvaluation": (
        "an evaluation of training recipes, not a learner: fit(X, y) trains "
        "n_models clones of every recipe and stores a results table; it has no "
        "predict or transform for sklearn's checks to call, and its required "
        "recipes argument has no default. Own API tests (clone, get/set_params, "
        "reproducibility, errors) in tests/audit/test_frontier.py."
    ),
    "MembershipInferenceAuditor": (
        "its methods take records and their labels, (X, y): fit(X_pool, y_pool), "
        "predict(X, y), decision_function(X, y), score(X, y, membership); it is not "
        "a classifier of X, so sklearn's checks cannot call it. Own API tests "
        "(clone, get/set_params, pickling, reproducibility) in tests/audit."
    ),
    **dict.fromkeys(
        (
            "BaVarIA",
            "BaseMembershipAttack",
            "BaseQueryAttack",
            "BoundaryDistanceAttack",
            "EntropyAttack",
            "GapAttack",
            "LabelNoiseAttack",
            "LiRA",
            "LossAttack",
            "PerturbationAttack",
            "PopulationAttack",
            "QuantileRegressionAttack",
            "RMIA",
            "ReferenceAttack",
            "ShadowModelAttack",
        ),
        _ATTACK_REASON,
    ),
}


def construct_instances(estimator_class) -> list:
    """Instances of ``estimator_class`` built with its fast test parameters."""
    params_list = INIT_PARAMS.get(estimator_class.__name__, [{}])
    return [clone(estimator_class(**params)) for params in params_list]


def get_expected_failed_checks(estimator) -> dict[str, str]:
    """The expected-failed checks of ``estimator`` with their reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
