"""SelfDistillationClassifier: SELENA's Split-AI and self-distillation."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import sys
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from skprivacy.exceptions import DefenseConfigurationWarning
from skprivacy.utils import spawn_generators, spawn_seeds, torch_seed
from skprivacy.utils._estimators import capability, set_random_states
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _safe_indexing,
    validate_data,
)
from skprivacy.utils._vectorized import check_vectorizable, train_vectorized


def held_out_assignment(y_idx, n_estimators, n_held_out, rng):
    """Which sub-models never see which records: exactly ``n_held_out`` per record.

    The records of each class, in random order, are dealt to windows of
    ``n_held_out`` consecutive sub-models along one random cyclic order of the
    sub-models, the window moving on by ``n_held_out`` places per record. So
    every record is held out of exactly ``n_held_out`` distinct sub-models, and
    every sub-model is held out of ``floor`` or ``ceil`` of
    ``n_c * n_held_out / n_estimators`` records of each class ``c`` (it trains
    on the same share of every class, to one record). SELENA draws each record's
    sub-models independently, which leaves those shares to chance.

    Parameters
    ----------
    y_idx : ndarray of shape (n_samples,)
        Encoded class of each record.
    n_estimators : int
        Number of sub-models ``K``.
    n_held_out : int
        Number of sub-models ``L < K`` that never see a record.
    rng : numpy.random.Generator
        Source of the record and sub-model orders.

    Returns
    -------
    held_out : ndarray of shape (n_samples, n_estimators), bool
        ``held_out[i, k]`` says that sub-model ``k`` does not train on record ``i``.
    """
    held_out = np.zeros((len(y_idx), n_estimators), dtype=bool)
    order = rng.permutation(n_estimators)
    start = 0
    for c in np.unique(y_idx):
        members = rng.permutation(np.flatnonzero(y_idx == c))
        # Continuing the cycle across classes also balances the totals.
        slots = start + np.arange(len(members))[:, None] * n_held_out
        slots = (slots + np.arange(n_held_out)) % n_estimators
        held_out[members[:, None], order[slots]] = True
        start = (start + len(members) * n_held_out) % n_estimators
    return held_out


def _draws_from_torch(estimator) -> bool:
    """Whether ``estimator`` (or a parameter of it) may draw from torch's RNG."""
    if "torch" not in sys.modules:
        return False
    for obj in (estimator, *estimator.get_params(deep=True).values()):
        kind = obj if isinstance(obj, type) else type(obj)
        if any(k.__module__.split(".")[0] in ("torch", "skorch") for k in kind.__mro__):
            return True
    return False


def _fit_seeded(estimator, seed, X, y, **fit_params):
    """Fit ``estimator`` with every random stream, torch's included, from ``seed``."""
    set_random_states(estimator, seed)
    # skorch nets other than skprivacy's draw from torch's global generator:
    # fork it and seed it so that each fit reproduces.
    ctx = torch_seed(seed) if _draws_from_torch(estimator) else contextlib.nullcontext()
    with ctx:
        return estimator.fit(X, y, **fit_params)


def _with_all_classes(estimator, classes):
    """Tell an estimator that has a ``classes`` parameter (skorch) every class."""
    if "classes" in estimator.get_params(deep=False):
        estimator.set_params(classes=classes)
    return estimator


def _aligned_proba(estimator, X, classes):
    """``estimator.predict_proba(X)`` with one column per entry of ``classes``.

    A model trained without some class has no column for it: that column is 0.
    """
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    own = np.asarray(estimator.classes_)
    if len(own) == len(classes) and np.array_equal(own, classes):
        return proba
    position = np.searchsorted(classes, own)
    position = np.minimum(position, len(classes) - 1)
    if not np.array_equal(classes[position], own):
        raise ValueError(
            f"{type(estimator).__name__} returned classes {own!r} that are not "
            f"among the training labels {classes!r}."
        )
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, position] = proba
    return out


