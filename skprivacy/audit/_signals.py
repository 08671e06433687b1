"""Per-record membership signals computed in float64 from log-probabilities.

Every signal is oriented so that a higher value means "more likely a member".
Log-probabilities are taken from logits when the model exposes them (scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier`, skorch nets trained with
:class:`torch.nn.CrossEntropyLoss`): with float32 probabilities, confident
predictions round to exactly 1.0, every such record gets a loss of exactly 0 and
the ties destroy the low-FPR end of the ROC curve.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import sys

import numpy as np
from scipy.special import logsumexp

from skprivacy.utils._arrays import LOG_FLOOR, log_softmax
from skprivacy.utils._estimators import unwrap_estimator
from skprivacy.utils._sklearn_compat import validate_params

# Floor for log-probabilities: a probability of exactly 0 would give an infinite
# loss, which ROC code rejects; log(tiny) keeps the ordering and stays finite.

SIGNALS = ("loss", "confidence", "logit", "hinge", "mentr")


def _mlp_logits(mlp, X):
    """Output-layer pre-activations of a fitted MLPClassifier, in float64."""
    activation = np.asarray(X, dtype=np.float64)
    hidden = {
        "identity": lambda a: a,
        "relu": lambda a: np.maximum(a, 0.0),
        "tanh": np.tanh,
        "logistic": lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),
    }[mlp.activation]
    n_layers = len(mlp.coefs_)
    for i, (coef, intercept) in enumerate(
        zip(mlp.coefs_, mlp.intercepts_, strict=True)
    ):
        activation = activation @ coef + intercept
        if i < n_layers - 1:
            activation = hidden(activation)
    if mlp.out_activation_ == "logistic":
        # Binary output: softmax over [0, z] equals the sigmoid of z.
        activation = np.hstack([np.zeros_like(activation), activation])
    return activation


def _skorch_logits(net, X):
    """Module outputs of a skorch classifier trained on logits, or None."""
    from torch.nn import CrossEntropyLoss

    criterion = getattr(net, "criterion_", None)
    if net.predict_nonlinearity != "auto" or not isinstance(
        criterion, CrossEntropyLoss
    ):
        return None
    outputs = []
    for batch in net.forward_iter(X, training=False):
        batch = batch[0] if isinstance(batch, tuple) else batch
        outputs.append(batch.detach().to("cpu", dtype=batch.dtype).numpy())
    return np.concatenate(outputs).astype(np.float64)


def has_probabilities(estimator) -> bool:
    """Whether ``estimator`` releases scores beyond hard labels."""
    return hasattr(estimator, "predict_proba") or hasattr(
        estimator, "predict_log_proba"
    )


def log_proba(estimator, X) -> np.ndarray:
    """Log-probabilities of a fitted classifier, float64, logits when available.

    Parameters
    ----------
    estimator : fitted classifier
        Any scikit-learn compatible classifier with ``predict_proba`` (a
        :class:`~sklearn.pipeline.Pipeline` or :class:`~sklearn.frozen.FrozenEstimator`
        is unwrapped to reach logits of an MLPClassifier or skorch net).
    X : array-like of shape (n_samples, n_features)
        Records.

    Returns
    -------
    log_proba : ndarray of shape (n_samples, n_classes), float64
        Normalised log-probabilities, floored at ``log(tiny)``.
    """
    if "torch" in sys.modules:
        import torch

        # torch's DataLoader draws a seed from the global generator even at
        # inference; auditing must not move the caller's random state.
        with torch.random.fork_rng(devices=[]):
            return _log_proba(estimator, X)
    return _log_proba(estimator, X)


def _check_probabilities(proba, estimator):
    """Refuse outputs that are not probabilities (they give NaN scores)."""
    if proba.ndim != 2:
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba returned an array of shape "
            f"{proba.shape}; membership attacks need one row of class "
            "probabilities per record."
        )
    bad = ~np.isfinite(proba).all(axis=1) | (proba < 0).any(axis=1)
    bad |= (proba > 1 + 1e-6).any(axis=1) | (np.abs(proba.sum(axis=1) - 1) > 1e-3)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba did not return probabilities: "
            f"{int(bad.sum())} of {len(proba)} rows are not in [0, 1] or do not sum "
            f"to 1 (row {i}: {np.round(proba[i], 4).tolist()}). Audit a model whose "
            "predict_proba returns class probabilities (wrap scores in a "
            "calibrated or softmax output), or pass release='labels' and use a "
            "label-only attack."
        )


def _log_proba(estimator, X):
    final, Xt = unwrap_estimator(estimator, X)
    logits = None
    if type(final).__name__ == "MLPClassifier" and hasattr(final, "coefs_"):
        if final.out_activation_ in ("softmax", "logistic"):
            logits = _mlp_logits(final, Xt)
    elif hasattr(final, "forward_iter") and hasattr(final, "criterion_"):
        logits = _skorch_logits(final, Xt)
    if logits is None:
        # Probabilities of exactly 0 (trees, forests) give log 0 = -inf, floored.
        with np.errstate(divide="ignore"):
            if hasattr(estimator, "predict_log_proba"):
                logits = np.asarray(estimator.predict_log_proba(X), dtype=np.float64)
                _check_probabilities(np.exp(logits), estimator)
            else:
                proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
                _check_probabilities(proba, estimator)
                logits = np.log(proba)
        logits = np.maximum(logits, LOG_FLOOR)
    return np.maximum(log_softmax(logits), LOG_FLOOR)


def aligned_log_proba(estimator, X, classes) -> np.ndarray:
    """Log-probabilities of ``estimator`` with columns ordered as ``classes``.

    A reference fit on a subset may have missed a class; its column gets the
    floor log-probability, as a class it never predicts.
    """
    return align_columns(
        log_proba(estimator, X), getattr(estimator, "classes_", classes), classes
    )


def align_columns(lp, est_classes, classes):
    """Put the columns of ``lp`` (over ``est_classes``) in ``classes``' order."""
    if len(est_classes) == len(classes) and np.array_equal(est_classes, classes):
        return lp
    out = np.full((lp.shape[0], len(classes)), LOG_FLOOR, dtype=np.float64)
    out[:, np.searchsorted(classes, est_classes)] = lp
    return out


