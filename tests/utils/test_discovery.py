# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from skprivacy.utils import all_displays, all_estimators, all_functions


def test_all_estimators_are_public_estimator_classes():
    for name, cls in all_estimators():
        assert not name.startswith("_")
        assert inspect.isclass(cls) and issubclass(cls, BaseEstimator)
        assert cls.__module__.startswith("skprivacy.")
    names = [name for name, _ in all_estimators()]
    assert names == sorted(set(names))


def test_type_filter():
    for _, cls in all_estimators(type_filter="classifier"):
        assert issubclass(cls, ClassifierMixin)
    with pytest.raises(
        ValueError, match="The 'type_filter' parameter of all_estimators must be"
    ):
        all_estimators(type_filter="clusterer")
    with pytest.raises(ValueError, match="type_filter must be among"):
        all_estimators(type_filter=["classifier", "clusterer"])


def test_all_functions_and_displays():
    functions = dict(all_functions())
    for name in ("load_adult", "load_german_credit", "make_preprocessor"):
        assert name in functions
    assert "_read_bundled_csv" not in functions
    assert all(name.endswith("Display") for name, _ in all_displays())
