"""Label-only attacks: gap, label noise, boundary distance.

They see only released labels (Choquette-Choo et al. 2021), so they also audit
models that release nothing else.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np

from skprivacy.audit._attacks._query import (
    POSITIVE_INT,
    POSITIVE_REAL,
    BaseQueryAttack,
    row_normals,
)
from skprivacy.utils._sklearn_compat import Interval, _fit_context


class _LabelOnly(BaseQueryAttack):
    """Label-only attacks score with their one signal; nothing is learned."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """Validate the parameters; label-only scores need no learning."""
        return self

    def score_samples(self, signals, y, reference_signals, membership):
        """The record's signal (higher: more member-like)."""
        return np.asarray(signals, dtype=np.float64)[:, 0]


class GapAttack(_LabelOnly):
    """Gap attack: a correctly classified record is called a member.

    The baseline of label-only membership inference (Yeom et al. 2018;
    Choquette-Choo et al. 2021, Sec. 4.1): its advantage is the gap between
    train and test accuracy. The score is 1 when the released label is the
    record's class and 0 otherwise (an abstention is never correct). Scores
    take two values, so the auditor's threshold flags either nobody or every
    correctly classified record; AUC and advantage are its useful metrics.

    See Also
    --------
    BoundaryDistanceAttack : Label-only, querying near the record.
    LabelNoiseAttack : A label-only attack under noise.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import GapAttack
    >>> query = lambda X: np.where(X[:, 0] > 0, 1, -1)  # -1: an abstention
    >>> GapAttack().signals(query, np.array([[1.0], [-1.0]]), np.array([1, 0]),
    ...                          scale=np.ones(1), random_state=0)
    array([[1.],
           [0.]])
    """

    def signals(self, query, X, y, *, scale, random_state):
        """1.0 where the released label is the record's class, else 0.0."""
        return (np.asarray(query(X)) == y).astype(np.float64)[:, None]


