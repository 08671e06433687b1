"""Inference-time certified privacy: attribute-level views of a release."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.certify._attribute import (
    attribute_grid,
    attribute_response,
    compatible_intervals,
)

__all__ = ["attribute_grid", "attribute_response", "compatible_intervals"]
