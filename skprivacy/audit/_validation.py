"""The checks every audit makes of its inputs, and how an attack is named.

The membership auditor, the DP auditor and the defense evaluation read records
and labels, and attacks given by name or as objects, the same way.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import _num_samples

from skprivacy.audit._attacks import ATTACKS


def resolve_attack(attack):
    """A fresh attack: a name of ``ATTACKS`` instantiated, an object cloned."""
    if isinstance(attack, str):
        if attack not in ATTACKS:
            raise ValueError(
                f"Unknown attack {attack!r}; use one of {sorted(ATTACKS)} or an "
                "attack object."
            )
        return ATTACKS[attack]()
    return clone(attack)


def check_X_y(X, y, name="X"):
    """``y`` as an array, once it holds one label per record of ``X``."""
    n_X, n_y = _num_samples(X), _num_samples(y)
    if n_X != n_y:
        label = "y" if name == "X" else "y_population"
        raise ValueError(
            f"{name} has {n_X} records but {label} has {n_y} labels; pass one true "
            f"class label per record ({label}[i] is the label of {name}[i])."
        )
    return np.asarray(y)


def attack_name(attack):
    """The name of an attack in reports: its key in the registry of attacks.

    ``attack`` is a key (returned as is) or an attack object: the key whose
    factory builds the same class with the fewest parameters that differ (so
    ``LiRA(online=False)`` is ``"lira_offline"``); the class name for an attack
    outside the registry. The same names label the command line's tables.
    """
    if isinstance(attack, str):
        return attack
    params = attack.get_params(deep=False)
    candidates = []
    for order, (key, factory) in enumerate(ATTACKS.items()):
        default = factory()
        if type(default) is type(attack):
            defaults = default.get_params(deep=False)
            differ = sum(not _same(v, defaults.get(k)) for k, v in params.items())
            candidates.append((differ, order, key))
    return min(candidates)[2] if candidates else type(attack).__name__


def _same(a, b):
    """Whether two parameter values are equal (False when they cannot say)."""
    try:
        return bool(type(a) is type(b) and a == b)
    except (TypeError, ValueError):  # arrays, estimators without __eq__
        return False
