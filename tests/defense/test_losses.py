"""Tests of the CRL losses against hand-computed values."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
import torch

from skprivacy.defense import (
    CRLLoss,
    ImpRelaxLoss,
    RelaxedCenterLoss,
    normalized_ce_floor,
    tau_normalize,
)

LOGITS = [[2.0, 0.0], [0.0, 1.0]]
TARGET = [0, 1]


def _ce(z, y):
    # Cross-entropy of one logit vector, written out with the log-sum-exp.
    return -(z[y] - np.logaddexp.reduce(z))


def _hand_normalize(v, tau):
    v = np.asarray(v, dtype=float)
    return v / (1 + tau * (np.linalg.norm(v) + 1e-7))


def _hand_mean_ce(logits, target, tau):
    return np.mean(
        [_ce(_hand_normalize(g, tau), y) for g, y in zip(logits, target, strict=True)]
    )


def _tensors():
    return torch.tensor(LOGITS, requires_grad=True), torch.tensor(TARGET)


def test_tau_normalize_hand_values_and_bound():
    out = tau_normalize(torch.tensor([[3.0, 4.0], [0.0, 0.0]]), tau=0.5)
    # [3, 4] has norm 5: divided by 1 + 0.5 * 5 = 3.5; zero stays zero.
    np.testing.assert_allclose(out.numpy(), [[3 / 3.5, 4 / 3.5], [0, 0]], rtol=1e-6)
    big = tau_normalize(
        torch.randn(100, 7, generator=torch.Generator().manual_seed(0)) * 1e3, 2.0
    )
    assert torch.linalg.vector_norm(big, dim=1).max() < 1 / 2.0


@pytest.mark.parametrize(
    "n_classes, tau, expected",
    # The table of crl.md, section 2 (values rounded to 3 decimals there).
    [(2, 1.0, 0.218), (10, 1.0, 1.420), (10, 0.5, 0.739), (100, 0.2, 0.501)],
)
def test_normalized_ce_floor_matches_table(n_classes, tau, expected):
    assert normalized_ce_floor(n_classes, tau) == pytest.approx(expected, abs=1e-3)


def test_normalized_ce_floor_is_reached_but_not_crossed():
    n_classes, tau = 5, 0.5
    floor = normalized_ce_floor(n_classes, tau)
    # The optimal direction (C-1, -1, ..., -1) with a huge norm approaches the floor.
    best = torch.full((1, n_classes), -1.0)
    best[0, 0] = n_classes - 1
    z = tau_normalize(best * 1e6, tau)
    ce = torch.nn.functional.cross_entropy(z, torch.tensor([0])).item()
    assert ce == pytest.approx(floor, rel=1e-4)
    rng = torch.Generator().manual_seed(0)
    logits = torch.randn(10_000, n_classes, generator=rng) * 100
    per_sample = torch.nn.functional.cross_entropy(
        tau_normalize(logits, tau),
        torch.zeros(10_000, dtype=torch.long),
        reduction="none",
    )
    assert per_sample.min().item() >= floor - 1e-6


def test_normalized_ce_floor_errors():
    with pytest.raises(ValueError, match="n_classes"):
        normalized_ce_floor(1, 1.0)
    with pytest.raises(ValueError, match="tau"):
        normalized_ce_floor(2, 0.0)


@pytest.mark.parametrize(
    "epoch, alpha, branch",
    [(2, 1.0, "ascent"), (2, 0.1, "descent"), (1, 0.1, "descent"), (3, 0.1, "descent")],
)
def test_imp_relax_loss_abs_and_descent_branches(epoch, alpha, branch):
    logits, target = _tensors()
    ce = _hand_mean_ce(LOGITS, TARGET, tau=1.0)  # ~0.4440
    loss, terms = ImpRelaxLoss(alpha=alpha, tau=1.0)(logits, target, epoch, True)
    expected = abs(ce - alpha) if epoch % 2 == 0 else ce
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert terms == {"irl_ce": pytest.approx(ce, rel=1e-5), "irl_branch": branch}


def test_imp_relax_loss_flatten_branch_hand_computed():
    logits, target = _tensors()
    upper = 0.8
    loss, terms = ImpRelaxLoss(alpha=1.0, upper=upper, tau=1.0)(
        logits, target, epoch=1, return_terms=True
    )
    expected = 0.0
    for g, y in zip(LOGITS, TARGET, strict=True):
        g = np.asarray(g)
        p = min(np.exp(g[y] - np.logaddexp.reduce(g)), upper)  # raw-logit softmax
        soft = np.full(2, 1 - p)  # (1 - p) / (C - 1) with C = 2
        soft[y] = p
        z = _hand_normalize(g, 1.0)
        expected += -(soft * (z - np.logaddexp.reduce(z))).sum() / 2
    assert terms["irl_branch"] == "flatten"
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_imp_relax_flatten_soft_target_is_not_detached():
    # The official code keeps the gradient through p_i; a detached target differs.
    logits, target = _tensors()
    ImpRelaxLoss(alpha=1.0, upper=1.0, tau=1.0)(logits, target, epoch=1).backward()
    with_target_grad = logits.grad.clone()
    logits2, _ = _tensors()
    z = tau_normalize(logits2, 1.0)
    p = torch.softmax(logits2, 1).detach()[[0, 1], target]
    soft = torch.stack([torch.stack([p[0], 1 - p[0]]), torch.stack([1 - p[1], p[1]])])
    (-(soft * torch.log_softmax(z, 1)).sum(1).mean()).backward()
    assert not torch.allclose(with_target_grad, logits2.grad)


def test_imp_relax_gradient_ascends_below_alpha_on_even_epochs():
    logits, target = _tensors()
    loss_fn = ImpRelaxLoss(alpha=1.0, tau=1.0)
    loss_fn(logits, target, epoch=2).backward()
    ascent_grad = logits.grad.clone()
    logits2, _ = _tensors()
    torch.nn.functional.cross_entropy(tau_normalize(logits2, 1.0), target).backward()
    # |L - alpha| with L < alpha has gradient -dL: one SGD step raises the CE.
    torch.testing.assert_close(ascent_grad, -logits2.grad)
    with torch.no_grad():
        stepped = logits - 0.1 * ascent_grad
        before = torch.nn.functional.cross_entropy(tau_normalize(logits, 1.0), target)
        after = torch.nn.functional.cross_entropy(tau_normalize(stepped, 1.0), target)
    assert after > before
    # Above alpha the same even epoch descends.
    logits3, _ = _tensors()
    ImpRelaxLoss(alpha=0.1, tau=1.0)(logits3, target, epoch=2).backward()
    torch.testing.assert_close(logits3.grad, logits2.grad)


def _center_setup():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    features = torch.tensor([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]], requires_grad=True)
    target = torch.tensor([0, 1, 1])
    loss_fn = RelaxedCenterLoss(n_classes=2, n_features=2, tau=0.5)
    with torch.no_grad():
        loss_fn.centers.copy_(torch.tensor([[1.0, 1.0], [-2.0, 0.0]]))
    return loss_fn, logits, features, target


def _hand_center_terms(logits, features, target, centers, tau, upper):
    h = np.array([_hand_normalize(f, tau) for f in features])
    c = np.array([_hand_normalize(k, tau) for k in centers])
    d = ((h - c[target]) ** 2).sum(1)
    q = np.array(
        [
            min(np.exp(g[y] - np.logaddexp.reduce(g)), upper)
            for g, y in zip(logits, target, strict=True)
        ]
    )
    dist = d.sum() / (2 * len(d))
    flat = (q * d + (1 - q) * (h**2).sum(1)).sum() / (2 * len(d))
    return dist, flat


@pytest.mark.parametrize(
    "epoch, alpha, branch",
    [
        (2, 5.0, "ascent"),
        (2, 0.01, "descent"),
        (1, 0.01, "descent"),
        (1, 5.0, "flatten"),
    ],
)
def test_relaxed_center_loss_branches_hand_computed(epoch, alpha, branch):
    loss_fn, logits, features, target = _center_setup()
    loss_fn.alpha, loss_fn.upper = alpha, 0.9
    dist, flat = _hand_center_terms(
        logits.detach().numpy(),
        features.detach().numpy(),
        target.numpy(),
        loss_fn.centers.detach().numpy(),
        tau=0.5,
        upper=0.9,
    )
    loss, terms = loss_fn(logits, features, target, epoch, return_terms=True)
    expected = (
        abs(dist - alpha) if epoch % 2 == 0 else (flat if branch == "flatten" else dist)
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert terms == {"rcl_dist": pytest.approx(dist, rel=1e-5), "rcl_branch": branch}


def test_relaxed_center_loss_ascent_pushes_features_from_centers():
    loss_fn, logits, features, target = _center_setup()
    loss_fn.alpha = 5.0  # above the current distance (checked by the branch test)
    loss_fn(logits, features, target, epoch=2).backward()
    with torch.no_grad():
        h_before = tau_normalize(features, 0.5)
        c = tau_normalize(loss_fn.centers, 0.5)[target]
        moved = features - 0.1 * features.grad
        centers_moved = loss_fn.centers - 0.1 * loss_fn.centers.grad
        c_after = tau_normalize(centers_moved, 0.5)[target]
        before = (h_before - c).pow(2).sum()
        after = (tau_normalize(moved, 0.5) - c_after).pow(2).sum()
    assert after > before


def test_crl_loss_combines_parts_and_center_weight_zero_skips_centers():
    loss_fn, logits, features, target = _center_setup()
    crl = CRLLoss(
        n_classes=2,
        n_features=2,
        alpha=0.2,
        tau=1.0,
        center_tau=0.5,
        center_alpha=0.01,
        center_weight=0.7,
    )
    with torch.no_grad():
        crl.center.centers.copy_(loss_fn.centers)
    irl = ImpRelaxLoss(alpha=0.2, tau=1.0)(logits, target, 1)
    rcl = RelaxedCenterLoss(2, 2, alpha=0.01, tau=0.5)
    with torch.no_grad():
        rcl.centers.copy_(loss_fn.centers)
    expected = irl + 0.7 * rcl(logits, features, target, 1)
    loss, terms = crl(logits, features, target, epoch=1, return_terms=True)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert set(terms) == {"irl_ce", "irl_branch", "rcl_dist", "rcl_branch"}

    alone = CRLLoss(n_classes=2, n_features=2, alpha=0.2, tau=1.0, center_weight=0.0)
    loss, terms = alone(logits, features, target, epoch=1, return_terms=True)
    assert loss.item() == pytest.approx(irl.item(), rel=1e-6)
    assert set(terms) == {"irl_ce", "irl_branch"}
    loss.backward()
    assert alone.center.centers.grad is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": -0.1}, "alpha"),
        ({"upper": 0.0}, "upper"),
        ({"upper": 1.5}, "upper"),
        ({"tau": 0.0}, "tau"),
    ],
)
def test_imp_relax_loss_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImpRelaxLoss(**kwargs)


def test_losses_reject_bad_epoch_and_classes():
    logits, target = _tensors()
    with pytest.raises(ValueError, match="1-based"):
        ImpRelaxLoss()(logits, target, epoch=0)
    with pytest.raises(ValueError, match="2 classes"):
        CRLLoss(n_classes=1, n_features=3)
    with pytest.raises(ValueError, match="center_weight"):
        CRLLoss(n_classes=2, n_features=3, center_weight=-1.0)


def test_losses_run_in_float64_and_match_math():
    # Device/dtype agnostic: no hard-coded dtype or device in the losses.
    logits = torch.tensor(LOGITS, dtype=torch.float64)
    loss = ImpRelaxLoss(alpha=0.1, tau=1.0)(logits, torch.tensor(TARGET), epoch=1)
    assert loss.dtype == torch.float64
    expected = (math.log1p(math.exp(-2 / 3)) + math.log1p(math.exp(-0.5))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
