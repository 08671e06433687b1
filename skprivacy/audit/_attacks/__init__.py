"""Membership attacks, one module per family, behind a small common interface."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.audit._attacks._base import BaseMembershipAttack, ReferenceSignals
from skprivacy.audit._attacks._reference import LiRA, ReferenceAttack
from skprivacy.audit._attacks._rmia import RMIA
from skprivacy.audit._attacks._shadow import ShadowModelAttack
from skprivacy.audit._attacks._threshold import (
    EntropyAttack,
    LossAttack,
    PopulationAttack,
)

# Attack names accepted by MembershipInferenceAuditor(attack=...).
ATTACKS = {
    "loss": LossAttack,
    "population": PopulationAttack,
    "mentr": EntropyAttack,
    "reference": ReferenceAttack,
    "shadow": ShadowModelAttack,
    "lira": LiRA,
    "lira_offline": lambda: LiRA(online=False),
    "rmia": RMIA,
    "rmia_online": lambda: RMIA(online=True),
}

__all__ = [
    "ATTACKS",
    "RMIA",
    "BaseMembershipAttack",
    "EntropyAttack",
    "LiRA",
    "LossAttack",
    "PopulationAttack",
    "ReferenceAttack",
    "ReferenceSignals",
    "ShadowModelAttack",
]
