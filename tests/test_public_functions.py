"""Every public function validates its parameters as scikit-learn's do.

Each public function with parameters is decorated with ``@validate_params``
(through :mod:`skprivacy.utils._sklearn_compat`) and listed below; a value
that no constraint accepts raises
:class:`~sklearn.utils._param_validation.InvalidParameterError` naming the
parameter and the function, before the function runs. A new public function
fails :func:`test_every_public_function_is_listed` until it is decorated and
listed.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
from importlib import import_module

import pytest
from sklearn.utils._param_validation import (
    InvalidParameterError,
    _InstancesOf,
    generate_valid_param,
    make_constraint,
)

from skprivacy.utils import all_functions

PARAM_VALIDATION_FUNCTION_LIST = [
    "skprivacy.audit.bootstrap_ci",
    "skprivacy.audit.clopper_pearson",
    "skprivacy.audit.compute_signal",
    "skprivacy.audit.empirical_epsilon",
    "skprivacy.audit.epsilon_from_guesses",
    "skprivacy.audit.epsilon_multi_run",
    "skprivacy.audit.epsilon_one_run",
    "skprivacy.audit.get_attack",
    "skprivacy.audit.held_out_ci",
    "skprivacy.audit.make_canaries",
    "skprivacy.audit.make_privacy_scorer",
    "skprivacy.audit.membership_advantage",
    "skprivacy.audit.membership_auc",
    "skprivacy.audit.membership_balanced_accuracy",
    "skprivacy.audit.membership_p_values",
    "skprivacy.audit.membership_roc_curve",
    "skprivacy.audit.ppv_at_fpr",
    "skprivacy.audit.privacy_refit",
    "skprivacy.audit.slice_metrics",
    "skprivacy.audit.tpr_at_fpr",
    "skprivacy.certify.attribute_grid",
    "skprivacy.certify.attribute_response",
    "skprivacy.certify.average_certified_radius",
    "skprivacy.certify.binomial_test_pvalue",
    "skprivacy.certify.certified_accuracy_curve",
    "skprivacy.certify.certified_accuracy_lower_bound",
    "skprivacy.certify.certified_radius",
    "skprivacy.certify.certify_spending_schedule",
    "skprivacy.certify.clopper_pearson_lower",
    "skprivacy.certify.clopper_pearson_upper",
    "skprivacy.certify.compatible_intervals",
    "skprivacy.certify.min_samples_to_certify",
    "skprivacy.certify.min_samples_to_predict",
    "skprivacy.certify.sequential_checkpoints",
    "skprivacy.datasets.load_adult",
    "skprivacy.datasets.load_german_credit",
    "skprivacy.datasets.load_letter",
    "skprivacy.datasets.load_medical_insurance",
    "skprivacy.datasets.load_movielens_100k",
    "skprivacy.datasets.make_insurance_like",
    "skprivacy.datasets.make_preprocessor",
    "skprivacy.datasets.make_recommendation",
    "skprivacy.datasets.make_sparse_binary_classification",
    "skprivacy.defense.crl_loss",
    "skprivacy.defense.dp_epsilon",
    "skprivacy.defense.dp_noise_multiplier",
    "skprivacy.defense.dp_sgd_plan",
    "skprivacy.defense.hamp_loss",
    "skprivacy.defense.normalized_ce_floor",
    "skprivacy.defense.soft_label_confidence",
    "skprivacy.defense.tau_normalize",
    "skprivacy.utils.all_estimators",
    "skprivacy.utils.as_seed_sequence",
    "skprivacy.utils.spawn_generators",
    "skprivacy.utils.spawn_seeds",
    "skprivacy.utils.torch_generator",
    "skprivacy.utils.torch_seed",
]


class _BadType:
    """A value that no declared constraint accepts."""


def _function(path):
    module, name = path.rsplit(".", 1)
    return getattr(import_module(module), name)


def _parameters(func):
    return {
        name: p
        for name, p in inspect.signature(func).parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _valid_value(constraints):
    """A value that satisfies one of ``constraints``."""
    if constraints == "no_validation":
        return None
    for constraint in map(make_constraint, constraints):
        try:
            return generate_valid_param(constraint)
        except (NotImplementedError, ValueError):
            # generate_valid_param knows scikit-learn's own types only.
            if isinstance(constraint, _InstancesOf):
                return constraint.type()
    raise AssertionError(f"no valid value can be made for {constraints}")


def test_every_public_function_is_listed():
    listed = {
        path.rsplit(".", 1)[1]: _function(path)
        for path in PARAM_VALIDATION_FUNCTION_LIST
    }
    # Functions without parameters have nothing to validate.
    public = {name: func for name, func in all_functions() if _parameters(func)}
    missing = sorted(set(public) - set(listed))
    assert not missing, f"decorate with @validate_params and list {missing}"
    assert listed == public, "listed functions that are not public"


@pytest.mark.parametrize("path", PARAM_VALIDATION_FUNCTION_LIST)
def test_constraints_cover_every_parameter(path):
    func = _function(path)
    constraints = getattr(func, "_skl_parameter_constraints", None)
    assert constraints is not None, f"{path} is not decorated with @validate_params"
    assert set(constraints) == set(_parameters(func))


@pytest.mark.parametrize("path", PARAM_VALIDATION_FUNCTION_LIST)
def test_function_param_validation(path):
    func = _function(path)
    constraints = func._skl_parameter_constraints
    parameters = _parameters(func)
    required = {
        name: _valid_value(constraints[name])
        for name, p in parameters.items()
        if p.default is inspect.Parameter.empty
    }
    for name in parameters:
        if constraints[name] == "no_validation":
            continue
        match = f"The '{name}' parameter of {func.__qualname__} must be"
        with pytest.raises(InvalidParameterError, match=match):
            func(**{**required, name: _BadType()})
