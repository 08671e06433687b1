"""Quantile-regression membership inference: no reference models at all."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy.special import ndtr
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor

from skprivacy.audit._attacks._query import BaseQueryAttack, row_normals
from skprivacy.audit._signals import SIGNALS, compute_signal
from skprivacy.utils import spawn_seeds
from skprivacy.utils._estimators import set_random_states
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
)

# E|e| = sigma * sqrt(2 / pi) for e ~ N(0, sigma^2): the spread regression
# predicts the mean absolute residual, rescaled to a standard deviation.
_ABS_TO_STD = np.sqrt(np.pi / 2)
# Scores are noisy targets: larger leaves and early stopping keep the boosting
# from fitting the noise (measured in benchmarks/bench_audit.py and on the
# heteroscedastic target of tests/audit/test_quantile.py).
_DEFAULT_BOOSTING = {"early_stopping": True, "min_samples_leaf": 50}
# Columns of the attack's signal before the record's features.
_SCORE, _FOLD, _FEATURES = 0, 1, 2


class QuantileRegressionAttack(BaseQueryAttack):
    """Quantile-regression attack (Bertran et al. 2023): zero reference models.

    Bertran, Tang, Kearns, Morgenstern, Roth & Wu ("Scalable membership
    inference attacks via quantile regression", NeurIPS 2023) replace the
    reference models of LiRA-style attacks by one regression model fitted on
    public *non-member* data: from a record ``(x, y)`` it predicts the
    distribution of the target's score on that record were it a non-member,
    and a record is flagged when its score exceeds the predicted
    ``(1 - alpha)``-quantile. Records that are easy for any model get a high
    threshold, hard ones a low one, which is what a global loss threshold
    misses.

    Here the non-member data are the auditor's population records
    (``X_population`` in :meth:`MembershipInferenceAuditor.fit`), the score is
    ``signal`` of the target's output (the hinge ``z_y - max_{y' != y} z_y'``
    by default, as in the paper; for two classes it equals the logit-scaled
    confidence), and the regressor reads the record's features and a one-hot
    encoding of its label. Two parametrisations:

    - ``quantile=None`` (default), the paper's Gaussian form: one regression
      predicts the mean ``mu(x, y)`` of the non-member score, a second one its
      spread ``sigma(x, y)`` (from the mean absolute residual); the membership
      score is ``(s - mu) / sigma``, so that flagging ``score > z_{1-alpha}``
      is the paper's rule at every ``alpha`` at once, and ROC curves and AUC
      are meaningful;
    - ``quantile=q``: the pinball-loss form at one level; the regressor
      predicts the ``q``-quantile ``t_q(x, y)`` and the score is
      ``s - t_q(x, y)``, positive when the paper flags the record at false
      positive rate ``1 - q``.

    The auditor sets the decision threshold on the population's own scores
    (an order statistic), so ``predict`` keeps its false-positive rate even
    where the regression is imperfect. To keep those population scores
    honest, the regression is *cross-fitted*: the records are split in
    ``n_splits`` folds by a keyed hash of their features, and every record,
    population or audited, is scored by the regressors that did not train on
    its fold. A population record is then no more favoured by the regression
    than a fresh non-member, and the threshold holds its rate up to the small
    differences between folds.

    It reads no reference model: pass ``n_references=0`` to the auditor,
    which would otherwise train references for nothing. The regression reads
    the records' features, so they must be numeric (encode categorical
    columns first and audit the model that follows the encoder).

    Parameters
    ----------
    signal : {"hinge", "logit", "loss", "confidence", "mentr"}, default="hinge"
        Score of the target on a record, see
        :func:`~skprivacy.audit.compute_signal`.
    regressor : regressor, default=None
        Regression model, cloned for every fold (and for the spread).
        ``None`` uses :class:`~sklearn.ensemble.HistGradientBoostingRegressor`
        (early stopping, ``min_samples_leaf=50``) with squared error (Gaussian
        form) or with the pinball loss at ``quantile`` (quantile form). A
        given regressor is used as is: in the quantile form it must itself
        be a ``quantile``-level regressor, e.g.
        ``HistGradientBoostingRegressor(loss="quantile", quantile=0.99)``.
        Its ``random_state`` parameters are seeded by the auditor.
    quantile : float in (0, 1) or None, default=None
        ``None`` for the Gaussian form, else the level of the pinball form.
    n_splits : int, default=5
        Folds of the cross-fitting (at least 2).

    Attributes
    ----------
    models_ : list of tuple
        Per fold, the fitted location regressor and the spread regressor
        (``None`` in the quantile form).
    n_classes_ : int
        Width of the label encoding.

    See Also
    --------
    LossAttack : The same score with one global threshold.
    LiRA : Per-record distributions from reference models instead.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy import MembershipInferenceAuditor
    >>> X, y = make_classification(900, 5, random_state=0)
    >>> target = LogisticRegression().fit(X[:300], y[:300])
    >>> auditor = MembershipInferenceAuditor(
    ...     FrozenEstimator(target), attack="quantile", n_references=0,
    ...     random_state=0,
    ... ).fit(X[:600], y[:600], X_population=X[600:], y_population=y[600:])
    >>> auditor.score_samples(X[:2], y[:2]).shape
    (2,)
    """

    query_output = "log_proba"
    needs_population = True

    _parameter_constraints: ClassVar[dict] = {
        "signal": [StrOptions(set(SIGNALS))],
        "regressor": [HasMethods(["fit", "predict"]), None],
        "quantile": [Interval(Real, 0, 1, closed="neither"), None],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, signal="hinge", regressor=None, quantile=None, n_splits=5):
        self.signal = signal
        self.regressor = regressor
        self.quantile = quantile
        self.n_splits = n_splits

    def prepare(self, query, X, y, *, scale, random_state):
        """Validate the parameters before any signal is computed."""
        self._validate_params()
        return self

    def signals(self, query, X, y, *, scale, random_state):
        """The target's score, the record's fold and its features, per row.

        The fold is drawn from a stream keyed on ``random_state`` and the
        record's values, so a record lands in the same fold whether it comes
        as population or as audited record.
        """
        score = compute_signal(query(X), y, self.signal)
        uniform = ndtr(row_normals(X, random_state, (1,))[:, 0])
        fold = np.minimum(np.floor(uniform * self.n_splits), self.n_splits - 1)
        return np.column_stack([score, fold, X])

    def _inputs(self, signal, y):
        onehot = np.eye(self.n_classes_)[np.asarray(y, dtype=np.intp)]
        return np.hstack([signal[:, _FEATURES:], onehot])

    def _regressor(self, seed):
        if self.regressor is not None:
            model = clone(self.regressor)
        elif self.quantile is None:
            model = HistGradientBoostingRegressor(**_DEFAULT_BOOSTING)
        else:
            model = HistGradientBoostingRegressor(
                loss="quantile", quantile=self.quantile, **_DEFAULT_BOOSTING
            )
        return set_random_states(model, seed)

    # The regressor's own parameters are validated when it is fitted.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, references):
        """Fit the regressors on the population, one set per fold."""
        signal = references.population_signals
        if signal is None:
            raise ValueError(
                "QuantileRegressionAttack learns from non-members of the target: "
                "pass X_population and y_population to the auditor's fit."
            )
        y = references.population_y
        self.n_classes_ = int(max(np.max(y), np.max(references.y, initial=0)) + 1)
        inputs, score = self._inputs(signal, y), signal[:, _SCORE]
        fold = signal[:, _FOLD]
        seeds = spawn_seeds(references.random_state, 2 * self.n_splits)
        self.models_ = []
        for k in range(self.n_splits):
            train = fold != k
            if train.sum() < 2 * self.n_splits:
                raise ValueError(
                    f"{len(score)} population records are too few to cross-fit "
                    f"{self.n_splits} folds; pass more population records or a "
                    "smaller n_splits."
                )
            location = self._regressor(seeds[2 * k]).fit(inputs[train], score[train])
            spread = None
            if self.quantile is None:
                residual = np.abs(score[train] - location.predict(inputs[train]))
                spread = self._regressor(seeds[2 * k + 1]).fit(inputs[train], residual)
            self.models_.append((location, spread))
        # Spreads are floored so that a record the regression thinks certain
        # does not get an unbounded score.
        self.min_spread_ = 1e-3 * float(np.std(score)) + 1e-12
        return self

    def score_samples(self, signals, y, reference_signals, membership):
        """Standardised score ``(s - mu) / sigma``, or ``s - t_q`` (quantile)."""
        signals = np.asarray(signals, dtype=np.float64)
        inputs, score = self._inputs(signals, y), signals[:, _SCORE]
        fold = signals[:, _FOLD]
        out = np.empty(len(score))
        for k, (location, spread) in enumerate(self.models_):
            rows = fold == k
            if not rows.any():
                continue
            centred = score[rows] - location.predict(inputs[rows])
            if spread is None:
                out[rows] = centred
            else:
                sigma = _ABS_TO_STD * spread.predict(inputs[rows])
                out[rows] = centred / np.maximum(sigma, self.min_spread_)
        return out
