"""Privacy accounting of DP-SGD before training: epsilon, noise and schedule.

:class:`DPSGDClassifier` computes its ``epsilon_`` and solves its noise with
these functions, so that a budget planned here is the budget a fit reports.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import functools
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch

from skprivacy.exceptions import DPParameterWarning
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params

# delta="auto": 1 / (10 n), and never above this.
_AUTO_DELTA_CAP = 1e-5
# The noise search doubles its upper end up to this before giving up.
_MAX_NOISE_MULTIPLIER = 1e6
# Bisection steps of the noise search; 60 halvings of [0, 1e6] reach 1e-12.
_MAX_BISECTIONS = 60
# The PRV accountant discretises the privacy loss on a grid whose size grows
# with epsilon / eps_error: at small noise (epsilon in the hundreds) a fixed
# eps_error of 0.01 needs gigabytes. Its error is kept relative to epsilon
# instead, which bounds the grid whatever the noise.
_PRV_MIN_ERROR = 0.01
_PRV_RELATIVE_ERROR = 1e-3


def _import_opacus():
    try:
        import opacus
    except ImportError as exc:  # pragma: no cover - opacus is in the test extra
        raise ImportError(
            "DP-SGD accounting and training need Opacus: pip install 'skprivacy[dp]'."
        ) from exc
    return opacus


def _rdp_epsilon(history, delta):
    from opacus.accountants import RDPAccountant

    accountant = RDPAccountant()
    accountant.history = list(history)
    return float(accountant.get_epsilon(delta=delta))


def _prv_epsilon(history, delta, rdp_epsilon):
    from opacus.accountants import PRVAccountant

    accountant = PRVAccountant()
    accountant.history = list(history)
    eps_error = max(_PRV_MIN_ERROR, _PRV_RELATIVE_ERROR * rdp_epsilon)
    try:
        # log(1 - q) is -inf at sampling rate 1, which the PRV handles; an
        # overflow or a NaN means its numerics failed (at tiny noise), and
        # then its result is not trusted.
        with np.errstate(divide="ignore", over="raise", invalid="raise"):
            return float(accountant.get_epsilon(delta=delta, eps_error=eps_error))
    except (RuntimeError, FloatingPointError):
        # RuntimeError: Opacus's own "Cannot compute epsilon".
        return math.inf


def _rdp_floor(delta):
    """RDP's epsilon at ``delta`` as the noise grows without bound.

    Opacus converts Renyi DP of orders up to 63 into (epsilon, delta)-DP; at
    zero Renyi divergence the conversion still costs this much.
    """
    from opacus.accountants import RDPAccountant
    from opacus.accountants.analysis.rdp import get_privacy_spent

    orders = RDPAccountant.DEFAULT_ALPHAS
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order")
        floor, _ = get_privacy_spent(
            orders=orders, rdp=np.zeros(len(orders)), delta=delta
        )
    return float(floor)


def _epsilon(history, delta, accountant):
    """Epsilon at ``delta`` of a DP-SGD run, from its accountant's history.

    ``history`` lists ``(noise_multiplier, sample_rate, steps)`` as Opacus's
    accountants record it. A noiseless step has no finite epsilon. With
    ``accountant="prv"`` the result is the smaller of the PRV and RDP bounds:
    both are valid upper bounds, and RDP's stands in where the PRV's numerics
    fail (very small noise).
    """
    _import_opacus()
    history = tuple((sigma, q, steps) for sigma, q, steps in history if steps > 0)
    return _cached_epsilon(history, delta, accountant)


# The models of one audit share their plan: account for it once (the RDP
# conversion takes about a second).
@functools.lru_cache(maxsize=256)
def _cached_epsilon(history, delta, accountant):
    if not history:
        return 0.0
    if any(sigma == 0 for sigma, _, _ in history):
        return math.inf
    with warnings.catch_warnings():
        # At very small or very large noise the best Renyi order is an end of
        # Opacus's grid (the PRV sizes its domain with RDP too); the bound is
        # still valid, only looser.
        warnings.filterwarnings("ignore", message="Optimal order")
        rdp = _rdp_epsilon(history, delta)
        if accountant == "rdp":
            return rdp
        prv = _prv_epsilon(history, delta, rdp)
    return prv if prv < rdp else rdp


_PLAN_CONSTRAINTS = {
    "sample_rate": [Interval(Real, 0, 1, closed="right")],
    "steps": [Interval(Integral, 0, None, closed="left")],
    "delta": [Interval(Real, 0, 1, closed="neither")],
    "accountant": [StrOptions({"rdp", "prv"})],
}


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, -1, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "delta": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def dp_sgd_plan(
    n_samples: int,
    *,
    batch_size: int,
    max_epochs: int,
    delta: str | float = "auto",
) -> Bunch:
    """Sampling rate, number of steps and delta of a DP-SGD training run.

    These are the terms the accountant needs, computed as
    :class:`DPSGDClassifier` computes them: each record joins each batch
    independently with probability ``sample_rate = batch_size / n_samples``
    (Poisson sampling), an epoch is ``int(1 / sample_rate)`` batches, and
    ``delta="auto"`` is ``min(1e-5, 1 / (10 n_samples))``. The result can be
    passed on as keywords to :func:`dp_epsilon` and :func:`dp_noise_multiplier`.

    Parameters
    ----------
    n_samples : int
        Number of training rows.
    batch_size : int
        Expected (logical) batch size; ``-1``, or at least ``n_samples``, is
        full-batch training (sampling rate 1). Must not be 0.
    max_epochs : int
        Number of epochs.
    delta : "auto" or float, default="auto"
        The ``delta`` of the guarantee. A value of at least ``1 / n_samples``
        raises a :class:`~skprivacy.exceptions.DPParameterWarning`: such a
        mechanism may publish a whole record.

    Returns
    -------
    plan : :class:`~sklearn.utils.Bunch`
        With keys ``sample_rate`` (float), ``steps`` (int) and ``delta``
        (float).

    See Also
    --------
    dp_epsilon : The epsilon of a plan at a given noise.
    dp_noise_multiplier : The noise that a plan needs for a target epsilon.

    Examples
    --------
    >>> from skprivacy.defense import dp_epsilon, dp_sgd_plan
    >>> plan = dp_sgd_plan(10_000, batch_size=500, max_epochs=100)
    >>> plan.sample_rate, plan.steps, plan.delta
    (0.05, 2000, 1e-05)
    >>> round(dp_epsilon(1.0, **plan), 2)
    17.82
    """
    if batch_size == 0:
        raise ValueError("batch_size must be positive, or -1 for full batches.")
    if batch_size == -1 or batch_size >= n_samples:
        sample_rate = 1.0
    else:
        sample_rate = batch_size / n_samples
    # Opacus's Poisson sampler draws int(1 / sample_rate) batches per epoch.
    steps = max_epochs * int(1 / sample_rate)
    if delta == "auto":
        delta = min(_AUTO_DELTA_CAP, 1 / (10 * n_samples))
    else:
        delta = float(delta)
        if delta >= 1 / n_samples:
            warnings.warn(
                f"delta={delta:g} is at least 1 / n_samples = {1 / n_samples:g}: "
                "a mechanism with this delta may publish a whole training "
                "record. Use delta well below 1 / n_samples, or 'auto'.",
                DPParameterWarning,
                stacklevel=2,
            )
    return Bunch(sample_rate=sample_rate, steps=steps, delta=delta)


@validate_params(
    {
        "noise_multiplier": [Interval(Real, 0, None, closed="left")],
        **_PLAN_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def dp_epsilon(
    noise_multiplier: float,
    *,
    sample_rate: float,
    steps: int,
    delta: float,
    accountant: str = "rdp",
) -> float:
    """Epsilon of DP-SGD with the given noise, sampling rate and steps.

    The privacy accountant's upper bound on epsilon at ``delta`` for
    ``steps`` steps of the Poisson-subsampled Gaussian mechanism: each record
    joins each batch with probability ``sample_rate``, and each batch's sum of
    clipped gradients gets Gaussian noise of standard deviation
    ``noise_multiplier`` times the clipping norm. It is what
    :class:`DPSGDClassifier` reports as ``epsilon_`` after such a fit, and it
    can be computed before training to choose the noise, batch size and
    epochs.

    Parameters
    ----------
    noise_multiplier : float
        Noise standard deviation in units of the clipping norm. 0 (clipping
        without noise) has no finite epsilon: the result is ``inf``.
    sample_rate : float
        Probability that a record joins a batch, in (0, 1].
    steps : int
        Number of noisy steps.
    delta : float
        The ``delta`` of the guarantee, in (0, 1).
    accountant : {"rdp", "prv"}, default="rdp"
        Opacus's Rényi-DP accountant (Mironov 2017), or the tighter numerical
        privacy-random-variable accountant (Gopi et al. 2021). ``"prv"``
        returns the smaller of the two bounds (both are valid): RDP's where
        the PRV's numerics fail at very small noise. The PRV's discretisation
        error is 0.01, or 0.1% of epsilon above epsilon 10, which bounds its
        memory use.

    Returns
    -------
    epsilon : float
        Upper bound on epsilon; 0 for no steps, ``inf`` for no noise.

    See Also
    --------
    dp_sgd_plan : The sampling rate, steps and delta of a training run.
    dp_noise_multiplier : The inverse: the noise for a target epsilon.

    Notes
    -----
    Epsilons in the hundreds or thousands are valid bounds but promise
    nothing in practice (a likelihood ratio of ``exp(epsilon)``); training in
    that regime is a high-utility baseline, not a guarantee.

    Examples
    --------
    One full-batch step of the Gaussian mechanism at noise 1:

    >>> from skprivacy.defense import dp_epsilon
    >>> one_step = {"sample_rate": 1.0, "steps": 1, "delta": 1e-5}
    >>> round(dp_epsilon(1.0, **one_step), 2)
    4.73

    The PRV accountant is tighter (the exact value is 4.38):

    >>> round(dp_epsilon(1.0, **one_step, accountant="prv"), 2)
    4.39

    Subsampling amplifies privacy: 100 steps at sampling rate 0.01 cost far
    less than 100 full-batch steps.

    >>> round(dp_epsilon(1.0, sample_rate=0.01, steps=100, delta=1e-5), 2)
    1.21
    """
    return _epsilon([(noise_multiplier, sample_rate, steps)], delta, accountant)


@validate_params(
    {
        "target_epsilon": [Interval(Real, 0, None, closed="neither")],
        **_PLAN_CONSTRAINTS,
        "epsilon_tolerance": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def dp_noise_multiplier(
    target_epsilon: float,
    *,
    sample_rate: float,
    steps: int,
    delta: float,
    accountant: str = "rdp",
    epsilon_tolerance: float = 0.01,
) -> float:
    """Smallest noise multiplier whose DP-SGD run stays within an epsilon.

    The inverse of :func:`dp_epsilon`: a bisection on the noise multiplier
    returns one whose epsilon lies in
    ``[target_epsilon - epsilon_tolerance, target_epsilon]``, never above the
    target. :class:`DPSGDClassifier` solves its ``target_epsilon`` with it.

    Parameters
    ----------
    target_epsilon : float
        The privacy budget, positive.
    sample_rate : float
        Probability that a record joins a batch, in (0, 1].
    steps : int
        Number of noisy steps; 0 needs no noise.
    delta : float
        The ``delta`` of the guarantee, in (0, 1).
    accountant : {"rdp", "prv"}, default="rdp"
        The accountant, as in :func:`dp_epsilon`.
    epsilon_tolerance : float, default=0.01
        How far below the target the epsilon of the result may be.

    Returns
    -------
    noise_multiplier : float
        Noise standard deviation in units of the clipping norm.

    Raises
    ------
    ValueError
        When no noise multiplier up to ``1e6`` reaches the target. The RDP
        accountant's epsilon never falls below a floor that depends on
        ``delta`` (about 0.1 at ``delta=1e-5``): a target at or below it is
        refused at once.

    See Also
    --------
    dp_sgd_plan : The sampling rate, steps and delta of a training run.
    dp_epsilon : The epsilon of a given noise.

    Examples
    --------
    >>> from skprivacy.defense import dp_epsilon, dp_noise_multiplier, dp_sgd_plan
    >>> plan = dp_sgd_plan(10_000, batch_size=500, max_epochs=100)
    >>> sigma = dp_noise_multiplier(8.0, **plan)
    >>> round(sigma, 3)
    1.613
    >>> 8.0 - 0.01 <= dp_epsilon(sigma, **plan) <= 8.0
    True
    """
    _import_opacus()
    if steps == 0:
        return 0.0
    if accountant == "rdp" and target_epsilon <= (floor := _rdp_floor(delta)):
        raise ValueError(
            f"No noise multiplier reaches target_epsilon={target_epsilon} at "
            f"delta={delta:g}: the RDP accountant's epsilon stays above "
            f"{floor:.3g} at this delta however large the noise. Raise "
            "target_epsilon or delta, or use accountant='prv'."
        )

    def epsilon(sigma):
        return _epsilon([(sigma, sample_rate, steps)], delta, accountant)

    low, high = 0.0, 1.0
    eps_high = epsilon(high)
    while eps_high > target_epsilon:
        low, high = high, 2 * high
        if high > _MAX_NOISE_MULTIPLIER:
            raise ValueError(
                f"No noise multiplier up to {_MAX_NOISE_MULTIPLIER:g} reaches "
                f"target_epsilon={target_epsilon} at delta={delta:g} with "
                f"{steps} steps at sampling rate {sample_rate:.4g}: raise "
                "target_epsilon or delta, or train fewer epochs or smaller "
                "batches."
            )
        eps_high = epsilon(high)
    # Invariant: epsilon(high) <= target < epsilon(low) (epsilon(0) is inf).
    for _ in range(_MAX_BISECTIONS):
        if target_epsilon - eps_high <= epsilon_tolerance:
            break
        middle = (low + high) / 2
        eps_middle = epsilon(middle)
        if eps_middle <= target_epsilon:
            high, eps_high = middle, eps_middle
        else:
            low = middle
    return high
