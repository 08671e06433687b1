"""The protocol every membership attack follows, and what it learns from."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator


@dataclass
class ReferenceSignals:
    """What an attack may learn from: references and population, never the target's
    membership labels.

    *Signals* are what the attack's :meth:`~BaseMembershipAttack.signals` step
    reads from a model on a record: log-probabilities by default, or the
    signals of a query attack.

    Attributes
    ----------
    signals : ndarray of shape (M, n, n_signals)
        Signals of the ``M`` reference models on the ``n`` pool records
        (``n_signals = n_classes`` for log-probabilities).
    membership : ndarray of shape (M, n), bool
        Whether reference ``j`` trained on pool record ``i``.
    y : ndarray of shape (n,)
        Class index of each pool record.
    population_signals : ndarray of shape (z, n_signals) or None
        The target's signals on population records (non-members of the
        target and of every reference).
    population_reference_signals : ndarray of shape (M, z, n_signals) or None
        The references' signals on the population records.
    population_y : ndarray of shape (z,) or None
        Class index of each population record.
    random_state : int
        Seed for attacks that draw randomness (attack models).

    See Also
    --------
    BaseMembershipAttack : The attacks that fit on it.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import ReferenceSignals
    >>> lp = np.log(np.full((2, 3, 2), 0.5))  # 2 references, 3 records, 2 classes
    >>> keep = np.array([[1, 0, 1], [0, 1, 0]], dtype=bool)
    >>> signals = ReferenceSignals(lp, keep, np.array([0, 1, 1]))
    >>> signals.n_references
    2
    """

    signals: NDArray
    membership: NDArray
    y: NDArray
    population_signals: NDArray | None = None
    population_reference_signals: NDArray | None = None
    population_y: NDArray | None = None
    random_state: int = 0

    @property
    def n_references(self) -> int:
        return self.membership.shape[0]


class BaseMembershipAttack(BaseEstimator):
    """Base class of membership attacks: the small protocol to plug your own.

    An attack runs in three steps, the same for every attack:

    1. :meth:`signals` reads a model's per-record signals through a *query
       function* (by default the model's log-probabilities on the records;
       query attacks override it to query perturbed copies or labels);
    2. :meth:`fit` learns from the reference models' signals on the pool and
       the population's (a :class:`ReferenceSignals`);
    3. :meth:`score_samples` turns the target's signals on records into
       membership scores (higher means more likely a member).

    The auditor trains the references, calls these steps, and sets the
    decision threshold from :meth:`null_scores`. Parameters are set in
    ``__init__`` as for scikit-learn estimators, so attacks can be cloned and
    tuned; ``_parameter_constraints`` declares their valid values, which
    :meth:`fit` checks as scikit-learn's estimators do (decorate it with
    ``sklearn.base._fit_context``; steps that run before it call
    ``self._validate_params()``), raising
    :class:`~sklearn.utils._param_validation.InvalidParameterError`.
    Subclasses implement :meth:`fit` and
    :meth:`score_samples` and declare their needs with the class attributes
    below; the auditor validates them and raises a clear error when they are
    not met.

    A query function ``query(X)`` returns, for rows of the model's input
    space, what the model releases: with ``query_output = "log_proba"``,
    float64 log-probabilities of shape ``(n, n_classes)`` whose columns follow
    the target's ``classes_``; with ``query_output = "labels"``, class indices
    into ``classes_`` (``int`` array of shape ``(n,)``), ``-1`` for any
    released output that is not a class, such as an abstention.

    Attributes
    ----------
    min_references : int
        Fewest reference models the attack works with (0: reference-free).
    min_references_to_calibrate : int or None
        Fewest references :meth:`null_scores` works with; ``None`` means 1 for
        reference-free attacks and 4 otherwise (with a balanced keep matrix, a
        record left out by one reference is left out by ``M / 2 - 1`` others).
    needs_in_references : bool
        Whether every scored record must be in the training set of some
        references and out of others (online attacks): such records must be in
        the pool passed to :meth:`MembershipInferenceAuditor.fit`.
    needs_population : bool
        Whether the attack needs population data (non-members of the target).
    is_likelihood_ratio : bool
        Whether scores are log-likelihood ratios of "member" against
        "non-member", so that ``sigmoid(score + logit(prior))`` is a posterior.
    query_output : {"log_proba", "labels"}
        What the query function returns; ``"labels"`` attacks can audit
        label-only releases.
    perturbs_records : bool
        Whether :meth:`signals` queries points other than the records
        themselves; the auditor then passes records as a float64 matrix with a
        per-feature ``scale`` (query attacks need numeric records).

    See Also
    --------
    BaseQueryAttack : The base of attacks that query the model.
    ReferenceSignals : What :meth:`fit` learns from.
    skprivacy.MembershipInferenceAuditor : Runs an attack.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import BaseMembershipAttack
    >>> class MaxProbability(BaseMembershipAttack):
    ...     def fit(self, references):
    ...         return self
    ...     def score_samples(self, signals, y, reference_signals, membership):
    ...         return signals.max(axis=1)
    >>> attack = MaxProbability().fit(None)
    >>> attack.score_samples(np.log([[0.9, 0.1], [0.5, 0.5]]), [0, 1], None, None)
    array([-0.105..., -0.693...])
    """

    _parameter_constraints: ClassVar[dict] = {}

    min_references = 0
    min_references_to_calibrate = None
    needs_in_references = False
    needs_population = False
    is_likelihood_ratio = False
    query_output = "log_proba"
    perturbs_records = False

    def prepare(
        self,
        query: Callable,
        X: ArrayLike,
        y: NDArray,
        *,
        scale: NDArray | None,
        random_state: int,
    ) -> BaseMembershipAttack:
        """Learn what :meth:`signals` needs from the target's answers on the pool.

        Called once by the auditor before any signal is computed; the default
        does nothing.

        Parameters
        ----------
        query : callable
            The target's query function.
        X : array-like of shape (n, n_features)
            The pool.
        y : ndarray of shape (n,)
            Class index of each pool record.
        scale : ndarray of shape (n_features,) or None
            Unit of each feature (its standard deviation on the pool) when
            ``perturbs_records``, else None.
        random_state : int
            Seed of any randomness.

        Returns
        -------
        self : BaseMembershipAttack
        """
        return self

    def signals(
        self,
        query: Callable,
        X: ArrayLike,
        y: NDArray,
        *,
        scale: NDArray | None,
        random_state: int,
    ) -> NDArray:
        """Signals of records under one model, from the answers of ``query``.

        The default returns the model's log-probabilities on the records.

        Parameters
        ----------
        query : callable
            ``query(X_rows)`` returns the model's released outputs (see the
            class description).
        X : array-like of shape (n, n_features)
            Records (numeric when ``perturbs_records``).
        y : ndarray of shape (n,)
            Class index of each record.
        scale : ndarray of shape (n_features,) or None
            Unit of each feature, for perturbations.
        random_state : int
            Seed of the perturbations. The auditor passes the same seed for the
            target and every reference, so they are queried at the same points;
            the built-in attacks draw each record's perturbations from a stream
            keyed on the seed and the record, so a record's signal does not
            depend on the other records.

        Returns
        -------
        signals : ndarray of shape (n, n_signals), float64
        """
        return query(X)

    def fit(self, references: ReferenceSignals) -> BaseMembershipAttack:
        """Learn from references and population.

        Parameters
        ----------
        references : ReferenceSignals
            The references' signals on the pool, their keep matrix and, when
            given, the population's; never the target's membership labels.

        Returns
        -------
        self : BaseMembershipAttack
            The fitted attack.
        """
        raise NotImplementedError

    def score_samples(
        self,
        signals: NDArray,
        y: NDArray,
        reference_signals: NDArray,
        membership: NDArray,
    ) -> NDArray:
        """Membership scores of records under a target.

        Parameters
        ----------
        signals : ndarray of shape (n, n_signals)
            The target's signals on the records.
        y : ndarray of shape (n,)
            Class index of each record.
        reference_signals : ndarray of shape (M, n, n_signals)
            The references' signals on the same records.
        membership : ndarray of shape (M, n), bool
            Whether each reference trained on each record.

        Returns
        -------
        scores : ndarray of shape (n,), float64
            Higher means more likely a member.
        """
        raise NotImplementedError

    def null_scores(self, references: ReferenceSignals) -> NDArray:
        """Scores of known non-members, each reference playing the target in turn.

        Used to set the decision threshold when no population is given: the
        records reference ``j`` did not train on are non-members of ``j``, and
        the other references serve as its references. The threshold then
        controls the false-positive rate of a target exchangeable with the
        references (trained by the same recipe on a random half of the pool).

        Parameters
        ----------
        references : ReferenceSignals
            What :meth:`fit` saw.

        Returns
        -------
        scores : ndarray of shape (n_null,)
        """
        scores = []
        keep = references.membership
        for j in range(references.n_references):
            others = np.arange(references.n_references) != j
            rows = ~keep[j]
            if self.min_references > 0:
                rows &= (~keep[others]).any(axis=0)
            if self.needs_in_references:
                rows &= keep[others].any(axis=0) & (~keep[others]).any(axis=0)
            scores.append(
                self.score_samples(
                    references.signals[j, rows],
                    references.y[rows],
                    references.signals[others][:, rows],
                    keep[others][:, rows],
                )
            )
        return np.concatenate(scores)
