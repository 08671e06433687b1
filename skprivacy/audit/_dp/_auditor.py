"""DPAuditor: empirical lower bounds on a training recipe's DP epsilon."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils.validation import check_is_fitted

from skprivacy.audit._attacks import ReferenceSignals
from skprivacy.audit._attacks._query import reads_log_proba
from skprivacy.audit._canaries import CANARY_KINDS, CanarySet, make_canaries
from skprivacy.audit._dp._bounds import multi_run_audit, one_run_audit
from skprivacy.audit._dp._claim import claimed_dp
from skprivacy.audit._dp._report import DPAuditReport
from skprivacy.audit._references import (
    balanced_keep_matrix,
    independent_references,
    train_references,
)
from skprivacy.audit._validation import check_X_y, resolve_attack
from skprivacy.utils import spawn_generators, spawn_seeds
from skprivacy.utils._arrays import concat_rows
from skprivacy.utils._hashing import row_digests
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
)


class DPAuditor(MetaEstimatorMixin, BaseEstimator):
    """Audit the differential privacy of a training recipe with canaries.

    ``fit`` trains the recipe ``n_runs`` times, each time on the training data
    plus every canary independently with probability 1/2 (the inclusion is
    recorded), and scores each canary on each model with a membership attack.
    :meth:`audit` turns those scores into lower bounds on the epsilon of
    (epsilon, delta)-DP, to set beside the epsilon the recipe's accountant
    claims (``epsilon_`` of the fitted model, e.g.
    ``DPSGDClassifier``, or ``epsilon``):

    - one run (Steinke, Nasr & Jagielski 2023): from the canaries of a single
      model, see :func:`epsilon_one_run`; one bound per run, the first is the
      headline;
    - many runs (Jagielski, Ullman & Oprea 2020): one canary across the runs,
      each run an independent trial, see :func:`epsilon_multi_run`.

    A lower bound above the accountant's epsilon means the claim is wrong (a
    bug in the implementation or in the accounting) with probability at least
    ``confidence``; a bound far below it says only that these canaries and
    this attack could not show more leakage.

    Parameters
    ----------
    estimator : estimator object
        The training recipe (unfitted): any scikit-learn classifier with
        ``predict_proba``, a :class:`~sklearn.pipeline.Pipeline` or a skorch
        net. It is cloned for every run, with its ``random_state`` set per run.
    canaries : {"mislabeled", "outlier", "out_of_distribution", "crafted"} or \
            CanarySet, default="mislabeled"
        The kind of canaries :func:`make_canaries` makes from ``X_canary`` in
        ``fit``, or ready-made canaries.
    n_canaries : int, default=1000
        Number of canaries to make (ignored for a :class:`CanarySet`).
    n_runs : int, default=1
        Training runs. Attacks with reference models use the calibration runs
        (the first half) as references; the many-runs bound needs at least 4.
    attack : str or BaseMembershipAttack, default="loss"
        The attack scoring canaries: a name of
        :class:`MembershipInferenceAuditor`'s attacks that work from the
        model's probabilities (``"loss"``, ``"lira"``, ``"rmia"``...) or an
        instance.
    delta : float, default=None
        The delta of the claim audited; ``None`` takes the model's own
        (``delta_`` or ``delta``) and 0 when it has none.
    confidence : float, default=0.95
        Probability that each bound holds.
    n_guesses : "auto", int or tuple of (int, int), default="auto"
        Guesses of the one-run audit, see :func:`epsilon_one_run`.
    epsilon : float, default=None
        The epsilon claimed, for recipes whose models have no ``epsilon_``.
    n_jobs : int, default=None
        Parallel training runs (joblib).
    verbose : int, default=0
        Progress bar over the runs when positive.
    random_state : int, RandomState instance or None, default=None
        Seed of the canaries, their inclusion and the runs.

    Attributes
    ----------
    canaries_ : CanarySet
        The canaries.
    inclusion_ : ndarray of shape (n_runs, n_canaries), bool
        Which canaries each run trained on.
    scores_ : ndarray of shape (n_runs, n_canaries)
        Attack score of each canary on each run's model, with the calibration
        runs as references (for a calibration run, the others but the one
        trained on the complement of its canaries, whose inclusions would
        tell its own).
    n_calibration_ : int
        Number of calibration runs, the first ``n_runs // 2``: each canary is
        in exactly half of them; they serve as references and choose the test
        of the many-runs bound. The other runs are the trials, with
        independent inclusions; the one-run bounds are theirs.
    estimators_ : list of fitted estimators
        The model of each run.
    accountant_epsilon_ : float or None
        The epsilon the first model (or ``epsilon``) claims.
    delta_ : float
        The delta audited.
    train_accuracy_ : ndarray of shape (n_runs,)
        Accuracy of each model on its training records.

    See Also
    --------
    DPAuditReport : What :meth:`audit` returns.
    epsilon_one_run : The one-run bound from scores.
    epsilon_multi_run : The many-runs bound from scores.
    make_canaries : Canaries for an audit of your own.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.audit import DPAuditor
    >>> X, y = make_classification(600, 5, random_state=0)
    >>> auditor = DPAuditor(LogisticRegression(), n_canaries=100, random_state=0)
    >>> auditor = auditor.fit(X[:400], y[:400], X_canary=X[400:], y_canary=y[400:])
    >>> report = auditor.audit()
    >>> report.one_run["n_canaries"]
    100
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "canaries": [StrOptions(set(CANARY_KINDS)), CanarySet],
        "n_canaries": [Interval(Integral, 1, None, closed="left")],
        "n_runs": [Interval(Integral, 1, None, closed="left")],
        "attack": [str, HasMethods(["fit", "score_samples"])],
        "delta": [Interval(Real, 0, 1, closed="left"), None],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "n_guesses": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            tuple,
        ],
        "epsilon": [Interval(Real, 0, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        canaries="mislabeled",
        n_canaries=1000,
        n_runs=1,
        attack="loss",
        delta=None,
        confidence=0.95,
        n_guesses="auto",
        epsilon=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.canaries = canaries
        self.n_canaries = n_canaries
        self.n_runs = n_runs
        self.attack = attack
        self.delta = delta
        self.confidence = confidence
        self.n_guesses = n_guesses
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def _check_attack(self):
        attack = resolve_attack(self.attack)
        if not reads_log_proba(attack) or attack.needs_population:
            raise ValueError(
                f"{type(attack).__name__} needs queries or population data; DP "
                "auditing scores canaries from the models' probabilities: use "
                "'loss', 'lira', 'lira_offline', 'rmia', 'reference' or 'mentr'."
            )
        needed = attack.min_references
        if needed and self.n_runs // 2 - 2 < needed:
            raise ValueError(
                f"{type(attack).__name__} needs {needed} reference models, taken "
                "from the calibration half of the runs (each scored without "
                "itself and the run trained on its complement): use n_runs >= "
                f"{2 * (needed + 2)} or attack='loss'."
            )
        return attack

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_canary=None, y_canary=None):
        """Train the runs with their canaries and score the canaries.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in every run.
        y : array-like of shape (n_samples,)
            Its labels.
        X_canary : array-like of shape (n_pool, n_features), default=None
            Records held out of training to make canaries from (required
            unless ``canaries`` is a :class:`CanarySet`); copies of training
            records among them are left out.
        y_canary : array-like of shape (n_pool,), default=None
            Their labels.

        Returns
        -------
        self : DPAuditor
            The fitted auditor.
        """
        y = check_X_y(X, y)
        attack = self._check_attack()
        canary_seed, inclusion_seed, *run_seeds = spawn_seeds(
            self.random_state, 2 + self.n_runs
        )
        if isinstance(self.canaries, CanarySet):
            canaries = self.canaries
        else:
            if X_canary is None or y_canary is None:
                raise ValueError(
                    "Pass records held out of training, fit(X, y, X_canary=..., "
                    "y_canary=...), to make canaries from, or canaries=CanarySet."
                )
            # Pool records seen in training, whatever their label, would make
            # canaries that duplicate a training record.
            seen = set(row_digests(X, np.zeros(len(y))))
            fresh = [
                i
                for i, key in enumerate(row_digests(X_canary, np.zeros(len(y_canary))))
                if key not in seen
            ]
            canaries = make_canaries(
                _safe_indexing(X_canary, fresh),
                np.asarray(y_canary)[fresh],
                self.n_canaries,
                kind=self.canaries,
                random_state=canary_seed,
            )
        canaries.check_disjoint(X, y)
        # Calibration runs: each canary in exactly half of them, so reference
        # attacks see it in and out. Trial runs: each canary independently with
        # probability 1/2, as both bounds require, and independently of the
        # calibration runs that serve as their references.
        n_calibration = self.n_runs // 2
        rng_calibration, rng_trials = spawn_generators(inclusion_seed, 2)
        inclusion = np.vstack(
            [
                balanced_keep_matrix(n_calibration, len(canaries), rng_calibration),
                rng_trials.random((self.n_runs - n_calibration, len(canaries))) < 0.5,
            ]
        )

        n = len(y)
        pool = concat_rows(X, canaries.X)
        y_pool = np.concatenate([y, canaries.y])
        keep = np.hstack([np.ones((self.n_runs, n), dtype=bool), inclusion])
        classes = np.unique(y_pool)
        estimators, lp, accuracy = train_references(
            self.estimator,
            pool,
            y_pool,
            keep,
            run_seeds,
            classes=classes,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )
        epsilon, model_delta = claimed_dp(estimators[-1])
        if self.delta is None:
            delta = model_delta or 0.0
        else:
            delta = float(self.delta)
            if delta == 0 and model_delta:
                raise ValueError(
                    f"The model claims (epsilon, delta={model_delta:g})-DP, which "
                    "says nothing about delta=0: audit at its delta (delta=None) or "
                    "another positive one."
                )

        y_idx = np.searchsorted(classes, canaries.y)
        lp = lp[:, n:]
        self.scores_ = np.stack(
            [
                _score(attack, lp, inclusion, y_idx, t, references)
                for t, references in enumerate(_references(n_calibration, self.n_runs))
            ]
        )
        self.canaries_ = canaries
        self.inclusion_ = inclusion
        self.n_calibration_ = n_calibration
        # Seed of the order in which tied scores are guessed.
        self._tie_seed = canary_seed
        self.estimators_ = estimators
        self.classes_ = classes
        self.accountant_epsilon_ = epsilon if self.epsilon is None else self.epsilon
        self.delta_ = delta
        self.train_accuracy_ = accuracy[:, 0]
        self.attack_ = attack
        return self

    def audit(self, X_test=None, y_test=None) -> DPAuditReport:
        """Lower bounds on epsilon from the fitted runs.

        Parameters
        ----------
        X_test : array-like of shape (n_test, n_features), default=None
            Held-out records: the report then gives the first model's accuracy.
        y_test : array-like of shape (n_test,), default=None
            Their labels.

        Returns
        -------
        report : DPAuditReport
        """
        check_is_fitted(self, "scores_")
        trials = range(self.n_calibration_, self.n_runs)
        one_run = [
            one_run_audit(
                self.inclusion_[t],
                self.scores_[t],
                delta=self.delta_,
                confidence=self.confidence,
                n_guesses=self.n_guesses,
                random_state=self._tie_seed,
            )
            for t in trials
        ]
        multi_run = multi_run_audit(
            self.inclusion_,
            self.scores_,
            delta=self.delta_,
            confidence=self.confidence,
            n_calibration=self.n_calibration_,
        )
        accuracy = None
        if X_test is not None:
            model = self.estimators_[self.n_calibration_]
            accuracy = float(model.score(X_test, y_test))
        return DPAuditReport.from_audit(
            inclusion=self.inclusion_,
            scores=self.scores_,
            n_calibration=self.n_calibration_,
            one_run=one_run,
            multi_run=multi_run,
            accountant_epsilon=self.accountant_epsilon_,
            delta=self.delta_,
            confidence=self.confidence,
            n_guesses=self.n_guesses,
            canary_kind=self.canaries_.kind,
            attack=type(self.attack_).__name__,
            test_accuracy=accuracy,
            params={
                k: v
                for k, v in self.get_params(deep=False).items()
                if k not in ("estimator", "canaries")
            },
            random_state=self._tie_seed,
        )


def _references(n_calibration, n_runs):
    """The runs that serve as references of each run, one row per run.

    The calibration runs are the references: all of them for a trial run,
    whose inclusions were drawn independently of theirs; for a calibration
    run, the others but its complement (see :func:`independent_references`).
    """
    references = np.zeros((n_runs, n_runs), dtype=bool)
    for t in range(n_runs):
        references[t, :n_calibration] = (
            independent_references(n_calibration, t) if t < n_calibration else True
        )
    return references


def _score(attack, lp, inclusion, y_idx, run, references):
    """Attack scores of the canaries on ``run``'s model, learning from ``references``.

    References are other runs, whose canary inclusions were drawn independently
    of ``run``'s, so the scores stay a function of ``run``'s model and of data
    independent of its inclusions.
    """
    signals = ReferenceSignals(lp[references], inclusion[references], y_idx)
    fitted = attack.fit(signals)
    return fitted.score_samples(lp[run], y_idx, lp[references], inclusion[references])
