"""Privacy audits inside hyper-parameter searches: recorder, scorer and refit rule.

A scorer of :class:`~sklearn.model_selection.GridSearchCV` sees a fitted fold
model and the fold's held-out rows, which are non-members; it never sees the
rows the model trained on. :class:`AuditRecorder` wraps the estimator and
remembers a random sample of its training rows, so that the scorer of
:func:`make_privacy_scorer` can attack members against non-members at every
grid point; :func:`privacy_refit` then picks the most useful setting under a
leakage cap.

A mean over folds of TPRs read at different FPRs would mean nothing, so the
FPR of the ``"tpr"`` leakage is planned once for the search, from the
recorder's ``n_members`` (a parameter, the same in every fold), never from
the size of a fold.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import re
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted

from skprivacy.audit._attacks import ATTACKS
from skprivacy.audit._auditor import MembershipInferenceAuditor
from skprivacy.audit._epsilon import empirical_epsilon
from skprivacy.audit._metrics import (
    fpr_resolved,
    membership_advantage,
    membership_auc,
    membership_balanced_accuracy,
    tpr_at_fpr,
)
from skprivacy.exceptions import DataOverlapWarning, UnresolvedMetricWarning
from skprivacy.utils import spawn_generators, spawn_seeds
from skprivacy.utils._arrays import concat_rows
from skprivacy.utils._hashing import row_digests
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
    validate_params,
)

_TPR = re.compile(r"^tpr@(\d+(?:\.\d+)?)%$")
_LEAKAGE = ("auc", "advantage", "balanced_accuracy", "epsilon", "tpr")
# The FPRs the "tpr" leakage may be read at, lowest first (a 1-2-5 series):
# each needs 10 / FPR audited non-members, from 10,000 down to 100.
_FPR_LADDER = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)
# Scorer key of the FPR that the "tpr" leakage was read at.
_TPR_FPR_KEY = "mia_tpr_fpr"


def _leakage_key(name: str) -> str:
    """Scorer key of a leakage metric: "tpr@1%" -> "neg_mia_tpr_at_1pct_fpr"."""
    match = _TPR.match(name) if isinstance(name, str) else None
    if match:
        return f"neg_mia_tpr_at_{float(match.group(1)):g}pct_fpr"
    if name in _LEAKAGE:
        return f"neg_mia_{name}"
    raise ValueError(
        f"Unknown leakage metric {name!r}; use {', '.join(map(repr, _LEAKAGE))} or "
        "'tpr@<x>%' (the TPR at an FPR of x percent, e.g. 'tpr@1%')."
    )


def _planned_fpr(n_members: int) -> float:
    """The lowest FPR of the ladder that ``n_members`` non-members resolve.

    NaN when they resolve none (fewer than 100).
    """
    return next((f for f in _FPR_LADDER if fpr_resolved(n_members, f)), np.nan)


def _leakage_value(name, membership, scores, random_state):
    match = _TPR.match(name)
    if match:
        return tpr_at_fpr(membership, scores, float(match.group(1)) / 100)
    if name == "epsilon":
        # The fold's members and non-members come from one training run.
        return empirical_epsilon(
            membership, scores, trials="one_run", random_state=random_state
        )
    return {
        "auc": membership_auc,
        "advantage": membership_advantage,
        "balanced_accuracy": membership_balanced_accuracy,
    }[name](membership, scores)


def _fingerprints(X, y, salt: bytes) -> np.ndarray:
    """Salted 8-byte digests of the (row, label) pairs, in row order."""
    digests = [
        int.from_bytes(hashlib.blake2b(k, digest_size=8, key=salt).digest(), "little")
        for k in row_digests(X, np.asarray(y))
    ]
    return np.asarray(digests, dtype=np.uint64)


def _estimator_has(attr):
    def check(self):
        estimator = getattr(self, "estimator_", None) or self._get_estimator()
        return hasattr(estimator, attr)

    return check


class AuditRecorder(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier that remembers a sample of its training rows for audits.

    Fits a clone of ``estimator`` and delegates every prediction to it; it also
    keeps a random sample of ``n_members`` training rows (``audit_X_``,
    ``audit_y_``), the members that :func:`make_privacy_scorer` attacks, and a
    salted fingerprint of every training row, so that the scorer can tell
    when it is offered training rows as non-members. Use it as the estimator of
    a search; the hyper-parameters of the wrapped model are then
    ``estimator__<name>``.

    .. warning::
       The recorder keeps raw training rows inside the fitted model, and a
       fitted search keeps its ``best_estimator_``: call :meth:`forget` after
       scoring, or deploy ``search.best_estimator_.estimator_``, before
       saving or shipping the model. The fingerprints are salted 8-byte hashes,
       but rows with few possible values can still be found by trying them all.

    Parameters
    ----------
    estimator : estimator object, default=None
        The classifier to train and audit; ``None`` means
        :class:`~sklearn.linear_model.LogisticRegression`.
    n_members : int, default=1000
        Training rows to remember (all of them when fewer).
    random_state : int, RandomState instance or None, default=None
        Seeds the sample of remembered rows and the fingerprint salt.

    Attributes
    ----------
    estimator_ : estimator
        The fitted classifier.
    audit_X_ : array-like of shape (n_recorded, n_features)
        The remembered training rows (same type as the training data).
    audit_y_ : array-like of shape (n_recorded,)
        Their labels.
    train_fingerprints_ : ndarray of uint64
        Sorted salted digests of every training ``(row, label)`` pair.
    classes_ : ndarray of shape (n_classes,)
        Class labels of the fitted classifier.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when the classifier records them.

    See Also
    --------
    make_privacy_scorer : The scorer that audits the recorder at each grid point.
    privacy_refit : Refit rule picking the best utility under a leakage cap.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprivacy.audit import AuditRecorder
    >>> X, y = make_classification(200, 5, random_state=0)
    >>> recorder = AuditRecorder(n_members=50, random_state=0).fit(X, y)
    >>> recorder.audit_X_.shape
    (50, 5)
    >>> recorder.predict(X[:3])
    array([1, 1, 0])
    >>> hasattr(recorder.forget(), "audit_X_")
    False
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_members=1000, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state

    def _get_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the classifier and remember a sample of the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        **fit_params : dict
            Passed to the classifier's ``fit``.

        Returns
        -------
        self : AuditRecorder
        """
        self.estimator_ = clone(self._get_estimator()).fit(X, y, **fit_params)
        # Rows are kept as given for DataFrames (pipelines may need the names),
        # as CSR for sparse input, as arrays otherwise.
        if issparse(X):
            X = X.tocsr()
        elif not hasattr(X, "iloc"):
            X = np.asarray(X)
        if not hasattr(y, "iloc"):
            y = np.asarray(y)
        sample_seed, salt_seed = spawn_seeds(self.random_state, 2)
        (rng,) = spawn_generators(sample_seed, 1)
        n = _num_samples(X)
        rows = np.sort(rng.choice(n, min(self.n_members, n), replace=False))
        self.audit_X_ = _safe_indexing(X, rows)
        self.audit_y_ = _safe_indexing(y, rows)
        salt = int(salt_seed).to_bytes(16, "little")
        self.train_fingerprints_ = np.unique(_fingerprints(X, y, salt))
        self._salt = salt
        return self

    def forget(self):
        """Drop the remembered rows and fingerprints; the classifier is kept.

        After this the recorder cannot be audited any more (the scorer raises).

        Returns
        -------
        self : AuditRecorder
        """
        for name in ("audit_X_", "audit_y_", "train_fingerprints_", "_salt"):
            if hasattr(self, name):
                delattr(self, name)
        return self

    def overlap(self, X, y) -> np.ndarray:
        """Which rows of ``(X, y)`` equal a training ``(row, label)`` pair.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows.
        y : array-like of shape (n_samples,)
            Their labels.

        Returns
        -------
        found : ndarray of shape (n_samples,), bool
        """
        check_is_fitted(self)
        if not hasattr(self, "train_fingerprints_"):
            raise AttributeError(
                "This AuditRecorder has forgotten its training rows (forget() was "
                "called); refit it to audit it."
            )
        return np.isin(_fingerprints(X, y, self._salt), self.train_fingerprints_)

    @property
    def classes_(self):
        check_is_fitted(self)
        return self.estimator_.classes_

    @property
    def n_features_in_(self):
        try:
            check_is_fitted(self)
        except Exception as exc:
            raise AttributeError("n_features_in_ is set by fit.") from exc
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        check_is_fitted(self)
        return self.estimator_.feature_names_in_

    def predict(self, X):
        """Predictions of the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Class log-probabilities of the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.input_tags.string = inner.input_tags.string
        return tags


class _PrivacyScorer:
    """Callable ``scorer(estimator, X, y) -> dict`` of :func:`make_privacy_scorer`."""

    def __init__(
        self, attack, utility, leakage, n_references, max_overlap, random_state
    ):
        self.attack = attack
        self.utility = utility
        self.leakage = leakage
        self.n_references = n_references
        self.max_overlap = max_overlap
        self.random_state = random_state

    def __repr__(self):
        return (
            f"make_privacy_scorer(attack={self.attack!r}, utility={self.utility!r}, "
            f"leakage={self.leakage!r}, n_references={self.n_references})"
        )

    def _utility(self, estimator, X, y):
        items = self.utility
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, dict):
            items = {name: name for name in items}
        return {
            name: float(get_scorer(scorer)(estimator, X, y))
            for name, scorer in items.items()
        }

    def __call__(self, estimator, X, y):
        if not isinstance(estimator, AuditRecorder):
            raise TypeError(
                "The privacy scorer audits an AuditRecorder, which remembers the "
                f"training rows of each fold; got {type(estimator).__name__}. Search "
                "over AuditRecorder(your_estimator), with any pipeline inside it, and "
                "prefix the parameters with 'estimator__'."
            )
        if not hasattr(estimator, "audit_X_"):
            raise AttributeError(
                "This AuditRecorder has forgotten its training rows (forget() was "
                "called); the privacy scorer cannot audit it."
            )
        scores = self._utility(estimator, X, y)
        leakage = dict.fromkeys(map(_leakage_key, self.leakage), np.nan)
        if "tpr" in self.leakage:
            leakage[_TPR_FPR_KEY] = _planned_fpr(estimator.n_members)
        y = np.asarray(y)
        found = estimator.overlap(X, y)
        share = found.mean() if len(found) else 0.0
        if share >= self.max_overlap:
            warnings.warn(
                f"{share:.0%} of the rows offered as non-members are training rows "
                f"of the model (at least max_overlap={self.max_overlap:g}), as with "
                "GridSearchCV(return_train_score=True): the leakage metrics are NaN.",
                DataOverlapWarning,
                stacklevel=2,
            )
            return {**scores, **leakage}
        # Held-out duplicates of training rows are members in all but name.
        fresh = np.flatnonzero(~found)
        n = min(len(fresh), _num_samples(estimator.audit_X_))
        if n < 2:
            raise ValueError(
                f"Only {n} held-out row(s) to audit; use larger folds or n_members."
            )
        seed, audit_seed = spawn_seeds(self.random_state, 2)
        (rng,) = spawn_generators(seed, 1)
        out_rows = np.sort(rng.choice(fresh, n, replace=False))
        in_rows = np.sort(
            rng.choice(_num_samples(estimator.audit_X_), n, replace=False)
        )
        X_in = _safe_indexing(estimator.audit_X_, in_rows)
        y_in = np.asarray(_safe_indexing(estimator.audit_y_, in_rows))
        X_out, y_out = _safe_indexing(X, out_rows), y[out_rows]
        X_pool, y_pool = concat_rows(X_in, X_out), np.concatenate([y_in, y_out])
        auditor = MembershipInferenceAuditor(
            FrozenEstimator(estimator.estimator_),
            attack=self.attack,
            estimator=clone(estimator.estimator_),
            n_references=self.n_references,
            random_state=audit_seed,
        )
        with warnings.catch_warnings():
            # The population only sets the decision threshold, unused here
            # (attack scores do not depend on it), and its warnings about a
            # small population concern that threshold only.
            warnings.simplefilter("ignore", UserWarning)
            auditor.fit(X_pool, y_pool, X_population=X_out, y_population=y_out)
            attack_scores = auditor.score_samples(X_pool, y_pool)
        membership = np.r_[np.ones(n), np.zeros(n)].astype(int)
        # A TPR at an FPR that the fold's non-members cannot resolve is NaN,
        # with its UnresolvedMetricWarning: never a number the data do not carry.
        for name in self.leakage:
            if name == "tpr":
                value = _planned_tpr(estimator, membership, attack_scores)
            else:
                value = _leakage_value(name, membership, attack_scores, audit_seed)
            leakage[_leakage_key(name)] = -float(value)
        return {**scores, **leakage}


def _planned_tpr(recorder, membership, scores):
    """The TPR at the FPR planned from ``n_members``; NaN if the fold lacks rows."""
    n_members = recorder.n_members
    fpr = _planned_fpr(n_members)
    n = int((membership == 0).sum())
    if fpr_resolved(n, fpr):
        return tpr_at_fpr(membership, scores, fpr)
    if np.isnan(fpr):
        why = (
            f"n_members={n_members} of the AuditRecorder resolves no FPR of the "
            f"ladder: the highest, {_FPR_LADDER[-1]:.0%}, needs "
            f"{int(10 / _FPR_LADDER[-1])} non-members audited per fold (10 / FPR). "
            f"Set n_members >= {int(10 / _FPR_LADDER[-1])}, with held-out folds "
            "at least as large"
        )
    else:
        why = (
            f"the TPR at {100 * fpr:g}% FPR (planned from n_members={n_members}, so "
            "that every fold reads the same FPR) needs at least "
            f"{int(np.ceil(10 / fpr))} (10 / FPR), and this fold audits {n} "
            "non-members (its held-out rows that are not training rows, at most "
            "n_members). Use held-out folds of at least "
            f"{int(np.ceil(10 / fpr))} rows, or set n_members a little below the "
            "held-out fold size"
        )
    warnings.warn(
        f"The 'tpr' leakage is NaN: {why}.", UnresolvedMetricWarning, stacklevel=3
    )
    return np.nan


@validate_params(
    {
        # The auditor's own constraint on its attack.
        "attack": [
            StrOptions(set(ATTACKS)),
            HasMethods(["fit", "score_samples", "null_scores"]),
        ],
        "utility": [str, "array-like", dict],
        "leakage": [str, "array-like"],
        "n_references": [Interval(Integral, 0, None, closed="left")],
        "max_overlap": [Interval(Real, 0, 1, closed="right")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_privacy_scorer(
    *,
    attack="loss",
    utility="accuracy",
    leakage=("auc", "advantage", "tpr"),
    n_references: int = 0,
    max_overlap: float = 0.5,
    random_state=None,
):
    """A multi-metric scorer of utility and negated membership leakage.

    The scorer ``scorer(recorder, X, y)`` is meant for the ``scoring`` of
    :class:`~sklearn.model_selection.GridSearchCV` (and
    :func:`~sklearn.model_selection.cross_validate`) over an
    :class:`AuditRecorder`. It returns a dict: the utility metrics, computed on
    ``(X, y)``, and for each leakage metric ``m`` the key ``"neg_mia_<m>"``
    with the value ``-m`` (negated, since scikit-learn treats greater as
    better), so ``cv_results_`` keeps the whole privacy/utility front. Leakage
    is measured by attacking the recorder's remembered training rows (members)
    against an equal number of held-out rows (non-members), with a
    :class:`MembershipInferenceAuditor`: ``min(n_members, held-out rows that
    are not training rows)`` of each. The default attack needs no reference
    models, so every grid point costs one pass over these rows; with
    ``n_references > 0``, reference models are trained with the grid point's
    own hyper-parameters on halves of the audited rows; they see fewer rows
    than the fold's model, so set ``n_members`` of the recorder large.

    A TPR at a false-positive rate ``f`` is only reported where at least
    ``10 / f`` non-members resolve it. The ``"tpr"`` leakage (a default) reads
    the TPR at the lowest FPR of the ladder 0.1%, 0.2%, 0.5%, 1%, 2%, 5%, 10%
    that ``n_members`` non-members resolve: ``n_members=1000`` (the
    recorder's default) gives 1%, ``n_members=600`` gives 2%, ``n_members=300``
    gives 5%. The FPR is chosen once for the search from ``n_members``, a
    parameter, so every fold and grid point reads the TPR at the same FPR
    (a mean over folds of TPRs at different FPRs would mean nothing); the
    scorer returns it as ``"mia_tpr_fpr"`` (``mean_test_mia_tpr_fpr`` in
    ``cv_results_``; scikit-learn also ranks that column, which means
    nothing). Set ``n_members`` a little below the held-out fold size (fold
    rows that duplicate training rows are left out): a fold with fewer
    non-members than the planned FPR needs gives a NaN TPR, with an
    :class:`~skprivacy.exceptions.UnresolvedMetricWarning` saying how many
    are needed.

    When at least ``max_overlap`` of the rows offered as non-members are
    training rows of the model, as in ``GridSearchCV(return_train_score=True)``,
    the leakage metrics are NaN, with a warning. A smaller share is taken for
    duplicate records in the data (real data sets have them): those rows are
    left out of the non-members.

    Parameters
    ----------
    attack : str or BaseMembershipAttack, default="loss"
        The attack, as in :class:`MembershipInferenceAuditor`; the label-only
        attacks (``"label_gap"``, ``"label_noise"``, ``"label_boundary"``)
        audit models that release labels only.
    utility : str, list of str or dict, default="accuracy"
        Utility metrics: scikit-learn scorer names, or a dict of names to
        scorers (names or callables).
    leakage : tuple of str, default=("auc", "advantage", "tpr")
        Leakage metrics: ``"auc"``, ``"advantage"``, ``"balanced_accuracy"``,
        ``"epsilon"`` (:func:`empirical_epsilon` with ``trials="one_run"``: a
        leakage statistic of one training run, with a
        :class:`~skprivacy.exceptions.DependentTrialsWarning`, not a guaranteed
        lower bound), ``"tpr"`` (the TPR at the FPR planned from the
        recorder's ``n_members``, above, returned with ``"mia_tpr_fpr"``) or
        ``"tpr@<x>%"`` (TPR at an FPR of exactly ``x`` percent). TPRs are read
        as :func:`tpr_at_fpr` reads them: tied scores at the threshold flagged
        at random, never below chance. ``"tpr@<x>%"`` needs at least
        ``1000 / x`` non-members audited per fold; with fewer it is NaN, with
        an :class:`~skprivacy.exceptions.UnresolvedMetricWarning`, and
        :func:`privacy_refit` refuses to choose on it.
    n_references : int, default=0
        Reference models trained per grid point and fold.
    max_overlap : float, default=0.5
        Share of offered rows found among the training rows from which they
        are taken to be training rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsamples and the attack. An int gives the same audit for
        the same model and rows.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> dict``.

    See Also
    --------
    AuditRecorder : The estimator wrapper the scorer audits.
    privacy_refit : Refit rule for the search.

    Examples
    --------
    With 600 rows and 3 folds, each fold holds out 200 rows: remembering
    ``n_members=200`` members per fold resolves a TPR at 5% FPR.

    >>> from sklearn.datasets import make_classification
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skprivacy.audit import AuditRecorder, make_privacy_scorer, privacy_refit
    >>> X, y = make_classification(600, 8, flip_y=0.2, random_state=0)
    >>> search = GridSearchCV(
    ...     AuditRecorder(
    ...         DecisionTreeClassifier(random_state=0), n_members=200, random_state=0
    ...     ),
    ...     {"estimator__max_depth": [2, None]},
    ...     scoring=make_privacy_scorer(random_state=0),
    ...     refit=privacy_refit(leakage="auc", max_leakage=0.55),
    ...     cv=3,
    ... ).fit(X, y)
    >>> (-search.cv_results_["mean_test_neg_mia_auc"]).round(2)
    array([0.5 , 0.61])
    >>> search.cv_results_["mean_test_mia_tpr_fpr"]
    array([0.05, 0.05])
    >>> (-search.cv_results_["mean_test_neg_mia_tpr"]).round(3)
    array([0.049, 0.065])
    >>> search.best_params_
    {'estimator__max_depth': 2}
    """
    leakage = (leakage,) if isinstance(leakage, str) else tuple(leakage)
    for name in leakage:
        _leakage_key(name)
    return _PrivacyScorer(
        attack, utility, leakage, n_references, max_overlap, random_state
    )


class _PrivacyRefit:
    """Callable ``refit(cv_results) -> best_index`` of :func:`privacy_refit`."""

    def __init__(self, utility, leakage, max_leakage, if_none_meets):
        self.utility = utility
        self.leakage = leakage
        self.max_leakage = max_leakage
        self.if_none_meets = if_none_meets

    def __repr__(self):
        return (
            f"privacy_refit(utility={self.utility!r}, leakage={self.leakage!r}, "
            f"max_leakage={self.max_leakage!r}, "
            f"if_none_meets={self.if_none_meets!r})"
        )

    def _check_scored(self, cv_results, keys):
        missing = [key for key in keys if key not in cv_results]
        if not missing:
            return
        # A scorer that raises is recorded by the search as one NaN "score"
        # per fold, with a "Scoring failed" warning: every candidate then has
        # only a NaN mean_test_score, and the error itself is gone.
        failed = (
            "mean_test_score" in cv_results
            and np.isnan(
                np.asarray(cv_results["mean_test_score"], dtype=np.float64)
            ).all()
        )
        if not failed:
            raise KeyError(
                f"cv_results_ has no {missing[0]!r}: score the search with "
                "make_privacy_scorer(...) giving this utility and leakage."
            )
        own = set(AuditRecorder().get_params())
        names = {name for params in cv_results.get("params", ()) for name in params}
        foreign = sorted(
            n for n in names if n not in own and not n.startswith("estimator__")
        )
        if foreign:
            why = (
                f"The searched estimator is not an AuditRecorder (it has the "
                f"parameter {foreign[0]!r}, which AuditRecorder lacks), and the "
                "privacy scorer audits an AuditRecorder only. Search over "
                "AuditRecorder(your_estimator) and prefix the parameters with "
                f"'estimator__' (e.g. 'estimator__{foreign[0]}')."
            )
        else:
            why = (
                "See the search's 'Scoring failed' warnings, or set "
                "error_score='raise' on the search to raise the scorer's error "
                "(the privacy scorer raises, for one, on an estimator that is "
                "not an AuditRecorder)."
            )
        raise ValueError(
            "Every fold's scoring failed: cv_results_ has no "
            f"{missing[0]!r}, only a NaN 'mean_test_score', which GridSearchCV "
            f"records for a scorer that raised. {why}"
        )

    def _unknown_error(self, cv_results, unknown):
        # A candidate whose leakage is unknown may be the leaky one: choosing
        # among the others, or calling it private, would both be guesses.
        match = _TPR.match(self.leakage)
        if match:
            fpr = float(match.group(1)) / 100
            why = (
                f"a TPR at {match.group(1)}% FPR needs at least "
                f"{int(np.ceil(10 / fpr))} non-members audited per fold "
                "(min(held-out rows, n_members of the AuditRecorder)): use "
                "larger folds (fewer splits, more data) and n_members, or a "
                "leakage metric such as 'auc', or 'tpr' (read at an FPR that "
                "n_members resolve)"
            )
        elif self.leakage == "tpr":
            why = (
                "the TPR at the FPR planned from n_members (mean_test_"
                f"{_TPR_FPR_KEY}) needs at least 10 / FPR non-members audited per "
                "fold: keep n_members of the AuditRecorder a little below the "
                "held-out fold size (see the scorer's warnings)"
            )
        else:
            why = (
                "see the scorer's warnings (training rows offered as "
                "non-members give NaN)"
            )
        return ValueError(
            f"The mean {self.leakage} leakage is NaN for candidate(s) "
            f"{unknown.tolist()}, so privacy_refit cannot tell which settings "
            f"keep {self.leakage} <= {self.max_leakage:g}: {why}."
        )

    def __call__(self, cv_results):
        utility_key = f"mean_test_{self.utility}"
        leakage_key = f"mean_test_{_leakage_key(self.leakage)}"
        self._check_scored(cv_results, (utility_key, leakage_key))
        utility = np.asarray(cv_results[utility_key], dtype=np.float64)
        leak = -np.asarray(cv_results[leakage_key], dtype=np.float64)
        unknown = np.flatnonzero(np.isnan(leak))
        if unknown.size:
            raise self._unknown_error(cv_results, unknown)
        if self.leakage == "tpr":
            # Means over folds of one FPR differ from it by rounding only.
            fprs = np.unique(
                np.round(cv_results.get(f"mean_test_{_TPR_FPR_KEY}", []), 12)
            )
            if fprs.size > 1:
                raise ValueError(
                    f"The candidates read the TPR at different FPRs {fprs.tolist()} "
                    "(n_members of the AuditRecorder differs between them): "
                    "their TPRs cannot be compared. Keep n_members fixed."
                )
        valid = np.isfinite(utility) & np.isfinite(leak)
        allowed = valid & (leak <= self.max_leakage)
        if not allowed.any():
            if not valid.any():
                raise ValueError("No candidate has finite utility and leakage.")
            best = int(np.flatnonzero(valid)[np.argmin(leak[valid])])
            params = cv_results.get("params")
            least = f"candidate {best}" + (
                f" {params[best]}" if params is not None else ""
            )
            message = (
                f"No candidate keeps {self.leakage} <= {self.max_leakage:g}; the "
                f"least leaky is {least} ({self.leakage} = {leak[best]:.4g})"
            )
            if self.if_none_meets == "raise":
                raise ValueError(f"{message}.")
            warnings.warn(f"{message}: refitting it.", UserWarning, stacklevel=2)
            return best
        # Best utility; ties go to lower leakage, then to the first candidate.
        order = np.lexsort((leak[allowed], -utility[allowed]))
        return int(np.flatnonzero(allowed)[order[0]])


@validate_params(
    {
        "utility": [str],
        "leakage": [str],
        "max_leakage": [Interval(Real, None, None, closed="neither"), None],
        "if_none_meets": [StrOptions({"least_leaky", "raise"})],
    },
    prefer_skip_nested_validation=True,
)
def privacy_refit(
    *,
    utility: str = "accuracy",
    leakage: str = "auc",
    max_leakage: float | None = None,
    if_none_meets: str = "least_leaky",
):
    """Refit rule: the best mean utility among settings under a leakage cap.

    For ``GridSearchCV(refit=privacy_refit(...))`` with a scorer from
    :func:`make_privacy_scorer`: among the candidates whose mean leakage
    ``-mean_test_neg_mia_<leakage>`` is at most ``max_leakage``, it returns the
    index with the highest ``mean_test_<utility>`` (ties: lower leakage first).
    When none meets the cap, it warns and returns the least leaky candidate,
    or raises with ``if_none_meets="raise"``.
    A candidate with NaN utility is never chosen; a NaN leakage (a TPR at an
    FPR the folds' non-members cannot resolve, or training rows offered as
    non-members) raises a ValueError saying what the metric needs, since a
    setting whose leakage is unknown can be neither ruled in nor out. When
    every fold's scoring failed (the search then records only a NaN
    ``mean_test_score``), the error says so, and names the usual cause: an
    estimator not wrapped in :class:`AuditRecorder`.

    Parameters
    ----------
    utility : str, default="accuracy"
        Utility key of the scorer.
    leakage : str, default="auc"
        Leakage metric, as in :func:`make_privacy_scorer` (e.g. ``"tpr"`` or
        ``"tpr@1%"``).
    max_leakage : float, default=None
        The cap on the mean leakage, in the metric's own units (not negated).
        ``None`` means 0.55 for ``leakage="auc"`` (chance is 0.5) and is an
        error for every other metric, whose scale differs (an advantage of
        0.55 or a TPR of 55% would be no cap at all): give it explicitly.
    if_none_meets : {"least_leaky", "raise"}, default="least_leaky"
        When no candidate meets the cap: refit the least leaky one, with a
        warning, or raise a ValueError.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    See Also
    --------
    make_privacy_scorer : The scorer giving the leakage columns.

    Examples
    --------
    >>> from skprivacy.audit import privacy_refit
    >>> cv_results = {
    ...     "mean_test_accuracy": [0.90, 0.86, 0.84],
    ...     "mean_test_neg_mia_auc": [-0.70, -0.54, -0.51],
    ...     "mean_test_neg_mia_advantage": [-0.30, -0.08, -0.02],
    ... }
    >>> privacy_refit(leakage="auc", max_leakage=0.55)(cv_results)
    1
    >>> privacy_refit(leakage="advantage", max_leakage=0.05)(cv_results)
    2
    """
    _leakage_key(leakage)
    if max_leakage is None:
        if leakage != "auc":
            raise ValueError(
                f"privacy_refit(leakage={leakage!r}) needs an explicit "
                "max_leakage in that metric's units: the default cap, 0.55, is "
                "an attack AUC (chance 0.5) and would mean something else for "
                f"{leakage!r} (for an advantage, chance is 0; for a TPR at FPR f, "
                "chance is f)."
            )
        max_leakage = 0.55
    return _PrivacyRefit(utility, leakage, max_leakage, if_none_meets)
