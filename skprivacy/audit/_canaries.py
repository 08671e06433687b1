"""Canaries: audit records inserted into training, each with probability 1/2."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils.validation import _num_samples

from skprivacy.utils import spawn_generators
from skprivacy.utils._arrays import concat_rows
from skprivacy.utils._hashing import row_digests
from skprivacy.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _safe_indexing,
    validate_params,
)

CANARY_KINDS = ("mislabeled", "outlier", "out_of_distribution", "crafted")
# Rounds of draws to find distinct outlier canaries before giving up.
_OUTLIER_ROUNDS = 20


@dataclass
class CanarySet:
    """Audit records and the training inclusion of each, drawn with probability 1/2.

    Make one with :func:`make_canaries`. :meth:`draw_inclusion` draws which
    canaries each training run includes (independently, probability 1/2, as
    the auditing theorems require) and :meth:`insert` appends the included ones
    to a training set, leaving the training records untouched. Together they
    wrap any training recipe, even one that never sees scikit-learn.

    Parameters
    ----------
    X : array-like of shape (n_canaries, n_features)
        The canary records.
    y : ndarray of shape (n_canaries,)
        Their labels.
    kind : str, default="custom"
        How they were made (see :func:`make_canaries`).
    source : ndarray of shape (n_canaries,), default=None
        Row of the pool each canary was made from (-1 for synthetic ones).

    See Also
    --------
    make_canaries : Makes a canary set.
    DPAuditor : Audits with canaries.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import CanarySet
    >>> canaries = CanarySet(np.eye(4), np.array([0, 1, 0, 1]))
    >>> inclusion = canaries.draw_inclusion(random_state=0)
    >>> inclusion.astype(int)
    array([[0, 1, 0, 1]])
    >>> X_train, y_train = canaries.insert(np.zeros((3, 4)), [0, 0, 1], inclusion[0])
    >>> X_train.shape
    (5, 4)
    """

    X: object
    y: np.ndarray
    kind: str = "custom"
    source: np.ndarray | None = field(default=None)

    def __post_init__(self):
        self.y = np.asarray(self.y)
        if _num_samples(self.X) != len(self.y):
            raise ValueError(
                f"CanarySet has {_num_samples(self.X)} records but {len(self.y)} "
                "labels; pass one label per canary."
            )
        keys = row_digests(self.X, self.y)
        if len(set(keys)) != len(keys):
            raise ValueError(
                "Some canaries are identical (same record and label): a copy makes "
                "their inclusions dependent. Draw distinct canaries."
            )

    def __len__(self):
        return len(self.y)

    def draw_inclusion(self, n_runs: int = 1, random_state=None) -> np.ndarray:
        """Which canaries each run trains on, each independently with probability 1/2.

        Parameters
        ----------
        n_runs : int, default=1
            Number of training runs.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        inclusion : ndarray of shape (n_runs, n_canaries), bool
        """
        (rng,) = spawn_generators(random_state, 1)
        return rng.random((n_runs, len(self))) < 0.5

    def insert(self, X, y, inclusion):
        """Append the included canaries to a training set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training records, kept as they are and first.
        y : array-like of shape (n_samples,)
            Their labels.
        inclusion : array-like of shape (n_canaries,), bool
            Which canaries to add, e.g. one row of :meth:`draw_inclusion`.

        Returns
        -------
        X_train, y_train
            The training records followed by the included canaries, in the
            container type of ``X``.
        """
        self.check_disjoint(X, y)
        inclusion = np.asarray(inclusion, dtype=bool)
        if inclusion.shape != (len(self),):
            raise ValueError(
                f"inclusion must have shape ({len(self)},), one flag per canary; "
                f"got {inclusion.shape}."
            )
        rows = np.flatnonzero(inclusion)
        return (
            concat_rows(X, _safe_indexing(self.X, rows)),
            np.concatenate([np.asarray(y), self.y[rows]]),
        )

    def check_disjoint(self, X, y):
        """Raise when a canary duplicates a training record (same record and label).

        A canary that is also a training record is in the training set whether
        it is "included" or not, so no test can tell, and the audit would
        measure nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training records.
        y : array-like of shape (n_samples,)
            Their labels.
        """
        n_features = _n_features(X)
        if n_features is not None and n_features != _n_features(self.X):
            raise ValueError(
                f"The canaries have {_n_features(self.X)} features but the training "
                f"data has {n_features}; make them from records like the training "
                "data."
            )
        train = set(row_digests(X, np.asarray(y)))
        duplicated = [
            i for i, key in enumerate(row_digests(self.X, self.y)) if key in train
        ]
        if duplicated:
            raise ValueError(
                f"{len(duplicated)} canaries duplicate training records (same record "
                f"and label), e.g. canary {duplicated[0]}. Make canaries from records "
                "held out of training (X_canary, y_canary), not from the training set."
            )


def _n_features(X):
    shape = getattr(X, "shape", None)
    return shape[1] if shape is not None and len(shape) > 1 else None


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "n_canaries": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions(set(CANARY_KINDS))],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_canaries(
    X,
    y,
    n_canaries: int,
    *,
    kind: str = "mislabeled",
    scale: float = 3.0,
    random_state=None,
) -> CanarySet:
    """Make audit records (canaries) for black-box DP auditing.

    Canaries should be records whose inclusion in training changes the model
    as much as possible, so that an attack detects them and the audit bound
    gets close to the true epsilon (Jagielski et al. 2020; Nasr et al. 2023):

    - ``"mislabeled"``: copies of records of the pool with their label
      replaced by another class drawn at random; the model can only predict
      that label for them by memorising them. Works with any record type
      (arrays, DataFrames, sparse matrices).
    - ``"outlier"``: rare combinations of values the pool holds: each numeric
      feature at its pool minimum or maximum, each categorical one drawn
      uniformly among its observed values (rare values as likely as common
      ones), with a random label; distinct, and none a pool record. Works on
      DataFrames of mixed types, since every value is one the preprocessing
      has seen.
    - ``"out_of_distribution"``: numeric records far from the data: in
      standardized units (``(x - mean) / std`` of the pool) they point in a
      uniformly random direction at ``scale`` times ``sqrt(n_features)``, the
      typical radius of a standardized record; each gets a random label.
    - ``"crafted"``: mislabeled copies with one random feature moved ``scale``
      standard deviations outside the pool's range, so each sits alone in its
      region of the input space where only its own label pulls the model.

    Draw them from records held out of training (a test split): a canary that
    duplicates a training record cannot be audited and is refused when it is
    inserted.

    Parameters
    ----------
    X : array-like of shape (n_pool, n_features)
        Pool of held-out records the canaries are made from (and whose
        feature scales the synthetic kinds follow).
    y : array-like of shape (n_pool,)
        Their labels; at least two classes.
    n_canaries : int
        Number of canaries (at most the number of distinct pool records for
        the kinds that copy records).
    kind : {"mislabeled", "outlier", "out_of_distribution", "crafted"}, \
            default="mislabeled"
        How to make them, see above.
    scale : float, default=3.0
        Distance of the synthetic kinds, in standard deviations of the pool
        (times ``sqrt(n_features)`` for ``"out_of_distribution"``).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    canaries : CanarySet

    See Also
    --------
    CanarySet : What it returns.
    DPAuditor : Audits with canaries.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import make_canaries
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = np.array([0, 1] * 5)
    >>> canaries = make_canaries(X, y, 4, random_state=0)
    >>> len(canaries), canaries.kind
    (4, 'mislabeled')
    >>> bool((canaries.y != y[canaries.source]).all())
    True
    """
    y = np.asarray(y)
    n_pool = _num_samples(X)
    if n_pool != len(y):
        raise ValueError(f"X has {n_pool} records but y has {len(y)} labels.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError("Canaries need labels of at least two classes in y.")
    rng_rows, rng_labels, rng_features = spawn_generators(random_state, 3)
    if kind == "outlier":
        return _outlier_canaries(X, y, classes, n_canaries, rng_features, rng_labels)
    if kind == "out_of_distribution":
        X_num, dtype = _numeric(X, kind)
        # A uniform direction at ``scale`` times the typical radius sqrt(d) of
        # a standardized record.
        z = rng_features.standard_normal((n_canaries, X_num.shape[1]))
        z *= scale * np.sqrt(X_num.shape[1]) / np.linalg.norm(z, axis=1)[:, None]
        X_canary = X_num.mean(axis=0) + X_num.std(axis=0) * z
        y_canary = rng_labels.choice(classes, n_canaries)
        return CanarySet(
            X_canary.astype(dtype), y_canary, kind, np.full(n_canaries, -1)
        )
    # Distinct records only: two canaries made from copies of one record
    # would not be independent.
    _, distinct = np.unique(
        np.asarray(row_digests(X, np.zeros(n_pool)), dtype=object), return_index=True
    )
    if n_canaries > len(distinct):
        raise ValueError(
            f"Cannot make {n_canaries} {kind} canaries from {len(distinct)} distinct "
            "pool records: pass a larger pool or ask for fewer canaries."
        )
    source = rng_rows.choice(np.sort(distinct), n_canaries, replace=False)
    # Another class, uniformly: shift the class index by 1..n_classes-1.
    y_idx = np.searchsorted(classes, y[source])
    shift = rng_labels.integers(1, len(classes), n_canaries)
    y_canary = classes[(y_idx + shift) % len(classes)]
    if kind == "mislabeled":
        return CanarySet(_safe_indexing(X, source), y_canary, kind, source)
    X_num, dtype = _numeric(X, kind)
    X_canary = X_num[source].copy()
    feature = rng_features.integers(0, X_num.shape[1], n_canaries)
    high = rng_features.random(n_canaries) < 0.5
    std = X_num.std(axis=0)[feature]
    X_canary[np.arange(n_canaries), feature] = np.where(
        high,
        X_num.max(axis=0)[feature] + scale * std,
        X_num.min(axis=0)[feature] - scale * std,
    )
    return CanarySet(X_canary.astype(dtype), y_canary, kind, source)


def _outlier_canaries(X, y, classes, n_canaries, rng_features, rng_labels):
    """Distinct ``"outlier"`` canaries, none a (record, label) pair of the pool."""
    if hasattr(X, "toarray") or (
        not hasattr(X, "iloc") and np.asarray(X).dtype.kind not in "biuf"
    ):
        raise TypeError(
            "'outlier' canaries need numeric features or a DataFrame; got "
            f"{type(X).__name__} of dtype {getattr(X, 'dtype', None)}. Pass a "
            "dense numeric array or a DataFrame, or use kind='mislabeled'."
        )
    frame = X if hasattr(X, "iloc") else pd.DataFrame(np.asarray(X))
    taken = set(row_digests(X, y))
    X_canary, y_canary = None, np.empty(0, dtype=y.dtype)
    for _ in range(_OUTLIER_ROUNDS):
        X_new = _corners(frame, n_canaries, rng_features)
        if not hasattr(X, "iloc"):
            X_new = X_new.to_numpy(dtype=np.asarray(X).dtype)
        y_new = rng_labels.choice(classes, n_canaries)
        fresh = []
        for i, key in enumerate(row_digests(X_new, y_new)):
            if key not in taken and len(fresh) < n_canaries - len(y_canary):
                taken.add(key)
                fresh.append(i)
        X_new = _safe_indexing(X_new, fresh)
        X_canary = X_new if X_canary is None else concat_rows(X_canary, X_new)
        y_canary = np.concatenate([y_canary, y_new[fresh]])
        if len(y_canary) == n_canaries:
            return CanarySet(X_canary, y_canary, "outlier", np.full(n_canaries, -1))
    raise ValueError(
        f"Found only {len(y_canary)} distinct outlier canaries that are not pool "
        f"records, of the {n_canaries} asked for: the pool's features take too few "
        "values. Ask for fewer canaries or use kind='mislabeled'."
    )


def _corners(frame, n, rng):
    """``n`` records with each feature at an extreme or a uniform observed value."""
    columns = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            ends = np.array([values.min(), values.max()], dtype=values.dtype)
            columns[column] = ends[rng.integers(2, size=n)]
        else:
            observed = pd.unique(values.dropna())
            columns[column] = pd.Series(
                observed[rng.integers(len(observed), size=n)]
            ).astype(values.dtype)
    return pd.DataFrame(columns, columns=frame.columns)


def _numeric(X, kind):
    """X as a float64 array, with the float dtype the canaries should get."""
    dtype = getattr(X, "dtype", None)
    dtype = dtype if dtype is not None and np.dtype(dtype).kind == "f" else np.float64
    try:
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{kind!r} canaries need numeric features; encode X first (e.g. with "
            "the preprocessing of your pipeline) or use kind='mislabeled', which "
            "copies records of any type."
        ) from error
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d; got shape {X.shape}.")
    return X, dtype
