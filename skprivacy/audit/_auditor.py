"""MembershipInferenceAuditor: membership attacks behind one estimator."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import joblib
import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_samples, check_is_fitted, check_memory

from skprivacy.audit._attacks import ATTACKS, LABEL_ONLY_ATTACKS, ReferenceSignals
from skprivacy.audit._attacks._query import SignalExtractor, numeric_records
from skprivacy.audit._metrics import tpr_at_fpr
from skprivacy.audit._references import (
    ReferenceOutputs,
    balanced_keep_matrix,
    train_reference_outputs,
)
from skprivacy.audit._signals import class_indices, has_probabilities
from skprivacy.audit._significance import membership_p_values
from skprivacy.audit._validation import attack_name, check_X_y, resolve_attack
from skprivacy.exceptions import (
    DataOverlapWarning,
    ReferenceCalibrationWarning,
    SmallSampleWarning,
)
from skprivacy.utils import as_seed_sequence, spawn_generators, spawn_seeds
from skprivacy.utils._arrays import concat_rows
from skprivacy.utils._estimators import unwrap_estimator
from skprivacy.utils._hashing import keyed_uniforms, row_digests
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
)

# Fewest records of each class a reference's training half must hold.
_MIN_PER_CLASS = 2


def _attack_is_likelihood_ratio(auditor):
    attack = getattr(auditor, "attack_", None) or resolve_attack(auditor.attack)
    return bool(attack.is_likelihood_ratio)


def _n_columns(X):
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2:
        return shape[1]
    return np.asarray(X).reshape(_num_samples(X), -1).shape[1]


def _rows(records, index, attack):
    """Rows ``index`` of records as the attack's signal step reads them."""
    return records[index] if attack.perturbs_records else _safe_indexing(records, index)


