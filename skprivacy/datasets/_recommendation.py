"""A controlled synthetic recommendation task driven by a sensitive attribute."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import truncnorm
from sklearn.utils import Bunch

from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import Interval, validate_params

_DESCR = """\
Synthetic recommendation task (``make_recommendation``)
-------------------------------------------------------

A treatment is recommended mainly because a sensitive continuous attribute (think
of body-mass index, column ``bmi``) exceeds a threshold, in the spirit of the
controlled task of Jin et al., "Robust Privacy: Inference-Time Privacy through
Certified Robustness" (2026): a released recommendation then says something about
the sensitive value, and attribute-privacy tools can measure how much.

Generative model (all draws from ``random_state``):

* ``bmi`` ~ Normal(sensitive_mean, sensitive_std) truncated to ``domain``;
* ``x1 .. x{d-1}`` ~ Normal(0, 1), independent of each other; ``x1`` has
  correlation ``sensitive_correlation`` with ``bmi`` (``x1 = rho * u + sqrt(1 -
  rho^2) * e1`` with ``u`` the exactly standardized ``bmi``), the others none;
* latent score ``z = (bmi - threshold) / sensitive_std + other_weight * x @ coef
  + noise * e`` with ``coef`` a random unit vector and ``e`` ~ Normal(0, 1);
* target ``y = 1[z > 0]`` ("recommended"). ``threshold`` is set so that a
  fraction ``positive_rate`` of the sample is positive.

