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

# Class name -> list of fast, converging constructor parameters (one instance each).
INIT_PARAMS: dict[str, list[dict]] = {
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

# Class name -> {check name: why it fails and why that is acceptable}.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}

# Class name -> why sklearn's common checks cannot apply to it.
EXEMPT_FROM_COMMON_CHECKS: dict[str, str] = {}


def construct_instances(estimator_class) -> list:
    """Instances of ``estimator_class`` built with its fast test parameters."""
    params_list = INIT_PARAMS.get(estimator_class.__name__, [{}])
    return [clone(estimator_class(**params)) for params in params_list]


def get_expected_failed_checks(estimator) -> dict[str, str]:
    """The expected-failed checks of ``estimator`` with their reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
