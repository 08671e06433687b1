"""skprivacy: machine-learning privacy for scikit-learn.

Train models that leak less, release predictions with a certified guarantee and
measure leakage with membership-inference attacks, all as scikit-learn estimators.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.audit import MembershipInferenceAuditor
from skprivacy.certify import SmoothedClassifier
from skprivacy.defense import (
    CRLClassifier,
    DPSGDClassifier,
    HAMPClassifier,
    SelfDistillationClassifier,
)

__version__ = "0.1.0.dev0"


__all__ = [
    "CRLClassifier",
    "DPSGDClassifier",
    "HAMPClassifier",
    "MembershipInferenceAuditor",
    "SelfDistillationClassifier",
    "SmoothedClassifier",
    "__version__",
]
