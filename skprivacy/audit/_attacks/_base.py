"""The interface every membership attack implements, and the attack registry."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator


@dataclass
class ReferenceSignals:
    """What an attack may learn from: references and population, never the target's
    membership labels.

    Attributes
    ----------
    log_proba : ndarray of shape (M, n, n_classes)
        Log-probabilities of the ``M`` reference models on the ``n`` pool records.
    membership : ndarray of shape (M, n), bool
        Whether reference ``j`` trained on pool record ``i``.
    y : ndarray of shape (n,)
        Class index of each pool record.
    population_log_proba : ndarray of shape (z, n_classes) or None
        The target's log-probabilities on population records (non-members of the
        target and of every reference).
    population_reference_log_proba : ndarray of shape (M, z, n_classes) or None
        The references' log-probabilities on the population records.
    population_y : ndarray of shape (z,) or None
        Class index of each population record.
    random_state : int
        Seed for attacks that draw randomness (attack models).

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

    log_proba: np.ndarray
    membership: np.ndarray
    y: np.ndarray
    population_log_proba: np.ndarray | None = None
    population_reference_log_proba: np.ndarray | None = None
    population_y: np.ndarray | None = None
    random_state: int = 0

    @property
    def n_references(self) -> int:
        return self.membership.shape[0]


class BaseMembershipAttack(BaseEstimator):
    """Base class of membership attacks: the small interface to plug your own.

    An attack turns a target's log-probabilities on records into membership
    scores (higher means more likely a member), using what it learned from
    reference models and population data in :meth:`fit`. Parameters are set in
    ``__init__`` as for scikit-learn estimators, so attacks can be cloned and
    tuned. Subclasses implement :meth:`fit` and :meth:`score_samples` and
    declare their needs with the class attributes below; the auditor validates
    them and raises a clear error when they are not met.

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

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import BaseMembershipAttack
    >>> class MaxProbability(BaseMembershipAttack):
    ...     def fit(self, references):
    ...         return self
    ...     def score_samples(self, log_proba, y, reference_log_proba, membership):
    ...         return log_proba.max(axis=1)
    >>> attack = MaxProbability().fit(None)
    >>> attack.score_samples(np.log([[0.9, 0.1], [0.5, 0.5]]), [0, 1], None, None)
    array([-0.105..., -0.693...])
    """

    min_references = 0
    min_references_to_calibrate = None
    needs_in_references = False
    needs_population = False
    is_likelihood_ratio = False

    def fit(self, references: ReferenceSignals):
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

    def score_samples(self, log_proba, y, reference_log_proba, membership):
        """Membership scores of records under a target.

        Parameters
        ----------
        log_proba : ndarray of shape (n, n_classes)
            The target's log-probabilities on the records.
        y : ndarray of shape (n,)
            Class index of each record.
        reference_log_proba : ndarray of shape (M, n, n_classes)
            The references' log-probabilities on the same records.
        membership : ndarray of shape (M, n), bool
            Whether each reference trained on each record.

        Returns
        -------
        scores : ndarray of shape (n,), float64
            Higher means more likely a member.
        """
        raise NotImplementedError

    def null_scores(self, references: ReferenceSignals) -> np.ndarray:
        """Scores of known non-members, each reference playing the target in turn.

        Used to set the decision threshold when no population is given: the
        records reference ``j`` did not train on are non-members of ``j``, and
        the other references serve as its references.

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
                    references.log_proba[j, rows],
                    references.y[rows],
                    references.log_proba[others][:, rows],
                    keep[others][:, rows],
                )
            )
        return np.concatenate(scores)
