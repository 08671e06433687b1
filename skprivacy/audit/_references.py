"""The one engine that trains reference (shadow) models for every attack.

References are unfitted :func:`sklearn.base.clone` copies of a training recipe,
fit on random halves of a pool with a balanced keep matrix (each record is in
the training set of half the references, Carlini et al. 2022, Sec. 4), in
parallel through joblib (on a Dask or Ray cluster through
:func:`joblib.parallel_config`), optionally cached with :class:`joblib.Memory`.
Torch recipes that qualify (see :mod:`skprivacy.audit._vectorized`) are
trained all at once with :mod:`torch.func` instead. The engine keeps the
references' log-probabilities on the pool and verifies that each reference
trained.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from skprivacy.audit._signals import _LOG_FLOOR, log_proba
from skprivacy.audit._vectorized import check_vectorizable, train_vectorized
from skprivacy.exceptions import UntrainedReferenceWarning
from skprivacy.utils import torch_seed
from skprivacy.utils._sklearn_compat import _safe_indexing


def balanced_keep_matrix(n_references: int, n_samples: int, rng) -> np.ndarray:
    """Random training memberships, each record in half of the references.

    Parameters
    ----------
    n_references : int
        Number of reference models ``M``.
    n_samples : int
        Pool size ``n``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    keep : ndarray of shape (M, n), bool
        ``keep[j, i]`` says whether reference ``j`` trains on record ``i``. Every
        column has ``M // 2`` True entries (plus one with probability 1/2 when
        ``M`` is odd), so every reference trains on about half of the pool.
    """
    order = rng.random((n_references, n_samples)).argsort(axis=0).argsort(axis=0)
    n_in = n_references // 2 + (rng.random(n_samples) < 0.5 if n_references % 2 else 0)
    return order < n_in


def _set_random_states(estimator, seed: int):
    """Give every ``random_state`` parameter of ``estimator`` the value ``seed``."""
    params = estimator.get_params(deep=True)
    fixed = {
        key: int(seed)
        for key in params
        if key == "random_state" or key.endswith("__random_state")
    }
    if fixed:
        estimator.set_params(**fixed)
    return estimator


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
    estimator = _set_random_states(clone(recipe), seed)
    X_train, y_train = _safe_indexing(X, train_idx), _safe_indexing(y, train_idx)
    if "torch" in sys.modules and _uses_torch(estimator):
        with torch_seed(seed):
            return estimator.fit(X_train, y_train)
    return estimator.fit(X_train, y_train)


def aligned_log_proba(estimator, X, classes) -> np.ndarray:
    """Log-probabilities of ``estimator`` with columns ordered as ``classes``.

    A reference fit on a subset may have missed a class; its column gets the
    floor log-probability, as a class it never predicts.
    """
    return _align_columns(
        log_proba(estimator, X), getattr(estimator, "classes_", classes), classes
    )


def _align_columns(lp, est_classes, classes):
    if len(est_classes) == len(classes) and np.array_equal(est_classes, classes):
        return lp
    out = np.full((lp.shape[0], len(classes)), _LOG_FLOOR, dtype=np.float64)
    out[:, np.searchsorted(classes, est_classes)] = lp
    return out


def _fit_clones(recipe, X, y, keep, seeds, n_jobs, memory, verbose):
    fit = fit_reference if memory is None else memory.cache(fit_reference)
    jobs = (
        delayed(fit)(recipe, X, y, np.flatnonzero(row), seed)
        for row, seed in zip(keep, seeds, strict=True)
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    if verbose:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(seeds), desc="reference models")
    return list(results)


def train_references(
    recipe,
    X,
    y,
    keep,
    seeds,
    *,
    classes,
    n_jobs=None,
    memory=None,
    verbose=0,
    vectorize="auto",
):
    """Train one reference per row of ``keep`` and score the whole pool.

    Parameters
    ----------
    recipe : unfitted estimator
        Training recipe, cloned for every reference.
    X, y : array-like
        The pool.
    keep : ndarray of shape (M, n), bool
        Training membership of each reference.
    seeds : list of int
        One seed per reference.
    classes : ndarray
        Class labels of the target, ordering the probability columns.
    n_jobs : int, default=None
        Parallel jobs (joblib; use :func:`joblib.parallel_config` for Dask).
    memory : joblib.Memory, default=None
        Cache of fitted references.
    verbose : int, default=0
        Shows a progress bar when positive, and says whether the references
        were trained vectorized and, if not, why.
    vectorize : {"auto", True, False}, default="auto"
        ``"auto"`` trains qualifying torch recipes all at once with
        :mod:`torch.func` and fits clones otherwise; ``True`` raises when the
        recipe does not qualify; ``False`` always fits clones.

    Returns
    -------
    estimators : list of fitted estimators
    log_proba : ndarray of shape (M, n, n_classes)
        Log-probabilities of every reference on every pool record.
    accuracy : ndarray of shape (M, 2)
        Accuracy of each reference on its training half and on the other half.
    """
    estimators = None
    if vectorize:
        reason = check_vectorizable(recipe, X)
        if reason is None:
            train = (
                train_vectorized if memory is None else memory.cache(train_vectorized)
            )
            estimators, lp = train(recipe, X, y, keep, seeds, verbose=verbose)
            if estimators is None:
                reason = lp
        if reason is None:
            lp = np.stack(
                [
                    _align_columns(lp_j, est.classes_, classes)
                    for lp_j, est in zip(lp, estimators, strict=True)
                ]
            )
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
    if estimators is None:
        estimators = _fit_clones(recipe, X, y, keep, seeds, n_jobs, memory, verbose)
        lp = np.stack([aligned_log_proba(est, X, classes) for est in estimators])
    y_idx = np.searchsorted(classes, np.asarray(y))
    correct = lp.argmax(axis=2) == y_idx
    accuracy = np.array(
        [
            [correct[j, row].mean(), correct[j, ~row].mean() if (~row).any() else 0]
            for j, row in enumerate(keep)
        ]
    )
    for j, row in enumerate(keep):
        majority = np.bincount(y_idx[row], minlength=len(classes)).max() / row.sum()
        if accuracy[j, 0] <= majority:
            warnings.warn(
                f"Reference model {j} did not train: its training accuracy "
                f"{accuracy[j, 0]:.3f} is no better than always predicting the "
                f"majority class ({majority:.3f}). Check the training recipe "
                "(estimator=...) and that the pool is large enough; attacks built on "
                "untrained references understate the leakage.",
                UntrainedReferenceWarning,
                stacklevel=3,
            )
    return estimators, lp, accuracy
