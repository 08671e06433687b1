"""Losses of Center-based Relaxed Learning (CRL).

CRL (Fang & Kim, UAI 2024, arXiv:2404.17674) trains a classifier so that the
loss on its training members cannot be driven below a target level, which
narrows the member/non-member gap that membership-inference attacks exploit.
It combines a relaxed cross-entropy on norm-bounded logits
(:class:`ImpRelaxLoss`) with a relaxed center loss on the penultimate features
(:class:`RelaxedCenterLoss`):

.. math:: L = L_{IRL}(g, y, e) + \\lambda \\, L_{RCL}(g, h, y, e),

where ``g`` are the raw logits, ``h`` the penultimate features and ``e`` the
1-based epoch. Every formula below follows the authors' released code
(JEKimLab/UAI24_CRL, ``representation/loss``), which is the only complete
public description of the method.

All losses are device-agnostic: they run wherever their inputs live.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from torch import nn

from skprivacy.utils._arrays import masked_mean
from skprivacy.utils._sklearn_compat import Interval, validate_params

# Added to the norm in N_tau, as in the official code, so a zero vector maps to 0.
_NORM_EPS = 1e-7


@validate_params(
    {"v": [torch.Tensor], "tau": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def tau_normalize(v: torch.Tensor, tau: float) -> torch.Tensor:
    """The CRL normalisation operator ``N_tau(v) = v / (1 + tau * ||v||)``.

    Applied row-wise (over the last dimension). The image has Euclidean norm
    below ``1 / tau``, which bounds the logits seen by the loss (Fang & Kim,
    2024, logit normalisation; the official code adds ``1e-7`` to the norm).

    Parameters
    ----------
    v : torch.Tensor of shape (..., d)
        Vectors to normalise.
    tau : float
        Positive temperature; larger values squeeze harder.

    Returns
    -------
    normalized : torch.Tensor of the same shape as ``v``
        ``v / (1 + tau * (||v||_2 + 1e-7))``.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import tau_normalize
    >>> tau_normalize(torch.tensor([[3.0, 4.0]]), tau=1.0)
    tensor([[0.5000, 0.6667]])
    """
    norm = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    # 1 + tau * (norm + eps), written with one op fewer (this runs every batch).
    return v / (norm * tau + (1.0 + tau * _NORM_EPS))


@validate_params(
    {
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "tau": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def normalized_ce_floor(n_classes: int, tau: float) -> float:
    """Lowest cross-entropy reachable on ``tau``-normalised logits.

    Because ``||N_tau(g)|| < 1 / tau``, the largest margin between the true
    logit and the others is ``(1 / tau) * sqrt(C / (C - 1))`` (the true class
    at ``+`` and the others equal), so the cross-entropy stays above
    ``log(1 + (C - 1) * exp(-(1 / tau) * sqrt(C / (C - 1))))``. An
    :class:`ImpRelaxLoss` target ``alpha`` at or below this floor is never
    reached and the loss degenerates to plain descent on normalised logits.

    Parameters
    ----------
    n_classes : int
        Number of classes ``C >= 2``.
    tau : float
        Positive normalisation temperature.

    Returns
    -------
    floor : float
        The infimum of the cross-entropy over all normalised logit vectors.

    Examples
    --------
    >>> from skprivacy.defense import normalized_ce_floor
    >>> round(normalized_ce_floor(10, tau=0.5), 3)
    0.739
    """
    margin = math.sqrt(n_classes / (n_classes - 1)) / tau
    return math.log1p((n_classes - 1) * math.exp(-margin))


def _check_relax_params(alpha, upper, tau, prefix=""):
    if not alpha >= 0:
        raise ValueError(f"{prefix}alpha must be non-negative; got {alpha}.")
    if not 0 < upper <= 1:
        raise ValueError(f"{prefix}upper must be in (0, 1]; got {upper}.")
    if not tau > 0:
        raise ValueError(f"{prefix}tau must be positive; got {tau}.")


def _check_epoch(epoch):
    if int(epoch) != epoch or epoch < 1:
        raise ValueError(f"epoch is 1-based and must be a positive int; got {epoch}.")


def _true_class_probability(logits, target, upper):
    # softmax of the RAW logits, clamped to [0, upper] and not detached, as in the
    # official code: the gradient also flows through the soft targets/weights.
    proba = torch.softmax(logits, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
    return proba.clamp(0.0, upper)


# ------------------------------------------------------------------------------
# The formulas, once. They take an optional per-record ``weight`` (1 for a
# batch's records, 0 for padding) and never branch in Python on data, so the
# vectorized reference trainer can vmap them over models; the modules below
# call them with ``weight=None``.


def relaxed(value, flatten, alpha: float, epoch: int):
    """The relaxation rule of both CRL parts for the 1-based ``epoch``.

    Even epochs: ``|value - alpha|``; odd epochs: ``value`` while it exceeds
    ``alpha``, else the flattening loss ``flatten``.
    """
    if epoch % 2 == 0:
        return (value - alpha).abs()
    return torch.where(value > alpha, value, flatten)


def irl_terms(logits, target, *, tau: float, upper: float, weight=None):
    """Batch cross-entropy on normalised logits and the flattening loss.

    See :class:`ImpRelaxLoss` for the formulas.

    Returns
    -------
    ce, flatten : torch.Tensor (scalars)
    """
    n_classes = logits.shape[-1]
    log_probs = F.log_softmax(tau_normalize(logits, tau), dim=-1)
    nll = -log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
    p = _true_class_probability(logits, target, upper).unsqueeze(1)
    # one_hot validates its input with .item(), which vmap cannot batch.
    is_true = torch.arange(n_classes, device=target.device) == target.unsqueeze(1)
    soft = torch.where(is_true, p, (1.0 - p) / (n_classes - 1))
    flatten = masked_mean(-(soft * log_probs).sum(dim=1), weight)
    return masked_mean(nll, weight), flatten


def rcl_terms(logits, features, centers, target, *, tau, upper, weight=None):
    """Half mean squared distance to the class centers and the flattening loss.

    See :class:`RelaxedCenterLoss` for the formulas.

    Returns
    -------
    dist, flatten : torch.Tensor (scalars)
    """
    h = tau_normalize(features, tau)
    c = tau_normalize(centers, tau)
    d = (h - c.index_select(0, target)).pow(2).sum(dim=1)
    q = _true_class_probability(logits, target, upper)
    flatten = 0.5 * masked_mean(q * d + (1.0 - q) * h.pow(2).sum(dim=1), weight)
    return 0.5 * masked_mean(d, weight), flatten


@validate_params(
    {
        "logits": [torch.Tensor],
        "features": [torch.Tensor, None],
        "centers": [torch.Tensor],
        "target": [torch.Tensor],
        "weight": [torch.Tensor, None],
        "epoch": [Interval(Integral, 1, None, closed="left")],
        "params": [dict],
    },
    prefer_skip_nested_validation=True,
)
def crl_loss(logits, features, centers, target, weight, epoch, params):
    """:class:`CRLLoss` of one batch as a pure function (vmap-friendly).

    The same formulas as the modules, with the branch of each part chosen by
    :func:`torch.where` instead of Python (so the function can be vmapped over
    a stack of models, as the vectorized reference trainer of
    :mod:`skprivacy.audit` does) and an optional per-record ``weight`` that
    masks padding. With ``weight=None`` it equals ``CRLLoss.forward`` with the
    centers passed explicitly.

    Parameters
    ----------
    logits : torch.Tensor of shape (B, C)
        Raw logits.
    features : torch.Tensor of shape (B, F)
        Penultimate features (ignored when ``center_weight`` is 0).
    centers : torch.Tensor of shape (C, F)
        Class centers of the relaxed center loss.
    target : torch.Tensor of shape (B,)
        Integer class indices.
    weight : torch.Tensor of shape (B,) or None
        1 for the batch's records and 0 for padding.
    epoch : int
        The 1-based epoch.
    params : dict
        ``alpha, upper, tau, center_alpha, center_upper, center_tau,
        center_weight`` as in :class:`CRLLoss`.

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import CRLLoss, crl_loss
    >>> logits, features = torch.zeros(4, 2), torch.ones(4, 3)
    >>> y = torch.tensor([0, 1, 0, 1])
    >>> module = CRLLoss(n_classes=2, n_features=3, alpha=0.3)
    >>> params = {"alpha": 0.3, "upper": 1.0, "tau": 0.1, "center_alpha": 0.5,
    ...           "center_upper": 1.0, "center_tau": 1.0, "center_weight": 1.0}
    >>> value = crl_loss(logits, features, module.center.centers, y, None, 1, params)
    >>> bool(torch.isclose(value, module(logits, features, y, epoch=1)))
    True
    """
    ce, flatten = irl_terms(
        logits, target, tau=params["tau"], upper=params["upper"], weight=weight
    )
    loss = relaxed(ce, flatten, params["alpha"], epoch)
    if not params["center_weight"]:
        return loss
    dist, flatten = rcl_terms(
        logits,
        features,
        centers,
        target,
        tau=params["center_tau"],
        upper=params["center_upper"],
        weight=weight,
    )
    center_loss = relaxed(dist, flatten, params["center_alpha"], epoch)
    return loss + params["center_weight"] * center_loss


def _branch(value: float, alpha: float, epoch: int) -> str:
    if epoch % 2 == 0:
        return "ascent" if value < alpha else "descent"
    return "descent" if value > alpha else "flatten"


class ImpRelaxLoss(nn.Module):
    """Improved relaxed cross-entropy on normalised logits (CRL, part 1).

    With ``z = N_tau(g)`` (:func:`tau_normalize`) and the batch-mean
    cross-entropy ``L_CE = mean_i CE(z_i, y_i)``, the loss for the 1-based
    epoch ``e`` is

    - ``e`` even: ``|L_CE - alpha|`` (gradient **ascent** while
      ``L_CE < alpha``, descent above it);
    - ``e`` odd and ``L_CE > alpha``: ``L_CE`` (descent);
    - ``e`` odd and ``L_CE <= alpha`` (posterior flattening):
      ``mean_i sum_j -s_ij log softmax(z_i)_j`` with the soft target
      ``s_i[y_i] = p_i``, ``s_i[j != y_i] = (1 - p_i) / (C - 1)`` and
      ``p_i = min(softmax(g_i)[y_i], upper)`` from the raw logits.

    This follows ``LogNormRelaxLoss`` of the official CRL code, a variant of
    RelaxLoss (Chen et al., ICLR 2022) with normalised logits, 1-based epochs,
    and flattening applied to every sample.

    Parameters
    ----------
    alpha : float, default=0.5
        Target level of the batch cross-entropy; must exceed
        :func:`normalized_ce_floor` to have an effect.
    upper : float, default=1.0
        Cap ``u`` on the true-class probability in the soft target, in (0, 1].
    tau : float, default=0.1
        Temperature of the logit normalisation.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import ImpRelaxLoss
    >>> loss = ImpRelaxLoss(alpha=0.5, tau=1.0)
    >>> logits, y = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    >>> value, terms = loss(logits, y, epoch=2, return_terms=True)
    >>> terms["irl_branch"]  # L_CE ~ 0.444 < alpha on an even epoch
    'ascent'
    """

    def __init__(self, alpha: float = 0.5, upper: float = 1.0, tau: float = 0.1):
        super().__init__()
        _check_relax_params(alpha, upper, tau)
        self.alpha = alpha
        self.upper = upper
        self.tau = tau

    def forward(self, logits, target, epoch: int, return_terms: bool = False):
        """Loss of one batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw logits ``g``.
        target : torch.Tensor of shape (n_samples,)
            Integer class indices.
        epoch : int
            The 1-based epoch; its parity selects the branch.
        return_terms : bool, default=False
            Also return ``{"irl_ce": L_CE, "irl_branch": name}`` where name is
            ``"ascent"``, ``"descent"`` or ``"flatten"``.

        Returns
        -------
        loss : torch.Tensor (scalar)
        terms : dict, only if ``return_terms``
        """
        _check_epoch(epoch)
        ce, flatten = irl_terms(logits, target, tau=self.tau, upper=self.upper)
        loss = relaxed(ce, flatten, self.alpha, epoch)
        if return_terms:
            ce_value = ce.item()
            branch = _branch(ce_value, self.alpha, epoch)
            return loss, {"irl_ce": ce_value, "irl_branch": branch}
        return loss


class RelaxedCenterLoss(nn.Module):
    """Relaxed center loss on normalised penultimate features (CRL, part 2).

    With learned class centers ``c_k`` (initialised ``N(0, 1)``), normalised
    features ``h^_i = N_tau(h_i)`` and centers ``c^_k = N_tau(c_k)``, squared
    distances ``d_i = ||h^_i - c^_{y_i}||^2`` and their half mean
    ``D = (1 / 2N) sum_i d_i``, the loss for the 1-based epoch ``e`` is

    - ``e`` even: ``|D - alpha|`` (features and centers pushed apart while
      ``D < alpha``);
    - ``e`` odd and ``D > alpha``: ``D``;
    - ``e`` odd and ``D <= alpha``:
      ``(1 / 2N) sum_i [q_i d_i + (1 - q_i) ||h^_i||^2]`` with
      ``q_i = min(softmax(g_i)[y_i], upper)`` from the raw logits: confident
      samples are pulled to their center, the others toward the origin.

    This follows ``LogNormRelaxCenterLoss`` of the official CRL code. The
    centers are an ordinary parameter learned by gradient descent (no moving
    average); since ``||h^||, ||c^|| < 1 / tau``, ``D < 2 / tau**2``.

    Parameters
    ----------
    n_classes : int
        Number of classes.
    n_features : int
        Dimension of the feature vectors.
    alpha : float, default=0.5
        Target level of ``D``; useful values lie inside ``(0, 2 / tau**2)``.
    upper : float, default=1.0
        Cap on the confidence weight ``q_i``, in (0, 1].
    tau : float, default=1.0
        Temperature of the feature and center normalisation.

    Attributes
    ----------
    centers : torch.nn.Parameter of shape (n_classes, n_features)
        The learned class centers.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import RelaxedCenterLoss
    >>> loss = RelaxedCenterLoss(n_classes=2, n_features=3, alpha=0.1)
    >>> features, y = torch.ones(4, 3), torch.tensor([0, 1, 0, 1])
    >>> loss(torch.zeros(4, 2), features, y, epoch=1).ndim
    0
    """

    def __init__(
        self,
        n_classes: int,
        n_features: int,
        alpha: float = 0.5,
        upper: float = 1.0,
        tau: float = 1.0,
    ):
        super().__init__()
        _check_relax_params(alpha, upper, tau)
        self.alpha = alpha
        self.upper = upper
        self.tau = tau
        self.centers = nn.Parameter(torch.randn(n_classes, n_features))

    def forward(self, logits, features, target, epoch: int, return_terms: bool = False):
        """Loss of one batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw logits ``g`` (used for the confidence weights only).
        features : torch.Tensor of shape (n_samples, n_features)
            Penultimate features ``h``.
        target : torch.Tensor of shape (n_samples,)
            Integer class indices.
        epoch : int
            The 1-based epoch; its parity selects the branch.
        return_terms : bool, default=False
            Also return ``{"rcl_dist": D, "rcl_branch": name}`` where name is
            ``"ascent"``, ``"descent"`` or ``"flatten"``.

        Returns
        -------
        loss : torch.Tensor (scalar)
        terms : dict, only if ``return_terms``
        """
        _check_epoch(epoch)
        dist, flatten = rcl_terms(
            logits, features, self.centers, target, tau=self.tau, upper=self.upper
        )
        loss = relaxed(dist, flatten, self.alpha, epoch)
        if return_terms:
            dist_value = dist.item()
            branch = _branch(dist_value, self.alpha, epoch)
            return loss, {"rcl_dist": dist_value, "rcl_branch": branch}
        return loss


class CRLLoss(nn.Module):
    """Center-based Relaxed Learning loss ``L_IRL + center_weight * L_RCL``.

    The combination of :class:`ImpRelaxLoss` on the logits and
    :class:`RelaxedCenterLoss` on the penultimate features (Fang & Kim, 2024;
    ``CRL`` in the official code). With ``center_weight=0`` the center term is
    not computed and the loss is relaxed learning alone.

    Parameters
    ----------
    n_classes : int
        Number of classes (at least 2).
    n_features : int
        Dimension of the penultimate features.
    alpha, upper, tau : float, default=0.5, 1.0, 0.1
        Parameters of :class:`ImpRelaxLoss`.
    center_alpha, center_upper, center_tau : float, default=0.5, 1.0, 1.0
        Parameters of :class:`RelaxedCenterLoss`.
    center_weight : float, default=1.0
        Weight ``lambda`` of the center term.

    Attributes
    ----------
    relax : ImpRelaxLoss
        The logit part.
    center : RelaxedCenterLoss
        The feature part; ``center.centers`` are the only parameters.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import CRLLoss
    >>> loss = CRLLoss(n_classes=2, n_features=3, alpha=0.3, center_weight=0.5)
    >>> logits, features = torch.zeros(4, 2), torch.ones(4, 3)
    >>> value, terms = loss(logits, features, torch.tensor([0, 1, 0, 1]), epoch=1,
    ...                     return_terms=True)
    >>> sorted(terms)
    ['irl_branch', 'irl_ce', 'rcl_branch', 'rcl_dist']
    """

    def __init__(
        self,
        n_classes: int,
        n_features: int,
        alpha: float = 0.5,
        upper: float = 1.0,
        tau: float = 0.1,
        center_alpha: float = 0.5,
        center_upper: float = 1.0,
        center_tau: float = 1.0,
        center_weight: float = 1.0,
    ):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"CRL needs at least 2 classes; got {n_classes}.")
        if not center_weight >= 0:
            raise ValueError(
                f"center_weight must be non-negative; got {center_weight}."
            )
        self.relax = ImpRelaxLoss(alpha=alpha, upper=upper, tau=tau)
        self.center = RelaxedCenterLoss(
            n_classes,
            n_features,
            alpha=center_alpha,
            upper=center_upper,
            tau=center_tau,
        )
        self.center_weight = center_weight

    def forward(self, logits, features, target, epoch: int, return_terms: bool = False):
        """Loss of one batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw logits.
        features : torch.Tensor of shape (n_samples, n_features)
            Penultimate features (ignored when ``center_weight == 0``).
        target : torch.Tensor of shape (n_samples,)
            Integer class indices.
        epoch : int
            The 1-based epoch.
        return_terms : bool, default=False
            Also return the terms of both parts (see their ``forward``).

        Returns
        -------
        loss : torch.Tensor (scalar)
        terms : dict, only if ``return_terms``
        """
        loss, terms = self.relax(logits, target, epoch, return_terms=True)
        if self.center_weight:
            center_loss, center_terms = self.center(
                logits, features, target, epoch, return_terms=True
            )
            loss = torch.add(loss, center_loss, alpha=self.center_weight)
            terms.update(center_terms)
        if return_terms:
            return loss, terms
        return loss


# ------------------------------------------------------------------------------
# HAMP (Chen & Pattabiraman, NDSS 2024): training on high-entropy soft labels
# with an entropy regulariser. Like crl_loss, the formula takes a per-record
# ``weight`` and never branches on data, so it can be vmapped over models.


@validate_params(
    {
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "gamma": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def soft_label_confidence(n_classes: int, gamma: float) -> float:
    """True-class probability of HAMP's soft labels of entropy ``gamma * log(C)``.

    HAMP's soft label of class ``y`` puts ``p`` on ``y`` and ``(1 - p) / (C - 1)``
    on each other class. Its entropy

    .. math:: H(p) = -p \\log p - (1 - p) \\log \\frac{1 - p}{C - 1}

    falls strictly from ``log(C)`` (uniform, ``p = 1 / C``) to 0 (one-hot,
    ``p = 1``), so the target ``H(p) = gamma * log(C)`` has one root in
    ``[1 / C, 1]``, found here to ``1e-12`` (the official code steps ``p`` down
    by 0.01 until the entropy reaches the target instead).

    Parameters
    ----------
    n_classes : int
        Number of classes ``C >= 2``.
    gamma : float
        Entropy threshold in ``[0, 1]``, as a fraction of the largest entropy
        ``log(C)``: 0 gives one-hot labels, 1 the uniform distribution.

    Returns
    -------
    p : float
        The true-class probability, in ``[1 / C, 1]``.

    Examples
    --------
    >>> from skprivacy.defense import soft_label_confidence
    >>> round(soft_label_confidence(2, 0.5), 3)
    0.89
    >>> soft_label_confidence(10, 0.0)
    1.0
    """
    from scipy.optimize import brentq

    if gamma == 0:
        return 1.0
    if gamma == 1:
        return 1.0 / n_classes
    target = gamma * math.log(n_classes)
    return float(
        brentq(
            lambda p: _soft_label_entropy(p, n_classes) - target,
            1.0 / n_classes,
            1.0,
            xtol=1e-12,
        )
    )


def _soft_label_entropy(p, n_classes):
    """Entropy of the soft label with ``p`` on one class, the rest spread evenly."""
    from scipy.special import xlogy

    return float(-xlogy(p, p) - xlogy(1 - p, (1 - p) / (n_classes - 1)))


def hamp_terms(logits, target, *, confidence: float, weight=None):
    """Batch means of the soft-label KL divergence and of the output entropy.

    See :class:`HAMPLoss` for the formulas.

    Returns
    -------
    kl, entropy : torch.Tensor (scalars)
    """
    n_classes = logits.shape[-1]
    log_q = F.log_softmax(logits, dim=-1)
    # one_hot validates its input with .item(), which vmap cannot batch.
    is_true = torch.arange(n_classes, device=target.device) == target.unsqueeze(1)
    other = (1.0 - confidence) / (n_classes - 1)
    # Arithmetic with Python floats keeps the logits' precision (float64 too).
    soft = other + (confidence - other) * is_true.to(log_q.dtype)
    # sum_j s_j log s_j is the same for every record: minus the labels' entropy.
    kl = -(soft * log_q).sum(dim=1) - _soft_label_entropy(confidence, n_classes)
    entropy = -(log_q.exp() * log_q).sum(dim=1)
    return masked_mean(kl, weight), masked_mean(entropy, weight)


@validate_params(
    {
        "logits": [torch.Tensor],
        "target": [torch.Tensor],
        "weight": [torch.Tensor, None],
        "params": [dict],
    },
    prefer_skip_nested_validation=True,
)
def hamp_loss(logits, target, weight, params):
    """:class:`HAMPLoss` of one batch as a pure function (vmap-friendly).

    Parameters
    ----------
    logits : torch.Tensor of shape (B, C)
        Raw logits.
    target : torch.Tensor of shape (B,)
        Integer class indices.
    weight : torch.Tensor of shape (B,) or None
        1 for the batch's records and 0 for padding.
    params : dict
        ``confidence`` (the soft labels' true-class probability, from
        :func:`soft_label_confidence`) and ``alpha`` (the regulariser's
        weight).

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import HAMPLoss, hamp_loss
    >>> logits, y = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    >>> module = HAMPLoss(n_classes=2, gamma=0.5, alpha=0.1)
    >>> params = {"confidence": module.confidence, "alpha": 0.1}
    >>> bool(torch.isclose(hamp_loss(logits, y, None, params), module(logits, y)))
    True
    """
    kl, entropy = hamp_terms(
        logits, target, confidence=params["confidence"], weight=weight
    )
    return kl - params["alpha"] * entropy


class HAMPLoss(nn.Module):
    """HAMP's training loss: KL to high-entropy soft labels minus output entropy.

    With ``q_i = softmax(z_i)`` for the raw logits ``z_i`` of a batch of
    ``B`` records, soft labels ``s_i`` that put ``p`` on the true class and
    ``(1 - p) / (C - 1)`` on each other class, and ``p`` chosen so that the
    entropy of ``s_i`` is ``gamma * log(C)`` (:func:`soft_label_confidence`),

    .. math::

       L = \\frac{1}{B} \\sum_i \\mathrm{KL}(s_i \\,\\|\\, q_i)
           - \\alpha \\, \\frac{1}{B} \\sum_i H(q_i),
       \\qquad H(q) = -\\sum_j q_j \\log q_j .

    The first term fits the model to labels that are already unconfident; the
    second rewards high output entropy on every training record (Chen &
    Pattabiraman, NDSS 2024, Sec. IV). The KL divergence is the batch mean of
    each record's divergence; the official code uses ``F.kl_div`` with its
    default ``"mean"`` reduction, which also divides by ``C``, so its
    ``alpha`` is this ``alpha`` divided by ``C`` (and its learning rate
    scaled by ``C``).

    Parameters
    ----------
    n_classes : int
        Number of classes (at least 2).
    gamma : float, default=0.95
        Entropy threshold in ``[0, 1)``, a fraction of ``log(C)``.
    alpha : float, default=0.0
        Weight of the entropy regulariser (non-negative).

    Attributes
    ----------
    confidence : float
        The soft labels' true-class probability ``p``.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.defense import HAMPLoss
    >>> loss = HAMPLoss(n_classes=3, gamma=0.8, alpha=0.1)
    >>> round(loss.confidence, 4)
    0.6584
    >>> value, terms = loss(torch.zeros(2, 3), torch.tensor([0, 2]), return_terms=True)
    >>> sorted(terms)
    ['hamp_entropy', 'hamp_kl']
    """

    def __init__(self, n_classes: int, gamma: float = 0.95, alpha: float = 0.0):
        super().__init__()
        if not 0 <= gamma < 1:
            raise ValueError(
                f"gamma must be in [0, 1): at 1 the soft label is uniform and "
                f"no longer names its class; got {gamma}."
            )
        if not alpha >= 0:
            raise ValueError(f"alpha must be non-negative; got {alpha}.")
        self.n_classes = n_classes
        self.gamma = gamma
        self.alpha = alpha
        self.confidence = soft_label_confidence(n_classes, gamma)

    def forward(self, logits, target, return_terms: bool = False):
        """Loss of one batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n_samples, n_classes)
            Raw logits.
        target : torch.Tensor of shape (n_samples,)
            Integer class indices.
        return_terms : bool, default=False
            Also return ``{"hamp_kl": KL term, "hamp_entropy": mean H(q)}``.

        Returns
        -------
        loss : torch.Tensor (scalar)
        terms : dict, only if ``return_terms``
        """
        if logits.shape[-1] != self.n_classes:
            raise ValueError(
                f"HAMPLoss was built for {self.n_classes} classes; got logits "
                f"of shape {tuple(logits.shape)}."
            )
        kl, entropy = hamp_terms(logits, target, confidence=self.confidence)
        loss = kl - self.alpha * entropy
        if return_terms:
            return loss, {"hamp_kl": kl.item(), "hamp_entropy": entropy.item()}
        return loss
