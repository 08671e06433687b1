"""DefenseEvaluation: the privacy-utility frontier of training recipes.

The membership game of Carlini et al. (2022, Sec. 4) and Aerni, Zhang & Tramèr
(2024, "Evaluations of machine learning privacy defenses are misleading"):
``M`` models of a recipe are trained on random halves of a pool (a balanced
keep matrix, every record in half of them); each model is attacked in turn
with the ``M - 2`` others whose training sets are independent of its own as
its references (the adaptive attack: the references follow the defense's own
recipe), and the scores are pooled over
models, so that one training run per model yields about ``M n / 2``
non-member trials. Every recipe and grid point plays on the same pool, keep
matrix and model seeds, which makes the comparisons paired.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples, check_is_fitted, check_memory

from skprivacy.audit._attacks import ReferenceSignals
from skprivacy.audit._attacks._query import reads_log_proba
from skprivacy.audit._canaries import CANARY_KINDS, make_canaries
from skprivacy.audit._dp._auditor import DPAuditor
from skprivacy.audit._dp._claim import claimed_dp
from skprivacy.audit._epsilon import empirical_epsilon
from skprivacy.audit._metrics import fpr_resolved, membership_auc, tpr_at_fpr
from skprivacy.audit._references import (
    aligned_log_proba,
    balanced_keep_matrix,
    independent_references,
    train_references,
)
from skprivacy.audit._report_base import fpr_key
from skprivacy.audit._selection._statistics import (
    _ci,
    _dp_consistent,
    _interval,
    _leakage_replicates,
    _weights,
)
from skprivacy.audit._signals import class_indices, has_probabilities
from skprivacy.audit._validation import check_X_y, resolve_attack
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils import spawn_generators, spawn_seeds
from skprivacy.utils._arrays import concat_rows
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    _fit_context,
    _safe_indexing,
    validate_parameter_constraints,
)

# Fewest records of each class a model's training half must hold.
_MIN_PER_CLASS = 2


# ----------------------------------------------------------------- recipes
def _resolve_recipes(recipes):
    """``[(name, params, estimator)]``, one entry per grid point, validated.

    Everything that can be checked before training is checked here, so that a
    bad recipe fails before any model is trained.
    """
    if not isinstance(recipes, Mapping) or not recipes:
        raise TypeError(
            "recipes must be a non-empty dict {name: estimator} or "
            "{name: (estimator, param_grid)}; got "
            f"{type(recipes).__name__}."
        )
    points = []
    for name, spec in recipes.items():
        if not isinstance(name, str):
            raise TypeError(f"Recipe names must be str; got {name!r}.")
        if isinstance(spec, tuple) and len(spec) != 2:
            raise TypeError(
                f"Recipe {name!r}: pass an estimator or a pair (estimator, "
                f"param_grid); got a tuple of length {len(spec)}."
            )
        estimator, grid = spec if isinstance(spec, tuple) else (spec, {})
        if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
            raise TypeError(
                f"Recipe {name!r} is a {type(estimator).__name__}, not an unfitted "
                "scikit-learn estimator with fit (e.g. MLPClassifier(...))."
            )
        try:
            grid_points = list(ParameterGrid(grid))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Recipe {name!r}: param_grid is not valid for ParameterGrid ({exc})."
            ) from exc
        for params in grid_points:
            try:
                point = clone(estimator).set_params(**params)
            except ValueError as exc:
                raise ValueError(
                    f"Recipe {name!r}: cannot set parameters {params} ({exc})."
                ) from exc
            if not has_probabilities(point):
                raise ValueError(
                    f"Recipe {name!r} ({type(point).__name__}) gives no "
                    "probabilities: the attacks need predict_proba or "
                    "predict_log_proba. Use a probabilistic classifier (e.g. "
                    "SVC(probability=True) or CalibratedClassifierCV)."
                )
            points.append((name, params, point))
    return points


def _resolve_attacks(attacks, n_models):
    if isinstance(attacks, str) or not attacks:
        raise TypeError(
            "attacks must be a non-empty list of attack names or objects, e.g. "
            f"('lira', 'rmia_online'); got {attacks!r}."
        )
    resolved = []
    for attack in attacks:
        name = attack if isinstance(attack, str) else type(attack).__name__
        attack = resolve_attack(attack)
        if not reads_log_proba(attack) or attack.needs_population:
            raise ValueError(
                f"The attack {name!r} needs queries or population data; the "
                "membership game scores log-probabilities of the pool only. Use "
                "'lira', 'rmia_online', 'rmia', 'reference', 'loss' or 'mentr'."
            )
        if n_models - 2 < attack.min_references:
            raise ValueError(
                f"The attack {name!r} needs {attack.min_references} references, so "
                f"at least n_models={attack.min_references + 2} models (each is "
                "attacked with the others but the one trained on the other half "
                f"of the pool); got n_models={n_models}."
            )
        params = attack.get_params()
        if params.get("online") is True and params.get("a") == "auto":
            # Online RMIA uses its offline coefficient only for records no
            # reference trained on, which the game never has; tuning it (M
            # times per point) would dominate the cost of the attacks.
            attack.set_params(a=1.0)
        resolved.append((name, attack))
    names = [name for name, _ in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"attacks must have distinct names; got {names}.")
    return resolved


# ------------------------------------------------------------------- game
def _play_point(
    name,
    params,
    recipe,
    X,
    y,
    keep,
    seeds,
    classes,
    attacks,
    attack_seed,
    X_test,
    y_test_idx,
    memory,
    verbose,
):
    """Train the ``M`` models of one grid point and attack each in turn.

    Returns only arrays (scores, correctness, DP parameters), so that a
    parallel worker sends back little.
    """
    start = time.perf_counter()
    try:
        estimators, lp, _ = train_references(
            recipe,
            X,
            y,
            keep,
            seeds,
            classes=classes,
            memory=memory,
            verbose=max(int(verbose) - 1, 0),
        )
    except Exception as exc:
        raise ValueError(
            f"Recipe {name!r} with parameters {params} failed to train: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    y_idx = class_indices(classes, y)
    M = len(keep)
    scores = np.empty((len(attacks), M, len(y_idx)))
    for a, (_, attack) in enumerate(attacks):
        for j in range(M):
            # The attack learns from the other models only, leaving out the
            # one trained on the complement of model j's half (whose
            # membership would tell model j's): what it sees of model j is
            # its log-probabilities, never its membership labels.
            others = independent_references(M, j)
            signals = ReferenceSignals(
                lp[others], keep[others], y_idx, random_state=attack_seed
            )
            fitted = clone(attack).fit(signals)
            scores[a, j] = fitted.score_samples(lp[j], y_idx, lp[others], keep[others])
    if X_test is None:
        correct = lp.argmax(axis=2) == y_idx
    else:
        correct = np.stack(
            [
                aligned_log_proba(est, X_test, classes).argmax(axis=1) == y_test_idx
                for est in estimators
            ]
        )
    dp = np.array(
        [[np.nan if v is None else v for v in claimed_dp(est)] for est in estimators]
    )
    return {
        "scores": scores,
        "correct": correct,
        "dp_epsilon": dp[:, 0],
        "dp_delta": dp[:, 1],
        "seconds": time.perf_counter() - start,
    }


class DefenseEvaluation(BaseEstimator):
    """Privacy-utility frontier of training recipes under the membership game.

    For every named recipe and every point of its parameter grid, ``fit``
    trains ``n_models`` models on random halves of the pool (each record in
    the training set of half of them), attacks each model in turn with the
    other models as references (LiRA and RMIA by default: an adaptive attack,
    since the references follow the defense's own recipe), and pools the
    scores over models. One training run per model thus yields about
    ``n_models * n_records / 2`` non-member trials, which resolves the TPR at
    0.1% FPR from a few thousand records. All recipes play on the same pool,
    keep matrix and model seeds, so comparisons between them are paired.

    Optional canaries (mislabeled copies of records and outliers) are appended
    to the pool, play the game like every record, and are reported separately:
    the leakage of the most exposed records, not of the average one.

    Results: :attr:`results_` (one row per point, attack and record set, with
    bootstrap confidence intervals), :meth:`matched_accuracy` (each recipe's
    leakage at fixed accuracy drops from the baseline, with paired bootstrap
    intervals) and :class:`FrontierDisplay`.

    Parameters
    ----------
    recipes : dict
        ``{name: estimator}`` or ``{name: (estimator, param_grid)}``: unfitted
        classifiers with ``predict_proba`` (a Pipeline, a skorch net, a
        :class:`~skprivacy.defense.CRLClassifier`, a
        :class:`~skprivacy.certify.SmoothedClassifier`...), and optionally a
        grid in :class:`~sklearn.model_selection.ParameterGrid` form, each
        point of which is one point of the frontier. Give every recipe the
        same number of points (an equal tuning budget).
    n_models : int, default=16
        Models per point, ``M``. Each model is attacked with the ``M - 2``
        others trained independently of it (the model trained on the other
        half of the pool is left out), so online attacks need ``M >= 6``.
    attacks : list of str or BaseMembershipAttack, default=("lira", "rmia_online")
        Attacks played, by name as in :class:`MembershipInferenceAuditor` or
        as objects; each is fitted, per target model, on the other models only.
    fprs : tuple of float, default=(0.001, 0.01)
        False-positive rates at which the TPR is reported. A rate with fewer
        than ``10 / fpr`` non-member trials is reported as NaN with an
        :class:`~skprivacy.exceptions.UnresolvedMetricWarning`.
    n_canaries : int, default=0
        Canaries of each kind appended to the pool.
    canary_kinds : tuple of str, default=("mislabeled", "outlier")
        Kinds of canaries as :func:`make_canaries` makes them from the pool:
        ``"mislabeled"``, ``"outlier"``, ``"out_of_distribution"`` or
        ``"crafted"``.
    delta : float, default=0.0
        The delta of the epsilon lower bound for recipes that declare none; a
        model with an accountant (fitted ``epsilon_`` and ``delta_``, as
        :class:`~skprivacy.defense.DPSGDClassifier` has) is audited at its own
        delta.
    dp_audit : dict, default=None
        Parameters of a :class:`DPAuditor` (all but ``estimator``), run for
        every grid point whose models declare an epsilon: a rigorous check of
        the claim, on training runs of its own (``n_runs`` trainings more per
        such point), from canaries made of the pool records model 0 did not
        train on, while it trains on the others. Its defaults here: as many
        canaries as those records (at most 1,000), the game's ``delta`` for
        models that declare none, ``confidence``, ``n_jobs`` and a seed drawn
        from ``random_state``. ``{"n_runs": 1}`` gives the one-run bound;
        the many-runs bound (one trial per run) needs hundreds of runs.
        ``None`` runs no audit.
    n_resamples : int, default=200
        Bootstrap resamples for the confidence intervals. Models, pool records
        (each record set on its own) and test records are resampled together,
        with the same draws for every recipe (a paired bootstrap); the
        leakage intervals are corrected for the crossed design (see Notes).
    confidence : float, default=0.95
        Coverage of the intervals and of the epsilon lower bound.
    n_jobs : int, default=None
        Grid points evaluated in parallel (joblib; a Dask cluster through
        :func:`joblib.parallel_config`). Within a point the ``M`` models are
        trained at once with :mod:`torch.func` when the recipe allows (see
        :class:`MembershipInferenceAuditor`), one after the other otherwise.
    memory : str or joblib.Memory, default=None
        Cache of trained models: an interrupted evaluation rerun with the same
        arguments resumes where it stopped.
    verbose : int, default=0
        ``1`` shows a progress bar over grid points, ``2`` also over models.
    random_state : int, RandomState instance or None, default=None
        Seeds the keep matrix, the canaries, every model, the attacks and the
        bootstrap.

    Attributes
    ----------
    results_ : pandas.DataFrame
        One row per grid point, attack (plus ``"strongest"``: per metric, the
        best of the attacks) and record set (``"population"`` and each canary
        kind): ``recipe``, ``point``, ``params``, ``attack``, ``records``,
        ``accuracy``, ``auc``, ``tpr_at_<fpr>_fpr`` each with ``_low`` and
        ``_high`` bounds, ``epsilon_lower_bound`` (Clopper-Pearson, at
        ``confidence``, nominal) and its ``delta``, ``dp_epsilon`` (the
        largest accountant epsilon among the point's models, NaN without one),
        ``dp_consistent`` (whether the attack's ROC respects that epsilon at
        every threshold, nominal), ``epsilon_nominal`` (True: those two pool
        the dependent trials of the game as if independent, see Notes),
        ``dp_audit_epsilon_one_run`` and ``dp_audit_epsilon_multi_run`` (the
        rigorous bounds of ``dp_audit``, NaN without one), ``n_member_trials``,
        ``n_non_member_trials`` and ``fit_seconds``.
    dp_audits_ : dict
        ``{point: DPAuditReport}``: the reports of ``dp_audit``, for the
        points whose models declare an epsilon.
    points_ : pandas.DataFrame
        One row per grid point: ``recipe``, ``point``, ``params``.
    membership_ : ndarray of shape (n_models, n_records), bool
        Which pool records (canaries last) each model trained on.
    records_ : ndarray of shape (n_records,)
        The record set of each pool record.
    scores_ : ndarray of shape (n_points, n_attacks, n_models, n_records)
        Every attack score, for recomputing any metric.
    attack_names_ : list of str
        The attacks, in the order of ``scores_``.
    seeds_ : dict
        The seeds drawn from ``random_state``.

    See Also
    --------
    MembershipInferenceAuditor : Audit one fitted model.
    FrontierDisplay : Plot the frontier.

    Notes
    -----
    Accuracy is measured on ``X_test`` when given to ``fit``, otherwise on the
    pool records each model did not train on. Canaries never count in the
    accuracy.

    The trials of one model (and of one record) are correlated. The bootstrap
    resamples models and records; resampling both at once counts the model x
    record interaction three times (intervals up to 1.7 times too wide), so
    the leakage replicates are shrunk to a moment estimate of the crossed
    design's variance, from the same draws applied to models only and to
    records only. The standard error the corrected intervals imply was 0.97
    to 1.12 times the spread of the estimates over independent replications
    in simulated crossed designs (1.38 to 1.66 uncorrected), and 0.91 to 1.14
    for decision trees on fresh synthetic pools (1.21 to 1.63 uncorrected).

    The Clopper-Pearson bounds behind ``epsilon_lower_bound`` and
    ``dp_consistent`` treat the pooled trials as independent, so their
    confidence is nominal (``epsilon_nominal``); ``dp_audit`` runs the
    rigorous audit, with training runs of its own. The ``"strongest"`` rows
    take, metric by metric, the best of the attacks, which can only overstate
    the leakage; their ``epsilon_lower_bound`` and ``dp_consistent`` take
    each attack's at the Bonferroni level ``1 - (1 - confidence) / n_attacks``,
    so the choice of the attack does not inflate them.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.audit import DefenseEvaluation
    >>> X, y = make_classification(300, 10, flip_y=0.1, random_state=0)
    >>> evaluation = DefenseEvaluation(
    ...     {"forest": RandomForestClassifier(20, random_state=0),
    ...      "logreg": (LogisticRegression(), {"C": [0.1, 10.0]})},
    ...     n_models=6, fprs=(0.1,), n_resamples=20, random_state=0,
    ... ).fit(X, y)
    >>> table = evaluation.results_.query("attack == 'strongest'")
    >>> table[["recipe", "params", "accuracy", "auc", "tpr_at_0.1_fpr"]].round(2)
       recipe       params  accuracy   auc  tpr_at_0.1_fpr
    2  forest           {}      0.91  0.75            0.32
    5  logreg   {'C': 0.1}      0.90  0.59            0.17
    8  logreg  {'C': 10.0}      0.89  0.58            0.16
    >>> matched = evaluation.matched_accuracy(drops=(3.0,), metric="auc")
    >>> matched[["recipe", "accuracy", "leakage", "best"]].round(2)
       recipe  accuracy  leakage   best
    0  forest      0.91     0.75  False
    1  logreg      0.89     0.58   True
    """

    _parameter_constraints: ClassVar[dict] = {
        "recipes": [dict],
        "n_models": [Interval(Integral, 2, None, closed="left")],
        "attacks": [list, tuple],
        "fprs": [list, tuple],
        "n_canaries": [Interval(Integral, 0, None, closed="left")],
        "canary_kinds": [list, tuple],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "dp_audit": [dict, None],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "n_jobs": [Integral, None],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        recipes,
        *,
        n_models=16,
        attacks=("lira", "rmia_online"),
        fprs=(0.001, 0.01),
        n_canaries=0,
        canary_kinds=("mislabeled", "outlier"),
        delta=0.0,
        dp_audit=None,
        n_resamples=200,
        confidence=0.95,
        n_jobs=None,
        memory=None,
        verbose=0,
        random_state=None,
    ):
        self.recipes = recipes
        self.n_models = n_models
        self.attacks = attacks
        self.fprs = fprs
        self.n_canaries = n_canaries
        self.canary_kinds = canary_kinds
        self.delta = delta
        self.dp_audit = dp_audit
        self.n_resamples = n_resamples
        self.confidence = confidence
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------ checks
    def _check_params(self):
        fprs = np.asarray(self.fprs, dtype=float)
        if fprs.size == 0 or not ((fprs > 0) & (fprs < 1)).all():
            raise ValueError(f"fprs must be rates in (0, 1); got {self.fprs!r}.")
        unknown = set(self.canary_kinds) - set(CANARY_KINDS)
        if unknown or len(set(self.canary_kinds)) != len(self.canary_kinds):
            raise ValueError(
                f"canary_kinds must be distinct values of {CANARY_KINDS}; got "
                f"{self.canary_kinds!r}."
            )
        if self.dp_audit is not None:
            # Checked before any training, as DPAuditor would check them.
            settable = set(DPAuditor._parameter_constraints) - {"estimator"}
            unknown = set(self.dp_audit) - settable
            if unknown:
                raise ValueError(
                    f"dp_audit sets DPAuditor parameters, {sorted(settable)} (the "
                    f"estimator is the recipe); got {sorted(unknown)}."
                )
            validate_parameter_constraints(
                {k: DPAuditor._parameter_constraints[k] for k in self.dp_audit},
                self.dp_audit,
                caller_name="DPAuditor (dp_audit)",
            )
        return sorted(set(fprs.tolist()))

    def _check_data(self, X, y, X_test, y_test):
        y = check_X_y(X, y)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"y has a single class ({classes[0]!r}): a classifier needs at "
                "least two, and mislabeled canaries need another label to flip to."
            )
        if self.n_canaries and hasattr(X, "toarray"):
            raise ValueError(
                "Canaries need a dense X (a numpy array or a DataFrame); pass "
                "n_canaries=0 or densify X."
            )
        if (X_test is None) != (y_test is None):
            raise ValueError("Pass both X_test and y_test, or neither.")
        y_test_idx = None
        if X_test is not None:
            y_test_idx = class_indices(classes, check_X_y(X_test, y_test))
        return y, classes, y_test_idx

    def _check_keep(self, keep, y_idx, n_classes):
        for j, row in enumerate(keep):
            counts = np.bincount(y_idx[row], minlength=n_classes)
            if counts.min() < _MIN_PER_CLASS:
                raise ValueError(
                    f"The pool ({len(y_idx)} records) is too small for "
                    f"{len(keep)} models: model {j}'s training half holds "
                    f"{counts.min()} record(s) of class index {counts.argmin()}. "
                    "Pass more records (each model trains on about half)."
                )

    # --------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_test=None, y_test=None):
        """Play the membership game for every recipe and grid point.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features)
            The pool: each model trains on a random half of it.
        y : array-like of shape (n_records,)
            Class labels of the pool.
        X_test : array-like of shape (n_test, n_features), default=None
            Held-out records for the accuracy; ``None`` measures each model on
            the pool records it did not train on.
        y_test : array-like of shape (n_test,), default=None
            Their labels.

        Returns
        -------
        self : DefenseEvaluation
            The fitted evaluation.
        """
        fprs = self._check_params()
        points = _resolve_recipes(self.recipes)
        attacks = _resolve_attacks(self.attacks, self.n_models)
        y, classes, y_test_idx = self._check_data(X, y, X_test, y_test)
        M = self.n_models
        split_seed, canary_seed, attack_seed, boot_seed, *model_seeds, dp_seed = (
            spawn_seeds(self.random_state, M + 5)
        )
        n_pool = _num_samples(X)
        kinds = np.array(["population"] * n_pool, dtype=object)
        if self.n_canaries:
            # Every kind is made from the pool alone, then appended to it.
            X_pool, y_pool = X, y
            seeds = spawn_seeds(canary_seed, len(self.canary_kinds))
            for kind, seed in zip(self.canary_kinds, seeds, strict=True):
                canaries = make_canaries(
                    X_pool, y_pool, self.n_canaries, kind=kind, random_state=seed
                )
                X, y = concat_rows(X, canaries.X), np.concatenate([y, canaries.y])
                kinds = np.concatenate([kinds, [kind] * len(canaries)])
        y_idx = class_indices(classes, y)
        (rng,) = spawn_generators(split_seed, 1)
        keep = balanced_keep_matrix(M, len(y), rng)
        self._check_keep(keep, y_idx, len(classes))
        record_sets = ["population", *(k for k in self.canary_kinds if k in kinds)]
        self._warn_unresolved(keep, kinds, record_sets, fprs)

        memory = check_memory(self.memory) if self.memory is not None else None
        jobs = (
            delayed(_play_point)(
                name,
                params,
                recipe,
                X,
                y,
                keep,
                model_seeds,
                classes,
                attacks,
                attack_seed,
                X_test,
                y_test_idx,
                memory,
                self.verbose,
            )
            for name, params, recipe in points
        )
        outcomes = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        if self.verbose:
            from tqdm.auto import tqdm

            outcomes = tqdm(outcomes, total=len(points), desc="grid points")
        outcomes = list(outcomes)

        self.dp_audits_ = self._audit_dp(points, outcomes, X, y, kinds, keep, dp_seed)
        self._summarize(
            points,
            attacks,
            outcomes,
            keep,
            kinds,
            record_sets,
            fprs,
            boot_seed,
            has_test=X_test is not None,
        )
        self.seeds_ = {
            "split": split_seed,
            "canaries": canary_seed,
            "attack": attack_seed,
            "bootstrap": boot_seed,
            "models": model_seeds,
            "dp_audit": dp_seed,
        }
        return self

    def _warn_unresolved(self, keep, kinds, record_sets, fprs):
        for records in record_sets:
            n_out = int((~keep[:, kinds == records]).sum())
            for fpr in fprs:
                if not fpr_resolved(n_out, fpr):
                    warnings.warn(
                        f"{n_out} non-member trials on {records} records cannot "
                        f"resolve a false-positive rate of {fpr:g} (need "
                        f"{int(np.ceil(10 / fpr))}): its TPR is reported as NaN. "
                        "Use more records or models.",
                        UnresolvedMetricWarning,
                        stacklevel=3,
                    )

    def _audit_dp(self, points, outcomes, X, y, kinds, keep, seed):
        """``{point: DPAuditReport}`` for the points whose models claim DP.

        A :class:`DPAuditor` of the point's recipe trains on the pool records
        of model 0's half (as large as every game model's training set) and
        makes its canaries from the other half; its bounds rest on training
        runs of their own with independent canary inclusions, so they hold at
        ``confidence`` (the game's bounds are nominal).
        """
        if self.dp_audit is None:
            return {}
        population = np.flatnonzero(kinds == "population")
        train = population[keep[0, population]]
        held_out = population[~keep[0, population]]
        seeds = spawn_seeds(seed, len(points))
        reports = {}
        for p, ((name, params, recipe), out) in enumerate(
            zip(points, outcomes, strict=True)
        ):
            if np.isnan(out["dp_epsilon"]).all():
                continue
            declared = np.isfinite(out["dp_delta"]).any()
            settings = {
                "n_canaries": min(1000, len(held_out)),
                "delta": None if declared else self.delta,
                "confidence": self.confidence,
                "n_jobs": self.n_jobs,
                "random_state": seeds[p],
                **self.dp_audit,
            }
            try:
                auditor = DPAuditor(recipe, **settings).fit(
                    _safe_indexing(X, train),
                    y[train],
                    X_canary=_safe_indexing(X, held_out),
                    y_canary=y[held_out],
                )
            except Exception as exc:
                raise ValueError(
                    f"The DP audit of recipe {name!r} with parameters {params} "
                    f"failed: {type(exc).__name__}: {exc}"
                ) from exc
            reports[p] = auditor.audit()
        return reports

    def _summarize(
        self,
        points,
        attacks,
        outcomes,
        keep,
        kinds,
        record_sets,
        fprs,
        boot_seed,
        has_test,
    ):
        """Point estimates, bootstrap replicates and the results table."""
        M, B = len(keep), self.n_resamples
        (rng,) = spawn_generators(boot_seed, 1)
        model_w = _weights(rng, [np.arange(M)], B)
        record_w = _weights(rng, [np.flatnonzero(kinds == r) for r in record_sets], B)
        population = kinds == "population"
        n_test = outcomes[0]["correct"].shape[1]
        if has_test:
            acc_mask = np.ones((M, n_test), dtype=bool)
            acc_w = _weights(rng, [np.arange(n_test)], B)
        else:
            # Accuracy on each model's held-out population records.
            acc_mask = ~keep & population
            acc_w = record_w

        metric_names = ["auc", *(fpr_key(f) for f in fprs)]
        attack_names = [name for name, _ in attacks]
        rows, replicates = [], {}
        for p, ((name, params, _), out) in enumerate(
            zip(points, outcomes, strict=True)
        ):
            hits = out["correct"] & acc_mask
            accuracy = hits.sum() / acc_mask.sum()
            acc_boot = np.einsum("bm,mn,bn->b", model_w, hits, acc_w) / np.einsum(
                "bm,mn,bn->b", model_w, acc_mask, acc_w
            )
            eps_dp = float(np.nanmax(out["dp_epsilon"], initial=-np.inf))
            eps_dp = eps_dp if np.isfinite(eps_dp) else np.nan
            delta_dp = float(np.nanmax(out["dp_delta"], initial=-np.inf))
            delta = delta_dp if np.isfinite(delta_dp) else self.delta
            report = self.dp_audits_.get(p)
            audit_one_run = np.nan if report is None else report.one_run["epsilon"]
            audit_multi_run = np.nan if report is None else report.multi_run["epsilon"]
            replicates[p, "accuracy"] = acc_boot
            for records in record_sets:
                cols = kinds == records
                member = keep[:, cols]
                n_in, n_out = int(member.sum()), int((~member).sum())
                boot_w = (model_w, record_w[:, cols])
                per_attack = []
                for a, attack in enumerate(attack_names):
                    s = out["scores"][a][:, cols]
                    row, boot = self._curve_row(
                        s,
                        member,
                        boot_w,
                        fprs,
                        delta,
                        eps_dp,
                        boot_seed,
                        len(attack_names),
                    )
                    per_attack.append((row, boot))
                    replicates[p, attack, records] = boot
                strongest = {
                    m: np.fmax.reduce([r[m] for r, _ in per_attack])
                    for m in metric_names
                }
                strongest["epsilon_lower_bound"] = max(
                    r["for_strongest"][0] for r, _ in per_attack
                )
                consistent = [r["for_strongest"][1] for r, _ in per_attack]
                strongest["dp_consistent"] = (
                    np.nan if np.isnan(eps_dp) else bool(all(consistent))
                )
                boot_max = {
                    m: np.fmax.reduce(np.stack([b[m] for _, b in per_attack]), axis=0)
                    for m in metric_names
                }
                replicates[p, "strongest", records] = boot_max
                for attack, (row, boot) in [
                    *zip(attack_names, per_attack, strict=True),
                    ("strongest", (strongest, boot_max)),
                ]:
                    entry = {
                        "recipe": name,
                        "point": p,
                        "params": params,
                        "attack": attack,
                        "records": records,
                        "accuracy": accuracy,
                        **_interval("accuracy", acc_boot, self.confidence),
                    }
                    for m in metric_names:
                        resolved = m == "auc" or np.isfinite(row[m])
                        entry[m] = row[m]
                        low, high = _ci(boot[m], self.confidence)
                        entry[f"{m}_low"] = low if resolved else np.nan
                        entry[f"{m}_high"] = high if resolved else np.nan
                    entry.update(
                        epsilon_lower_bound=row["epsilon_lower_bound"],
                        delta=delta,
                        dp_epsilon=eps_dp,
                        dp_consistent=row["dp_consistent"],
                        epsilon_nominal=True,
                        dp_audit_epsilon_one_run=audit_one_run,
                        dp_audit_epsilon_multi_run=audit_multi_run,
                        n_member_trials=n_in,
                        n_non_member_trials=n_out,
                        fit_seconds=out["seconds"],
                    )
                    rows.append(entry)
        self.results_ = pd.DataFrame(rows)
        self.points_ = pd.DataFrame(
            [
                {"recipe": name, "point": p, "params": params}
                for p, (name, params, _) in enumerate(points)
            ]
        )
        self.membership_ = keep
        self.records_ = kinds
        self.scores_ = np.stack([out["scores"] for out in outcomes])
        self.attack_names_ = attack_names
        self._replicates = replicates
        self._metric_names = metric_names

    def _curve_row(self, s, member, boot_w, fprs, delta, eps_dp, seed, n_attacks):
        membership, scores = member.ravel(), s.ravel()
        m = membership.astype(int)
        row = {"auc": membership_auc(m, scores)}
        with warnings.catch_warnings():
            # Unresolved rates (NaN) were announced once, per record set, in fit.
            warnings.simplefilter("ignore", UnresolvedMetricWarning)
            for f in fprs:
                row[fpr_key(f)] = tpr_at_fpr(m, scores, f)
        row["epsilon_lower_bound"], row["dp_consistent"] = self._nominal_dp(
            membership, scores, delta, eps_dp, self.confidence, seed
        )
        # The "strongest" row takes the best of the attacks: each enters it at
        # the Bonferroni level over the attacks, so the choice does not
        # inflate the confidence.
        row["for_strongest"] = (
            self._nominal_dp(
                membership,
                scores,
                delta,
                eps_dp,
                1 - (1 - self.confidence) / n_attacks,
                seed,
            )
            if n_attacks > 1
            else (row["epsilon_lower_bound"], row["dp_consistent"])
        )
        boot = _leakage_replicates(s, member, *boot_w, fprs, row)
        return row, boot

    @staticmethod
    def _nominal_dp(membership, scores, delta, eps_dp, confidence, seed):
        """Epsilon lower bound and DP consistency, as if trials were independent.

        The trials come from ``M`` independent training runs, but the records
        of a run share it: the confidence of both is nominal (see the class
        Notes).
        """
        epsilon = empirical_epsilon(
            membership.astype(int),
            scores,
            trials="independent",
            delta=delta,
            confidence=confidence,
            random_state=seed,
        )
        consistent = _dp_consistent(membership, scores, eps_dp, delta, confidence)
        return epsilon, consistent

    # ------------------------------------------------------------ views
    def _view(self, metric, attack, records):
        """Point estimates and replicates of accuracy and one leakage metric."""
        check_is_fitted(self, "results_")
        fprs_keys = self._metric_names
        metric = (
            fprs_keys[-1 if len(fprs_keys) == 1 else 1] if metric is None else metric
        )
        if metric not in fprs_keys:
            raise ValueError(f"metric must be one of {fprs_keys}; got {metric!r}.")
        attacks = [*self.attack_names_, "strongest"]
        if attack not in attacks:
            raise ValueError(f"attack must be one of {attacks}; got {attack!r}.")
        sets = list(pd.unique(self.results_["records"]))
        if records not in sets:
            raise ValueError(f"records must be one of {sets}; got {records!r}.")
        table = self.results_[
            (self.results_["attack"] == attack) & (self.results_["records"] == records)
        ].sort_values("point")
        n_points = len(self.points_)
        acc_b = np.stack([self._replicates[p, "accuracy"] for p in range(n_points)])
        leak_b = np.stack(
            [self._replicates[p, attack, records][metric] for p in range(n_points)]
        )
        return table, metric, acc_b, leak_b

    def matched_accuracy(
        self,
        drops=(0.5, 1.5, 3.0),
        *,
        metric=None,
        attack="strongest",
        records="population",
        baseline=None,
        recipes=None,
    ) -> pd.DataFrame:
        """Each recipe's leakage at fixed accuracy drops from the baseline.

        The target accuracy is the baseline's best accuracy minus ``drop``
        points; a recipe's leakage there is the lowest leakage among its grid
        points that reach the target (its Pareto front read at that accuracy,
        never interpolated: only trained models count), NaN when none does.
        Intervals come from the paired bootstrap of :attr:`results_` (the
        whole selection is redone on every resample), and the ratio compares
        with the baseline's most accurate point, the undefended model.

        Parameters
        ----------
        drops : tuple of float, default=(0.5, 1.5, 3.0)
            Accuracy drops, in percentage points.
        metric : str, default=None
            Leakage column of :attr:`results_` (``"auc"`` or
            ``"tpr_at_<fpr>_fpr"``); ``None`` is the TPR at the lowest FPR.
        attack : str, default="strongest"
            An attack name of :attr:`attack_names_`, or ``"strongest"``.
        records : str, default="population"
            ``"population"`` or a canary kind.
        baseline : str, default=None
            The undefended recipe; ``None`` is the first of ``recipes``.
        recipes : list of str, default=None
            The recipes compared, one family with its own baseline (say, the
            forests with the default forest, apart from the networks); the
            other recipes take no part in the table, nor in ``best`` and
            ``significant``. ``None`` compares every recipe.

        Returns
        -------
        table : pandas.DataFrame
            One row per drop and recipe: ``drop``, ``target_accuracy``,
            ``recipe``, ``reaches_target`` (whether a grid point of the recipe
            reaches the target accuracy), ``point`` and ``params`` of the
            chosen point, its ``accuracy``, the ``leakage`` with
            ``leakage_low`` and ``leakage_high``, ``ratio`` (to the baseline's
            most accurate point) with ``ratio_low`` and ``ratio_high``,
            ``best`` (lowest leakage at this drop), ``significant`` (for the
            best recipe: the paired interval of its difference with every
            other recipe that reaches the target excludes 0) and ``note``
            (empty, or why the row has no point). When no grid point of a
            recipe reaches the target, ``reaches_target`` is False, ``point``
            is -1, ``params`` is None, ``accuracy``, ``leakage`` and ``ratio``
            are NaN, and ``note`` gives the recipe's best accuracy; the
            intervals then come from the resamples in which some point does
            reach it (NaN when fewer than half do). ``table.attrs`` holds
            the ``metric`` and the ``baseline``.
        """
        table, metric, acc_b, leak_b = self._view(metric, attack, records)
        names = list(self.recipes)
        if recipes is not None:
            unknown = sorted(set(recipes) - set(names))
            if unknown or not len(recipes):
                raise ValueError(
                    f"recipes must be a non-empty subset of {names}; got "
                    f"{list(recipes)!r}."
                )
            chosen = set(recipes)
            names = [name for name in names if name in chosen]
        baseline = names[0] if baseline is None else baseline
        if baseline not in names:
            raise ValueError(f"baseline must be one of {names}; got {baseline!r}.")
        recipe_of = table["recipe"].to_numpy()
        acc = table["accuracy"].to_numpy()
        leak = table[metric].to_numpy()
        base = np.flatnonzero(recipe_of == baseline)
        top = base[np.argmax(acc[base])]
        top_b = base[np.argmax(acc_b[base], axis=0)]
        cols = np.arange(acc_b.shape[1])
        ref, ref_b = leak[top], leak_b[top_b, cols]
        rows = []
        for drop in drops:
            target = acc[top] - drop / 100
            target_b = acc_b[top_b, cols] - drop / 100
            fronts = {}
            for name in names:
                idx = np.flatnonzero(recipe_of == name)
                reach = acc[idx] >= target - 1e-12
                value = np.where(reach, leak[idx], np.inf)
                chosen = idx[np.argmin(value)] if reach.any() else None
                reach_b = acc_b[idx] >= target_b - 1e-12
                value_b = np.where(reach_b, leak_b[idx], np.inf).min(axis=0)
                value_b[~np.isfinite(value_b)] = np.nan
                fronts[name] = (chosen, value_b)
            estimates = {
                n: leak[c] if c is not None else np.nan for n, (c, _) in fronts.items()
            }
            finite = {n: v for n, v in estimates.items() if np.isfinite(v)}
            best = min(finite, key=finite.get) if finite else None
            significant = best is not None and len(finite) > 1
            for name in finite:
                if best is not None and name != best:
                    diff = fronts[name][1] - fronts[best][1]
                    low, _ = _ci(diff, self.confidence)
                    significant &= bool(low > 0)
            for name, (chosen, value_b) in fronts.items():
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio, ratio_b = estimates[name] / ref, value_b / ref_b
                note = ""
                if chosen is None:
                    top_name = acc[recipe_of == name].max()
                    note = (
                        f"no grid point reaches the target accuracy "
                        f"{target:.2%} (the best reaches {top_name:.2%})"
                    )
                rows.append(
                    {
                        "drop": drop,
                        "target_accuracy": target,
                        "recipe": name,
                        "reaches_target": chosen is not None,
                        "point": -1
                        if chosen is None
                        else int(table["point"].iloc[chosen]),
                        "params": None
                        if chosen is None
                        else table["params"].iloc[chosen],
                        "accuracy": np.nan if chosen is None else acc[chosen],
                        "leakage": estimates[name],
                        **_interval("leakage", value_b, self.confidence),
                        "ratio": ratio,
                        **_interval("ratio", ratio_b, self.confidence),
                        "best": name == best,
                        "significant": bool(name == best and significant),
                        "note": note,
                    }
                )
        out = pd.DataFrame(rows)
        out.attrs["metric"] = metric
        out.attrs["baseline"] = baseline
        return out
