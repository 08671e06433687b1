"""The one engine that trains reference (shadow) models for every attack.

References are unfitted :func:`sklearn.base.clone` copies of a training recipe,
fit on random halves of a pool with a balanced keep matrix (each record is in
the training set of half the references, Carlini et al. 2022, Sec. 4), in
parallel through joblib (on a Dask or Ray cluster through
:func:`joblib.parallel_config`), optionally cached with :class:`joblib.Memory`
one reference at a time, so an interrupted run resumes where it stopped.
Torch recipes that qualify (see :mod:`skprivacy.utils._vectorized`) are
trained all at once with :mod:`torch.func`, on the recipe's device, instead.

What the engine returns is each reference's *outputs*: the attack's signals
on the pool (and on the population), and whether it classifies each pool
record correctly; workers return only these unless the fitted models are
asked for, so memory grows with the references' outputs, not their models.
The engine also verifies that each reference trained.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from skprivacy.audit._attacks._base import BaseMembershipAttack
from skprivacy.audit._attacks._query import SignalExtractor
from skprivacy.audit._signals import align_columns, aligned_log_proba
from skprivacy.exceptions import UntrainedReferenceWarning
from skprivacy.utils import torch_seed
from skprivacy.utils._estimators import capability, set_random_states
from skprivacy.utils._sklearn_compat import _safe_indexing
from skprivacy.utils._vectorized import check_vectorizable, train_vectorized

# Models trained together by the vectorized path (one batch in memory at once).
_VECTORIZED_BATCH = 64

__all__ = [
    "ReferenceOutputs",
    "aligned_log_proba",
    "balanced_keep_matrix",
    "fit_reference",
    "independent_references",
    "train_references",
]


def balanced_keep_matrix(n_references: int, n_samples: int, rng) -> np.ndarray:
    """Random training memberships, each record in half of the references.

    References come in complementary pairs: reference ``2k`` trains on a
    random half of the records and reference ``2k + 1`` on the other half. So
    every column has ``M // 2`` True entries (plus one with probability about
    1/2 when ``M`` is odd), every reference trains on half of the pool, and
    the matrix for ``M`` references is the first ``M`` rows of the matrix for
    more: growing the number of references keeps those already drawn.

    Parameters
    ----------
    n_references : int
        Number of reference models ``M``.
    n_samples : int
        Pool size ``n``.
    rng : numpy.random.Generator
        Source of randomness (one permutation drawn per pair).

    Returns
    -------
    keep : ndarray of shape (M, n), bool
        ``keep[j, i]`` says whether reference ``j`` trains on record ``i``.
    """
    keep = np.zeros((n_references, n_samples), dtype=bool)
    for k in range(0, n_references, 2):
        order = rng.permutation(n_samples)
        # An odd pool: the extra record goes to either side with probability 1/2.
        half = n_samples // 2 + int(rng.random() < 0.5) * (n_samples % 2)
        keep[k, order[:half]] = True
        if k + 1 < n_references:
            keep[k + 1] = ~keep[k]
    return keep


def independent_references(n_references: int, target: int) -> np.ndarray:
    """The rows of a balanced keep matrix that may serve as references of one.

    When models of one :func:`balanced_keep_matrix` are attacked with each
    other, the references' training sets must be drawn independently of the
    target's. Row ``2k + 1`` is the complement of row ``2k``: among the other
    ``M - 1`` rows, a record the target trained on is in ``M / 2 - 1`` of them
    and out of ``M / 2``, a record it did not train on the reverse, so the
    references' in/out counts would carry the target's membership and bias
    the attack (online LiRA's medians over 7 and 8 values differ in spread:
    AUC 0.48 on a recipe that leaks nothing at ``M = 16``). Leaving out the
    target's complement as well keeps ``M / 2 - 1`` references in and out of
    every record whatever the target's membership.

    Parameters
    ----------
    n_references : int
        Rows ``M`` of the matrix.
    target : int
        The row attacked.

    Returns
    -------
    references : ndarray of shape (M,), bool
        All rows but ``target`` and its complement.
    """
    references = np.ones(n_references, dtype=bool)
    references[target] = False
    # Pairs (2k, 2k + 1), as balanced_keep_matrix draws them; a last row of
    # an odd M has no complement.
    if target ^ 1 < n_references:
        references[target ^ 1] = False
    return references


def _uses_torch(estimator) -> bool:
    """Whether ``estimator`` or one of its parameters is a torch/skorch object.

    Only those draw from torch's global generator; forking it for the others
    would race between threads of a threading (or in-process Dask) backend.
    """
    for obj in (estimator, *estimator.get_params(deep=True).values()):
        kind = obj if isinstance(obj, type) else type(obj)
        if any(k.__module__.split(".")[0] in ("torch", "skorch") for k in kind.__mro__):
            return True
    return False


def fit_reference(recipe, X, y, train_idx, seed):
    """Fit one reference: a fresh clone of ``recipe`` on ``train_idx``.

    Torch's global generator (used by skorch for initialisation and shuffling)
    is forked and seeded inside, so references are reproducible and the caller's
    RNG state is untouched.
    """
    estimator = set_random_states(clone(recipe), seed)
    X_train, y_train = _safe_indexing(X, train_idx), _safe_indexing(y, train_idx)
    if "torch" in sys.modules and _uses_torch(estimator):
        with torch_seed(seed):
            return estimator.fit(X_train, y_train)
    return estimator.fit(X_train, y_train)


@dataclass
class ReferenceOutputs:
    """What the engine keeps of ``M`` references.

    Attributes
    ----------
    signals : ndarray of shape (M, n, n_signals)
        The attack's signals of each reference on the pool.
    correct : ndarray of shape (M, n), bool
        Whether each reference classifies each pool record correctly.
    population_signals : ndarray of shape (M, z, n_signals) or None
        Their signals on the population.
    estimators : list of fitted estimators or None
        The models, when asked for.
    """

    signals: np.ndarray
    correct: np.ndarray
    population_signals: np.ndarray | None = None
    estimators: list | None = None

    @classmethod
    def concatenate(cls, parts):
        """Outputs of the references of ``parts``, in order."""
        parts = [p for p in parts if len(p.signals)] or parts[:1]
        if len(parts) == 1:
            return parts[0]
        pop = [p.population_signals for p in parts]
        models = [p.estimators for p in parts]
        return cls(
            np.concatenate([p.signals for p in parts]),
            np.concatenate([p.correct for p in parts]),
            None if pop[0] is None else np.concatenate(pop),
            None if models[0] is None else [m for ms in models for m in ms],
        )

    def accuracy(self, keep):
        """Accuracy of each reference on its training half and on the rest."""
        return np.array(
            [
                [c[row].mean(), c[~row].mean() if (~row).any() else 0.0]
                for c, row in zip(self.correct, keep, strict=True)
            ]
        ).reshape(len(keep), 2)


def _reference_outputs(recipe, X, y, train_idx, seed, extract, data, keep_model):
    """Fit one reference and return its outputs (the joblib/Dask task)."""
    estimator = fit_reference(recipe, X, y, train_idx, seed)
    return _outputs_of(estimator, extract, data, keep_model)


def _outputs_of(estimator, extract, data, keep_model, log_proba=None):
    records, y_idx, population, population_y = data
    if log_proba is not None and extract.reads_log_proba:
        signals = log_proba
    else:
        signals = extract(estimator, records, y_idx)
    correct = extract.correct(estimator, records, y_idx, signals)
    pop = None if population is None else extract(estimator, population, population_y)
    return ReferenceOutputs(
        signals[None],
        correct[None],
        None if pop is None else pop[None],
        [estimator] if keep_model else None,
    )


def _log_proba_extractor(classes):
    return SignalExtractor(
        BaseMembershipAttack(),
        classes,
        scale=None,
        random_state=0,
        feature_names=None,
    )


def train_reference_outputs(
    recipe,
    X,
    y,
    keep,
    seeds,
    *,
    classes,
    extract=None,
    data=None,
    keep_models=True,
    n_jobs=None,
    memory=None,
    verbose=0,
    vectorize="auto",
    first_index=0,
):
    """Train one reference per row of ``keep`` and keep its outputs.

    Parameters
    ----------
    recipe : unfitted estimator
        Training recipe, cloned for every reference.
    X, y : array-like
        The pool, as the recipe takes it.
    keep : ndarray of shape (M, n), bool
        Training membership of each reference.
    seeds : list of int
        One seed per reference.
    classes : ndarray
        Class labels of the target, ordering the probability columns.
    extract : SignalExtractor, default=None
        The attack's signal step; ``None`` reads log-probabilities.
    data : tuple, default=None
        ``(records, y_idx, population, population_y)``: the pool and the
        population as ``extract`` reads them (``None`` builds them from ``X``
        and ``y``, without population).
    keep_models : bool, default=True
        Return the fitted models too (memory grows with them).
    n_jobs : int, default=None
        Parallel jobs (joblib; use :func:`joblib.parallel_config` for Dask).
    memory : joblib.Memory, default=None
        Cache of each reference's outputs (and model, when kept).
    verbose : int, default=0
        Shows a progress bar when positive, and says whether the references
        were trained vectorized and, if not, why.
    vectorize : {"auto", True, False}, default="auto"
        ``"auto"`` trains qualifying torch recipes all at once with
        :mod:`torch.func` and fits clones otherwise; ``True`` raises when the
        recipe does not qualify; ``False`` always fits clones.
    first_index : int, default=0
        Number of the first reference, for messages.

    Returns
    -------
    outputs : ReferenceOutputs
    """
    if extract is None:
        extract = _log_proba_extractor(classes)
    if data is None:
        data = (X, np.searchsorted(classes, np.asarray(y)), None, None)
    outputs = None
    if vectorize:
        # A recipe whose training is not a plain minibatch loop (DP-SGD's
        # clipped and noised steps, a meta-estimator's sub-models) declares
        # its own many-models trainer, with the same contract as the default.
        check, train = capability(
            recipe, "vectorized_trainer", (check_vectorizable, train_vectorized)
        )
        reason = check(recipe, X)
        if memory is not None:
            train = memory.cache(train)
        parts = []
        # Batches of models: memory stays that of one batch when only the
        # outputs are kept.
        for start in range(0, len(keep) if reason is None else 0, _VECTORIZED_BATCH):
            rows = slice(start, start + _VECTORIZED_BATCH)
            estimators, lp = train(
                recipe, X, y, keep[rows], seeds[rows], verbose=verbose
            )
            if estimators is None:
                reason = lp
                break
            parts.extend(
                _outputs_of(
                    est,
                    extract,
                    data,
                    keep_models,
                    align_columns(lp_j, est.classes_, classes),
                )
                for lp_j, est in zip(lp, estimators, strict=True)
            )
            del estimators, lp
        if reason is None:
            outputs = ReferenceOutputs.concatenate(parts)
            if verbose:
                print(
                    f"Trained {len(seeds)} {type(recipe).__name__} reference models "
                    "together (vectorized with torch.func)."
                )
        elif vectorize is True:
            raise ValueError(f"Cannot vectorize the reference models: {reason}.")
        elif verbose:
            print(
                f"Fitting {len(seeds)} reference models as separate clones "
                f"through joblib; not vectorized because {reason}."
            )
    if outputs is None:
        task = _reference_outputs
        if memory is not None:
            task = memory.cache(_reference_outputs)
        jobs = (
            delayed(task)(
                recipe, X, y, np.flatnonzero(row), seed, extract, data, keep_models
            )
            for row, seed in zip(keep, seeds, strict=True)
        )
        results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        if verbose:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(seeds), desc="reference models")
        outputs = ReferenceOutputs.concatenate(list(results))
    _warn_untrained(outputs.correct, keep, data[1], len(classes), first_index)
    return outputs


def _warn_untrained(correct, keep, y_idx, n_classes, first_index):
    for j, (c, row) in enumerate(zip(correct, keep, strict=True)):
        majority = np.bincount(y_idx[row], minlength=n_classes).max() / row.sum()
        accuracy = c[row].mean()
        if accuracy <= majority:
            warnings.warn(
                f"Reference model {first_index + j} did not train: its training "
                f"accuracy {accuracy:.3f} is no better than always predicting the "
                f"majority class ({majority:.3f}). Check the training recipe "
                "(estimator=...) and that the pool is large enough; attacks built on "
                "untrained references understate the leakage.",
                UntrainedReferenceWarning,
                stacklevel=4,
            )


def train_references(recipe, X, y, keep, seeds, *, classes, **kwargs):
    """Train references and return models, log-probabilities and accuracies.

    The models' view of :func:`train_reference_outputs` (same parameters).

    Returns
    -------
    estimators : list of fitted estimators
    log_proba : ndarray of shape (M, n, n_classes)
        Log-probabilities of every reference on every pool record.
    accuracy : ndarray of shape (M, 2)
        Accuracy of each reference on its training half and on the other half.
    """
    outputs = train_reference_outputs(
        recipe, X, y, keep, seeds, classes=classes, keep_models=True, **kwargs
    )
    return outputs.estimators, outputs.signals, outputs.accuracy(keep)
