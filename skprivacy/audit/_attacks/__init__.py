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
from skprivacy.utils._sklearn_compat import StrOptions, validate_params

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


def get_attack_names() -> list:
    """The names of the membership attacks that the auditor accepts.

    They are the values of ``MembershipInferenceAuditor(attack=...)`` and the
    names of the attacks in :class:`AuditReport` and the command line's
    reports.

    Returns
    -------
    names : list of str
        In the order of the registry: threshold, reference, query and
        label-only attacks.

    See Also
    --------
    get_attack : The attack object of a name.

    Examples
    --------
    >>> from skprivacy.audit import get_attack_names
    >>> get_attack_names()[:4]
    ['loss', 'population', 'mentr', 'reference']
    """
    return list(ATTACKS)


@validate_params(
    {"name": [StrOptions(set(ATTACKS))]}, prefer_skip_nested_validation=True
)
def get_attack(name: str) -> BaseMembershipAttack:
    """A new attack object of a name of :func:`get_attack_names`.

    Its class attributes say what the attack needs (``min_references``,
    ``needs_population``, ``query_output``, ``perturbs_records``).

    Parameters
    ----------
    name : str
        A name of :func:`get_attack_names`, e.g. ``"lira_offline"``.

    Returns
    -------
    attack : BaseMembershipAttack
        Unfitted, with the parameters that the name stands for.

    See Also
    --------
    get_attack_names : The names.

    Examples
    --------
    >>> from skprivacy.audit import get_attack
    >>> get_attack("lira_offline")
    LiRA(online=False)
    >>> get_attack("label_gap").query_output
    'labels'
    """
    return ATTACKS[name]()


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
    "get_attack",
    "get_attack_names",
]
