"""Inference-time certified privacy by randomized smoothing.

:class:`SmoothedClassifier` turns any classifier into a smoothed one whose
predictions come with a certified l2 radius (Cohen, Rosenfeld & Kolter, 2019);
the metrics and the display evaluate such certificates, and the attribute
functions measure which values of a sensitive attribute a release is compatible
with (robust attribute privacy).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.certify._attribute import (
    attribute_grid,
    attribute_response,
    compatible_intervals,
)
from skprivacy.certify._bounds import (
    binomial_test_pvalue,
    certified_radius,
    certify_spending_schedule,
    clopper_pearson_lower,
    clopper_pearson_upper,
    min_samples_to_certify,
    min_samples_to_predict,
    sequential_checkpoints,
)
from skprivacy.certify._display import CertifiedAccuracyDisplay
from skprivacy.certify._metrics import (
    average_certified_radius,
    certified_accuracy_curve,
    certified_accuracy_lower_bound,
)
from skprivacy.certify._smoothed import SmoothedClassifier

__all__ = [
    "CertifiedAccuracyDisplay",
    "SmoothedClassifier",
    "attribute_grid",
    "attribute_response",
    "average_certified_radius",
    "binomial_test_pvalue",
    "certified_accuracy_curve",
    "certified_accuracy_lower_bound",
    "certified_radius",
    "certify_spending_schedule",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "compatible_intervals",
    "min_samples_to_certify",
    "min_samples_to_predict",
    "sequential_checkpoints",
]
