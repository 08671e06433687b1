"""Shadow-model attack with a learned attack model (Shokri et al. 2017)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier

from skprivacy.audit._attacks._base import BaseMembershipAttack
from skprivacy.audit._signals import compute_signal
from skprivacy.utils._estimators import set_random_states
from skprivacy.utils._sklearn_compat import HasMethods, _fit_context

_LOGIT_CLIP = 1e-12


def _features(log_proba, y, per_class):
    """The prediction vector and the logit-scaled true-class confidence."""
    parts = [np.exp(log_proba), compute_signal(log_proba, y, "logit")[..., None]]
    if not per_class:
        parts.append(np.broadcast_to(np.eye(log_proba.shape[-1])[y], log_proba.shape))
    return np.concatenate(parts, axis=-1)


class ShadowModelAttack(BaseMembershipAttack):
    """Shadow-model attack: a classifier learns "in" against "out" outputs.

    Shokri et al. (2017, "Membership inference attacks against machine learning
    models", Sec. V) train shadow models like the target, label each shadow's
    outputs on its training records "in" and on other records "out", and fit one
    attack model per class on those outputs. Here the shadows are the reference
    models and the attack model is any scikit-learn classifier; its input is the
    prediction vector plus the logit-scaled true-class confidence (and the
    one-hot class when ``per_class=False``). The score is the attack model's
    log-odds of "in".

    Parameters
    ----------
    attack_model : classifier, default=None
        Unfitted scikit-learn classifier with ``predict_proba``; ``None`` uses
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
    per_class : bool, default=True
        One attack model per class, as in the paper, or one for all classes.

    Attributes
    ----------
    attack_models_ : dict
        Fitted attack model per class index (key ``None`` when not per class).

    See Also
    --------
    LiRA : Per-record calibration on the same references.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.audit import ShadowModelAttack
    >>> ShadowModelAttack(attack_model=LogisticRegression(), per_class=False)
    ShadowModelAttack(attack_model=LogisticRegression(), per_class=False)
    """

    min_references = 1
    min_references_to_calibrate = 2

    _parameter_constraints: ClassVar[dict] = {
        "attack_model": [HasMethods(["fit", "predict_proba"]), None],
        "per_class": ["boolean"],
    }

    def __init__(self, attack_model=None, per_class=True):
        self.attack_model = attack_model
        self.per_class = per_class

    def _fit_models(self, log_proba, y, membership, seed):
        M, n, _ = log_proba.shape
        X = _features(log_proba, y, self.per_class)
        X = X.reshape(M * n, -1)
        labels = membership.reshape(-1).astype(int)
        groups = np.broadcast_to(y, (M, n)).reshape(-1)
        model = (
            HistGradientBoostingClassifier(max_iter=100)
            if self.attack_model is None
            else self.attack_model
        )
        models = {}
        for key in np.unique(groups) if self.per_class else [None]:
            rows = slice(None) if key is None else groups == key
            if np.unique(labels[rows]).size < 2:
                models[key] = float(labels[rows][0])
                continue
            models[key] = set_random_states(clone(model), seed).fit(
                X[rows], labels[rows]
            )
        return models

    # The attack model's own parameters are validated when it is fitted.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, references):
        """Fit the attack model(s) on every reference's in/out outputs."""
        self.attack_models_ = self._fit_models(
            references.signals,
            references.y,
            references.membership,
            references.random_state,
        )
        return self

    @staticmethod
    def _score(models, log_proba, y, per_class):
        X = _features(log_proba, y, per_class)
        scores = np.zeros(len(y))
        for key, model in models.items():
            rows = np.ones(len(y), bool) if key is None else y == key
            if not rows.any():
                continue
            if isinstance(model, float):
                # A class whose shadows all agree gets the most extreme log-odds.
                bound = -np.log(_LOGIT_CLIP)
                scores[rows] = bound if model else -bound
                continue
            p = np.clip(model.predict_proba(X[rows])[:, 1], _LOGIT_CLIP, 1)
            scores[rows] = np.log(p) - np.log1p(-np.minimum(p, 1 - _LOGIT_CLIP))
        return scores

    def score_samples(self, signals, y, reference_signals, membership):
        """Log-odds of "in" under the attack model of each record's class."""
        return self._score(self.attack_models_, signals, y, self.per_class)

    def null_scores(self, references):
        """Cross-fitted: each reference is scored by attack models fit on the
        others, so that the threshold is not set on the attack model's own
        training data."""
        M = references.n_references
        folds = np.arange(M) % min(M, 4)
        scores = []
        for fold in np.unique(folds):
            held, rest = folds == fold, folds != fold
            if not rest.any():
                continue
            models = self._fit_models(
                references.signals[rest],
                references.y,
                references.membership[rest],
                references.random_state,
            )
            for j in np.flatnonzero(held):
                rows = ~references.membership[j]
                scores.append(
                    self._score(
                        models,
                        references.signals[j, rows],
                        references.y[rows],
                        self.per_class,
                    )
                )
        return np.concatenate(scores)
