# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.naive_bayes import BernoulliNB
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.datasets import make_sparse_binary_classification


@pytest.mark.parametrize("density", [0.02, 0.12, 0.5])
def test_density(density):
    n_samples, n_features = 3000, 400
    X, _ = make_sparse_binary_classification(
        n_samples, n_features, density=density, random_state=0
    )
    assert set(np.unique(X)) <= {0.0, 1.0} and X.dtype == np.float64
    # With one prototype per class and balanced classes (3000 = 100 x 30), the
    # rates of the records average `density` exactly, and the entries are
    # independent Bernoulli draws given the prototypes: by Hoeffding's
    # inequality the mean strays by t with probability at most 2 exp(-2 N t^2),
    # which is 1e-4 at this t.
    N = n_samples * n_features
    t = math.sqrt(math.log(2 / 1e-4) / (2 * N))
    assert abs(X.mean() - density) < t


@pytest.mark.parametrize("n_samples, n_classes", [(2000, 30), (101, 4), (7, 3)])
def test_classes_are_balanced(n_samples, n_classes):
    _, y = make_sparse_binary_classification(
        n_samples, 50, n_classes=n_classes, random_state=1
    )
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1


def test_shuffle_and_reproducibility():
    _, y = make_sparse_binary_classification(12, 5, n_classes=3, shuffle=False)
    assert y.tolist() == [0, 1, 2] * 4
    a = make_sparse_binary_classification(200, 20, n_classes=5, random_state=3)
    b = make_sparse_binary_classification(200, 20, n_classes=5, random_state=3)
    c = make_sparse_binary_classification(200, 20, n_classes=5, random_state=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def _held_out_accuracy(class_sep, n_clusters_per_class=1):
    X, y = make_sparse_binary_classification(
        3000,
        400,
        n_classes=30,
        class_sep=class_sep,
        n_clusters_per_class=n_clusters_per_class,
        random_state=0,
    )
    model = BernoulliNB().fit(X[:2000], y[:2000])
    return model.score(X[2000:], y[2000:])


def test_class_sep_controls_difficulty():
    # class_sep=0: every class has the same law, so the predictions are
    # independent of the labels and the 1,000 test matches are at most as
    # spread as Binomial(1000, 1/30) (the labels are a random permutation of
    # balanced classes: sampling without replacement, Hoeffding 1963). Its
    # upper 1e-4 quantile bounds the accuracy.
    bound = binom.isf(1e-4, 1000, 1 / 30) / 1000
    assert _held_out_accuracy(0.0) <= bound
    # Separated prototypes are learnable (naive Bayes is the Bayes rule here).
    assert _held_out_accuracy(1.0) > 0.8
    assert _held_out_accuracy(1.0, n_clusters_per_class=2) > 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"density": 0.0},
        {"density": 1.0},
        {"n_classes": 1},
        {"class_sep": -1.0},
        {"n_clusters_per_class": 0},
        {"n_samples": 0},
    ],
)
def test_invalid_parameters(kwargs):
    with pytest.raises(InvalidParameterError):
        make_sparse_binary_classification(**kwargs)
