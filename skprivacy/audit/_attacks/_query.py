"""Query functions of models, the signal-extraction step, and query attacks.

Every attack reads a model through a *query function* (see
:class:`BaseMembershipAttack`); this module builds them for the target and the
reference models (picklable, so reference workers can extract signals where
they train), and holds the base class of attacks that query points of their
choosing.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np

from skprivacy.audit._attacks._base import BaseMembershipAttack
from skprivacy.audit._signals import aligned_log_proba
from skprivacy.utils import spawn_seeds
from skprivacy.utils._hashing import keyed_seed
from skprivacy.utils._sklearn_compat import Interval, _safe_indexing

# Records per call of the signal step (perturbed copies are made at once).
QUERY_CHUNK = 1024


def row_normals(X, random_state, shape) -> np.ndarray:
    """Standard normals of shape ``(n, *shape)``, each row's from its own stream.

    The stream of a row is keyed on ``random_state`` and the row's values, so
    a record gets the same perturbations whatever the other records, their
    order or the model queried (common random numbers for the target and its
    references), and duplicated records get identical ones.
    """
    (seed,) = spawn_seeds(random_state, 1)
    rows = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty((len(rows), *shape))
    for i, row in enumerate(rows):
        generator = np.random.default_rng(keyed_seed(seed, row.tobytes(), key_size=16))
        out[i] = generator.standard_normal(shape)
    return out


def reads_log_proba(attack) -> bool:
    """Whether ``attack``'s signals are a model's log-probabilities on the records."""
    return (
        attack.query_output == "log_proba"
        and type(attack).signals is BaseMembershipAttack.signals
    )


def _torch_rng_guard():
    # torch's DataLoader draws from the global generator even at inference.
    if "torch" in sys.modules:
        import torch

        return torch.random.fork_rng(devices=[])
    return nullcontext()


class ModelQuery:
    """The query function of a fitted model (see :class:`BaseMembershipAttack`).

    Parameters
    ----------
    estimator : fitted classifier
    output : {"log_proba", "labels"}
    classes : ndarray
        The target's classes, ordering log-probability columns and label
        indices.
    feature_names : list of str, default=None
        Rebuild a DataFrame with these columns from numeric rows (for models
        fit on DataFrames and queried at perturbed points).
    """

    def __init__(self, estimator, output, classes, feature_names=None):
        self.estimator = estimator
        self.output = output
        self.classes = classes
        self.feature_names = feature_names

    def _input(self, rows):
        if self.feature_names is None:
            return rows
        import pandas as pd

        return pd.DataFrame(rows, columns=self.feature_names)

    def __call__(self, rows):
        X = self._input(rows)
        if self.output == "log_proba":
            return aligned_log_proba(self.estimator, X, self.classes)
        with _torch_rng_guard():
            labels = np.asarray(self.estimator.predict(X))
        classes = self.classes
        idx = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
        # Any other answer (an abstention) is a distinct output, never correct.
        return np.where(classes[idx] == labels, idx, -1)


class SignalExtractor:
    """An attack's signal step applied to a model, in chunks of records.

    Picklable, so that reference workers (joblib, Dask) extract signals where
    they train and return only them.

    Parameters
    ----------
    attack : BaseMembershipAttack
        The attack, prepared on the target.
    classes : ndarray
        The target's classes.
    scale : ndarray of shape (n_features,) or None
        Unit of each feature for attacks that perturb records.
    random_state : int
        Seed of the attack's queries, the same for every model.
    feature_names : list of str or None
        Columns of the models' input when records were given as a DataFrame.
    """

    def __init__(self, attack, classes, *, scale, random_state, feature_names):
        self.attack = attack
        self.classes = classes
        self.scale = scale
        self.random_state = random_state
        self.feature_names = feature_names

    @property
    def reads_log_proba(self) -> bool:
        """Whether the signals are the model's log-probabilities on the records."""
        return reads_log_proba(self.attack)

    def query(self, model, output=None):
        """The query function of ``model``."""
        names = self.feature_names if self.attack.perturbs_records else None
        return ModelQuery(
            model, output or self.attack.query_output, self.classes, names
        )

    def __call__(self, model, X, y):
        """Signals of ``model`` on records ``X`` (as :meth:`records` returns)."""
        query = self.query(model)
        n = len(y)
        # Built-in attacks key each record's randomness on the record: chunks
        # do not change the result.
        chunks = [
            self.attack.signals(
                query,
                X[start : start + QUERY_CHUNK]
                if self.attack.perturbs_records
                else _safe_indexing(X, np.arange(start, min(n, start + QUERY_CHUNK))),
                y[start : start + QUERY_CHUNK],
                scale=self.scale,
                random_state=self.random_state,
            )
            for start in range(0, max(n, 1), QUERY_CHUNK)
        ]
        signals = np.asarray(np.concatenate(chunks), dtype=np.float64)
        if signals.ndim == 1:
            signals = signals[:, None]
        return signals

    def correct(self, model, X, y, signals=None):
        """Whether ``model`` classifies each record correctly."""
        if self.reads_log_proba and signals is not None:
            return signals.argmax(axis=1) == y
        return self.query(model, "labels")(X) == y