def _fit_submodel(estimator, X, y, held_out, seed, classes, keep):
    """Fit one Split-AI sub-model without its held-out records; return its
    probabilities on them (and the model when ``keep``)."""
    model = _with_all_classes(clone(estimator), classes)
    _fit_seeded(model, seed, _safe_indexing(X, np.flatnonzero(~held_out)), y[~held_out])
    rows = np.flatnonzero(held_out)
    if rows.size == 0:  # fewer records than sub-models: this one misses none
        return np.zeros((0, len(classes))), model if keep else None
    proba = _aligned_proba(model, _safe_indexing(X, rows), classes)
    return proba, model if keep else None


def _held_out_mean(proba, held_out):
    """Each record's soft label: the mean of ``proba`` (shape ``(K, n, C)``,
    every sub-model on every record) over the sub-models held out of it."""
    return np.einsum("kic,ik->ic", proba, held_out) / held_out.sum(axis=1)[:, None]


def _noisy_copies(X, n_copies, scale, rng):
    """``n_copies`` noisy copies of every row of ``X``, record by record.

    Row ``i * n_copies + j`` is copy ``j`` of record ``i``. Binary features
    (every value 0 or 1) have each bit flipped with probability ``scale``;
    other features get Gaussian noise of ``scale`` times each column's
    standard deviation. Copies keep the type of ``X`` (a DataFrame keeps its
    columns) and its float dtype.
    """
    if issparse(X):
        raise ValueError(
            "n_augment > 0 needs dense X: noisy copies of sparse rows would be "
            "dense. Use n_augment=0, or densify X."
        )
    values = np.asarray(X)
    if not np.issubdtype(values.dtype, np.floating):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "n_augment > 0 needs numeric features, to add noise to them."
            ) from exc
    copies = np.repeat(values, n_copies, axis=0)
    if np.isin(values, (0, 1)).all():
        copies = np.abs(copies - (rng.random(copies.shape) < scale))
    else:
        std = values.std(axis=0)
        copies = copies + rng.standard_normal(copies.shape) * (scale * std)
    copies = copies.astype(values.dtype)
    if hasattr(X, "columns"):
        copies = type(X)(copies, columns=X.columns)
    return copies


def _concat_rows(X, copies):
    """``X`` followed by ``copies``, of the same type."""
    if hasattr(X, "columns"):
        return pd.concat([X, copies], ignore_index=True)
    return np.concatenate([np.asarray(X), copies])


def _accepts_soft_targets(estimator) -> bool:
    """Whether ``fit(X, Y)`` with ``Y`` a matrix of class probabilities trains it
    on a cross-entropy against those probabilities.

    True for skorch classifiers whose criterion is (a subclass of) torch's
    ``CrossEntropyLoss``, which takes probability targets since torch 1.10 and
    to which skorch hands ``y`` unchanged. skprivacy's own nets are excluded:
    they check ``y`` as a vector of labels, and their losses (CRL's relaxed
    loss, DP-SGD's private mean) are defined on hard labels.
    """
    if "skorch" not in sys.modules:
        return False
    from skorch import NeuralNetClassifier
    from torch.nn import CrossEntropyLoss

    from skprivacy.defense._net import BaseNetClassifier

    criterion = getattr(estimator, "criterion", None)
    criterion = criterion if isinstance(criterion, type) else type(criterion)
    return (
        isinstance(estimator, NeuralNetClassifier)
        and not isinstance(estimator, BaseNetClassifier)
        and issubclass(criterion, CrossEntropyLoss)
    )


# Most sub-models per call of the vectorized trainer in the game (at least one
# model's): its memory grows with them (parameters, optimizer state and a
# batch each). Fewer on a CPU: on Letter (MLP 256-128), 200 sub-models trained
# 20-40% slower in one call than in calls of 16, whose working set stays in
# cache (three paired runs).
_SUBMODEL_BATCH = {"cpu": 16, "other": 256}


