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
