"""numpydoc validation of every public object's docstring."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect

import pytest
from numpydoc.validate import validate

from skprivacy.utils import all_displays, all_estimators, all_functions

# Documented, described parameters and an Examples section on every public
# class and function; documented parameters on every public method.
OBJECT_CHECKS = {"GL08", "PR01", "PR02", "PR07", "EX01", "SS01", "RT01"}
METHOD_CHECKS = {"GL08", "PR01", "PR02", "PR07"}

# "module.Class.method" or "module.function" -> reason it cannot be validated.
IGNORED: dict[str, str] = {
    "skprivacy.defense._crl.CRLClassifier.check_data": (
        "skorch hook called by NeuralNet.fit, not by users; documented by skorch"
    ),
    "skprivacy.defense._crl.CRLClassifier.on_epoch_end": (
        "skorch callback hook called by the training loop; documented by skorch"
    ),
}


def _overrides_skprivacy_method(cls, name):
    # An override of a method that a skprivacy base class documents (an attack's
    # `fit`, `score_samples`) keeps the parameters documented once, on the base.
    return any(
        name in vars(base) and base.__module__.startswith("skprivacy.")
        for base in cls.__mro__[1:]
    )


def _public_objects():
    seen = set()
    for _, obj in [*all_estimators(), *all_displays(), *all_functions()]:
        if obj in seen:
            continue
        seen.add(obj)
        yield f"{obj.__module__}.{obj.__qualname__}", obj, OBJECT_CHECKS
        if not inspect.isclass(obj):
            continue
        for name, member in vars(obj).items():
            if name.startswith("_") or not callable(member):
                continue
            if isinstance(member, property):  # pragma: no cover - not callable
                continue
            checks = (
                {"GL08"} if _overrides_skprivacy_method(obj, name) else METHOD_CHECKS
            )
            yield f"{obj.__module__}.{obj.__qualname__}.{name}", member, checks


CASES = list(_public_objects())


@pytest.mark.parametrize(
    "import_path, checks", [(p, c) for p, _, c in CASES], ids=[p for p, _, _ in CASES]
)
def test_docstring(import_path, checks):
    if import_path in IGNORED:
        pytest.skip(IGNORED[import_path])
    result = validate(import_path)
    errors = [(code, msg) for code, msg in result["errors"] if code in checks]
    assert not errors, "\n".join(f"{code}: {msg}" for code, msg in errors)
