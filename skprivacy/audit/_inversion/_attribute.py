"""Attribute inference (model inversion) from black-box releases."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import numbers
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skprivacy.audit._intervals import clopper_pearson
from skprivacy.audit._inversion._report import AttributeInferenceReport
from skprivacy.certify import attribute_grid, attribute_response
from skprivacy.utils._labels import same_release
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    validate_data,
    validate_parameter_constraints,
)
from skprivacy.utils._validation import (
    check_attribute_X,
    feature_column,
    feature_position,
)


def _tie_middle(scores: np.ndarray) -> np.ndarray:
    """Per row, the middle one of the maximal entries (ties broken to the centre).

    The centre of a tied set is a deterministic, order-independent choice that is
    also close to every tied value, which suits success within a tolerance.
    """
    best = scores.max(axis=1, keepdims=True)
    tied = scores >= best - 1e-12 * np.abs(best)
    rank = (tied.sum(axis=1) - 1) // 2
    return np.argmax(np.cumsum(tied, axis=1) > rank[:, None], axis=1)


def _is_classifier_prior(prior) -> bool:
    return hasattr(prior, "fit") and hasattr(prior, "predict_proba")


class AttributeInferenceAttack(BaseEstimator):
    """Infer a sensitive attribute from a model's released outputs (model inversion).

    The adversary knows every feature of a target except the sensitive one, a
    prior over the sensitive attribute, and the target's released output; it can
    query the model as a black box. For every candidate value ``v`` (bins of a
    continuous attribute, or categories) it queries the release of
    ``(x_{-s}, v)`` and forms the posterior

        ``P(v | o, x_{-s}) ∝ prior(v) · L(v)``,

    then guesses its maximum (MAP; ties go to the middle tied candidate), or,
    when success is judged within a ``tolerance``, the value whose tolerance
    window holds the most posterior mass (the Bayes-optimal guess for that
    criterion):

    * ``method="label"`` (label-only MAP; Fredrikson et al., 2014): ``L(v)`` is
      the fraction of the ``n_queries`` query points in ``v``'s bin whose
      released label equals the observed one. Abstention is a label like any
      other. For a deterministic release and one query per bin, the guess is the
      most probable bin of the compatible set
      (:func:`~skprivacy.certify.compatible_intervals`); several query points per
      bin estimate the likelihood of a randomized release (randomized response,
      or a smoothed release whose noise depends on the row).
    * ``method="confidence"`` (for models that release probabilities; Fredrikson,
      Jha & Ristenpart, 2015): ``L(v)`` is the mean over the query points of
      ``exp(-||p(x_{-s}, u) - p_obs||_1 / bandwidth)``, a kernel on the distance
      between the queried and the observed probability vectors.

    When no query explains the observation (``L = 0`` everywhere) the guess is
    the prior's. The attack's success is always reported beside the success of
    guessing from the prior alone, the baseline any release is compared with.

    Parameters
    ----------
    estimator : object
        The fitted target model, queried through ``predict`` (``method="label"``)
        or ``predict_proba`` (``method="confidence"``) only. Any classifier, a
        :class:`~skprivacy.defense.RandomizedResponseClassifier`, or a smoothed
        classifier that abstains. In ``cross_validate`` or a search, which clone
        the attack and with it the target (unfitted), pass
        ``sklearn.frozen.FrozenEstimator(model)``; querying an unfitted target
        raises a ``NotFittedError`` that says so.
    feature : int or str
        The sensitive column: a position, or a name when ``X`` is a DataFrame.
    categorical : bool, default=False
        If True, the candidates are the attribute's categories seen in ``fit``
        (for example sex or race) and success is an exact match. If False, the
        attribute is continuous and binned over ``domain``.
    domain : tuple of float, default=None
        ``(low, high)`` of a continuous attribute; ``None`` takes the range seen
        in ``fit``.
    bins : int or array-like of float, default=50
        Bins of a continuous attribute: a number of equal bins, or the grid values
        (each standing for its Voronoi cell, see
        :func:`~skprivacy.certify.attribute_grid`). Guesses are grid values.
    prior : {"empirical", "uniform"}, array-like or classifier, default="empirical"
        The adversary's prior over the candidates: the frequencies in the data
        given to ``fit`` (with half a count added to every candidate, so no
        candidate is ruled out by the prior alone), uniform, given
        probabilities aligned with ``values_``, or a classifier with
        ``predict_proba``, cloned and fitted in ``fit`` to predict the candidate
        from the other features: a conditional prior ``p(v | x_{-s})``. The
        prior-only baseline is then imputation from the other features, the
        baseline that separates what a release leaks from what the population's
        correlations reveal anyway (Jayaraman & Evans, 2022).
    method : {"label", "confidence"}, default="label"
        Which release the adversary observes.
    n_queries : int, default=1
        Query points per bin, evenly spaced inside it (continuous attributes;
        categories get one query each). One point judges a whole bin by its centre;
        several make ``L(v)`` account for the whole bin, which strengthens the
        attack on probability releases and for the tolerance criterion, and is
        needed to estimate the likelihood of a randomized release. The cost is
        ``n_queries`` times the queries.
    bandwidth : float, default=0.02
        Kernel bandwidth of ``method="confidence"``, in L1 distance between
        probability vectors: about the noise of the released probabilities (for
        vote frequencies over ``n`` noisy samples, ``2 * sqrt(p (1 - p) / n)``);
        for exact probabilities a smaller value is a stronger attack.
    tolerance : float, default=None
        A continuous guess succeeds within tolerance when ``|guess - true| <=
        tolerance`` (raw units); ``score`` and ``infer`` use it when given, and the
        exact bin otherwise.
    batch_size : int, default=65536
        Maximum number of query rows per call of the target model.

    Attributes
    ----------
    feature_index_ : int
        Position of the sensitive column.
    values_ : ndarray of shape (n_candidates,)
        The candidate values: bin centres (grid values) or categories.
    bin_edges_ : ndarray of shape (n_candidates + 1,) or None
        Edges of the bins; None for a categorical attribute.
    prior_ : ndarray of shape (n_candidates,)
        The prior probabilities of the candidates (with a classifier as
        ``prior``, the marginal frequencies, for reference).
    prior_estimator_ : classifier or None
        The fitted conditional prior, when ``prior`` is a classifier.
    n_features_in_ : int
        Number of features of the data given to ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when ``fit`` got a DataFrame.

    See Also
    --------
    AttributeInferenceReport : What :meth:`evaluate` returns.
    BoundaryRepulsionInversion : Model inversion from labels only.

    Notes
    -----
    sklearn's common checks do not apply: ``estimator`` is an already fitted
    target that is queried, not trained; ``fit`` learns only the prior; and
    ``infer``, ``posterior``, ``score`` and ``evaluate`` take the observed
    releases as a second argument instead of a target ``y``. The sensitive
    column of ``X`` given to them is never read except by ``score``/``evaluate``
    (the truth) and, when ``released`` is None, by the target model that
    produces the release.

    References
    ----------
    M. Fredrikson, E. Lantz, S. Jha, S. Lin, D. Page, T. Ristenpart. Privacy in
    pharmacogenetics: an end-to-end case study of personalized warfarin dosing.
    USENIX Security 2014.

    M. Fredrikson, S. Jha, T. Ristenpart. Model inversion attacks that exploit
    confidence information and basic countermeasures. CCS 2015.

    B. Jayaraman, D. Evans. Are attribute inference attacks just imputation?
    CCS 2022.

    Examples
    --------
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from skprivacy.audit import AttributeInferenceAttack
    >>> from skprivacy.datasets import make_recommendation
    >>> rec = make_recommendation(n_samples=1000, random_state=0)
    >>> X, y = rec.data, rec.target
    >>> model = HistGradientBoostingClassifier(max_iter=20).fit(X[:500], y[:500])
    >>> attack = AttributeInferenceAttack(
    ...     model, feature=0, domain=rec.sensitive_domain, bins=35, tolerance=3.0
    ... ).fit(X[:500])
    >>> report = attack.evaluate(X[500:])
    >>> bool(report.success_rate > report.prior_success_rate)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": "no_validation",
        "feature": [Interval(numbers.Integral, None, None, closed="neither"), str],
        "categorical": ["boolean"],
        "domain": ["array-like", None],
        "bins": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "prior": [
            StrOptions({"empirical", "uniform"}),
            "array-like",
            HasMethods(["fit", "predict_proba"]),
        ],
        "method": [StrOptions({"label", "confidence"})],
        "n_queries": [Interval(numbers.Integral, 1, None, closed="left")],
        "bandwidth": [Interval(numbers.Real, 0, None, closed="neither")],
        "tolerance": [Interval(numbers.Real, 0, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        feature,
        *,
        categorical=False,
        domain=None,
        bins=50,
        prior="empirical",
        method="label",
        n_queries=1,
        bandwidth=0.02,
        tolerance=None,
        batch_size=65536,
    ):
        self.estimator = estimator
        self.feature = feature
        self.categorical = categorical
        self.domain = domain
        self.bins = bins
        self.prior = prior
        self.method = method
        self.n_queries = n_queries
        self.bandwidth = bandwidth
        self.tolerance = tolerance
        self.batch_size = batch_size

    def _response_method(self) -> str:
        return "predict" if self.method == "label" else "predict_proba"

    def fit(self, X, y=None):
        """Learn the adversary's prior from data holding the sensitive attribute.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The adversary's auxiliary data (for example a public sample of the
            population), with the sensitive column.
        y : None
            Ignored.

        Returns
        -------
        self : AttributeInferenceAttack
            The fitted attack.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            type(self).__name__,
        )
        method = getattr(self.estimator, self._response_method(), None)
        if not callable(method):
            raise TypeError(
                f"The target {type(self.estimator).__name__} has no "
                f"{self._response_method()} method, which method={self.method!r} "
                "queries."
            )
        X = self._check_X(X, reset=True)
        self.feature_index_ = feature_position(X, self.feature)
        column = self._column(X)
        if self.categorical:
            self.values_ = np.asarray(
                pd.unique(pd.Series(column)).tolist(), dtype=object
            )
            if pd.isna(self.values_).any():
                raise ValueError("The sensitive column has missing values.")
            order = np.argsort(self.values_.astype(str), kind="stable")
            self.values_ = self.values_[order]
            self.bin_edges_ = None
            codes = self._category_codes(column)
        else:
            column = self._numeric(column)
            domain = self.domain
            if domain is None:
                # NaNs are reported by the domain check below.
                domain = (float(np.nanmin(column)), float(np.nanmax(column)))
            self.values_, self.bin_edges_ = attribute_grid(domain, self.bins)
            self._check_in_domain(column)
            codes = self._bin_codes(column)
        m = self.values_.size
        self.prior_estimator_ = None
        if _is_classifier_prior(self.prior):
            counts = np.bincount(codes[codes >= 0], minlength=m) + 0.5
            prior = counts / counts.sum()
            self.prior_estimator_ = clone(self.prior).fit(self._others(X), codes)
        elif isinstance(self.prior, str) and self.prior == "uniform":
            prior = np.full(m, 1.0 / m)
        elif isinstance(self.prior, str):
            counts = np.bincount(codes, minlength=m) + 0.5
            prior = counts / counts.sum()
        else:
            prior = np.asarray(self.prior, dtype=np.float64)
            if prior.shape != (m,):
                raise ValueError(
                    f"prior must have one probability per candidate ({m}), got "
                    f"shape {prior.shape}."
                )
            if np.any(prior < 0) or not np.isfinite(prior).all() or prior.sum() <= 0:
                raise ValueError("prior must be finite, non-negative and not all 0.")
            prior = prior / prior.sum()
        self.prior_ = prior
        return self

    @contextlib.contextmanager
    def _querying_target(self):
        """Explain a NotFittedError of the target: usually a clone unfitted it."""
        try:
            yield
        except NotFittedError as exc:
            raise NotFittedError(
                f"The target model {type(self.estimator).__name__} is not fitted. "
                "AttributeInferenceAttack queries an already fitted model; "
                "scikit-learn's clone (used by cross_validate, GridSearchCV, ...) "
                "copies the attack's parameters unfitted, the target included. "
                "Wrap the target in sklearn.frozen.FrozenEstimator(model), which "
                "clone keeps as it is."
            ) from exc

    # Input plumbing -------------------------------------------------------------

    def _check_X(self, X, *, reset: bool):
        X = check_attribute_X(X)
        # Feature count and names are checked as sklearn does; the values are left
        # to the target model, which may take strings or a DataFrame by name.
        validate_data(self, X, skip_check_array=True, reset=reset)
        return X

    def _others(self, X):
        """X without the sensitive column: what a conditional prior sees."""
        if isinstance(X, pd.DataFrame):
            return X.drop(columns=X.columns[self.feature_index_])
        return np.delete(X, self.feature_index_, axis=1)

    def _log_prior(self, X) -> np.ndarray:
        """``log p(v | x_{-s})`` per row (the same row for a marginal prior)."""
        if self.prior_estimator_ is None:
            return np.broadcast_to(np.log(self.prior_), (X.shape[0], self.values_.size))
        proba = np.zeros((X.shape[0], self.values_.size))
        columns = np.asarray(self.prior_estimator_.classes_, dtype=np.intp)
        proba[:, columns] = self.prior_estimator_.predict_proba(self._others(X))
        # A floor keeps candidates the classifier never saw possible.
        proba = np.maximum(proba, 1e-12)
        return np.log(proba / proba.sum(axis=1, keepdims=True))

    def _column(self, X) -> np.ndarray:
        return feature_column(X, self.feature_index_)

    def _numeric(self, column) -> np.ndarray:
        try:
            return np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "The sensitive column is not numeric: pass categorical=True to "
                "infer a categorical attribute."
            ) from exc

    def _check_in_domain(self, column: np.ndarray) -> None:
        low, high = self.bin_edges_[0], self.bin_edges_[-1]
        outside = ~((column >= low) & (column <= high))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} value(s) of the sensitive feature are outside "
                f"the domain [{low}, {high}] (or NaN), e.g. {column[outside][0]}."
            )

    def _bin_codes(self, column: np.ndarray) -> np.ndarray:
        codes = np.searchsorted(self.bin_edges_, column, side="right") - 1
        return np.clip(codes, 0, self.values_.size - 1)

    def _category_codes(self, column) -> np.ndarray:
        lookup = {value: i for i, value in enumerate(self.values_)}
        codes = np.array([lookup.get(v, -1) for v in column], dtype=np.intp)
        return codes

    # Attack ---------------------------------------------------------------------

    def _query_values(self) -> np.ndarray:
        """Query points: ``n_queries`` evenly spaced inside each bin."""
        if self.categorical:
            return self.values_
        left, width = self.bin_edges_[:-1], np.diff(self.bin_edges_)
        offsets = (np.arange(self.n_queries) + 0.5) / self.n_queries
        return (left[:, None] + width[:, None] * offsets[None, :]).ravel()

    def _released(self, X, released):
        response_method = self._response_method()
        if released is None:
            with self._querying_target():
                return np.asarray(getattr(self.estimator, response_method)(X))
        released = np.asarray(released)
        expected_ndim = 1 if self.method == "label" else 2
        if released.ndim != expected_ndim or released.shape[0] != X.shape[0]:
            what = "labels" if self.method == "label" else "probability vectors"
            raise ValueError(
                f"released must hold one output per row of X ({what}, "
                f"{expected_ndim}-d with {X.shape[0]} rows); got shape "
                f"{released.shape}."
            )
        return released

    def _log_likelihood(self, X, released) -> np.ndarray:
        """``log L(v)`` per target and candidate, from chunks of queries."""
        values = self._query_values()
        n, m = X.shape[0], self.values_.size
        q = values.size // m
        log_lik = np.empty((n, m))
        # Row chunks of about batch_size queries bound memory whatever n is.
        step = max(1, self.batch_size // values.size)
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            chunk = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
            with self._querying_target():
                response = attribute_response(
                    self.estimator,
                    chunk,
                    self.feature_index_,
                    values,
                    response_method=self._response_method(),
                    batch_size=self.batch_size,
                )
            log_lik[rows] = self._chunk_log_likelihood(response, released[rows], q)
        return log_lik

    def _chunk_log_likelihood(self, response, released, q) -> np.ndarray:
        n = released.shape[0]
        if self.method == "label":
            match = same_release(released, response).reshape(n, -1, q)
            with np.errstate(divide="ignore"):
                return np.log(match.mean(axis=2))
        if response.ndim != 3 or response.shape[2] != released.shape[1]:
            raise ValueError(
                "released probability vectors and the target's predict_proba "
                "disagree on the number of classes."
            )
        distance = np.abs(response - released[:, None, :]).sum(axis=2)
        log_kernel = (-distance / self.bandwidth).reshape(n, -1, q)
        return logsumexp(log_kernel, axis=2) - np.log(q)

    def posterior(self, X, released=None) -> np.ndarray:
        """The adversary's posterior over the candidates for each target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The targets' features; the sensitive column is not read (it may hold
            anything) unless ``released`` is None.
        released : array-like, default=None
            The observed releases: labels of shape (n_samples,) for
            ``method="label"``, probability vectors of shape (n_samples, n_classes)
            for ``method="confidence"``. ``None`` queries the target on ``X``
            itself (an evaluation shortcut: the true values produce the release).

        Returns
        -------
        posterior : ndarray of shape (n_samples, n_candidates)
            Rows sum to 1; the prior where no query explains the release.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        released = self._released(X, released)
        log_prior = self._log_prior(X)
        log_post = self._log_likelihood(X, released) + log_prior
        unexplained = ~np.isfinite(log_post).any(axis=1)
        log_post[unexplained] = log_prior[unexplained]
        log_post -= logsumexp(log_post, axis=1, keepdims=True)
        return np.exp(log_post)

    def _uses_tolerance(self) -> bool:
        return not self.categorical and self.tolerance is not None

    def _window_mass(self, posterior: np.ndarray) -> np.ndarray:
        """Posterior mass of the candidates within ``tolerance`` of each candidate."""
        v, tol = self.values_, self.tolerance
        lo = np.searchsorted(v, v - tol * (1 + 1e-12), side="left")
        hi = np.searchsorted(v, v + tol * (1 + 1e-12), side="right")
        cumulative = np.concatenate(
            [np.zeros((posterior.shape[0], 1)), np.cumsum(posterior, axis=1)], axis=1
        )
        return cumulative[:, hi] - cumulative[:, lo]

    def _guesses(self, posterior: np.ndarray) -> dict:
        """The Bayes-optimal guess for each success criterion."""
        guesses = {"exact": _tie_middle(posterior)}
        if self._uses_tolerance():
            guesses["tolerance"] = _tie_middle(self._window_mass(posterior))
        return guesses

    def infer(self, X, released=None) -> np.ndarray:
        """Guess each target's sensitive value.

        The guess maximises the posterior probability of success on the criterion
        :meth:`score` uses: the most probable candidate (MAP), or, with a
        ``tolerance``, the candidate whose window ``[v - tolerance, v +
        tolerance]`` holds the most posterior mass (counting the candidates whose
        values lie in it). Ties go to the middle tied candidate.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The targets' features; see :meth:`posterior`.
        released : array-like, default=None
            The observed releases; see :meth:`posterior`.

        Returns
        -------
        guess : ndarray of shape (n_samples,)
            A grid value (continuous attribute) or a category.
        """
        guesses = self._guesses(self.posterior(X, released))
        return self.values_[guesses.get("tolerance", guesses["exact"])]

    def _truth_codes(self, X):
        column = self._column(X)
        if self.categorical:
            return column, self._category_codes(column)
        column = self._numeric(column)
        self._check_in_domain(column)
        return column, self._bin_codes(column)

    def evaluate(
        self, X, released=None, *, confidence: float = 0.95
    ) -> AttributeInferenceReport:
        """Success of the attack beside the success of guessing from the prior.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The targets, with their true sensitive value (the truth to score).
        released : array-like, default=None
            The observed releases; ``None`` queries the target on ``X``.
        confidence : float, default=0.95
            Level of the two-sided Clopper-Pearson intervals.

        Returns
        -------
        report : AttributeInferenceReport
            ``n_samples``; ``success_rate`` and ``prior_success_rate`` (exact bin
            or category); for a continuous attribute with a ``tolerance``, also
            ``success_rate_within_tolerance`` and
            ``prior_success_rate_within_tolerance``; ``advantage`` (success minus
            prior success, on the criterion ``score`` uses); and ``*_ci``
            Clopper-Pearson intervals of every rate. Each rate is that of the
            guess that is Bayes-optimal for its criterion (see :meth:`infer`),
            for the attack and for the prior-only adversary alike.

            .. versionchanged:: 0.1
               A report object instead of a :class:`~sklearn.utils.Bunch`; its
               fields read as the Bunch's keys did.
        """
        check_is_fitted(self)
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
        X = self._check_X(X, reset=False)
        truth, true_codes = self._truth_codes(X)
        guess = self._guesses(self.posterior(X, released))
        prior_guess = self._guesses(np.exp(self._log_prior(X)))
        n = X.shape[0]
        hits = {
            "success_rate": guess["exact"] == true_codes,
            "prior_success_rate": prior_guess["exact"] == true_codes,
        }
        if self._uses_tolerance():
            tol = self.tolerance
            hits["success_rate_within_tolerance"] = (
                np.abs(self.values_[guess["tolerance"]] - truth) <= tol
            )
            hits["prior_success_rate_within_tolerance"] = (
                np.abs(self.values_[prior_guess["tolerance"]] - truth) <= tol
            )
        rates = {}
        for name, hit in hits.items():
            k = int(hit.sum())
            rates[name] = k / n
            low, high = clopper_pearson(k, n, confidence)
            rates[f"{name}_ci"] = (float(low), float(high))
        suffix = "_within_tolerance" if "success_rate_within_tolerance" in hits else ""
        return AttributeInferenceReport(
            n_samples=n,
            advantage=rates[f"success_rate{suffix}"]
            - rates[f"prior_success_rate{suffix}"],
            confidence=confidence,
            **rates,
        )

    def score(self, X, released=None) -> float:
        """Attack success rate: within ``tolerance`` if set, else the exact bin.

        Compare it with ``evaluate(X).prior_success_rate`` (or its
        ``_within_tolerance`` twin): a release leaks only what the attack gains
        over the prior.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The targets, with their true sensitive value.
        released : array-like, default=None
            The observed releases; ``None`` queries the target on ``X``.

        Returns
        -------
        score : float
            Fraction of targets whose value the attack recovers.
        """
        report = self.evaluate(X, released)
        if "success_rate_within_tolerance" in report:
            return report.success_rate_within_tolerance
        return report.success_rate