class LabelNoiseAttack(_LabelOnly):
    """Robustness to noise: how many noisy copies keep the record's label.

    The data-augmentation attack of Choquette-Choo et al. (2021, "Label-only
    membership inference attacks", Sec. 4.2) for tabular data: members sit
    farther from the decision boundary, so more of their perturbed copies are
    still classified correctly. Each record is queried as is and with
    ``n_samples`` copies ``x + sigma * scale * e``, ``e ~ N(0, I)``, where
    ``scale`` is each feature's standard deviation on the auditor's pool; the
    score is the fraction of these ``n_samples + 1`` answers equal to the
    record's class (an abstention is never correct).

    Parameters
    ----------
    n_samples : int, default=16
        Noisy copies per record (queries: ``n_samples + 1``).
    sigma : float, default=0.1
        Noise standard deviation in units of each feature's standard deviation.

    See Also
    --------
    BoundaryDistanceAttack : The distance to the decision boundary.
    GapAttack : The label alone.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import LabelNoiseAttack
    >>> query = lambda X: (X[:, 0] > 0).astype(int)
    >>> X, y = np.array([[3.0], [0.1]]), np.array([1, 1])
    >>> s = LabelNoiseAttack(sigma=0.5).signals(query, X, y, scale=np.ones(1),
    ...                                         random_state=0)
    >>> bool(s[0, 0] > s[1, 0])
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_samples": POSITIVE_INT,
        "sigma": POSITIVE_REAL,
    }

    def __init__(self, n_samples=16, sigma=0.1):
        self.n_samples = n_samples
        self.sigma = sigma

    def signals(self, query, X, y, *, scale, random_state):
        """Fraction of the record and its noisy copies labelled with its class."""
        self._validate_params()
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        noise = row_normals(X, random_state, (self.n_samples, d)).transpose(1, 0, 2)
        noise *= self.sigma * scale
        copies = np.concatenate([X[None], X[None] + noise]).reshape(-1, d)
        answers = np.asarray(query(copies)).reshape(self.n_samples + 1, n)
        return (answers == y).mean(axis=0)[:, None]


class BoundaryDistanceAttack(_LabelOnly):
    """Distance to the decision boundary, found by bisection along random directions.

    The boundary attack of Choquette-Choo et al. (2021, Sec. 4.3) calls members
    the records far from the decision boundary; it finds the smallest
    perturbation that changes the label with HopSkipJump, which needs
    thousands of queries per record. On tabular data a cheaper estimate does:
    along ``n_directions`` random unit directions (in units of each feature's
    standard deviation), the label is queried at the radii of a geometric grid
    from ``min_radius`` to ``max_radius`` until it changes, and the radius of
    the change is refined by ``n_bisections`` bisection steps. The score is the
    smallest radius over directions (``max_radius`` when the label never
    changes) for correctly classified records and 0 for the others; an
    abstention counts as a change. The budget is at most ``n_directions *
    (n_grid + n_bisections) + 1`` queries per record, with ``n_grid = 1 +
    ceil(log2(max_radius / min_radius))``.

    Parameters
    ----------
    n_directions : int, default=6
        Random directions per record.
    n_bisections : int, default=6
        Bisection steps once the label has changed.
    min_radius : float, default=0.05
        Smallest radius of the grid, in feature standard deviations.
    max_radius : float, default=8.0
        Largest radius of the grid.

    See Also
    --------
    GapAttack : The label alone.
    LabelNoiseAttack : How often the label survives noise.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import BoundaryDistanceAttack
    >>> query = lambda X: (X[:, 0] > 0).astype(int)
    >>> X, y = np.array([[2.0, 0.0], [0.2, 0.0], [-1.0, 0.0]]), np.array([1, 1, 1])
    >>> BoundaryDistanceAttack().signals(
    ...     query, X, y, scale=np.ones(2), random_state=0).round(1).ravel()
    array([2. , 0.4, 0. ])
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_directions": POSITIVE_INT,
        "n_bisections": [Interval(Integral, 0, None, closed="left")],
        "min_radius": POSITIVE_REAL,
        "max_radius": POSITIVE_REAL,
    }

    def __init__(self, n_directions=6, n_bisections=6, min_radius=0.05, max_radius=8.0):
        self.n_directions = n_directions
        self.n_bisections = n_bisections
        self.min_radius = min_radius
        self.max_radius = max_radius

    def _grid(self):
        if self.max_radius <= self.min_radius:
            raise ValueError(
                f"max_radius ({self.max_radius}) must exceed min_radius "
                f"({self.min_radius})."
            )
        n = 1 + int(np.ceil(np.log2(self.max_radius / self.min_radius)))
        return np.minimum(self.min_radius * 2.0 ** np.arange(n), self.max_radius)

    def signals(self, query, X, y, *, scale, random_state):
        """Smallest radius at which the released label changes (0 if wrong)."""
        self._validate_params()
        grid = self._grid()
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        correct = np.asarray(query(X)) == y
        u = row_normals(X, random_state, (self.n_directions, d))
        u /= np.linalg.norm(u, axis=2, keepdims=True)
        u *= scale  # a unit step is one standard deviation of each feature

        def changed(rows, cols, radius):
            points = X[rows] + radius[:, None] * u[rows, cols]
            return np.asarray(query(points)) != y[rows]

        lo = np.zeros((n, self.n_directions))
        hi = np.full((n, self.n_directions), np.inf)
        searching = np.flatnonzero(correct)
        for radius in grid:
            if not len(searching):
                break
            rows = np.repeat(searching, self.n_directions)
            cols = np.tile(np.arange(self.n_directions), len(searching))
            flip = changed(rows, cols, np.full(len(rows), radius))
            hi[rows[flip], cols[flip]] = radius
            lo[rows[~flip], cols[~flip]] = radius
            # Larger radii cannot beat a change found at this one: stop the record.
            searching = searching[~flip.reshape(-1, self.n_directions).any(axis=1)]
        rows, cols = np.nonzero(np.isfinite(hi))
        for _ in range(self.n_bisections if len(rows) else 0):
            mid = 0.5 * (lo[rows, cols] + hi[rows, cols])
            flip = changed(rows, cols, mid)
            hi[rows[flip], cols[flip]] = mid[flip]
            lo[rows[~flip], cols[~flip]] = mid[~flip]
        distance = np.where(np.isfinite(hi), hi, self.max_radius).min(axis=1)
        return np.where(correct, distance, 0.0)[:, None]
