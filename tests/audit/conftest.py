# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # The CI machine is shared: BLAS threads oversubscribe it badly.
    with threadpool_limits(1):
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
        yield


@pytest.fixture(scope="session")
def memorizing_forest():
    """The issue's memorising target: 200 trees on 1,000 members.

    Returns the frozen target, the pool (1,000 members then 1,000 non-members),
    its membership and a disjoint population of 2,000 non-members.
    """
    X, y = make_classification(
        4000, 20, n_informative=10, n_classes=3, flip_y=0.1, random_state=0
    )
    forest = RandomForestClassifier(200, random_state=0).fit(X[:1000], y[:1000])
    membership = np.r_[np.ones(1000), np.zeros(1000)].astype(int)
    return FrozenEstimator(forest), X[:2000], y[:2000], membership, X[2000:], y[2000:]


@pytest.fixture
def close_figures():
    """Draw with the Agg backend and close every figure after the test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")
