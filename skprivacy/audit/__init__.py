"""Attacks that measure what a model or a release leaks."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.audit._inversion import AttributeInferenceAttack

__all__ = ["AttributeInferenceAttack"]
