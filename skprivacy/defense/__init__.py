"""Defenses: models and release mechanisms that leak less."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.defense._randomized_response import RandomizedResponseClassifier

__all__ = ["RandomizedResponseClassifier"]
