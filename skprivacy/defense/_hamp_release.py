"""HAMP's output modification: a release-time defense for any classifier."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from skprivacy.utils import spawn_seeds
from skprivacy.utils._hashing import keyed_seed, row_digests
from skprivacy.utils._sklearn_compat import HasMethods, _fit_context, validate_data


class HAMPReleaseClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Release a classifier's scores as those of a random input, ranks kept.

    HAMP's test-time part (Chen & Pattabiraman, NDSS 2024, Sec. IV-C): for each
    query ``x``, draw an input ``u`` uniformly at random in the box of the
    training features, take the wrapped model's scores on ``u``, and give them
    to the classes in the order of the model's scores on ``x``: the class
    ranked first on ``x`` gets the largest score of ``u``, and so on. The
    released vector is a probability vector with the same ranking as the
    model's, so the predicted label, and with it the accuracy, are unchanged,
    but its values are those of an input the model never trained on, whatever
    ``x`` is. (Permuting logits and then taking the softmax equals permuting
    the softmax, so this equals the official code's use of logits.)

    This is a **release-time** defense: it changes what is published, not the
    model, and it protects only against attacks that read the scores. It does
    nothing against label-only attacks (the labels are the model's own), nor
    against anyone who holds the model. Report its numbers apart from
    training-time defenses such as :class:`HAMPClassifier`, which it is meant
    to be combined with.

    Parameters
    ----------
    estimator : classifier
        A classifier with ``predict_proba`` taking numeric arrays, cloned and
        fitted in ``fit`` (a :class:`~sklearn.frozen.FrozenEstimator` stays as
        it is).
    feature_range : tuple of (float or array-like, float or array-like) or None, \
            default=None
        Lower and upper bounds of each feature for the random inputs. ``None``
        uses each feature's minimum and maximum in the training data of
        ``fit``.
    random_state : int, RandomState instance or None, default=None
        Fixes, at fit, the secret seed from which each query's random input is
        derived.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, those of ``estimator_``.
    feature_low_ : ndarray of shape (`n_features_in_`,)
        Lower bounds of the random inputs.
    feature_high_ : ndarray of shape (`n_features_in_`,)
        Upper bounds of the random inputs.
    seed_ : int
        The seed fixed at fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    HAMPClassifier : HAMP's training-time part.
    skprivacy.audit.MembershipInferenceAuditor : Audits a release, this one
        included, through its ``predict_proba``.

    Notes
    -----
    The random input of a query is a deterministic pseudo-random function of
    ``seed_`` and the query's values: a row keeps its answer whatever batch
    it is queried in, and repeating a query returns the same answer.

    ``predict`` is the wrapped model's. The arg max of ``predict_proba`` is
    the class the model scores highest (ties to the first), so the two agree
    for models whose ``predict`` is that arg max, unless the random input's
    own top scores tie. The random inputs are uniform in a box, not realistic
    records (one-hot columns, for example, get values between 0 and 1), as in
    the paper, where they are uniform noise. With ``feature_range=None`` the
    box's corners are the training data's extremes: pass the features' public
    ranges instead when those extremes are sensitive. Measured numbers, with
    and without HAMP's training part, are in the user guide (:ref:`hamp`).

    References
    ----------
    .. [1] Z. Chen and K. Pattabiraman, "Overconfidence is a Dangerous Thing:
       Mitigating Membership Inference Attacks by Enforcing Less Confident
       Prediction", NDSS 2024, arXiv:2307.01610.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.defense import HAMPReleaseClassifier
    >>> X, y = make_classification(n_samples=200, n_classes=3, n_informative=4,
    ...                            random_state=0)
    >>> release = HAMPReleaseClassifier(LogisticRegression(), random_state=0)
    >>> release = release.fit(X, y)
    >>> proba = release.predict_proba(X[:5])
    >>> model = release.estimator_.predict_proba(X[:5])
    >>> bool((proba.argmax(1) == model.argmax(1)).all())
    True
    >>> bool(np.allclose(np.sort(proba, 1), np.sort(model, 1)))
    False
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "feature_range": [tuple, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, feature_range=None, random_state=None):
        self.estimator = estimator
        self.feature_range = feature_range
        self.random_state = random_state

    def _bounds(self, X):
        if self.feature_range is None:
            return X.min(axis=0), X.max(axis=0)
        if len(self.feature_range) != 2:
            raise ValueError(
                "feature_range must be a (low, high) pair; got "
                f"{len(self.feature_range)} items."
            )
        shape = (X.shape[1],)
        try:
            low, high = (
                np.broadcast_to(np.asarray(bound, dtype=np.float64), shape)
                for bound in self.feature_range
            )
        except ValueError as exc:
            raise ValueError(
                f"feature_range bounds must be scalars or have {shape[0]} values "
                "(one per feature)."
            ) from exc
        if (
            not (np.isfinite(low).all() and np.isfinite(high).all())
            or (low > high).any()
        ):
            raise ValueError(
                "feature_range must hold finite bounds with low <= high for every "
                "feature."
            )
        return low.copy(), high.copy()

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit the wrapped classifier and fix the random inputs' box and seed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training data.
        y : array-like of shape (n_samples,)
            Target labels.
        **fit_params : dict
            Passed to the wrapped estimator's ``fit``.

        Returns
        -------
        self : HAMPReleaseClassifier
            The fitted classifier.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        self.feature_low_, self.feature_high_ = self._bounds(X)
        (self.seed_,) = spawn_seeds(self.random_state, 1)
        return self

    def predict(self, X):
        """The wrapped model's labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric input rows.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Scores of a random input per row, in the model's order of classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric input rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; each row is the wrapped model's
            probabilities on that row's random input, rearranged to rank the
            classes as the model ranks them on the row.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        proba = np.asarray(self.estimator_.predict_proba(X))
        random_proba = np.asarray(self.estimator_.predict_proba(self._random_inputs(X)))
        # Ascending rank order with ties put so that the first of the tied top
        # classes ranks highest, as np.argmax would pick it.
        order = np.argsort(-proba, axis=1, kind="stable")[:, ::-1]
        released = np.empty_like(random_proba)
        np.put_along_axis(released, order, np.sort(random_proba, axis=1), axis=1)
        return released

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric input rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _random_inputs(self, X):
        """One uniform input in the feature box per row, keyed on the row."""
        width = self.feature_high_ - self.feature_low_
        inputs = np.empty_like(X)
        for i, digest in enumerate(row_digests(X)):
            generator = np.random.default_rng(keyed_seed(self.seed_, digest))
            inputs[i] = self.feature_low_ + width * generator.random(X.shape[1])
        return inputs
