"""Randomized response on the released label: a local-DP baseline defense."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import math
import numbers
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from skprivacy.utils import as_seed_sequence
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    _fit_context,
    validate_data,
)

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(h: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer (Steele, Lea & Flood 2014), vectorized over uint64."""
    h = (h + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
    h = ((h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
    h = ((h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
    return h ^ (h >> np.uint64(31))


def _row_uniforms(X, seed: int, n_draws: int) -> np.ndarray:
    """``n_draws`` uniforms in [0, 1) per row, a function of the seed and the row only.

    The row content is hashed column by column (any dtype, via pandas), mixed with
    the seed and expanded into independent 64-bit words, so a row gets the same
    draws whatever batch it is in and however often it is queried.
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    row_hash = pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64)
    base = _splitmix64(row_hash ^ np.uint64(seed))
    words = [_splitmix64(base + np.uint64(i + 1)) for i in range(n_draws)]
    # Top 53 bits -> an exactly representable double in [0, 1).
    return np.stack([(w >> np.uint64(11)) * 2.0**-53 for w in words], axis=1)


class RandomizedResponseClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Release a classifier's labels through k-ary randomized response.

    The wrapped classifier predicts a label; the released label is that label with
    probability ``e^ε / (e^ε + k - 1)`` and each of the ``k - 1`` other classes with
    probability ``1 / (e^ε + k - 1)``, where ``k = len(classes_)``. The release is a
    baseline defense against attribute inference and model inversion: it is
    ε-locally differentially private with respect to the predicted label, so for
    any two inputs ``x, x'`` and any output ``o``,
    ``P[M(x) = o] <= e^ε P[M(x') = o]`` (Warner, 1965; k-ary form: Kairouz, Oh &
    Viswanath, 2014; Wang et al., 2017, "generalized randomized response").

    Parameters
    ----------
    estimator : classifier, default=None
        The classifier whose labels are released; cloned and fitted in ``fit``.
        ``None`` means :class:`~sklearn.linear_model.LogisticRegression`.
    epsilon : float, default=1.0
        Privacy parameter ε > 0 of the local-DP guarantee; ``np.inf`` releases the
        labels unchanged. Smaller is more private and less accurate.
    random_state : int, RandomState instance or None, default=None
        Fixes, at fit, the secret seed from which each row's coin flips are derived.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The class labels, those of ``estimator_``.
    keep_proba_ : float
        Probability ``e^ε / (e^ε + k - 1)`` that the true label is released.
    seed_ : int
        The 64-bit seed fixed at fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    skprivacy.audit.AttributeInferenceAttack : Measures what a release, this one
        included, reveals about a sensitive attribute.

    Notes
    -----
    The coin flips are a deterministic pseudo-random function of ``seed_`` and
    the content of the row (a hash of its values), not fresh randomness per call:
    a row keeps its answer whatever batch it is queried in, and repeating a query
    returns the same answer, so an adversary cannot average the noise away by
    asking again. The guarantee then holds over the draw of the secret seed, for
    each released row; queries of different rows (for example the same person with
    another value of the sensitive attribute) get independent flips. Hashes are
    reproducible within one installation (they use pandas' row hashing).

    The guarantee covers what the label reveals. The per-class probabilities of
    the wrapped model are not released (the classifier has no ``predict_proba``).

    References
    ----------
    S. L. Warner. Randomized response: a survey technique for eliminating evasive
    answer bias. JASA 60(309), 1965.

    P. Kairouz, S. Oh, P. Viswanath. Extremal mechanisms for local differential
    privacy. NeurIPS 2014.

    T. Wang, J. Blocki, N. Li, S. Jha. Locally differentially private protocols
    for frequency estimation. USENIX Security 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.defense import RandomizedResponseClassifier
    >>> X, y = make_classification(n_samples=2000, random_state=0)
    >>> clf = RandomizedResponseClassifier(
    ...     LogisticRegression(), epsilon=1.0, random_state=0
    ... ).fit(X, y)
    >>> round(clf.keep_proba_, 3)
    0.731
    >>> flipped = clf.predict(X) != clf.estimator_.predict(X)
    >>> bool(0.24 < flipped.mean() < 0.30)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "epsilon": [Interval(numbers.Real, 0, None, closed="right")],  # (0, inf]
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, epsilon=1.0, random_state=None):
        self.estimator = estimator
        self.epsilon = epsilon
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the wrapped classifier and fix the seed of the coin flips.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in any form the wrapped estimator accepts.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the wrapped estimator's ``fit`` when given.

        Returns
        -------
        self : RandomizedResponseClassifier
            The fitted classifier.
        """
        validate_data(self, X, skip_check_array=True)
        estimator = LogisticRegression() if self.estimator is None else self.estimator
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        k = len(self.classes_)
        if math.isinf(self.epsilon):
            self.keep_proba_ = 1.0
        else:
            # e^ε / (e^ε + k - 1), written to stay finite for large ε.
            self.keep_proba_ = 1.0 / (1.0 + (k - 1) * math.exp(-self.epsilon))
        seeds = as_seed_sequence(self.random_state).generate_state(2, np.uint32)
        self.seed_ = (int(seeds[0]) << 32) | int(seeds[1])
        return self

    def predict(self, X):
        """Release the randomized label of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows, in any form the wrapped estimator accepts.

        Returns
        -------
        y_released : ndarray of shape (n_samples,)
            The wrapped model's label, kept with probability ``keep_proba_`` and
            otherwise replaced by one of the other classes uniformly at random.
        """
        check_is_fitted(self)
        # The wrapped estimator validates the values (it may accept strings, NaN or
        # a DataFrame by column name); this checks the feature names and count.
        labels = np.asarray(self.estimator_.predict(X))
        validate_data(self, X, skip_check_array=True, reset=False)
        # Hash lookup: works for any label type, and flags labels outside classes_.
        index = pd.Index(self.classes_).get_indexer(labels)
        if np.any(index < 0):
            raise ValueError(
                f"The wrapped estimator returned labels outside classes_ (e.g. "
                f"{labels[index < 0][0]!r}, an abstain label?); randomized response "
                "releases one of classes_, so wrap a model whose predict does not "
                "abstain."
            )
        k = len(self.classes_)
        if k == 1 or self.keep_proba_ == 1.0:
            return labels
        rows = X.toarray() if hasattr(X, "toarray") else X
        u = _row_uniforms(rows, self.seed_, 2)
        flip = u[:, 0] >= self.keep_proba_
        # A flipped label is one of the k - 1 other classes, uniformly.
        shift = 1 + np.minimum((u[:, 1] * (k - 1)).astype(np.intp), k - 2)
        index = np.where(flip, (index + shift) % k, index)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = LogisticRegression() if self.estimator is None else self.estimator
        inner_tags = get_tags(inner)
        tags.input_tags.allow_nan = inner_tags.input_tags.allow_nan
        tags.input_tags.sparse = inner_tags.input_tags.sparse
        tags.input_tags.string = inner_tags.input_tags.string
        tags.input_tags.categorical = inner_tags.input_tags.categorical
        return tags
