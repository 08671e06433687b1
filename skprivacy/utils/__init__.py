"""Utilities: random-state plumbing and discovery of the package's public objects."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.utils._discovery import all_displays, all_estimators, all_functions
from skprivacy.utils._random import (
    as_seed_sequence,
    spawn_generators,
    spawn_seeds,
    torch_generator,
    torch_seed,
)

__all__ = [
    "all_displays",
    "all_estimators",
    "all_functions",
    "as_seed_sequence",
    "spawn_generators",
    "spawn_seeds",
    "torch_generator",
    "torch_seed",
]