def numeric_records(X):
    """Records as a float64 matrix, for attacks that perturb them."""
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "Query attacks perturb records, so the records must be numeric; "
            "encode categorical columns first (audit the model that follows "
            "the encoder)."
        ) from exc
    if array.ndim != 2:
        raise ValueError(f"X must be 2-dimensional; got shape {array.shape}.")
    return array


class BaseQueryAttack(BaseMembershipAttack):
    """Base class of attacks that query the model on inputs of their choosing.

    A query attack implements the :meth:`signals` step of the attack protocol
    (see :class:`BaseMembershipAttack`): it queries a model, through its query
    function, at points of its choosing (perturbed copies of each record, or
    points along directions) and returns per-record signals of shape
    ``(n, n_signals)``. The auditor calls it with the target's and every
    reference model's query function, with the same ``random_state``, and the
    rest of the protocol (:meth:`fit`, :meth:`score_samples`,
    :meth:`null_scores`) reads these signals exactly as other attacks read
    log-probabilities, so thresholds come from references or population in
    the same way.

    By default the query function returns labels (``query_output =
    "labels"``, so the attack audits label-only releases); records are passed
    as a float64 matrix with each feature's standard deviation on the pool as
    ``scale`` (``perturbs_records = True``). Subclasses implement
    :meth:`signals` (and :meth:`fit` and :meth:`score_samples` on the
    signals), and may override :meth:`prepare`.

    See Also
    --------
    BaseMembershipAttack : The protocol every attack follows.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import BaseQueryAttack
    >>> class Correct(BaseQueryAttack):
    ...     def signals(self, query, X, y, *, scale, random_state):
    ...         return (query(X) == y).astype(float)[:, None]
    ...     def fit(self, references):
    ...         return self
    ...     def score_samples(self, signals, y, reference_signals, membership):
    ...         return signals[:, 0]
    >>> query = lambda X: (X[:, 0] > 0).astype(int)
    >>> attack = Correct()
    >>> signal = attack.signals(query, np.array([[1.0], [-1.0]]), np.array([1, 1]),
    ...                         scale=np.ones(1), random_state=0)
    >>> attack.fit(None).score_samples(signal, None, None, None)
    array([1., 0.])
    """

    query_output = "labels"
    perturbs_records = True

    def signals(self, query, X, y, *, scale, random_state):
        """Signals of records, from the answers of ``query``.

        See :meth:`BaseMembershipAttack.signals`.

        Parameters
        ----------
        query : callable
            The model's query function.
        X : ndarray of shape (n, n_features)
            Records, numeric.
        y : ndarray of shape (n,)
            Class index of each record.
        scale : ndarray of shape (n_features,)
            Unit of each feature, for perturbations.
        random_state : int
            Seed of the perturbations.

        Returns
        -------
        signals : ndarray of shape (n, n_signals), float64
        """
        raise NotImplementedError


# Constraints shared by the query attacks.
POSITIVE_INT = [Interval(Integral, 1, None, closed="left")]
POSITIVE_REAL = [Interval(Real, 0, None, closed="neither")]