def _log1mexp(a):
    """log(1 - exp(a)) for a <= 0, accurate on both ends (Mächler 2012)."""
    a = np.minimum(a, -np.finfo(np.float64).tiny)
    # np.where evaluates both branches; the unused one may divide by zero.
    with np.errstate(divide="ignore"):
        return np.where(a > -np.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def _true_and_others(lp, y):
    rows = np.arange(lp.shape[-2])
    true = lp[..., rows, y]
    others = lp.copy()
    others[..., rows, y] = -np.inf
    return true, others


@validate_params(
    {"lp": ["array-like"], "y": ["array-like"], "signal": [str]},
    prefer_skip_nested_validation=True,
)
def compute_signal(lp: np.ndarray, y: np.ndarray, signal: str) -> np.ndarray:
    """Membership signal of each record, higher meaning more member-like.

    Parameters
    ----------
    lp : ndarray of shape (..., n_samples, n_classes)
        Log-probabilities (see :func:`log_proba`); leading axes (for example
        one per reference model) are kept.
    y : ndarray of shape (n_samples,)
        Column index of each record's true class.
    signal : {"loss", "confidence", "logit", "hinge", "mentr"}
        - ``"loss"``: the negative cross-entropy ``log p_y`` (Yeom et al. 2018);
        - ``"confidence"``: ``p_y``;
        - ``"logit"``: the logit-scaled confidence
          ``log p_y - log sum_{y' != y} p_y'`` (Carlini et al. 2022, eq. 4);
        - ``"hinge"``: ``z_y - max_{y' != y} z_y'`` on logits, computed on
          log-probabilities (the difference is shift invariant);
        - ``"mentr"``: minus the modified entropy
          ``-(1 - p_y) log p_y - sum_{i != y} p_i log(1 - p_i)``
          (Song & Mittal 2021, eq. 6).

    Returns
    -------
    signal : ndarray of shape (..., n_samples), float64

    See Also
    --------
    BaseMembershipAttack : The attacks that read these signals.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import compute_signal
    >>> lp = np.log([[0.9, 0.1], [0.2, 0.8]])
    >>> compute_signal(lp, [0, 0], "logit").round(3)
    array([ 2.197, -1.386])
    """
    lp = np.asarray(lp, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    true, others = _true_and_others(lp, y)
    if signal == "loss":
        return true
    if signal == "confidence":
        return np.exp(true)
    if signal == "logit":
        return true - logsumexp(others, axis=-1)
    if signal == "hinge":
        return true - others.max(axis=-1)
    if signal == "mentr":
        p = np.exp(lp)
        log_q = _log1mexp(lp)
        rows = np.arange(lp.shape[-2])
        terms = -p * log_q
        terms[..., rows, y] = 0.0
        mentr = -(1.0 - np.exp(true)) * true + terms.sum(axis=-1)
        return -mentr
    raise ValueError(f"signal must be one of {SIGNALS}; got {signal!r}.")


def class_indices(classes: np.ndarray, y) -> np.ndarray:
    """Column of each label of ``y`` in ``classes``, with a clear error."""
    y = np.asarray(y)
    idx = np.searchsorted(classes, y)
    idx = np.clip(idx, 0, len(classes) - 1)
    unknown = classes[idx] != y
    if np.any(unknown):
        raise ValueError(
            f"y contains labels the target was not trained on: "
            f"{np.unique(y[unknown])[:5].tolist()}; the target knows "
            f"{classes.tolist()}. Pass the records' true class labels."
        )
    return idx.astype(np.intp)
