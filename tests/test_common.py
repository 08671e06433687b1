"""sklearn's common checks over every public estimator of skprivacy."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skprivacy.utils import all_estimators
from skprivacy.utils._testing import (
    EXEMPT_FROM_COMMON_CHECKS,
    EXPECTED_FAILED_CHECKS,
    INIT_PARAMS,
    construct_instances,
    get_expected_failed_checks,
)

ESTIMATORS = dict(all_estimators())
CHECKED = [
    estimator
    for name, cls in ESTIMATORS.items()
    if name not in EXEMPT_FROM_COMMON_CHECKS
    for estimator in construct_instances(cls)
]


@parametrize_with_checks(CHECKED, expected_failed_checks=get_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_classifier_is_checked():
    checked = {type(est).__name__ for est in CHECKED}
    for name, _ in all_estimators(type_filter="classifier"):
        assert name in checked or EXEMPT_FROM_COMMON_CHECKS.get(name), name


@pytest.mark.parametrize(
    "table", [INIT_PARAMS, EXPECTED_FAILED_CHECKS, EXEMPT_FROM_COMMON_CHECKS]
)
def test_tables_name_existing_estimators(table):
    # A stale entry would silently stop checking or excusing the estimator it meant.
    assert set(table) <= set(ESTIMATORS)


def test_exemptions_and_expected_failures_have_reasons():
    for name, reason in EXEMPT_FROM_COMMON_CHECKS.items():
        assert isinstance(reason, str) and len(reason) > 20, name
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        for check, reason in checks.items():
            assert isinstance(reason, str) and len(reason) > 20, (name, check)
