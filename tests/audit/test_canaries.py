"""Canaries: how they are made, drawn and inserted."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import make_classification

from skprivacy.audit import CanarySet, make_canaries


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(600, 6, n_classes=3, n_informative=4, random_state=0)
    return X[:300], y[:300], X[300:], y[300:]


def test_mislabeled_canaries_copy_pool_records_with_another_label(data):
    _, _, X_pool, y_pool = data
    canaries = make_canaries(X_pool, y_pool, 100, random_state=0)
    assert len(canaries) == 100 and canaries.kind == "mislabeled"
    np.testing.assert_array_equal(canaries.X, X_pool[canaries.source])
    assert (canaries.y != y_pool[canaries.source]).all()
    assert len(np.unique(canaries.source)) == 100
    # The wrong label is uniform over the two other classes: a chi-square test
    # of 100 labels fails a correct implementation with probability 1e-4.
    shift = (canaries.y - y_pool[canaries.source]) % 3
    counts = np.bincount(shift, minlength=3)[1:]
    assert stats.chisquare(counts).pvalue > 1e-4


def test_synthetic_canaries_lie_outside_the_pool(data):
    _, _, X_pool, y_pool = data
    low, high = X_pool.min(axis=0), X_pool.max(axis=0)
    crafted = make_canaries(X_pool, y_pool, 50, kind="crafted", random_state=0)
    outside = (crafted.X < low) | (crafted.X > high)
    # Exactly one feature of each copy is moved out of the pool's range.
    assert (outside.sum(axis=1) == 1).all()
    assert (crafted.y != y_pool[crafted.source]).all()
    ood = make_canaries(X_pool, y_pool, 50, kind="out_of_distribution", scale=3.0)
    assert (ood.source == -1).all()
    # In standardized units every canary is at 3 sqrt(d), beyond every pool record.
    mean, std = X_pool.mean(axis=0), X_pool.std(axis=0)
    radius = np.linalg.norm((ood.X - mean) / std, axis=1)
    np.testing.assert_allclose(radius, 3.0 * np.sqrt(6))
    assert radius.min() > np.linalg.norm((X_pool - mean) / std, axis=1).max()


def test_make_canaries_is_reproducible_and_works_on_frames(data):
    _, _, X_pool, y_pool = data
    first = make_canaries(X_pool, y_pool, 20, kind="crafted", random_state=3)
    second = make_canaries(X_pool, y_pool, 20, kind="crafted", random_state=3)
    np.testing.assert_array_equal(first.X, second.X)
    # Float32 data (torch nets) gets float32 canaries.
    for kind in ("crafted", "out_of_distribution"):
        assert (
            make_canaries(X_pool.astype(np.float32), y_pool, 5, kind=kind).X.dtype
            == np.float32
        )
    frame = pd.DataFrame(X_pool).assign(city="x")
    canaries = make_canaries(frame, y_pool, 20, random_state=0)
    assert isinstance(canaries.X, pd.DataFrame) and canaries.X.shape == (20, 7)
    with pytest.raises(TypeError, match="numeric features"):
        make_canaries(frame, y_pool, 20, kind="crafted")


def test_make_canaries_errors(data):
    _, _, X_pool, y_pool = data
    with pytest.raises(ValueError, match="from 300 distinct pool records"):
        make_canaries(X_pool, y_pool, 301)
    with pytest.raises(ValueError, match="from 1 distinct"):
        make_canaries(np.zeros((300, 2)), y_pool, 2)
    with pytest.raises(ValueError, match="two classes"):
        make_canaries(X_pool, np.zeros(300), 10)
    with pytest.raises(ValueError, match="kind"):
        make_canaries(X_pool, y_pool, 10, kind="poison")


def test_inclusion_is_independent_with_probability_half():
    canaries = CanarySet(np.arange(2000.0)[:, None], np.zeros(2000))
    inclusion = canaries.draw_inclusion(n_runs=3, random_state=0)
    assert inclusion.shape == (3, 2000) and inclusion.dtype == bool
    np.testing.assert_array_equal(
        inclusion, canaries.draw_inclusion(n_runs=3, random_state=0)
    )
    # Two-sided binomial test of 6,000 fair coins at level 1e-4.
    assert stats.binomtest(int(inclusion.sum()), inclusion.size).pvalue > 1e-4


def test_insert_appends_included_canaries_and_keeps_training_data(data):
    X, y, X_pool, y_pool = data
    canaries = make_canaries(X_pool, y_pool, 40, random_state=0)
    inclusion = canaries.draw_inclusion(random_state=1)[0]
    X_train, y_train = canaries.insert(X, y, inclusion)
    np.testing.assert_array_equal(X_train[:300], X)
    np.testing.assert_array_equal(X_train[300:], canaries.X[inclusion])
    np.testing.assert_array_equal(y_train[300:], canaries.y[inclusion])
    with pytest.raises(ValueError, match="one flag per canary"):
        canaries.insert(X, y, inclusion[:5])
    frame_canaries = make_canaries(pd.DataFrame(X_pool), y_pool, 10, random_state=0)
    X_frame, _ = frame_canaries.insert(pd.DataFrame(X), y, np.ones(10, bool))
    assert isinstance(X_frame, pd.DataFrame) and len(X_frame) == 310


def test_canaries_duplicating_training_records_are_refused(data):
    X, y, _, _ = data
    canaries = CanarySet(X[:5], y[:5])
    with pytest.raises(ValueError, match="5 canaries duplicate training records"):
        canaries.insert(X, y, np.ones(5, bool))
    # The same record with another label is a different record: accepted.
    CanarySet(X[:5], (y[:5] + 1) % 3).check_disjoint(X, y)
    with pytest.raises(ValueError, match="identical"):
        CanarySet(np.r_[X[:2], X[:1]], np.r_[y[:2], y[:1]])
    with pytest.raises(ValueError, match="features"):
        CanarySet(X[:5, :3], y[:5]).check_disjoint(X, y)
