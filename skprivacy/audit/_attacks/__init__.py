"""Membership attacks, one module per family, behind a small common interface."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.audit._attacks._base import BaseMembershipAttack, ReferenceSignals
from skprivacy.audit._attacks._bavaria import BaVarIA
from skprivacy.audit._attacks._label_only import (
    BoundaryDistanceAttack,
    GapAttack,
    LabelNoiseAttack,
)
from skprivacy.audit._attacks._lira import LiRA, ReferenceAttack
from skprivacy.audit._attacks._perturbation import PerturbationAttack
from skprivacy.audit._attacks._quantile import QuantileRegressionAttack
from skprivacy.audit._attacks._query import BaseQueryAttack
from skprivacy.audit._attacks._rmia import RMIA
from skprivacy.audit._attacks._shadow import ShadowModelAttack
from skprivacy.audit._attacks._threshold import (
    EntropyAttack,
    LossAttack,
    PopulationAttack,
)

# Attack names accepted by MembershipInferenceAuditor(attack=...): a new attack
# module registers its classes here (a factory of the attack object).
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
    "quantile": QuantileRegressionAttack,
    "bavaria": BaVarIA,
    "bavaria_offline": lambda: BaVarIA(online=False),
    "perturbation": PerturbationAttack,
    "perturbation_lrt": lambda: PerturbationAttack(scoring="lrt"),
    # Label-only attacks: they query the target's predict, so they also audit
    # models that release labels only.
    "label_gap": GapAttack,
    "label_noise": LabelNoiseAttack,
    "label_boundary": BoundaryDistanceAttack,
}

# Attacks that need only the released labels.
LABEL_ONLY_ATTACKS = ("label_gap", "label_noise", "label_boundary")

__all__ = [
    "ATTACKS",
    "LABEL_ONLY_ATTACKS",
    "RMIA",
    "BaVarIA",
    "BaseMembershipAttack",
    "BaseQueryAttack",
    "BoundaryDistanceAttack",
    "EntropyAttack",
    "GapAttack",
    "LabelNoiseAttack",
    "LiRA",
    "LossAttack",
    "PerturbationAttack",
    "PopulationAttack",
    "QuantileRegressionAttack",
    "ReferenceAttack",
    "ReferenceSignals",
    "ShadowModelAttack",
]