def _group_index(keys):
    """Index of each record's content among the distinct contents, in order."""
    first = {}
    return np.array([first.setdefault(k, len(first)) for k in keys], dtype=np.intp)


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
    ``X_population`` is given to ``fit`` (then, for a non-member exchangeable
    with the population, ``P(predict = 1) = target_fpr`` up to ``1 / (n + 1)``
    for ``n`` population records, whatever the score distribution: records
    whose score ties the threshold are flagged at random, with a seeded draw
    keyed on the record, so discrete scores reach the rate too). Online
    attacks (``"lira"``, ``"rmia_online"``) score a record against references
    that trained on it, so with a population their references train on
    random halves of the pool *and* the population, and the population is
    scored exactly like a pool record. Without a population, the threshold
    comes from each reference model, attacked with the others, on the records
    it did not train on: ``target_fpr`` then holds for a target exchangeable
    with the references (trained by the same recipe on a random half of the
    pool), not for any target, and the methods that use the threshold or the
    p-values (``predict``, ``decision_function``, ``p_values``, ``audit``)
    say so with a :class:`~skprivacy.exceptions.ReferenceCalibrationWarning`.

    Records are recognised by value (see ``fit``): the pool's records can be
    scored from a DataFrame, its ``to_numpy()`` copy or a copy with integer
    columns cast to float alike.

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
        Cache of each reference's outputs (and model, with ``keep_models``),
        one reference at a time: an interrupted ``fit`` resumes where it
        stopped, and a larger ``n_references`` trains only the new ones.
    keep_models : bool, default=True
        Keep the fitted reference models in ``estimators_``. With ``False``
        only their outputs on the pool and the population are kept, so memory
        does not grow with the models (for hundreds of references); records
        outside the pool and the population then cannot be scored.
    warm_start : bool, default=False
        Reuse the references of the previous ``fit`` (same pool, population,
        recipe and attack): fitting 16 and then 64 references trains only 48.
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
    estimators_ : list of estimators or None
        The fitted reference models (``None`` unless ``keep_models``).
    reference_membership_ : ndarray of shape (n_references, n_pool), bool
        Which pool records each reference trained on.
    reference_signals_ : ndarray of shape (n_references, n_pool, n_signals)
        The attack's signals under each reference on the pool:
        log-probabilities (``n_signals = n_classes``) unless the attack reads
        other signals (query attacks).
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
    feature_scale_ : ndarray of shape (n_features,)
        Query attacks only: the standard deviation of each feature on the
        pool (1 for constant features), the unit of perturbations.

    See Also
    --------
    AuditReport : What :meth:`audit` returns.
    MembershipInferenceDisplay : The ROC of the attack.
    DPAuditor : Audit a differential-privacy claim with canaries.
    DefenseEvaluation : Compare training recipes on one membership game.

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
        "keep_models": ["boolean"],
        "warm_start": ["boolean"],
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
        keep_models=True,
        warm_start=False,
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
        self.keep_models = keep_models
        self.warm_start = warm_start
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
            twice the target's training set. Copies of a record are one record:
            every reference trains on all of them or on none. Records are
            matched by value (numbers as float64, whatever the container or
            dtype; strings and categories by their values), so records scored
            later are found in the pool however they are held; a
            :class:`~skprivacy.exceptions.DataOverlapWarning` tells when
            records with the pool's shape are not found in it.
        y : array-like of shape (n_pool,)
            True class labels of the pool.
        X_population : array-like of shape (n_population, n_features), default=None
            Records known to be non-members of the target, disjoint from the
            pool. When given, the threshold of ``predict`` is calibrated on
            them (distribution-free guarantee); required by ``"population"``.
            Offline attacks' references never train on them; online attacks'
            references train on random halves of the pool and the population
            together, so the population is scored like the pool (then size the
            two together about twice the target's training set, so that the
            references train on as many records as the target).
        y_population : array-like of shape (n_population,), default=None
            Their labels.

        Returns
        -------
        self : MembershipInferenceAuditor
        """
        self.classes_ = self._check_target()
        y = check_X_y(X, y)
        y_idx = class_indices(self.classes_, y)
        attack = resolve_attack(self.attack)
        # Before any reference is trained; a duck-typed attack declares nothing.
        if hasattr(attack, "_validate_params"):
            attack._validate_params()
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
        keys = row_digests(X, y)
        z_idx = population_keys = None
        if X_population is not None:
            y_population = check_X_y(X_population, y_population, "X_population")
            if _n_columns(X_population) != _n_columns(X):
                raise ValueError(
                    f"X_population has {_n_columns(X_population)} columns but X has "
                    f"{_n_columns(X)}; pass population records with the pool's "
                    "columns, in the same order."
                )
            z_idx = class_indices(self.classes_, y_population)
            population_keys = row_digests(X_population, y_population)
            shared = set(population_keys).intersection(keys)
            if shared:
                warnings.warn(
                    f"{len(shared)} record(s) of X_population are also in the pool X. "
                    "Population records must be non-members of the target that the "
                    "references never train on; overlapping records break the "
                    "threshold's guarantee. Pass a population disjoint from the pool.",
                    DataOverlapWarning,
                    stacklevel=3,
                )
        self._population_keys = frozenset(population_keys or ())

        root = self._seed_root()
        split_seed, attack_seed, *ref_seeds = spawn_seeds(root, M + 2)
        self.seeds_ = {
            "split": split_seed,
            "attack": attack_seed,
            "references": ref_seeds,
        }
        (query_seed,) = spawn_seeds(attack_seed, 1)
        if attack.perturbs_records:
            self.seeds_["queries"] = query_seed

        # The records every reference is trained on and scored on: the pool,
        # and for online attacks with a population, the population too.
        merge = X_population is not None and attack.needs_in_references
        X_ref, y_ref = X, y
        if merge:
            X_ref = concat_rows(X, X_population)
            y_ref = np.concatenate([y, y_population])
            keys = keys + population_keys
        y_ref_idx = class_indices(self.classes_, y_ref)
        extract = self._extractor(attack, X, query_seed)
        records = self._records(X_ref, attack)
        attack.prepare(
            extract.query(self.target),
            self._records(X, attack),
            y_idx,
            scale=extract.scale,
            random_state=query_seed,
        )
        population = None
        if X_population is not None and not merge:
            population = self._records(X_population, attack)

        # Copies of a record share their membership (they are one record).
        groups = _group_index(keys)
        (rng,) = spawn_generators(split_seed, 1)
        keep = balanced_keep_matrix(M, groups.max() + 1, rng)[:, groups]
        self._check_pool(keep, y_ref_idx)
        outputs = self._train(
            attack, X_ref, y_ref, keep, extract, (records, y_ref_idx, population, z_idx)
        )
        self.estimators_ = outputs.estimators
        self.reference_accuracy_ = outputs.accuracy(keep)
        n_pool = _num_samples(X)
        self.reference_membership_ = keep[:, :n_pool]
        self._pool_shape = (n_pool, _n_columns(X))
        self._extract = extract
        self._n_table_pool = keep.shape[1]

        signals = ReferenceSignals(
            outputs.signals, keep, y_ref_idx, random_state=attack_seed
        )
        if population is not None:
            signals.population_y = z_idx
            signals.population_signals = extract(self.target, population, z_idx)
            signals.population_reference_signals = outputs.population_signals
        # One table of the references' signals on every record known at fit.
        table, table_membership = outputs.signals, keep
        if outputs.population_signals is not None:
            table = np.concatenate([table, outputs.population_signals], axis=1)
            table_membership = np.concatenate(
                [keep, np.zeros(outputs.population_signals.shape[:2], bool)], axis=1
            )
            keys = keys + population_keys
        self._table, self._table_membership = table, table_membership
        self.reference_signals_ = table[:, :n_pool]
        # What a warm start reuses, as views of the table (stored once).
        n_ref = self._n_table_pool
        self._outputs = (
            ReferenceOutputs(
                table[:, :n_ref],
                outputs.correct,
                None if population is None else table[:, n_ref:],
                outputs.estimators,
            ),
            keep,
        )
        self._index = {key: i for i, key in reversed(list(enumerate(keys)))}
        self.attack_ = attack.fit(signals)

        if merge:
            # Online: the target's scores on population records, each scored
            # against the references exactly as a pool record is.
            rows = np.arange(n_pool, keep.shape[1])
            self.null_scores_ = self.attack_.score_samples(
                extract(self.target, _rows(records, rows, attack), z_idx),
                z_idx,
                outputs.signals[:, rows],
                keep[:, rows],
            )
            self.pool_null_scores_ = self.null_scores_
            self.calibration_ = "population"
        elif X_population is not None:
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

    def _seed_root(self):
        """The root of every seed; kept by warm starts, so references match."""
        previous = getattr(self, "_root", None)
        if self.warm_start and previous is not None:
            entropy, spawn_key = previous
        else:
            root = as_seed_sequence(self.random_state)
            entropy, spawn_key = root.entropy, root.spawn_key
        self._root = (entropy, spawn_key)
        return np.random.SeedSequence(entropy, spawn_key=spawn_key)

    def _extractor(self, attack, X, query_seed):
        scale = None
        if attack.perturbs_records:
            scale = numeric_records(X).std(axis=0)
            self.feature_scale_ = np.where(scale > 0, scale, 1.0)
            scale = self.feature_scale_
        names = list(X.columns) if hasattr(X, "columns") else None
        return SignalExtractor(
            attack,
            self.classes_,
            scale=scale,
            random_state=query_seed,
            feature_names=names,
        )

    def _records(self, X, attack=None):
        """Records as the attack's signal step reads them."""
        attack = self.attack_ if attack is None else attack
        return numeric_records(X) if attack.perturbs_records else X

    def _train(self, attack, X, y, keep, extract, data):
        """The references' outputs, reusing those of a warm start."""
        memory = check_memory(self.memory) if self.memory is not None else None
        fingerprint = joblib.hash(
            (
                self._get_recipe(),
                attack.get_params(),
                type(attack).__name__,
                self.classes_,
                self.keep_models,
                [data[0], data[1], data[2], data[3]],
                extract.scale,
            )
        )
        previous = getattr(self, "_outputs", None)
        start = 0
        parts = []
        reused = 0 if previous is None else min(len(previous[1]), len(keep))
        if (
            self.warm_start
            and reused
            and getattr(self, "_fingerprint", None) == fingerprint
            and np.array_equal(previous[1][:reused], keep[:reused])
        ):
            start = reused
            old = previous[0]
            parts.append(
                ReferenceOutputs(
                    old.signals[:start],
                    old.correct[:start],
                    None
                    if old.population_signals is None
                    else old.population_signals[:start],
                    None if old.estimators is None else old.estimators[:start],
                )
            )
        if start < len(keep):
            parts.append(
                train_reference_outputs(
                    self._get_recipe(),
                    X,
                    y,
                    keep[start:],
                    self.seeds_["references"][start:],
                    classes=self.classes_,
                    extract=extract,
                    data=data,
                    keep_models=self.keep_models,
                    n_jobs=self.n_jobs,
                    memory=memory,
                    verbose=self.verbose,
                    first_index=start,
                )
            )
        if not parts:
            first = _rows(data[0], np.arange(1), attack)
            width = extract(self.target, first, data[1][:1]).shape[1]
            z = None if data[2] is None else np.zeros((0, len(data[3]), width))
            parts.append(
                ReferenceOutputs(
                    np.zeros((0, len(data[1]), width)),
                    np.zeros((0, len(data[1])), bool),
                    z,
                    [] if self.keep_models else None,
                )
            )
        self._fingerprint = fingerprint
        return ReferenceOutputs.concatenate(parts)

    def _release_kind(self):
        if self.release != "auto":
            return self.release
        final, _ = unwrap_estimator(self.target)
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
        if attack.query_output != "labels" and self._release_kind() == "labels":
            raise ValueError(
                f"The attack {name} needs predicted probabilities, but the target "
                f"{type(self.target).__name__} releases labels only (it has no "
                "predict_proba, it abstains, or release='labels'). Use a label-only "
                f"attack: attack={' | '.join(map(repr, LABEL_ONLY_ATTACKS))} "
                "(GapAttack, LabelNoiseAttack, BoundaryDistanceAttack); pass "
                "release='proba' if its probabilities are released too."
            )

    def _population_null(self, signals, rng):
        """Attack scores of the population, scored as fresh and as pool records.

        A record outside the pool is scored against all ``M`` references, a
        pool record only against those that left it out (about ``M / 2``): the
        two scores have different distributions, so each gets its own null.
        For the pool-like null, each population record leaves out a random
        set of references drawn like a column of the keep matrix.
        """
        lp, refs, z = (
            signals.population_signals,
            signals.population_reference_signals,
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
        # (n + 1 - k) / (n + 1) <= alpha (Vovk et al. 2005); ties at the
        # threshold are broken at random in _decide, so they do not lower it.
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

    def _reference_view(self, X, y, y_idx, records):
        """References' signals on X, which of them trained on it, which records
        are in the pool, and the records' digests."""
        n = _num_samples(X)
        keys = row_digests(X, y)
        index = np.array([self._index.get(k, -1) for k in keys], dtype=np.intp)
        found = index >= 0
        table = self._table
        if n and table.shape[0] and not found.any():
            self._warn_not_in_pool(X)
        out = np.empty((table.shape[0], n, table.shape[2]))
        membership = np.zeros((table.shape[0], n), dtype=bool)
        out[:, found] = table[:, index[found]]
        membership[:, found] = self._table_membership[:, index[found]]
        if not found.all() and table.shape[0]:
            if self.estimators_ is None:
                raise ValueError(
                    f"{int((~found).sum())} record(s) are neither in the pool nor in "
                    "the population, and the reference models were not kept "
                    "(keep_models=False): pass these records in the pool given to "
                    "fit, or fit with keep_models=True."
                )
            rest = np.flatnonzero(~found)
            rows, y_rest = _rows(records, rest, self.attack_), y_idx[rest]
            out[:, rest] = np.stack(
                [self._extract(est, rows, y_rest) for est in self.estimators_]
            )
        in_pool = found & (index < self._n_table_pool)
        return out, membership, in_pool, keys

    def _warn_not_in_pool(self, X):
        """Warn when none of the records is in the pool, though they look like it.

        (Online attacks refuse records outside the pool outright.)
        """
        shape = (_num_samples(X), _n_columns(X))
        if shape != self._pool_shape:
            return
        warnings.warn(
            f"None of the {shape[0]} records is in the pool or the population "
            f"given to fit, although X has the pool's shape {shape}. Records are "
            "matched by value (numbers as float64, whatever the container or "
            "dtype): if these are the pool's records transformed (scaled, columns "
            "reordered, rounded to float32...), they are scored as records no "
            "reference trained on, and the attack's scores and decisions are "
            "wrong; pass the records with the values given to fit. (New records "
            "that happen to number as many as the pool are scored correctly.)",
            DataOverlapWarning,
            stacklevel=5,
        )

    def _warn_reference_calibration(self):
        if self.calibration_ != "references":
            return
        warnings.warn(
            "No population was given to fit: the decision threshold and p-values "
            "come from the reference models, each attacked with the others on "
            f"records it did not train on. target_fpr={self.target_fpr:g} holds "
            "only for a target exchangeable with the references (trained by the "
            "same recipe on a random half of the pool); a target trained on other "
            "data or otherwise can be flagged at a higher false-positive rate. "
            "Pass X_population and y_population (records the target never saw) "
            "to fit for a threshold that holds for any target.",
            ReferenceCalibrationWarning,
            stacklevel=3,
        )

    def _scores(self, X, y):
        """Scores of records, which are in the pool, and their digests."""
        check_is_fitted(self)
        y_idx = class_indices(self.classes_, check_X_y(X, y))
        records = self._records(X)
        refs, membership, in_pool, keys = self._reference_view(X, y, y_idx, records)
        target = self._extract(self.target, records, y_idx)
        scores = self.attack_.score_samples(target, y_idx, refs, membership)
        return scores, in_pool, keys

    def _decide(self, scores, in_pool, keys):
        """Membership decisions at ``target_fpr``, ties broken at random.

        A record is flagged when its score exceeds the threshold; a record
        whose score equals it (discrete scores) is flagged with the probability
        that makes the rate exact, ``(n - k + 1 - G) / (E + 1)`` for ``G``
        null scores above and ``E`` equal to it, using a uniform draw keyed on
        the record and the pool split's seed (reproducible, the same for
        copies of a record).
        """
        (seed,) = spawn_seeds(self.seeds_["split"], 2)[1:]
        u = keyed_uniforms(seed, keys)
        flagged = np.zeros(len(scores), dtype=bool)
        for null, rows in (
            (self.pool_null_scores_, in_pool),
            (self.null_scores_, ~in_pool),
        ):
            n = len(null)
            k = math.ceil((1 - self.target_fpr) * (n + 1))
            if k > n or not rows.any():
                continue
            ordered = np.sort(null)
            s = scores[rows]
            above = n - np.searchsorted(ordered, s, side="right")
            equal = n - above - np.searchsorted(ordered, s, side="left")
            chance = np.clip((n - k + 1 - above) / (equal + 1), 0.0, 1.0)
            flagged[rows] = u[rows] < chance
        return flagged.astype(int)

    def _p_values(self, scores, in_pool):
        return np.where(
            in_pool,
            membership_p_values(scores, self.pool_null_scores_),
            membership_p_values(scores, self.null_scores_),
        )

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
        scores, in_pool, _ = self._scores(X, y)
        self._warn_reference_calibration()
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
        scores, in_pool, _ = self._scores(X, y)
        self._warn_reference_calibration()
        return self._p_values(scores, in_pool)

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
            1 for predicted members, 0 otherwise: ``decision_function > 0``,
            and records exactly at the threshold at random (seeded, keyed on
            the record) so that the false-positive rate is ``target_fpr``.
        """
        decisions = self._decide(*self._scores(X, y))
        self._warn_reference_calibration()
        return decisions

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

        n = _num_samples(X)
        if n == 0:
            raise ValueError(
                "audit needs at least one record: pass the records X, their labels "
                "y and their true membership (1 member, 0 non-member)."
            )
        # The report's records keep the caller's labels of them.
        index = next(
            (
                v.index
                for v in (X, y, membership)
                if isinstance(v, (pd.Series, pd.DataFrame))
            ),
            None,
        )
        membership = np.asarray(membership)
        for name, values in (("membership", membership), ("groups", groups)):
            if values is not None and _num_samples(values) != n:
                raise ValueError(
                    f"{name} has {_num_samples(values)} entries but X has {n} "
                    f"records; pass one {name} value per record of X, in order."
                )
        scores, in_pool, keys = self._scores(X, y)
        self._warn_reference_calibration()
        leaked = [k in self._population_keys for k in keys] & (membership == 1)
        if np.any(leaked):
            warnings.warn(
                f"{int(np.sum(leaked))} record(s) marked as members of the target "
                "are in X_population, which must hold non-members only: the "
                "threshold and p-values are not valid. Refit with a population "
                "disjoint from the target's training set.",
                DataOverlapWarning,
                stacklevel=2,
            )
        return AuditReport.from_predictions(
            membership,
            scores,
            attack=attack_name(self.attack),
            p_values=self._p_values(scores, in_pool),
            predicted=self._decide(scores, in_pool, keys),
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
            index=index,
        )
