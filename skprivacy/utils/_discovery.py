"""Discovery of the public estimators, displays and functions of skprivacy."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import inspect
import pkgutil
from importlib import import_module
from operator import itemgetter

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
)

from skprivacy.utils._sklearn_compat import StrOptions, validate_params

_TYPE_MIXINS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
}


def _public_modules():
    """Import and yield every public module of the package (tests excluded)."""
    import skprivacy

    yield skprivacy
    for info in pkgutil.walk_packages(skprivacy.__path__, prefix="skprivacy."):
        parts = info.name.split(".")
        if any(part.startswith("_") or part == "tests" for part in parts[1:]):
            continue
        yield import_module(info.name)


def _public_members(predicate):
    members = {}
    for module in _public_modules():
        for name, obj in inspect.getmembers(module, predicate):
            if name.startswith("_") or not getattr(obj, "__module__", "").startswith(
                "skprivacy."
            ):
                continue
            members[name] = obj
    return sorted(members.items(), key=itemgetter(0))


@validate_params(
    {"type_filter": [StrOptions(set(_TYPE_MIXINS)), list, None]},
    prefer_skip_nested_validation=True,
)
def all_estimators(type_filter=None) -> list[tuple[str, type]]:
    """List the public estimators of skprivacy.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer"} or list of such, \
            default=None
        Keep only estimators of these kinds; ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs sorted by name; abstract classes are left out.

    Examples
    --------
    >>> from skprivacy.utils import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="classifier")]
    """
    estimators = [
        (name, cls)
        for name, cls in _public_members(inspect.isclass)
        if issubclass(cls, BaseEstimator) and not inspect.isabstract(cls)
    ]
    if type_filter is None:
        return estimators
    kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = sorted(set(kinds) - set(_TYPE_MIXINS))
    if unknown:
        raise ValueError(
            f"type_filter must be among {sorted(_TYPE_MIXINS)} or None; got {unknown}."
        )
    mixins = tuple(_TYPE_MIXINS[kind] for kind in kinds)
    return [(name, cls) for name, cls in estimators if issubclass(cls, mixins)]


def all_displays() -> list[tuple[str, type]]:
    """List the public plotting ``*Display`` classes of skprivacy.

    Returns
    -------
    displays : list of (str, type)
        ``(name, class)`` pairs sorted by name.

    Examples
    --------
    >>> from skprivacy.utils import all_displays
    >>> all(name.endswith("Display") for name, _ in all_displays())
    True
    """
    return [
        (name, cls)
        for name, cls in _public_members(inspect.isclass)
        if name.endswith("Display")
    ]


def all_functions() -> list[tuple[str, object]]:
    """List the public functions of skprivacy.

    Returns
    -------
    functions : list of (str, callable)
        ``(name, function)`` pairs sorted by name.

    Examples
    --------
    >>> from skprivacy.utils import all_functions
    >>> "load_adult" in dict(all_functions())
    True
    """
    return _public_members(inspect.isfunction)
