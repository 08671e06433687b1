"""MembershipInferenceAuditor: membership attacks behind one estimator."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import math
import sys
import warnings
from contextlib import nullcontext
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples, check_is_fitted, check_memory

from skprivacy.audit._attacks import ATTACKS, LABEL_ONLY_ATTACKS, ReferenceSignals
from skprivacy.audit._metrics import membership_p_values, tpr_at_fpr
from skprivacy.audit._references import (
    aligned_log_proba,
    balanced_keep_matrix,
    fit_reference,
    train_references,
)
from skprivacy.audit._signals import class_indices, has_probabilities, log_proba
from skprivacy.exceptions import SmallSampleWarning
from skprivacy.utils import spawn_generators, spawn_seeds
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
)

# Fewest records of each class a reference's training half must hold.
_MIN_PER_CLASS = 2
# Records per call of a query attack (its perturbed copies are made at once).
_QUERY_CHUNK = 1024


def _resolve_attack(attack):
    if isinstance(attack, str):
        return ATTACKS[attack]()
    return clone(attack)


def _attack_is_likelihood_ratio(auditor):
    attack = getattr(auditor, "attack_", None) or _resolve_attack(auditor.attack)
    return bool(attack.is_likelihood_ratio)


def _needs_queries(attack):
    return bool(getattr(attack, "needs_queries", False))


def _needs_probabilities(attack):
    return not _needs_queries(attack) or attack.query_output != "labels"


def _final_estimator(estimator):
    """The model behind frozen wrappers and pipelines, for its release contract."""
    while isinstance(estimator, (FrozenEstimator, Pipeline)):
        estimator = (
            estimator.estimator
            if isinstance(estimator, FrozenEstimator)
            else estimator[-1]
        )
    return estimator


def _torch_rng_guard():
    # torch's DataLoader draws from the global generator even at inference.
    if "torch" in sys.modules:
        import torch

        return torch.random.fork_rng(devices=[])
    return nullcontext()


def _check_X_y(X, y):
    n_X, n_y = _num_samples(X), _num_samples(y)
    if n_X != n_y:
        raise ValueError(
            f"X has {n_X} records but y has {n_y} labels; pass one true class label "
            "per record (y[i] is the label of X[i])."
        )
    return np.asarray(y)


def _row_keys(X, y):
    """A digest of each (record, label) pair, to find records in the pool."""
    y = np.asarray(y)
    if hasattr(X, "iloc"):
        import pandas as pd

        rows = pd.util.hash_pandas_object(X, index=False).to_numpy()
        rows = [row.tobytes() for row in rows]
    elif hasattr(X, "toarray"):
        rows = [X[i].toarray().tobytes() for i in range(X.shape[0])]
    else:
        array = np.asarray(X)
        if array.dtype == object:
            rows = [repr(tuple(row)).encode() for row in array]
        else:
            # One dtype, so float32 and float64 copies of a record match.
            dtype = np.float64 if array.dtype.kind in "biuf" else array.dtype
            array = np.ascontiguousarray(array.reshape(len(array), -1), dtype=dtype)
            rows = [row.tobytes() for row in array]
    return [
        hashlib.blake2b(row + repr(label).encode(), digest_size=16).digest()
        for row, label in zip(rows, y.tolist(), strict=True)
    ]


class MembershipInferenceAuditor(MetaEstimatorMixin, BaseEstimator):
    """Audit a fitted classifier with membership-inference attacks.

    The auditor trains reference models with the target's own training recipe
    on random halves of a pool of records (``fit``), then scores records
    ``(X, y)`` by how likely they were in the target's training set
    (``decision_function``), decides membership at a false-positive rate
    ``target_fpr`` set without the target's membership labels (``predict``), and
    measures the attack against true memberships (``score``, ``audit``).

    The decision threshold is an order statistic of the scores of known
    non-members: the target's scores on population records when
    ``X_population`` is given to ``fit`` (then, for a fresh non-member
    exchangeable with the population, ``P(predict = 1) <= target_fpr``
    whatever the score distribution), otherwise the scores of each reference
    model, attacked with the others, on the records it did not train on.

    Because its methods take records *and* their labels, ``(X, y)``, the
    auditor is not a classifier of ``X``; it follows the rest of scikit-learn's
    conventions (``clone``, ``get_params``, pickling, ``random_state``).

    Parameters
    ----------
    target : fitted classifier
        The model under audit, usually wrapped in
        :class:`~sklearn.frozen.FrozenEstimator` so that it stays fitted through
        :func:`~sklearn.base.clone`. Any classifier with ``predict_proba`` (a
        Pipeline, a skorch net, ...); logits are used where available.
    attack : str or BaseMembershipAttack, default="rmia"
        ``"loss"`` (:class:`LossAttack`), ``"population"``
        (:class:`PopulationAttack`), ``"mentr"`` (:class:`EntropyAttack`),
        ``"reference"`` (:class:`ReferenceAttack`), ``"shadow"``
        (:class:`ShadowModelAttack`), ``"lira"`` / ``"lira_offline"``
        (:class:`LiRA`), ``"rmia"`` / ``"rmia_online"`` (:class:`RMIA`),
        ``"bavaria"`` / ``"bavaria_offline"`` (:class:`BaVarIA`, for few
        references), ``"quantile"`` (:class:`QuantileRegressionAttack`, no
        references, needs population records), or an attack object (see
        :class:`BaseMembershipAttack` to write your own).
        Query attacks query the target on inputs of their choosing (see
        :class:`BaseQueryAttack`): ``"perturbation"`` /
        ``"perturbation_lrt"`` (:class:`PerturbationAttack`) and the
        label-only attacks, which need only the target's ``predict``:
        ``"label_gap"`` (:class:`GapAttack`), ``"label_noise"``
        (:class:`LabelNoiseAttack`) and ``"label_boundary"``
        (:class:`BoundaryDistanceAttack`). Query attacks need numeric records.
    release : {"auto", "proba", "labels"}, default="auto"
        What the deployed target releases. ``"labels"``: only its ``predict``
        (any output that is not a class, such as an abstention, is a distinct
        answer, never correct), so only label-only attacks apply.
        ``"proba"``: its probabilities too. ``"auto"`` means ``"labels"`` for
        targets without ``predict_proba`` and for abstaining models (a
        :class:`~skprivacy.certify.SmoothedClassifier` with ``abstain=True``),
        ``"proba"`` otherwise.
    estimator : estimator, default=None
        Unfitted training recipe of the reference models. ``None`` uses the
        target's: an unfitted clone of the model a ``FrozenEstimator`` wraps, or
        of the target itself. References must be trained exactly like the
        target (same epochs and settings) for the attacks to be faithful.
    n_references : int, default=4
        Number of reference (shadow) models.
    target_fpr : float, default=0.01
        False-positive rate of ``predict`` on non-members.
    prior : float, default=0.5
        Prior probability of membership for ``predict_proba``.
    n_jobs : int, default=None
        Reference models trained in parallel (joblib; a Dask cluster through
        :func:`joblib.parallel_config`).
    memory : str or joblib.Memory, default=None
        Cache of fitted reference models.
    verbose : int, default=0
        Show a progress bar while references train.
    random_state : int, RandomState instance or None, default=None
        Seeds the split of the pool and every reference.

    Attributes
    ----------
    attack_ : BaseMembershipAttack
        The fitted attack.
    classes_ : ndarray
        The target's classes.
    estimators_ : list of estimators
        The fitted reference models.
    reference_membership_ : ndarray of shape (n_references, n_pool), bool
        Which pool records each reference trained on.
    reference_log_proba_ : ndarray of shape (n_references, n_pool, n_classes)
        Log-probabilities of each reference on the pool.
    reference_accuracy_ : ndarray of shape (n_references, 2)
        Accuracy of each reference on its training half and on the rest.
    calibration_ : {"population", "references"}
        Where the non-member scores that set the threshold came from.
    null_scores_ : ndarray
        Those non-member scores, for records outside the pool.
    pool_null_scores_ : ndarray
        Non-member scores for records of the pool (scored against only the
        references that left them out).
    offset_ : float
        Decision threshold for records outside the pool:
        ``decision_function = score_samples - offset_``.
    pool_offset_ : float
        Decision threshold for records of the pool.
    seeds_ : dict
        The seeds drawn from ``random_state`` (pool split, attack, each
        reference, and the perturbations of query attacks), recorded so that
        an audit can be reproduced.
    reference_signals_ : ndarray of shape (n_references, n_pool, n_signals)
        Query attacks only: the attack's signals under each reference, in
        place of ``reference_log_proba_``.
    feature_scale_ : ndarray of shape (n_features,)
        Query attacks only: the standard deviation of each feature on the
        pool (1 for constant features), the unit of perturbations.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.frozen import FrozenEstimator
    >>> from skprivacy import MembershipInferenceAuditor
    >>> X, y = make_classification(1200, 10, random_state=0)
    >>> target = RandomForestClassifier(50, random_state=0).fit(X[:300], y[:300])
    >>> auditor = MembershipInferenceAuditor(
    ...     FrozenEstimator(target), attack="loss", random_state=0
    ... ).fit(X[:600], y[:600], X_population=X[600:], y_population=y[600:])
    >>> membership = [1] * 300 + [0] * 300
    >>> report = auditor.audit(X[:600], y[:600], membership)
    >>> bool(report.metrics["auc"] > 0.6)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "target": [HasMethods(["predict"])],
        "attack": [
            StrOptions(set(ATTACKS)),
            HasMethods(["fit", "score_samples", "null_scores"]),
        ],
        "release": [StrOptions({"auto", "proba", "labels"})],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_references": [Interval(Integral, 0, None, closed="left")],
        "target_fpr": [Interval(Real, 0, 1, closed="neither")],
        "prior": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Integral, None],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        target,
        *,
        attack="rmia",
        release="auto",
        estimator=None,
        n_references=4,
        target_fpr=0.01,
        prior=0.5,
        n_jobs=None,
        memory=None,
        verbose=0,
        random_state=None,
    ):
        self.target = target
        self.attack = attack
        self.release = release
        self.estimator = estimator
        self.n_references = n_references
        self.target_fpr = target_fpr
        self.prior = prior
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        target_tags = get_tags(self.target)
        tags.input_tags.sparse = target_tags.input_tags.sparse
        tags.input_tags.allow_nan = target_tags.input_tags.allow_nan
        return tags

    def _get_recipe(self):
        if self.estimator is not None:
            if isinstance(self.estimator, FrozenEstimator):
                raise ValueError(
                    "estimator is a FrozenEstimator: every reference model would be "
                    "the target itself. Pass the unfitted training recipe, e.g. "
                    "estimator=MLPClassifier(...), or None to use the target's."
                )
            return self.estimator
        if isinstance(self.target, FrozenEstimator):
            return clone(self.target.estimator)
        return clone(self.target)

    def _check_target(self):
        try:
            check_is_fitted(self.target)
        except NotFittedError as exc:
            raise NotFittedError(
                f"The target {type(self.target).__name__} is not fitted. Fit the model "
                "you want to audit first and pass it as "
                "target=FrozenEstimator(fitted_model)."
            ) from exc
        return np.asarray(self.target.classes_)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_population=None, y_population=None):
        """Train reference models on the pool and set the decision threshold.

        Parameters
        ----------
        X : array-like of shape (n_pool, n_features)
            Pool of records from the target's data distribution. Each reference
            trains on a random half; online attacks (``"lira"``,
            ``"rmia_online"``) need every record they will score in the pool.
            For references trained like the target, the pool should be about
            twice the target's training set.
        y : array-like of shape (n_pool,)
            True class labels of the pool.
        X_population : array-like of shape (n_population, n_features), default=None
            Records known to be non-members of the target (never used by the
            references either). When given, the threshold of ``predict`` is
            calibrated on them (distribution-free guarantee); required by
            ``"population"``.
        y_population : array-like of shape (n_population,), default=None
            Their labels.

        Returns
        -------
        self : MembershipInferenceAuditor
        """
        self.classes_ = self._check_target()
        y = _check_X_y(X, y)
        y_idx = class_indices(self.classes_, y)
        attack = _resolve_attack(self.attack)
        self._check_release(attack)
        M = self.n_references
        if M < attack.min_references:
            raise ValueError(
                f"{type(attack).__name__} needs at least {attack.min_references} "
                f"reference models; got n_references={M}. Increase n_references."
            )
        if attack.needs_population and X_population is None:
            raise ValueError(
                f"{type(attack).__name__} needs population records (non-members of "
                "the target): pass X_population and y_population to fit."
            )
        if (X_population is None) != (y_population is None):
            raise ValueError("Pass both X_population and y_population, or neither.")

        split_seed, attack_seed, *ref_seeds = spawn_seeds(self.random_state, M + 2)
        self.seeds_ = {
            "split": split_seed,
            "attack": attack_seed,
            "references": ref_seeds,
        }
        (rng,) = spawn_generators(split_seed, 1)
        n_pool = _num_samples(X)
        keep = balanced_keep_matrix(M, n_pool, rng)
        self._check_pool(keep, y_idx)

        if _needs_queries(attack):
            signals = self._fit_queries(
                attack, X, y, y_idx, keep, ref_seeds, X_population, y_population
            )
        elif M > 0:
            self.estimators_, lp, self.reference_accuracy_ = train_references(
                self._get_recipe(),
                X,
                y,
                keep,
                ref_seeds,
                classes=self.classes_,
                n_jobs=self.n_jobs,
                memory=check_memory(self.memory) if self.memory is not None else None,
                verbose=self.verbose,
            )
        else:
            self.estimators_ = []
            lp = np.zeros((0, n_pool, len(self.classes_)))
            self.reference_accuracy_ = np.zeros((0, 2))
        self.reference_membership_ = keep
        self._pool_index = {key: i for i, key in enumerate(_row_keys(X, y))}

        if not _needs_queries(attack):
            self.reference_log_proba_ = lp
            signals = ReferenceSignals(lp, keep, y_idx, random_state=attack_seed)
            if X_population is not None:
                y_pop = _check_X_y(X_population, y_population)
                signals.population_y = class_indices(self.classes_, y_pop)
                signals.population_log_proba = log_proba(self.target, X_population)
                signals.population_reference_log_proba = self._reference_log_proba(
                    X_population
                )
        self.attack_ = attack.fit(signals)

        if X_population is not None and not attack.needs_in_references:
            self.null_scores_, self.pool_null_scores_ = self._population_null(
                signals, rng
            )
            self.calibration_ = "population"
        elif M >= self._references_to_calibrate(attack):
            self.null_scores_ = self.attack_.null_scores(signals)
            self.pool_null_scores_ = self.null_scores_
            self.calibration_ = "references"
        else:
            raise ValueError(
                f"Setting the decision threshold of {type(attack).__name__} needs "
                "known non-members: pass X_population and y_population to fit, or "
                f"use at least {self._references_to_calibrate(attack)} references."
            )
        self.offset_ = self._order_statistic(self.null_scores_)
        self.pool_offset_ = self._order_statistic(self.pool_null_scores_)
        return self

    def _release_kind(self):
        if self.release != "auto":
            return self.release
        final = _final_estimator(self.target)
        abstains = getattr(final, "abstain", False) is True and hasattr(
            final, "abstain_label_"
        )
        if not has_probabilities(self.target) or abstains:
            return "labels"
        return "proba"

    def _check_release(self, attack):
        name = type(attack).__name__
        if self.release == "proba" and not has_probabilities(self.target):
            raise ValueError(
                f"release='proba' but the target {type(self.target).__name__} has no "
                "predict_proba. Use release='labels' (or 'auto') with a label-only "
                f"attack: {', '.join(map(repr, LABEL_ONLY_ATTACKS))}."
            )
        if _needs_probabilities(attack) and self._release_kind() == "labels":
            raise ValueError(
                f"The attack {name} needs predicted probabilities, but the target "
                f"{type(self.target).__name__} releases labels only (it has no "
                "predict_proba, it abstains, or release='labels'). Use a label-only "
                f"attack: attack={' | '.join(map(repr, LABEL_ONLY_ATTACKS))} "
                "(GapAttack, LabelNoiseAttack, BoundaryDistanceAttack); pass "
                "release='proba' if its probabilities are released too."
            )

    # ------------------------------------------------------------ query attacks
    def _numeric(self, X):
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

    def _query(self, estimator, output, reference=False):
        """The query function of ``estimator`` (see :class:`BaseQueryAttack`)."""
        classes = self.classes_
        names = getattr(self, "_feature_names", None)

        def as_input(rows):
            if names is None:
                return rows
            import pandas as pd

            return pd.DataFrame(rows, columns=names)

        if output == "log_proba":

            def query(rows):
                if reference:
                    return aligned_log_proba(estimator, as_input(rows), classes)
                return log_proba(estimator, as_input(rows))

            return query

        def query(rows):
            with _torch_rng_guard():
                labels = np.asarray(estimator.predict(as_input(rows)))
            idx = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
            known = classes[idx] == labels
            # Any other answer (an abstention) is a distinct output, never correct.
            return np.where(known, idx, -1)

        return query

    def _fit_queries(self, attack, X, y, y_idx, keep, ref_seeds, X_pop, y_pop):
        """Reference models and the attack's signals for a query attack."""
        self._feature_names = list(X.columns) if hasattr(X, "columns") else None
        self.attack_ = attack
        Xn = self._numeric(X)
        scale = Xn.std(axis=0)
        self.feature_scale_ = np.where(scale > 0, scale, 1.0)
        (self.seeds_["queries"],) = spawn_seeds(self.seeds_["attack"], 1)
        attack.prepare(
            self._query(self.target, attack.query_output),
            Xn,
            y_idx,
            scale=self.feature_scale_,
            random_state=self.seeds_["queries"],
        )
        fit = fit_reference
        if self.memory is not None:
            fit = check_memory(self.memory).cache(fit_reference)
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(fit)(self._get_recipe(), X, y, np.flatnonzero(row), seed)
            for row, seed in zip(keep, ref_seeds, strict=True)
        )
        if self.verbose:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(ref_seeds), desc="reference models")
        self.estimators_ = list(results)
        accuracy = []
        for est, row in zip(self.estimators_, keep, strict=True):
            correct = self._query(est, "labels")(Xn) == y_idx
            accuracy.append([correct[row].mean(), correct[~row].mean()])
        self.reference_accuracy_ = np.array(accuracy).reshape(len(keep), 2)
        self.reference_signals_ = self._reference_signals(Xn, y_idx)
        signals = ReferenceSignals(
            self.reference_signals_, keep, y_idx, random_state=self.seeds_["attack"]
        )
        if X_pop is not None:
            z = class_indices(self.classes_, _check_X_y(X_pop, y_pop))
            Zn = self._numeric(X_pop)
            signals.population_y = z
            signals.population_log_proba = self._target_signal(Zn, z)
            signals.population_reference_log_proba = self._reference_signals(Zn, z)
        return signals

    def _signal(self, query, Xn, y_idx):
        """The attack's signals, in chunks of rows so perturbed copies fit in
        memory (the built-in attacks key each record's noise on the record, so
        chunks do not change the result)."""
        return np.concatenate(
            [
                self.attack_.query_signal(
                    query,
                    Xn[start : start + _QUERY_CHUNK],
                    y_idx[start : start + _QUERY_CHUNK],
                    scale=self.feature_scale_,
                    random_state=self.seeds_["queries"],
                )
                for start in range(0, max(len(y_idx), 1), _QUERY_CHUNK)
            ]
        )

    def _target_signal(self, Xn, y_idx):
        return self._signal(
            self._query(self.target, self.attack_.query_output), Xn, y_idx
        )

    def _reference_signals(self, Xn, y_idx):
        output = self.attack_.query_output
        signals = [
            self._signal(self._query(est, output, reference=True), Xn, y_idx)
            for est in self.estimators_
        ]
        if not signals:
            width = self._target_signal(Xn[:1], y_idx[:1]).shape[1]
            return np.zeros((0, len(y_idx), width))
        return np.stack(signals)

    def _population_null(self, signals, rng):
        """Attack scores of the population, scored as fresh and as pool records.

        A record outside the pool is scored against all ``M`` references, a
        pool record only against those that left it out (about ``M / 2``): the
        two scores have different distributions, so each gets its own null.
        For the pool-like null, each population record leaves out a random
        set of references drawn like a column of the keep matrix.
        """
        lp, refs, z = (
            signals.population_log_proba,
            signals.population_reference_log_proba,
            signals.population_y,
        )
        M = signals.n_references
        fresh = self.attack_.score_samples(lp, z, refs, np.zeros((M, len(z)), bool))
        if M < 2:
            # With one reference, pool records it trained on cannot be scored
            # by reference-based attacks at all; the others are scored as fresh.
            return fresh, fresh
        excluded = balanced_keep_matrix(M, len(z), rng)
        pool_like = np.empty(len(z))
        patterns, group = np.unique(excluded, axis=1, return_inverse=True)
        for g, pattern in enumerate(patterns.T):
            rows = group == g
            pool_like[rows] = self.attack_.score_samples(
                lp[rows],
                z[rows],
                refs[~pattern][:, rows],
                np.zeros(((~pattern).sum(), rows.sum()), bool),
            )
        return fresh, pool_like

    @staticmethod
    def _references_to_calibrate(attack):
        needed = attack.min_references_to_calibrate
        if needed is None:
            needed = 1 if attack.min_references == 0 else 4
        return max(needed, attack.min_references)

    def _check_pool(self, keep, y_idx):
        n_classes = len(self.classes_)
        for j, row in enumerate(keep):
            counts = np.bincount(y_idx[row], minlength=n_classes)
            if counts.min() < _MIN_PER_CLASS:
                raise ValueError(
                    f"The pool ({len(y_idx)} records) is too small for "
                    f"{len(keep)} reference models: reference {j}'s training half "
                    f"holds {counts.min()} record(s) of class "
                    f"{self.classes_[counts.argmin()]!r}. Pass a larger pool (each "
                    "reference trains on about half of it)."
                )

    def _order_statistic(self, null):
        # With k = ceil((1 - alpha)(n + 1)), a fresh exchangeable non-member
        # exceeds the k-th smallest of n null scores with probability
        # (n + 1 - k) / (n + 1) <= alpha (Vovk et al. 2005), ties only lower it.
        n = len(null)
        k = math.ceil((1 - self.target_fpr) * (n + 1))
        if k > n:
            warnings.warn(
                f"{n} non-member scores cannot set a threshold at target_fpr="
                f"{self.target_fpr:g} (need at least "
                f"{math.ceil(1 / self.target_fpr) - 1}); predict will flag no "
                "record. Pass more population records or references.",
                SmallSampleWarning,
                stacklevel=3,
            )
            return np.inf
        return float(np.sort(null)[k - 1])

    def _reference_log_proba(self, X):
        if not self.estimators_:
            return np.zeros((0, _num_samples(X), len(self.classes_)))
        return np.stack(
            [aligned_log_proba(est, X, self.classes_) for est in self.estimators_]
        )

    def _reference_view(self, X, y, y_idx, Xn=None):
        """References' outputs on X (log-probabilities, or the signals of a query
        attack), which of them trained on it, and which records are in the pool."""
        M, n = len(self.estimators_), _num_samples(X)
        membership = np.zeros((M, n), dtype=bool)
        index = np.array([self._pool_index.get(k, -1) for k in _row_keys(X, y)])
        found = index >= 0
        queries = Xn is not None
        table = self.reference_signals_ if queries else self.reference_log_proba_
        if M == 0:
            return np.zeros((0, n, table.shape[2])), membership, found
        out = np.empty((M, n, table.shape[2]))
        out[:, found] = table[:, index[found]]
        membership[:, found] = self.reference_membership_[:, index[found]]
        if not found.all():
            rest = np.flatnonzero(~found)
            out[:, ~found] = (
                self._reference_signals(Xn[rest], y_idx[rest])
                if queries
                else self._reference_log_proba(_safe_indexing(X, rest))
            )
        return out, membership, found

    def _scores(self, X, y):
        check_is_fitted(self)
        y_idx = class_indices(self.classes_, _check_X_y(X, y))
        if _needs_queries(self.attack_):
            Xn = self._numeric(X)
            refs, membership, in_pool = self._reference_view(X, y, y_idx, Xn)
            target = self._target_signal(Xn, y_idx)
        else:
            refs, membership, in_pool = self._reference_view(X, y, y_idx)
            target = log_proba(self.target, X)
        scores = self.attack_.score_samples(target, y_idx, refs, membership)
        return scores, in_pool

    def score_samples(self, X, y):
        """Raw membership scores of records, higher for likely members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._scores(X, y)[0]

    def decision_function(self, X, y):
        """Membership scores shifted so that positive means "member".

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X, y)`` minus ``pool_offset_`` for records of the
            pool and ``offset_`` for others.
        """
        scores, in_pool = self._scores(X, y)
        return scores - np.where(in_pool, self.pool_offset_, self.offset_)

    def p_values(self, X, y):
        """Per-record p-values of the hypothesis "this record is a non-member".

        Conformal p-values against the non-member scores that set the threshold
        (see :func:`membership_p_values`); small values flag exposed records.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.

        Returns
        -------
        p_values : ndarray of shape (n_samples,)
        """
        scores, in_pool = self._scores(X, y)
        return np.where(
            in_pool,
            membership_p_values(scores, self.pool_null_scores_),
            membership_p_values(scores, self.null_scores_),
        )

    def predict(self, X, y):
        """Membership decisions at false-positive rate ``target_fpr``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.

        Returns
        -------
        membership : ndarray of shape (n_samples,)
            1 for predicted members, 0 otherwise.
        """
        return (self.decision_function(X, y) > 0).astype(int)

    @available_if(_attack_is_likelihood_ratio)
    def predict_proba(self, X, y):
        """Posterior membership probabilities of a likelihood-ratio attack.

        ``P(member | x) = sigmoid(log_LR(x) + logit(prior))`` by Bayes' rule.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Probabilities of non-member (column 0) and member (column 1).
        """
        p = expit(self.score_samples(X, y) + logit(self.prior))
        return np.column_stack([1 - p, p])

    def score(self, X, y, membership):
        """True-positive rate at ``target_fpr`` against true memberships.

        The ROC curve of the scores on these records is used (never
        interpolated; see :func:`tpr_at_fpr`); greater means a stronger attack.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.
        membership : array-like of shape (n_samples,)
            1 for members of the target's training set, 0 otherwise.

        Returns
        -------
        tpr : float
        """
        return tpr_at_fpr(membership, self.score_samples(X, y), self.target_fpr)

    def audit(
        self,
        X,
        y,
        membership,
        *,
        groups=None,
        n_resamples=200,
        confidence=0.95,
    ):
        """Attack the records and report every metric, slice and record.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Records.
        y : array-like of shape (n_samples,)
            Their true class labels.
        membership : array-like of shape (n_samples,)
            1 for members of the target's training set, 0 otherwise.
        groups : array-like of shape (n_samples,), default=None
            A user-given slice of each record (e.g. a sensitive attribute).
        n_resamples : int, default=200
            Bootstrap resamples for confidence intervals.
        confidence : float, default=0.95
            Coverage of intervals and of the epsilon lower bound.

        Returns
        -------
        report : AuditReport
        """
        from skprivacy.audit._report import AuditReport

        scores, in_pool = self._scores(X, y)
        offsets = np.where(in_pool, self.pool_offset_, self.offset_)
        return AuditReport.from_predictions(
            membership,
            scores,
            attack=type(self.attack_).__name__,
            p_values=self.p_values(X, y),
            predicted=(scores > offsets).astype(int),
            target_fpr=self.target_fpr,
            prior=self.prior,
            random_state=self.seeds_["attack"],
            params={
                **self.get_params(deep=False),
                "attack_": self.attack_,
                "calibration_": self.calibration_,
            },
            seeds={"random_state": self.random_state, **self.seeds_},
            y=np.asarray(y),
            groups=groups,
            n_resamples=n_resamples,
            confidence=confidence,
        )
