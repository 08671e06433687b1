"""Real tabular datasets with their sensitive attributes, and preprocessing recipes."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.datasets._base import load_adult, load_german_credit
from skprivacy.datasets._preprocessing import make_preprocessor

__all__ = ["load_adult", "load_german_credit", "make_preprocessor"]
