"""Reaching the model behind wrappers, and seeding every part of an estimator."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline


def unwrap_estimator(estimator, X=None):
    """Peel :class:`~sklearn.frozen.FrozenEstimator` and pipeline steps off.

    Parameters
    ----------
    estimator : estimator
        Possibly a frozen wrapper or a :class:`~sklearn.pipeline.Pipeline`
        (nested in any order).
    X : array-like, default=None
        Records; when given, they are passed through the transforms of every
        pipeline peeled off.

    Returns
    -------
    final : estimator
        The last step of the innermost pipeline, unfrozen.
    X : array-like or None
        ``X`` transformed for ``final``.
    """
    while True:
        if isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
        elif isinstance(estimator, Pipeline):
            if X is not None:
                X = estimator[:-1].transform(X)
            estimator = estimator[-1]
        else:
            return estimator, X


def set_random_states(estimator, seed: int):
    """Seed every ``random_state`` parameter of ``estimator`` from ``seed``.

    skprivacy's one policy for a model it fits on the user's behalf (a
    reference model, a smoothed classifier's base, an attack's model), as
    scikit-learn's ensembles seed their members: every ``random_state``
    parameter, nested ones included, is set, whatever the user had set, so that
    the model is a function of ``seed`` and models given different seeds are
    independent draws of the recipe. One parameter gets ``seed`` itself; several
    get independent seeds spawned from it (in the sorted order of their
    names), so that two parts of one model never share a stream.

    Parameters
    ----------
    estimator : estimator
        Modified in place; usually a fresh clone.
    seed : int
        A non-negative seed, itself independent of the caller's other streams.

    Returns
    -------
    estimator : estimator
        The same object.
    """
    keys = sorted(
        key
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    )
    if len(keys) == 1:
        seeds = [int(seed)]
    else:
        children = np.random.SeedSequence(int(seed)).spawn(len(keys))
        seeds = [int(child.generate_state(1)[0]) for child in children]
    if keys:
        estimator.set_params(**dict(zip(keys, seeds, strict=True)))
    return estimator


def capability(estimator, name: str, default=None):
    """A capability the estimator's class declares, or ``default``.

    Estimators tell other parts of skprivacy how they work through a class
    attribute ``_skprivacy_capabilities`` (a dict), instead of being recognised
    by type: ``"encoded_labels"`` (output column ``i`` of the module is
    ``classes_[i]``), ``"predict_argmax"`` (``predict`` is the arg max of the
    module's first output), ``"train_shuffle"`` (training batches are shuffled
    by default) and ``"vectorized_loss"`` (a
    :class:`~skprivacy.utils._functional_loss.FunctionalLoss` subclass: the
    training loss as a pure function, which lets the audit train many models
    of the recipe at once) or ``"vectorized_trainer"`` (a pair ``(check,
    train)`` of module-level functions with the signatures and contracts of
    :func:`~skprivacy.utils._vectorized.check_vectorizable` and
    :func:`~skprivacy.utils._vectorized.train_vectorized`, for a recipe whose
    many models are trained at once another way). Capabilities are not inherited: a
    subclass may change what they describe (a private training loop, another
    predict), so it declares its own dict.

    Parameters
    ----------
    estimator : estimator
        Any estimator.
    name : str
        The capability.
    default : object, default=None
        Returned when the estimator declares nothing for ``name``.

    Returns
    -------
    value : object
    """
    declared = vars(type(estimator)).get("_skprivacy_capabilities", {})
    return declared.get(name, default)