With ``other_weight = noise = 0`` the target is exactly ``bmi > threshold``.
"""


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "sensitive_mean": [Interval(Real, None, None, closed="neither")],
        "sensitive_std": [Interval(Real, 0, None, closed="neither")],
        "domain": ["array-like"],
        "other_weight": [Interval(Real, 0, None, closed="left")],
        "sensitive_correlation": [Interval(Real, -1, 1, closed="neither")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "positive_rate": [Interval(Real, 0, 1, closed="neither")],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_recommendation(
    n_samples: int = 1000,
    n_features: int = 6,
    *,
    sensitive_mean: float = 28.0,
    sensitive_std: float = 6.0,
    domain: tuple[float, float] = (15.0, 50.0),
    other_weight: float = 0.3,
    sensitive_correlation: float = 0.0,
    noise: float = 0.1,
    positive_rate: float = 0.5,
    as_frame: bool = False,
    return_X_y: bool = False,
    random_state=None,
):
    """Generate a recommendation task driven by a sensitive continuous attribute.

    Column 0, ``bmi``, is the sensitive attribute (a body-mass index by default):
    the target "recommend the treatment" is positive mainly when it exceeds a
    threshold, so a released recommendation reveals something about it. The other
    features, the label noise and the class balance are parameters. See
    ``DESCR`` of the result for the generative model.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=6
        Number of features, the sensitive one included (at least 1).
    sensitive_mean, sensitive_std : float, default=28.0, 6.0
        Mean and standard deviation of the normal law of ``bmi`` before it is
        truncated to ``domain``.
    domain : tuple of float, default=(15.0, 50.0)
        ``(low, high)``: every ``bmi`` lies in this closed interval, the domain
        that attribute-privacy metrics grid over.
    other_weight : float, default=0.3
        Weight of the other features in the latent score, relative to one
        standard deviation of ``bmi``. 0 makes ``bmi`` the only driver.
    sensitive_correlation : float, default=0.0
        Correlation of ``x1`` with ``bmi``, in (-1, 1): with a nonzero value the
        other features reveal part of the sensitive attribute by themselves, so
        attribute-inference attacks must beat imputation from them (a conditional
        prior) rather than the marginal prior. Needs ``n_features >= 2``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise of the latent score, in the same
        units (label noise near the threshold).
    positive_rate : float, default=0.5
        Fraction of positive rows (class balance), in (0, 1).
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame, ``target`` a Series and ``frame`` holds
        both.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : ndarray of shape (n_samples, n_features) or DataFrame
            Column 0 is ``bmi``, columns 1.. are ``x1``, ``x2``, ...
        target : ndarray of int of shape (n_samples,) or Series
            1 when the treatment is recommended, else 0.
        frame : DataFrame or None
            Data and target together, when ``as_frame=True``.
        feature_names : list of str
            ``["bmi", "x1", ...]``.
        target_names : list of str
            ``["not recommended", "recommended"]``.
        sensitive_features : list of str
            ``["bmi"]``.
        sensitive_index : int
            0, the column of ``bmi``.
        sensitive_domain : tuple of float
            ``domain``.
        threshold : float
            The ``bmi`` value at which the latent score is 0 when the other
            features and the noise are 0.
        coef : ndarray of shape (n_features - 1,)
            Unit weights of the other features in the latent score.
        DESCR : str
            Description of the generative model.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skprivacy.datasets import make_recommendation
    >>> rec = make_recommendation(n_samples=500, random_state=0)
    >>> rec.data.shape, rec.feature_names[:2], rec.sensitive_domain
    ((500, 6), ['bmi', 'x1'], (15.0, 50.0))
    >>> float(rec.target.mean())
    0.5
    >>> X, y = make_recommendation(n_samples=10, return_X_y=True, random_state=0)
    >>> X.shape, y.shape
    ((10, 6), (10,))
    """
    if sensitive_correlation != 0 and n_features < 2:
        raise ValueError("sensitive_correlation needs n_features >= 2 (column x1).")
    try:
        low, high = (float(v) for v in domain)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"domain must be a pair (low, high), got {domain!r}.") from exc
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"domain must be a finite interval with low < high, got {domain!r}."
        )

    rng_bmi, rng_other, rng_coef, rng_noise = spawn_generators(random_state, 4)
    # Exact truncated normal by inverting the CDF on [Phi(a), Phi(b)].
    a, b = ndtr((np.array([low, high]) - sensitive_mean) / sensitive_std)
    if b - a < 1e-12:
        raise ValueError(
            f"domain {domain!r} has (almost) no mass under Normal({sensitive_mean}, "
            f"{sensitive_std}); move it or widen sensitive_std."
        )
    u = rng_bmi.uniform(a, b, size=n_samples)
    bmi = np.clip(sensitive_mean + sensitive_std * ndtri(u), low, high)
    others = rng_other.standard_normal((n_samples, n_features - 1))
    if sensitive_correlation != 0:
        # Standardize bmi by its exact truncated-normal mean and sd, so that
        # corr(x1, bmi) is exactly sensitive_correlation in the population.
        law = truncnorm(
            (low - sensitive_mean) / sensitive_std,
            (high - sensitive_mean) / sensitive_std,
            loc=sensitive_mean,
            scale=sensitive_std,
        )
        u = (bmi - law.mean()) / law.std()
        rho = sensitive_correlation
        others[:, 0] = rho * u + np.sqrt(1 - rho**2) * others[:, 0]
    coef = rng_coef.standard_normal(n_features - 1)
    if coef.size:
        coef /= np.linalg.norm(coef)
    z = bmi / sensitive_std + other_weight * (others @ coef)
    z += noise * rng_noise.standard_normal(n_samples)
    # Class balance: the latent threshold is the (1 - positive_rate) sample quantile.
    cut = np.quantile(z, 1.0 - positive_rate)
    target = (z > cut).astype(np.int64)
    threshold = float(cut * sensitive_std)

    data = np.column_stack([bmi, others])
    feature_names = ["bmi"] + [f"x{j}" for j in range(1, n_features)]
    frame = None
    if as_frame:
        data = pd.DataFrame(data, columns=feature_names)
        target = pd.Series(target, name="recommended")
        frame = data.assign(recommended=target.to_numpy())
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=["not recommended", "recommended"],
        sensitive_features=["bmi"],
        sensitive_index=0,
        sensitive_domain=(low, high),
        threshold=threshold,
        coef=coef,
        DESCR=_DESCR,
    )