def _check_distilled_models(recipe, X):
    """Why many ``recipe`` models cannot be trained at once, or ``None``.

    The check of the ``"vectorized_trainer"`` capability of
    :class:`SelfDistillationClassifier` (the contract of
    :func:`~skprivacy.utils._vectorized.check_vectorizable`): the sub-models
    must suit the vectorized trainer, and so must the distilled model, fit
    natively on soft labels.
    """
    if recipe.vectorize is False:
        return "the recipe has vectorize=False"
    if recipe.n_held_out >= recipe.n_estimators:
        return "n_held_out is not below n_estimators"
    if recipe.n_augment:
        # Each distilled model trains on its own noisy copies: the models are
        # fit one by one (their sub-models still together).
        return "n_augment > 0"
    estimator, final = recipe._recipes()
    reason = check_vectorizable(estimator, X)
    if reason is not None:
        return f"its sub-models do not qualify: {reason}"
    if (
        recipe.soft_labels not in ("auto", "native")
        or not _accepts_soft_targets(final)
        or capability(final, "vectorized_loss") is not None
    ):
        return (
            "its distilled model is not fit natively on soft labels (a skorch "
            "NeuralNetClassifier on torch.nn.CrossEntropyLoss, soft_labels "
            "'auto' or 'native')"
        )
    reason = check_vectorizable(final, X)
    if reason is not None:
        return f"its distilled model does not qualify: {reason}"
    return None


