"""Tests of BoundaryRepulsionInversion (BREP-MI) on toys whose answer is known."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import NearestCentroid

from skprivacy import SmoothedClassifier
from skprivacy.audit import BoundaryRepulsionInversion, ModelInversionReport
from skprivacy.defense import RandomizedResponseClassifier
from skprivacy.exceptions import SmallSampleWarning

M = 32


@pytest.fixture(scope="module")
def centroids():
    """20 well-separated classes in 2-D: the nearest of 20 centroids."""
    rng = np.random.default_rng(0)
    grid = np.stack(np.meshgrid(np.arange(5), np.arange(4)), -1).reshape(-1, 2)
    centers = (grid - grid.mean(0)) * 0.6
    X = np.repeat(centers, 5, axis=0) + rng.normal(0, 0.01, size=(100, 2))
    y = np.repeat(np.arange(20), 5)
    return NearestCentroid().fit(X, y), centers, X, y


def attack(release, evaluator, **params):
    defaults = {
        "latent_dim": 2,
        "n_targets": 20,
        "initial_radius": 0.05,
        "patience": 20,
        "max_iter": 300,
        "random_state": 0,
    }
    return BoundaryRepulsionInversion(
        release, evaluator=evaluator, **{**defaults, **params}
    )


def test_well_separated_toy_is_fully_inverted(centroids):
    model, centers, _, _ = centroids
    fitted = attack(model, model).fit()
    report = fitted.evaluate()
    assert isinstance(report, ModelInversionReport)
    assert report["asr"] == report.asr and "top_k_asr" in report
    assert report.to_frame().loc["asr", "high"] == report.asr_ci[1]
    assert sorted(fitted.targets_.tolist()) == list(range(20))
    assert report.asr == 1.0 and report.top_k_asr == 1.0
    assert report.asr_ci[0] > 0.8
    # Repulsion pushes inner classes toward their centres (away from every boundary).
    inner = [6, 7, 8, 11, 12, 13]
    position = {t: i for i, t in enumerate(fitted.targets_.tolist())}
    for t in inner:
        cell_half_width = 0.3
        assert np.abs(fitted.latents_[position[t]] - centers[t]).max() < cell_half_width
    assert np.all(np.abs(fitted.latents_) <= 1.5)  # the default clamp


def test_random_labels_break_the_attack(centroids):
    # Randomized response keeping the label with probability 1/2 over 20 classes:
    # sphere votes no longer follow the class regions.
    model, _, X, y = centroids
    keep_half = np.log(0.5 * 19 / 0.5)  # p_keep = e^eps / (e^eps + k - 1) = 0.5
    noisy = RandomizedResponseClassifier(model, epsilon=keep_half, random_state=0)
    noisy.fit(X, y)
    report = attack(noisy, model).fit().evaluate()
    clean = attack(model, model).fit().evaluate()
    assert report.asr < clean.asr - 0.3


class Stub:
    """A release answering ``c`` for the first ``k`` rows of every sphere query."""

    classes_ = np.array([0, 1])

    def __init__(self, k, accept=True):
        self.k = k
        self.accept = accept
        self.calls = []

    def predict(self, X):
        X = np.asarray(X)
        self.calls.append(X.copy())
        if len(self.calls) == 1:  # the start search: class 1 first
            return np.r_[1, np.zeros(len(X) - 1, dtype=int)]
        if len(X) == M:  # a sphere
            return (np.arange(M) < self.k).astype(int)
        return np.full(len(X), int(self.accept))  # a candidate step


class Judge:
    classes_ = np.array([0, 1])

    def predict(self, X):
        return np.ones(len(X), dtype=int)


@pytest.mark.parametrize("k, grows", [(28, False), (29, True)])
def test_radius_grows_only_above_seven_eighths_inside(k, grows):
    stub = Stub(k)
    fitted = attack(stub, Judge(), targets=[1], patience=5, max_iter=12).fit()
    start = stub.calls[0][0]
    assert fitted.targets_.tolist() == [1]
    if grows:
        # Every iteration grows, so the patience never runs out: max_iter stops it.
        assert fitted.n_iter_[0] == 12
        assert fitted.radii_[0] == pytest.approx(0.05 * 1.3**12)
    else:
        assert fitted.n_iter_[0] == 5  # patience of 5 accepted steps
        assert fitted.radii_[0] == 0.05
        # No radius increase: the reconstruction is the starting point.
        np.testing.assert_array_equal(fitted.latents_[0], start)
    # Queries: the start batch, then a sphere and a candidate per iteration.
    assert fitted.n_init_queries_ == 256
    assert fitted.queries_[0] == fitted.n_iter_[0] * (M + 1)
    assert sum(len(c) for c in stub.calls) == 256 + fitted.queries_[0]
    assert fitted.evaluate().total_queries == 256 + fitted.queries_[0]


def test_first_point_is_in_the_target_class_and_rejected_steps_do_not_move():
    stub = Stub(10, accept=False)
    fitted = attack(stub, Judge(), targets=[1], max_iter=7).fit()
    start = stub.calls[0][0]
    # Every candidate is rejected: the spheres stay centred on the start.
    for sphere in stub.calls[1:-1:2]:
        radii = np.linalg.norm(sphere - start, axis=1)
        np.testing.assert_allclose(radii, 0.05)
    np.testing.assert_array_equal(fitted.latents_[0], start)
    assert fitted.n_iter_[0] == 7


def test_smoothed_release_query_cost_and_reproducibility(centroids):
    model, _, X, y = centroids
    smoothed = SmoothedClassifier(
        FrozenEstimator(model), sigma=0.05, n_predict=20, random_state=0
    ).fit(X, y)
    # clone re-creates sklearn estimators unfitted: freeze the fitted models.
    frozen, judge = FrozenEstimator(smoothed), FrozenEstimator(model)
    a = attack(frozen, judge, n_targets=3, max_iter=20).fit()
    b = clone(a).fit()
    np.testing.assert_array_equal(a.latents_, b.latents_)
    report = attack(smoothed, model, n_targets=3, max_iter=20).fit().evaluate()
    assert report.query_cost == 20
    assert report.forward_passes == 20 * report.total_queries


def test_generator_is_applied(centroids):
    model, _, _, _ = centroids
    fitted = attack(model, model, generator=lambda Z: 2.0 * Z, n_targets=5).fit()
    np.testing.assert_allclose(fitted.reconstructions_, 2.0 * fitted.latents_)
    assert np.all(model.predict(fitted.reconstructions_) == fitted.targets_)


def test_untargeted_with_too_few_labels_warns(centroids):
    model, _, _, _ = centroids
    with pytest.warns(SmallSampleWarning, match="20 distinct labels"):
        fitted = attack(model, model, n_targets=25, max_init_batches=2).fit()
    assert len(fitted.targets_) == 20


def test_bad_input(centroids):
    model, _, X, y = centroids
    with pytest.raises(ValueError, match="evaluator="):
        BoundaryRepulsionInversion(model, latent_dim=2).fit()
    with pytest.raises(ValueError, match="does not fit the release"):
        attack(model, model, latent_dim=3).fit()
    with pytest.raises(ValueError, match=r"shape \(n, n_features\)"):
        attack(model, model, generator=lambda Z: Z[:1]).fit()
    with pytest.raises(ValueError, match="not classes of the release"):
        attack(model, model, targets=[3, 99]).fit()
    # Class 0 exists but the release never outputs it in the clamped box.
    far = NearestCentroid().fit(np.r_[X, [[50.0, 50.0]]], np.r_[y, 20])
    with pytest.raises(ValueError, match="never output target classes"):
        attack(far, far, targets=[20], max_init_batches=2).fit()
    other = NearestCentroid().fit(X, y + 100)
    with pytest.raises(ValueError, match="evaluator has other classes"):
        attack(model, other).fit()
    with pytest.raises(ValueError, match="clamp"):
        attack(model, model, clamp=(1.0, -1.0)).fit()
    with pytest.raises(ValueError, match="confidence"):
        attack(model, model, n_targets=2, max_iter=2).fit().evaluate(confidence=1.5)


class FlatJudge(Judge):
    """Scores every class alike: no class is in a top-k by merit."""

    classes_ = np.arange(10)

    def predict_proba(self, X):
        return np.full((len(X), 10), 0.1)


def test_top_k_ties_count_against_the_target():
    stub = Stub(10)
    fitted = attack(stub, FlatJudge(), targets=[1], max_iter=2, top_k=5).fit()
    assert not fitted.top_k_success_.any()
    assert fitted.evaluate().top_k_asr == 0.0
    # With every class allowed, the target is in the top 10 of 10.
    fitted = attack(Stub(10), FlatJudge(), targets=[1], max_iter=2, top_k=10).fit()
    assert fitted.top_k_success_.all()


def test_progress_bar(centroids, capsys):
    model, _, _, _ = centroids
    quiet = attack(model, model, n_targets=3, max_iter=5).fit()
    shown = attack(model, model, n_targets=3, max_iter=5, verbose=1).fit()
    np.testing.assert_array_equal(quiet.latents_, shown.latents_)
    assert "BREP-MI targets" in capsys.readouterr().err
