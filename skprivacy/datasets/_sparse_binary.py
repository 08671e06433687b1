"""A many-class task on sparse binary features (check-in or purchase histories)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from skprivacy.utils import as_seed_sequence
from skprivacy.utils._sklearn_compat import Interval, validate_params

# Standard deviation of the features' popularity on the logit scale: some
# places are visited (items bought) by many, most by few.
_POPULARITY_SPREAD = 1.0


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="neither")],
        "class_sep": [Interval(Real, 0, None, closed="left")],
        "n_clusters_per_class": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_sparse_binary_classification(
    n_samples: int = 2000,
    n_features: int = 400,
    *,
    n_classes: int = 30,
    density: float = 0.12,
    class_sep: float = 0.6,
    n_clusters_per_class: int = 1,
    shuffle: bool = True,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a many-class task on sparse binary features.

    A stand-in for membership-inference benchmarks built from check-in or
    purchase histories (each record a user, each feature whether they visited
    a place or bought an item, each class a group of similar users): many
    classes, a few hundred binary features, mostly zeros. Models trained on
    a thousand such records memorise them, which is what makes these tasks
    hard for privacy defenses.

    Generative model: each class has ``n_clusters_per_class`` prototypes,
    each a vector of per-feature Bernoulli rates

    .. math:: r_{mj} = \\operatorname{expit}(\\mu + \\beta_j + s\\, z_{mj}),

    with ``beta_j ~ N(0, 1)`` the popularity of feature ``j`` (shared by
    every class), ``z_mj ~ N(0, 1)`` the prototype's own deviation,
    ``s = class_sep`` and ``mu`` set so that the rates average ``density``
    over prototypes and features. A record of class ``k`` picks one of the
    class's prototypes uniformly at random and draws each feature
    independently, ``x_j ~ Bernoulli(r_mj)``. Classes are balanced: their
    sizes differ by at most one.

    With the defaults, a multi-layer perceptron (256, 128) trained for 30
    epochs on 1,000 of the records fits them and reaches about 0.54 test
    accuracy, while naive Bayes (the Bayes rule of this model) reaches about
    0.79 from 2,000: the task is learnable, and the network memorises it.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of records.
    n_features : int, default=400
        Number of binary features.
    n_classes : int, default=30
        Number of classes.
    density : float, default=0.12
        Expected fraction of ones, in (0, 1).
    class_sep : float, default=0.6
        Spread ``s`` of the prototypes around the shared popularity, on the
        logit scale. ``0`` makes every class the same law (chance-level
        accuracy); larger values separate the classes.
    n_clusters_per_class : int, default=1
        Prototypes per class; several make each class a mixture of groups.
    shuffle : bool, default=True
        Shuffle the records. ``False`` keeps them in class order, ``0, 1, ...,
        n_classes - 1, 0, 1, ...``.
    random_state : int, RandomState instance or None, default=None
        Seeds the prototypes and the records.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The binary features, as float64 zeros and ones.
    y : ndarray of shape (n_samples,)
        Integer class labels ``0 .. n_classes - 1``.

    See Also
    --------
    sklearn.datasets.make_classification : Gaussian clusters, continuous
        features.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.datasets import make_sparse_binary_classification
    >>> X, y = make_sparse_binary_classification(2000, random_state=0)
    >>> X.shape, sorted(set(X.ravel().tolist()))
    ((2000, 400), [0.0, 1.0])
    >>> round(float(X.mean()), 2)
    0.12
    >>> int(y.max()) + 1, int(np.bincount(y).min()), int(np.bincount(y).max())
    (30, 66, 67)
    """
    rng = np.random.default_rng(as_seed_sequence(random_state))
    n_prototypes = n_classes * n_clusters_per_class
    popularity = rng.normal(0.0, _POPULARITY_SPREAD, size=n_features)
    deviation = rng.normal(0.0, 1.0, size=(n_prototypes, n_features))
    logits = popularity + class_sep * deviation

    def excess_density(offset):
        return expit(offset + logits).mean() - density

    # The mean rate increases with the offset from 0 to 1, so the root is unique.
    offset = brentq(excess_density, -50.0, 50.0, xtol=1e-12)
    rates = expit(offset + logits)
    y = np.arange(n_samples) % n_classes
    if shuffle:
        y = rng.permutation(y)
    prototype = y * n_clusters_per_class + rng.integers(
        n_clusters_per_class, size=n_samples
    )
    X = (rng.random((n_samples, n_features)) < rates[prototype]).astype(np.float64)
    return X, y