def _train_distilled_models(recipe, X, y, keep, seeds, *, verbose=0):
    """Fit one ``recipe`` model per row of ``keep``: every model's sub-models
    at once, then every distilled model at once.

    The trainer of the ``"vectorized_trainer"`` capability of
    :class:`SelfDistillationClassifier` (the contract of
    :func:`~skprivacy.utils._vectorized.train_vectorized`). Model ``j`` is the
    clone a separate fit would be (``recipe`` seeded by ``seeds[j]``, fit on
    the rows of ``keep[j]``), with the same held-out matrix and the same
    seeds for its sub-models and distilled model; the ``M * K`` sub-models
    then train in one vectorized run (a row of the trainer's keep matrix per
    sub-model: the model's members that are not held out of it), and the
    ``M`` distilled models in another, each on its own soft labels.
    """
    classes = np.unique(y)
    models, splits = [], []
    for row, seed in zip(keep, seeds, strict=True):
        model = set_random_states(clone(recipe), seed)
        model._validate_params()
        idx = np.flatnonzero(row)
        _, _, y_idx = model._validate_training_data(
            _safe_indexing(X, idx), _safe_indexing(y, idx)
        )
        if not np.array_equal(model.classes_, classes):
            return None, (
                f"the training set of model {len(models)} lacks some of the "
                "pool's classes"
            )
        models.append(model)
        splits.append((idx, *model._split(y_idx)))
    estimator, final = recipe._recipes()
    K = recipe.n_estimators
    soft = np.zeros((len(keep), len(y), len(classes)))
    submodels = []
    device = "cpu" if str(estimator.device).startswith("cpu") else "other"
    per_call = max(1, _SUBMODEL_BATCH[device] // K)
    for start in range(0, len(models), per_call):
        chunk = splits[start : start + per_call]
        sub_keep = np.zeros((len(chunk) * K, len(y)), dtype=bool)
        for c, (idx, _, held_out) in enumerate(chunk):
            sub_keep[c * K : (c + 1) * K, idx] = ~held_out.T
        fitted, lp = train_vectorized(
            _with_all_classes(clone(estimator), classes),
            X,
            y,
            sub_keep,
            [s for _, model_seeds, _ in chunk for s in model_seeds[1 : K + 1]],
            verbose=verbose,
        )
        if fitted is None:
            return None, f"its sub-models cannot be vectorized: {lp}"
        for c, (idx, _, held_out) in enumerate(chunk):
            rows = slice(c * K, (c + 1) * K)
            soft[start + c, idx] = _held_out_mean(np.exp(lp[rows][:, idx]), held_out)
            if recipe.keep_submodels:
                submodels.append(fitted[rows])
        del fitted, lp
    finals, lp = train_vectorized(
        _with_all_classes(clone(final), classes),
        X,
        soft,
        keep,
        [model_seeds[-1] for _, model_seeds, _ in splits],
        verbose=verbose,
    )
    if finals is None:
        return None, f"its distilled models cannot be vectorized: {lp}"
    for j, (model, net, (idx, _, held_out)) in enumerate(
        zip(models, finals, splits, strict=True)
    ):
        model.final_estimator_ = net
        model.soft_label_method_ = "native"
        if model.keep_submodels:
            model.estimators_ = submodels[j]
            model.held_out_ = held_out
            model.soft_labels_ = soft[j, idx]
    if verbose:
        print(
            f"[{type(recipe).__name__}] trained {len(models)} x {K} sub-models, "
            f"then {len(models)} distilled models, together (vectorized with "
            "torch.func)"
        )
    return models, lp


def _final_has(method):
    def check(self):
        if hasattr(self, "final_estimator_"):
            return hasattr(self.final_estimator_, method)
        return hasattr(self._recipes()[1], method)

    return check


class SelfDistillationClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Self-distillation through a Split-AI ensemble (SELENA) around any classifier.

    SELENA (Tang et al., USENIX Security 2022) defends against membership
    inference in two steps:

    1. **Split-AI.** ``n_estimators`` (``K``) sub-models, clones of
       ``estimator``, are trained so that every training record is left out of
       exactly ``n_held_out`` (``L``) of them. The *soft label* of a record is
       the average ``predict_proba`` of the ``L`` sub-models that never saw it:
       an out-of-sample prediction, like a non-member's.
    2. **Self-distillation.** The released model, a fresh clone of
       ``final_estimator`` (by default of ``estimator``), is trained on the
       training records with their soft labels as targets, which say no more
       about a record's label than a non-member's prediction would.

    Only the distilled model is released: ``predict`` and ``predict_proba``
    are its own, and the sub-models are dropped after ``fit`` unless
    ``keep_submodels=True``.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``, default=None
        The sub-models' recipe; cloned ``n_estimators`` times. ``None`` means
        :class:`~sklearn.ensemble.RandomForestClassifier`.
    final_estimator : classifier, default=None
        The recipe of the released, distilled model; ``None`` means a clone of
        ``estimator`` (self-distillation proper).
    n_estimators : int, default=10
        Number of sub-models ``K``, at least 2. ``fit`` trains ``K + 1`` models.
    n_held_out : int, default=3
        Number ``L`` of sub-models that never see a given record, in
        ``[1, K - 1]``. Each sub-model trains on a share ``1 - L / K`` of the
        records, and each soft label averages ``L`` predictions.
    soft_labels : {"auto", "native", "weights", "argmax"}, default="auto"
        How the distilled model is fit on the soft labels:

        - ``"native"``: ``fit(X, Y)`` with ``Y`` the ``(n_samples, n_classes)``
          float32 matrix of soft labels, columns in the order of ``classes_``;
          for models trained on a cross-entropy against probability targets,
          such as a skorch ``NeuralNetClassifier`` with
          ``criterion=torch.nn.CrossEntropyLoss``. Its ``predict_proba``
          columns must follow the same order.
        - ``"weights"``: each record becomes one copy per class of positive soft
          label, labelled with that class and weighted by its soft label
          through ``sample_weight``. A model that minimises a weighted log-loss
          then minimises the cross-entropy against the soft labels; a tree's
          leaf predicts the average soft label of its records.
        - ``"argmax"``: each record is labelled with its most probable soft
          class (ties: the first in ``classes_``). It keeps the privacy of
          out-of-sample labels but drops their confidence.
        - ``"auto"``: ``"native"`` for the skorch classifiers above,
          ``"weights"`` when ``final_estimator``'s ``fit`` takes
          ``sample_weight``, else ``"argmax"`` with a
          :class:`~skprivacy.exceptions.DefenseConfigurationWarning`.
    n_augment : int, default=0
        Noisy copies of each training record added to the distilled model's
        training set, each with its record's soft label (not part of SELENA's
        recipe). The distilled model learns nothing about a record's label
        but its soft label, as in SELENA; the copies only make it predict
        that soft label around the record too, rather than learn the soft
        labels' errors by heart, which with few records per class costs
        SELENA's distilled net accuracy (user guide,
        :ref:`distillation_augment`, where it helped on sparse binary data
        and not on Letter). The distilled model sees ``1 + n_augment`` times
        the rows per epoch: scale its epochs down (the guide used
        ``2 * epochs / (1 + n_augment)``). Needs dense numeric ``X``; ``0``
        is SELENA's recipe.
    augment_scale : float, default=0.1
        Size of the copies' noise: for binary features (every value of ``X``
        0 or 1) the probability of flipping each bit, otherwise the standard
        deviation of Gaussian noise in units of each feature's standard
        deviation over the training records. Used only when ``n_augment > 0``.
    keep_submodels : bool, default=False
        Keep the Split-AI state after ``fit``: the sub-models (``estimators_``),
        the held-out matrix (``held_out_``) and the soft labels
        (``soft_labels_``), for inspection. They are **not** protected by the
        defense (each sub-model learnt most of the training records by heart,
        and the held-out matrix and soft labels describe them): never release a
        fitted object that keeps them.
    vectorize : "auto" or bool, default="auto"
        ``"auto"`` trains the ``K`` sub-models all at once with
        :mod:`torch.func` (their parameters stacked, one vectorized pass per
        step, on the net's device) when ``estimator`` is a skorch net that
        skprivacy's vectorized trainer takes (a ``NeuralNetClassifier`` on
        cross-entropy or NLL, or :class:`CRLClassifier`, with Adam, AdamW or
        SGD, no callbacks, ``train_split=None``, no batch normalisation; the
        reference models of the audit follow the same rule), and fits clones
        through joblib otherwise; ``True`` raises when it cannot vectorize,
        ``False`` always fits clones. The vectorized sub-models have the
        initialisation and training records of the clones; their batch order
        and dropout masks come from other random streams (the same
        distribution, not the same draws). ``verbose`` says which path ran
        and why.
    n_jobs : int, default=None
        Number of sub-models trained in parallel (joblib) when they are not
        vectorized; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, ``-1`` all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out assignment and, one seed each, every sub-model and
        the distilled model: it overwrites any ``random_state`` of theirs
        (nested ones included), as scikit-learn's ensembles do. An int makes
        ``fit`` reproducible.
    verbose : int, default=0
        Which path trained the sub-models (and why not the vectorized one),
        their progress, and the distillation's.

    Attributes
    ----------
    final_estimator_ : classifier
        The fitted distilled model, the one released.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    soft_label_method_ : str
        How the distilled model was fit: ``"native"``, ``"weights"`` or
        ``"argmax"``.
    estimators_ : list of classifiers
        The fitted sub-models; only with ``keep_submodels=True``.
    held_out_ : ndarray of shape (n_samples, n_estimators), bool
        ``held_out_[i, k]`` says that sub-model ``k`` never saw record ``i``;
        only with ``keep_submodels=True``.
    soft_labels_ : ndarray of shape (n_samples, n_classes)
        The training targets of the distilled model; only with
        ``keep_submodels=True``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    CRLClassifier : A training-time defense for networks, on the loss.
    skprivacy.audit.DefenseEvaluation : Measures the defense against adaptive
        attacks, whose reference models are self-distilled as well.

    Notes
    -----
    **What it protects, and what it does not.** The distilled model still
    trains on the records' features, and nothing bounds what it reveals: the
    defense has no formal guarantee. Aerni, Zhang & Tramèr (CCS 2024) found
    that SELENA about halved the population-level leakage on CIFAR-10 (TPR
    6.8% at 0.1% FPR against 13.4% undefended) but left its most vulnerable
    records exposed (52.7%). Measure it on your data with
    :class:`~skprivacy.audit.DefenseEvaluation`, against plain regularisation
    at the same accuracy: on 26-class Letter data a self-distilled random forest
    leaked as much as a forest with ``min_samples_leaf=10`` of the same accuracy
    (user guide, :ref:`distillation`).

    **Defaults.** SELENA used ``K = 25`` and ``L = 10`` on tens of thousands of
    records. On Adult and Letter with 1,000 training records and a random
    forest, ``(K, L) = (5, 2)``, ``(10, 3)`` and ``(25, 10)`` gave RMIA AUCs
    within 0.02 and accuracies within 0.8 points of each other. ``(10, 3)`` is
    a middle choice: 11 fits instead of SELENA's 26, the most accurate on
    Letter, and three sub-models per label (a single tree's soft labels come in
    thirds rather than halves); ``L / K = 0.4``, SELENA's ratio, was a little
    more private on Letter. The user guide (:ref:`distillation`) has the
    numbers.

    **Cost.** The sub-models amount to ``K - L`` trainings of the plain model
    on all the records, the distilled model to one more. Nets that the
    vectorized trainer takes train their sub-models at once (``vectorize``);
    in :class:`~skprivacy.audit.DefenseEvaluation` and the audit's reference
    models, ``M`` self-distilled nets train their ``M * K`` sub-models at
    once, then their ``M`` distilled nets at once, when the distilled model is
    a skorch net on ``torch.nn.CrossEntropyLoss`` (soft labels taken
    natively). The user guide (:ref:`distillation_cost`) has timings.

    **Soft labels and hard-label models.** ``"weights"`` adds up to
    ``n_classes`` rows per record (records' zero-probability classes are
    dropped). Parameters that count rows rather than weights change meaning
    (``min_samples_leaf``, a forest's bootstrap, which samples copies; the
    ``n_samples > 10,000`` rule of ``HistGradientBoostingClassifier``'s
    ``early_stopping="auto"``). skprivacy's own nets (``CRLClassifier``,
    ``DPSGDClassifier``) take neither probability targets nor ``sample_weight``,
    so ``"auto"`` distils into them with ``"argmax"``; DP-SGD's guarantee would
    not cover the distilled model anyway, because each soft label depends on
    other records.

    ``sample_weight`` is not supported: whether weighted records would be held
    out by count or by weight has no answer in the method.

    References
    ----------
    .. [1] X. Tang, S. Mahloujifar, L. Song, V. Shejwalkar, M. Nasr, A. Houmansadr
       and P. Mittal, "Mitigating Membership Inference Attacks by
       Self-Distillation Through a Novel Ensemble Architecture", USENIX
       Security 2022.
    .. [2] M. Aerni, J. Zhang and F. Tramèr, "Evaluations of Machine Learning
       Privacy Defenses are Misleading", CCS 2024.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skprivacy import SelfDistillationClassifier
    >>> X, y = make_classification(n_samples=300, random_state=0)
    >>> clf = SelfDistillationClassifier(
    ...     DecisionTreeClassifier(), n_estimators=5, n_held_out=2,
    ...     keep_submodels=True, random_state=0,
    ... ).fit(X, y)
    >>> clf.soft_label_method_
    'weights'
    >>> clf.held_out_.sum(axis=1).min(), clf.held_out_.sum(axis=1).max()
    (np.int64(2), np.int64(2))

    A fully grown tree fits its own training labels perfectly; the distilled
    tree learns the sub-models' out-of-sample labels instead:

    >>> DecisionTreeClassifier().fit(X, y).score(X, y)
    1.0
    >>> bool(clf.score(X, y) < 0.97)
    True
    """

    # Many models of the recipe (the audit's references, the game's models)
    # train their sub-models, then their distilled models, all at once.
    _skprivacy_capabilities: ClassVar[dict] = {
        "vectorized_trainer": (_check_distilled_models, _train_distilled_models)
    }

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "final_estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(Integral, 2, None, closed="left")],
        "n_held_out": [Interval(Integral, 1, None, closed="left")],
        "soft_labels": [StrOptions({"auto", "native", "weights", "argmax"})],
        "n_augment": [Interval(Integral, 0, None, closed="left")],
        "augment_scale": [Interval(Real, 0, None, closed="neither")],
        "keep_submodels": ["boolean"],
        "vectorize": [StrOptions({"auto"}), "boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        final_estimator=None,
        n_estimators=10,
        n_held_out=3,
        soft_labels="auto",
        n_augment=0,
        augment_scale=0.1,
        keep_submodels=False,
        vectorize="auto",
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.final_estimator = final_estimator
        self.n_estimators = n_estimators
        self.n_held_out = n_held_out
        self.soft_labels = soft_labels
        self.n_augment = n_augment
        self.augment_scale = augment_scale
        self.keep_submodels = keep_submodels
        self.vectorize = vectorize
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _recipes(self):
        estimator = (
            RandomForestClassifier() if self.estimator is None else self.estimator
        )
        final = estimator if self.final_estimator is None else self.final_estimator
        return estimator, final

    def _soft_label_method(self, final):
        if self.soft_labels == "native" and not _accepts_soft_targets(final):
            from skprivacy.defense._net import BaseNetClassifier

            if isinstance(final, BaseNetClassifier):
                raise ValueError(
                    f"soft_labels='native': {type(final).__name__} checks y as a "
                    "vector of labels and trains on hard labels; use "
                    "soft_labels='argmax', or a skorch NeuralNetClassifier with "
                    "criterion=torch.nn.CrossEntropyLoss for soft targets."
                )
        if self.soft_labels == "weights" and not has_fit_parameter(
            final, "sample_weight"
        ):
            raise ValueError(
                f"soft_labels='weights': the fit of {type(final).__name__} takes no "
                "sample_weight; use soft_labels='argmax' (or 'native' if it trains "
                "on probability targets)."
            )
        if self.soft_labels != "auto":
            return self.soft_labels
        if _accepts_soft_targets(final):
            return "native"
        if has_fit_parameter(final, "sample_weight"):
            return "weights"
        warnings.warn(
            f"{type(final).__name__} takes neither soft targets nor sample_weight: "
            "the distilled model is trained on the most probable class of each soft "
            "label (soft_labels='argmax'), which drops the labels' confidence. Set "
            "soft_labels='argmax' to silence this warning.",
            DefenseConfigurationWarning,
            stacklevel=4,
        )
        return "argmax"

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train the Split-AI sub-models, then the distilled model on their soft labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in any form the estimators accept.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : SelfDistillationClassifier
            The fitted classifier.
        """
        X, y, y_idx = self._validate_training_data(X, y)
        estimator, final = self._recipes()
        method = self._soft_label_method(final)
        seeds, held_out = self._split(y_idx)
        soft, submodels = self._train_submodels(estimator, X, y, held_out, seeds)
        X_fit, soft_fit = X, soft
        if self.n_augment:
            X_fit, soft_fit = self._augmented(X, soft, seeds[-1])
        if self.verbose:
            print(
                f"[{type(self).__name__}] distilling {len(soft_fit)} soft labels "
                f"into {type(final).__name__} (soft_labels={method!r})"
            )
        self.final_estimator_ = self._distil(
            clone(final), X_fit, soft_fit, seeds[-1], method
        )
        self.soft_label_method_ = method
        if self.keep_submodels:
            self.estimators_ = submodels
            self.held_out_ = held_out
            self.soft_labels_ = soft
        return self

    def _validate_training_data(self, X, y):
        """Check the parameters and the data; set ``classes_`` and the input
        attributes. Returns ``X`` (indexable), ``y`` and its class indices."""
        if self.n_held_out >= self.n_estimators:
            raise ValueError(
                f"n_held_out={self.n_held_out} must be below n_estimators="
                f"{self.n_estimators}: a sub-model held out of every record would "
                "train on nothing."
            )
        X, y = validate_data(self, X, y, skip_check_array=True)
        # Subsets of rows are taken by indexing: COO, DIA... matrices and bare
        # array-likes cannot be indexed.
        if issparse(X):
            X = X.tocsr()
        elif not hasattr(X, "__getitem__"):
            X = np.asarray(X)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "SelfDistillationClassifier needs at least 2 classes in y; got 1 class."
            )
        return X, y, y_idx

    def _split(self, y_idx):
        """The seeds of the fit and its held-out matrix.

        Seed 0 assigns the held-out records, 1..K seed the sub-models and
        K + 1 the distilled model.
        """
        seeds = spawn_seeds(self.random_state, self.n_estimators + 2)
        held_out = held_out_assignment(
            y_idx, self.n_estimators, self.n_held_out, np.random.default_rng(seeds[0])
        )
        empty = np.flatnonzero(held_out.all(axis=0))
        if empty.size:
            raise ValueError(
                f"n_samples={len(y_idx)} is too few for n_estimators="
                f"{self.n_estimators} and n_held_out={self.n_held_out}: "
                f"{empty.size} sub-model(s) would train on no record. Each trains "
                f"on about n_samples * {1 - self.n_held_out / self.n_estimators:.2g}."
            )
        return seeds, held_out

    def _train_submodels(self, estimator, X, y, held_out, seeds):
        """The soft labels, and the sub-models: all at once when the vectorized
        trainer takes ``estimator``, else clones through joblib."""
        K, name = self.n_estimators, type(self).__name__
        reason = (
            "vectorize=False"
            if self.vectorize is False
            else check_vectorizable(estimator, X)
        )
        if reason is None:
            models, lp = train_vectorized(
                # Every net the trainer takes has a classes parameter: the
                # columns of lp follow classes_.
                _with_all_classes(clone(estimator), self.classes_),
                X,
                y,
                ~held_out.T,
                seeds[1 : K + 1],
                verbose=max(int(self.verbose) - 1, 0),
            )
            if models is None:
                reason = lp
            else:
                if self.verbose:
                    print(
                        f"[{name}] trained {K} {type(estimator).__name__} "
                        "sub-models together (vectorized with torch.func)"
                    )
                return _held_out_mean(np.exp(lp), held_out), models
        if self.vectorize is True:
            raise ValueError(f"Cannot vectorize the sub-models: {reason}.")
        if self.verbose:
            print(
                f"[{name}] fitting {K} sub-models as separate clones through "
                f"joblib; not vectorized because {reason}"
            )
        parts = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fit_submodel)(
                estimator,
                X,
                y,
                held_out[:, k],
                seeds[k + 1],
                self.classes_,
                self.keep_submodels,
            )
            for k in range(K)
        )
        soft = np.zeros((len(y), len(self.classes_)))
        for k, (proba, _) in enumerate(parts):
            soft[held_out[:, k]] += proba
        return soft / self.n_held_out, [model for _, model in parts]

    def _augmented(self, X, soft, seed):
        """The records and their noisy copies, each copy with its record's
        soft label. The noise is drawn from a child of the distilled model's
        seed."""
        rng = spawn_generators(seed, 1)[0]
        copies = _noisy_copies(X, self.n_augment, self.augment_scale, rng)
        return _concat_rows(X, copies), np.concatenate(
            [soft, np.repeat(soft, self.n_augment, axis=0)]
        )

    def _distil(self, final, X, soft, seed, method):
        """Fit the released model on the soft labels, as ``method`` says."""
        final = _with_all_classes(final, self.classes_)
        if method == "native":
            return _fit_seeded(final, seed, X, soft.astype(np.float32))
        if method == "argmax":
            return _fit_seeded(final, seed, X, self.classes_[soft.argmax(axis=1)])
        rows, cols = np.nonzero(soft > 0)
        return _fit_seeded(
            final,
            seed,
            _safe_indexing(X, rows),
            self.classes_[cols],
            sample_weight=soft[rows, cols],
        )

    def _check_input(self, X):
        check_is_fitted(self)
        if getattr(X, "ndim", 2) == 1:
            raise ValueError(
                "Expected a 2D array of shape (n_samples, n_features), got a 1D "
                "array. Reshape your data with X.reshape(-1, 1) for one feature or "
                "X.reshape(1, -1) for one sample."
            )
        # The distilled model validates the values; this checks names and count.
        validate_data(self, X, skip_check_array=True, reset=False)

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the distilled model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows, in any form the distilled model accepts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; a class the distilled model never saw
            as a label gets probability 0.
        """
        self._check_input(X)
        if self.soft_label_method_ == "native":
            proba = np.asarray(self.final_estimator_.predict_proba(X))
            if proba.ndim != 2 or proba.shape[1] != len(self.classes_):
                raise ValueError(
                    f"The distilled {type(self.final_estimator_).__name__} returned "
                    f"probabilities of shape {proba.shape}; soft_labels='native' "
                    f"needs one column per class ({len(self.classes_)})."
                )
            return proba
        return _aligned_proba(self.final_estimator_, X, self.classes_)

    def predict(self, X):
        """Class labels predicted by the distilled model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows, in any form the distilled model accepts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        self._check_input(X)
        if self.soft_label_method_ == "native":
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        return self.final_estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator, final = self._recipes()
        inner = [get_tags(estimator).input_tags, get_tags(final).input_tags]
        tags.input_tags.allow_nan = all(t.allow_nan for t in inner)
        # Noisy copies need dense rows.
        tags.input_tags.sparse = all(t.sparse for t in inner) and not self.n_augment
        tags.input_tags.string = all(t.string for t in inner)
        tags.input_tags.categorical = all(t.categorical for t in inner)
        return tags
