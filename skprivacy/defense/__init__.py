"""Training-time defenses against membership inference.

:class:`CRLClassifier` trains a skorch network with Center-based Relaxed
Learning (Fang & Kim, UAI 2024); its losses are usable on their own.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.defense._crl import CRLClassifier
from skprivacy.defense._losses import (
    CRLLoss,
    ImpRelaxLoss,
    RelaxedCenterLoss,
    normalized_ce_floor,
    tau_normalize,
)
from skprivacy.defense._modules import TabularMLP

__all__ = [
    "CRLClassifier",
    "CRLLoss",
    "ImpRelaxLoss",
    "RelaxedCenterLoss",
    "TabularMLP",
    "normalized_ce_floor",
    "tau_normalize",
]
