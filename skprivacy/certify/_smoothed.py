"""SmoothedClassifier: randomized smoothing of any scikit-learn classifier."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import hashlib
import sys
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted

from skprivacy.certify._attribute import (
    chained_intervals,
    check_attribute_domain,
    resolve_attribute,
)
from skprivacy.certify._bounds import (
    binomial_test_pvalue,
    certified_radius,
    certify_spending_schedule,
    clopper_pearson_lower,
    clopper_pearson_upper,
    min_samples_to_certify,
    min_samples_to_predict,
    sequential_checkpoints,
)
from skprivacy.certify._sampling import (
    NumpyVoter,
    PipelineTorchVoter,
    TorchVoter,
    count_votes,
)
from skprivacy.certify._sampling import noisy_copies as _noisy_copies
from skprivacy.exceptions import SmallSampleWarning
from skprivacy.utils import as_seed_sequence, spawn_seeds, torch_seed
from skprivacy.utils._estimators import capability, set_random_states
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
    validate_data,
    validate_parameter_constraints,
)


def _is_skorch_net(estimator) -> bool:
    from skorch import NeuralNet

    return isinstance(estimator, NeuralNet)


def _uses_torch_path(estimator) -> bool:
    """Whether the estimator's predict is the arg max of its module's output."""
    from skorch import NeuralNetClassifier

    if not isinstance(estimator, NeuralNetClassifier):
        return False
    # Some nets declare that predict is the arg max of their logits (CRL).
    if capability(estimator, "predict_argmax"):
        return True
    # A subclass that redefines predict or predict_proba may not be an arg max of
    # the module output: it goes through its own predict on the numpy path.
    return (
        type(estimator).predict is NeuralNetClassifier.predict
        and type(estimator).predict_proba is NeuralNetClassifier.predict_proba
    )


def _torch_pipeline_parts(estimator):
    """The fitted transformers and net of a pipeline run by :class:`PipelineTorchVoter`.

    Returns ``(transformers, net, reason)``: the steps before the final one
    (without ``"passthrough"``) and the final net when the pipeline can be run
    that way; otherwise ``None, None, reason``, where ``reason`` says why a
    pipeline ending in such a net cannot (``None`` when there is no such net).
    """
    if not isinstance(estimator, Pipeline) or not _uses_torch_path(
        estimator.steps[-1][1]
    ):
        return None, None, None
    transformers = []
    for name, step in estimator.steps[:-1]:
        if step is None or step == "passthrough":
            continue
        try:
            check_is_fitted(step)
        except NotFittedError:
            # Its transform may still work (a stateless step that does not say
            # so): Pipeline.predict decides.
            return None, None, f"step {name!r} is not fitted"
        transformers.append(step)
    return transformers, estimator.steps[-1][1], None


def _repeat_rows(value, n_rows, n_copies):
    """Repeat a per-sample fit parameter like the rows of the augmented data."""
    if n_copies == 1 or isinstance(value, str):
        return value
    array = np.asarray(value)
    if array.ndim == 0 or array.shape[0] != n_rows:
        return value
    return np.repeat(array, n_copies, axis=0)


@contextlib.contextmanager
def _guard_torch_rng(seed):
    """Seed torch's global generator for the block and restore it after.

    torch draws initial weights, dropout masks and batch orders from its global
    generator; fitting under this guard makes them a function of ``seed`` and
    leaves the caller's generator as it was. Without torch loaded, nothing to do.
    """
    if "torch" not in sys.modules:
        yield
        return
    with torch_seed(seed):
        yield


def _category_code(value) -> float:
    """A float standing for a category: 48 bits of a hash of its type and value.

    Exact in float64 and a function of the value alone, so the noise of a row
    (keyed on its bytes) does not depend on the other rows of a call.
    """
    key = repr((type(value).__name__, value)).encode()
    return float(int.from_bytes(hashlib.blake2b(key, digest_size=6).digest(), "little"))


def _is_categorical_column(values) -> bool:
    """Whether a column holds categories (strings), not numbers."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return True
    values = np.asarray(values)
    if values.dtype.kind in "US":
        return True
    if values.dtype.kind != "O":
        return False
    try:
        values.astype(np.float64)
    except (TypeError, ValueError):
        return any(isinstance(v, str) for v in values)
    return False


class _DecodedInput:
    """The fitted base classifier, fed rows with their categories restored."""

    def __init__(self, smoothed):
        self.smoothed = smoothed

    def predict(self, X):
        return self.smoothed.estimator_.predict(self.smoothed._as_input(X))


def _choose_abstain_label(classes: np.ndarray):
    """-1 (or one below the smallest class) for numbers, "abstain" for strings."""
    if classes.dtype.kind in "biuf":
        if not np.any(classes == -1):
            return -1
        return (classes.min() - 1).item()
    label = "abstain"
    taken = {str(c) for c in classes}
    while label in taken:
        label = "_" + label
    return label


class SmoothedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Randomized smoothing of a classifier, with certified l2 robustness.

    The smoothed classifier ``g(x) = argmax_c P(f(x + e) = c)``, with Gaussian
    noise ``e`` on the noised columns, is evaluated by Monte Carlo voting of the
    base classifier ``f`` [1]_. :meth:`certify` returns, per row, a label and a
    radius within which ``g`` provably does not change (CERTIFY of [1]_): with
    probability at least ``1 - alpha`` it either abstains or returns ``g(x)``
    with a correct radius. :meth:`predict` returns the plain smoothed vote, or,
    with ``abstain=True``, PREDICT of [1]_: with probability at least
    ``1 - alpha`` it returns ``g(x)`` or abstains. :meth:`certify_attribute`
    turns the certificate into an interval of one attribute's values that the
    release cannot tell apart (robust attribute privacy).

    Parameters
    ----------
    estimator : estimator object, default=None
        The base classifier ``f``; any classifier with ``fit`` and ``predict``
        (a pipeline, a gradient-boosting model, a skorch net, ...). It is cloned
        and trained with Gaussian noise augmentation in :meth:`fit`; wrap an
        already fitted model in :class:`sklearn.frozen.FrozenEstimator` to use
        it as is. ``None`` means :class:`~sklearn.linear_model.LogisticRegression`
        (for which ``g = f``: smoothing then only adds the certificate).

    sigma : float, default=0.25
        Standard deviation of the noise, in units of ``feature_scale``.

    n0 : int, default=100
        Selection samples of :meth:`certify` (to guess the top class).

    n : int, default=10_000
        Estimation samples of :meth:`certify` (to bound its probability). No
        radius can be certified with ``n < log2(1 / alpha)``.

    n_predict : int, default=1_000
        Samples per row of :meth:`predict`, :meth:`predict_proba` and
        :meth:`predict_counts` (the maximum when ``adaptive=True``).

    alpha : float, default=0.001
        Error probability of :meth:`certify`, and of :meth:`predict` when
        ``abstain=True``: the probability that a certificate is wrong. It is
        named ``alpha`` as in Cohen et al. (2019), where :mod:`skprivacy.audit`
        names the coverage of an interval ``confidence`` (``1 - alpha`` here).

    batch_size : int, default=4096
        Noisy inputs per call of the base classifier; bounds the memory whatever
        ``n`` is. Batches span rows, so small ``n`` still fills them.

    noise_features : array-like of int, bool or str, default=None
        Columns that receive noise: indices, a boolean mask or names (with
        ``feature_names_in_``). ``None`` noises every column. The certificate
        then covers changes of these columns only. Columns of strings
        (categories) cannot receive noise: with them, list the numeric columns
        here.

    feature_scale : "std" or array-like of shape (n_features,), default=None
        Unit of each column: the noise on column ``j`` has standard deviation
        ``sigma * scale_j``. ``None`` uses raw units, ``"std"`` the (weighted) training
        standard deviation (1 for constant columns), an array gives the scales
        (entries of columns without noise are ignored).

    fit_noise : bool, default=True
        Train the base classifier on noisy inputs (Cohen's recipe). skorch nets
        get fresh noise on every training batch of every epoch; other estimators
        are trained on ``n_augment`` noisy copies of each row.

    n_augment : int, default=1
        Noisy copies per training row for estimators other than skorch nets.

    abstain : bool, default=False
        Whether :meth:`predict` abstains (returns ``abstain_label_``) when the
        binomial test of the two top classes is not significant at ``alpha``.
        The default returns the plain smoothed vote, one of ``classes_``.
        :meth:`certify` always abstains when it must.

    adaptive : bool, default=False
        Sequential prediction: sample in growing rounds (halving checkpoints
        ending at ``n_predict``) and stop a row as soon as its test is decisive,
        testing each round at ``alpha / n_rounds`` so the error probability stays
        at most ``alpha`` (union bound). Confident rows need a fraction of
        ``n_predict``; :meth:`predict_counts` shows the samples used.

    random_state : int, RandomState instance or None, default=None
        Fixes ``noise_seed_`` at fit, and with it every noise draw. It also
        seeds the base estimator: every ``random_state`` parameter of the clone
        (nested ones included, whatever they were set to) gets a seed derived
        from it, as scikit-learn's ensembles seed their members, and ``fit``
        runs under a seeded fork of torch's global generator (weights, dropout,
        batch order of a skorch net), restored afterwards. So two fits with the
        same int give the same model, and neither numpy's nor torch's global
        random state is used or changed.

    n_jobs : int, default=None
        Rows are split into this many chunks run through joblib (so
        ``joblib.parallel_config(backend="dask")`` runs them on a cluster).

    verbose : int, default=0
        Show progress bars when positive.

    Attributes
    ----------
    estimator_ : estimator
        The fitted base classifier.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    abstain_label_ : int, float or str
        The label of abstentions: ``-1`` for numeric labels (one below the
        smallest class if ``-1`` is a class), ``"abstain"`` for string labels
        (prefixed with underscores while it is a class). Never in ``classes_``.

    noise_seed_ : int
        Seed drawn from ``random_state`` at fit. The noise of every query is a
        deterministic function of this seed, the row and the stage (selection,
        estimation, prediction).

    noise_features_ : ndarray of int
        Indices of the noised columns, increasing.

    feature_scale_ : ndarray of float
        Unit of each noised column (aligned with ``noise_features_``).

    categorical_features_ : ndarray of int
        Indices of the columns of categories (strings, or a pandas categorical
        dtype) seen in fit; empty for numeric data. They receive no noise and
        reach the base estimator as they are, so a pipeline that encodes them
        (e.g. one-hot) can be smoothed over the numeric columns.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    certified_accuracy_curve : Certified accuracy as a function of the radius.
    CertifiedAccuracyDisplay : Plot of the certified accuracy curve.

    Notes
    -----
    **Release contract.** :meth:`predict` and :meth:`predict_proba` use the same
    votes, so ``predict`` is the arg max of ``predict_proba`` whenever it does
    not abstain. Vote frequencies are not calibrated probabilities.
    :meth:`score` counts abstentions as errors.

    **Noise.** A row's noise is a deterministic function of ``noise_seed_``, the
    row's content (its bytes after validation, a category counting by a hash of
    its value) and the stage, drawn in fixed
    blocks: results do not depend on the other rows, their order or
    ``batch_size``, and repeating a query returns the same answer, so averaging
    repeated queries reveals nothing more. The guarantees hold over the draw of
    the seed. A query at a slightly different input gets fresh noise.

    **Robust privacy: the alpha/2 bound.** If the release returns one label
    ``c`` with probability at least ``1 - alpha`` at every input of a set ``B``
    (over its noise), then for any ``x, x'`` in ``B`` no adversary seeing the
    released label tells ``x`` from ``x'`` with probability above ``1/2 +
    alpha/2`` ((R, alpha)-Robust Privacy, Jin et al., 2026). Proof: every event
    ``A`` has ``P(M(x) in A) - P(M(x') in A) <= alpha`` (if ``c`` is in ``A`` the
    second term is at least ``1 - alpha``, otherwise the first is at most
    ``alpha``), so the two output laws are within ``alpha`` in total variation,
    and the best distinguishing advantage is half of it. A :meth:`certify`
    radius ``R`` at ``x`` supplies ``B``, the radius-``R`` ball, for the smoothed
    classifier ``g``, with confidence ``1 - alpha`` over the seed; for the
    finite-sample release of :meth:`predict` the premise is the chance that the
    ``n_predict`` votes differ from ``g``. Here the randomness is over the seed
    (a row's noise is fixed by it), so the bound is about the seed, or about
    distinct rows; ``tests/certify/test_robust_privacy_guarantee.py`` checks it
    against the exact binomial law.

    **Metric.** Radii are l2 norms of the perturbation of the noised columns
    measured in units of ``feature_scale_``: ``||delta_j / scale_j||_2``.
    Non-noised columns are held fixed by the certificate.

    **Speed.** For skorch nets the votes are counted on the net's device with
    noise drawn there; other estimators are called on whole noisy blocks of
    ``batch_size`` rows. A pipeline ending in a skorch net gets each block
    through its fitted transformers and then through the net's module in one
    forward pass (not skorch's ``predict``), with the votes of the pipeline's
    own ``predict``. In ``benchmarks/bench_certify.py`` (200 points, MLP
    64-256-256-4, n0=100, n=10,000, one CPU thread) certify took 0.97x the CPU
    time of drawing the noise and running the forward passes alone (1.02x in a
    separate measurement; the shared machine's noise is a few percent), the
    same time as a per-example loop in the style of Cohen et al., and 2.6x less
    than ART's ``PyTorchRandomizedSmoothing`` (itself 2.5x that floor there);
    its peak memory was 8 MiB at n=10,000 and at n=100,000 (ART: 122 MiB at
    n=100,000 for one point).

    References
    ----------
    .. [1] J. Cohen, E. Rosenfeld and J. Z. Kolter, "Certified Adversarial
       Robustness via Randomized Smoothing", ICML 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skprivacy import SmoothedClassifier
    >>> X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    >>> clf = SmoothedClassifier(sigma=0.5, n=1000, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 1])
    >>> labels, radii = clf.certify(X[:3])
    >>> labels, radii.round(2)
    (array([0, 0, 1]), array([1.05, 1.23, 0.69]))
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "n0": [Interval(Integral, 1, None, closed="left")],
        "n": [Interval(Integral, 1, None, closed="left")],
        "n_predict": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "noise_features": ["array-like", None],
        "feature_scale": [StrOptions({"std"}), "array-like", None],
        "fit_noise": ["boolean"],
        "n_augment": [Interval(Integral, 1, None, closed="left")],
        "abstain": ["boolean"],
        "adaptive": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        sigma=0.25,
        n0=100,
        n=10_000,
        n_predict=1_000,
        alpha=0.001,
        batch_size=4096,
        noise_features=None,
        feature_scale=None,
        fit_noise=True,
        n_augment=1,
        abstain=False,
        adaptive=False,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.sigma = sigma
        self.n0 = n0
        self.n = n
        self.n_predict = n_predict
        self.alpha = alpha
        self.batch_size = batch_size
        self.noise_features = noise_features
        self.feature_scale = feature_scale
        self.fit_noise = fit_noise
        self.n_augment = n_augment
        self.abstain = abstain
        self.adaptive = adaptive
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _get_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the base classifier with Gaussian noise augmentation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: finite numbers, and possibly columns of strings
            (categories) that the base estimator encodes and ``noise_features``
            leaves out.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the base estimator's ``fit`` (repeated with the noisy
            copies); also weighs the standard deviations of
            ``feature_scale="std"``.
        **fit_params : dict
            Other parameters of the base estimator's ``fit`` (with metadata
            routing enabled, routed as requested); per-sample ones are repeated
            with the noisy copies.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        estimator = self._get_estimator()
        X, y = self._validate_X(X, y, reset=True)
        check_classification_targets(y)
        if _routing_enabled():
            routed = process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            ).estimator.fit
        else:
            _raise_for_params(fit_params, self, "fit")
            routed = {}
            if sample_weight is not None:
                routed["sample_weight"] = sample_weight
        root = as_seed_sequence(self.random_state)
        self.noise_seed_ = int.from_bytes(root.generate_state(8).tobytes(), "little")
        # The base model's own randomness (its random_state, torch's initial
        # weights and batch order) comes from a separate child of the same root.
        (base_seed,) = root.spawn(1)
        self.noise_features_ = self._resolve_noise_features(X.shape[1])
        self._check_categorical_noise()
        self.feature_scale_ = self._resolve_feature_scale(X, sample_weight)

        if isinstance(estimator, FrozenEstimator):
            check_is_fitted(estimator)
            if not hasattr(estimator, "classes_"):
                raise ValueError("The frozen estimator must expose classes_.")
            self.estimator_ = estimator
            self.classes_ = np.asarray(estimator.classes_)
        else:
            encoder = LabelEncoder().fit(y)
            self.classes_ = encoder.classes_
            (model_seed,) = spawn_seeds(base_seed, 1)
            self.estimator_ = set_random_states(clone(estimator), model_seed)
            with _guard_torch_rng(int(base_seed.generate_state(1)[0])):
                self._fit_base(X, encoder.transform(y), routed)
        self.abstain_label_ = _choose_abstain_label(self.classes_)
        return self

    def _fit_base(self, X, y, fit_params):
        std = self.sigma * self.feature_scale_
        if self.fit_noise and _is_skorch_net(self.estimator_):
            from skprivacy.certify._augment import GaussianNoiseAugmentation

            callbacks = self.estimator_.callbacks
            if callbacks == "disable":
                raise ValueError(
                    "fit_noise=True needs skorch callbacks; the net has "
                    "callbacks='disable'. Set fit_noise=False or enable callbacks."
                )
            augmentation = GaussianNoiseAugmentation(
                self.noise_features_, std, self.noise_seed_ % 2**63
            )
            self.estimator_.set_params(
                callbacks=[*(callbacks or []), ("smoothing_noise", augmentation)]
            )
        elif self.fit_noise:
            X = _noisy_copies(
                X,
                self.n_augment,
                noise_columns=self.noise_features_,
                noise_std=std,
                seed=self.noise_seed_,
            )
            # Per-sample fit parameters (sample_weight, ...) follow their rows.
            fit_params = {
                key: _repeat_rows(value, len(y), self.n_augment)
                for key, value in fit_params.items()
            }
            y = np.repeat(y, self.n_augment)
        self.estimator_.fit(self._as_input(X), y, **fit_params)

    def _validate_X(self, X, y="no_validation", *, reset):
        """Numeric rows of ``X``: category columns hold :func:`_category_code`.

        Numeric input is validated as scikit-learn does. String (or pandas
        categorical) columns are kept as categories: the noise never touches
        them, and the base estimator gets them back as they were (a pipeline
        that one-hot encodes them works).
        """
        if reset:
            frame = X if hasattr(X, "iloc") else None
            array = None if frame is not None else np.asarray(X)
            if frame is not None:
                categorical = [
                    _is_categorical_column(X.iloc[:, j]) for j in range(X.shape[1])
                ]
            elif array.ndim == 2:
                categorical = [
                    _is_categorical_column(array[:, j]) for j in range(array.shape[1])
                ]
            else:
                categorical = []
            self.categorical_features_ = np.flatnonzero(categorical)
            self._categories = {}
        if self.categorical_features_.size == 0:
            return validate_data(
                self, X, y, dtype=[np.float64, np.float32], reset=reset
            )
        validate_data(self, X, y, skip_check_array=True, reset=reset)
        values = (
            X.to_numpy(dtype=object)
            if hasattr(X, "iloc")
            else np.asarray(X, dtype=object)
        )
        if values.ndim != 2 or values.shape[0] == 0:
            raise ValueError(
                f"X must be 2-d with at least one row; got shape {values.shape}."
            )
        numeric = np.setdiff1d(np.arange(values.shape[1]), self.categorical_features_)
        encoded = np.empty(values.shape, dtype=np.float64)
        try:
            encoded[:, numeric] = check_array(values[:, numeric], dtype=np.float64)
        except ValueError as exc:
            raise ValueError(
                f"The columns {numeric.tolist()} were numeric in fit and must stay "
                f"numbers: {exc}"
            ) from exc
        for j in self.categorical_features_:
            codes = np.empty(values.shape[0])
            for i, value in enumerate(values[:, j]):
                codes[i] = code = _category_code(value)
                self._categories[code] = value
            encoded[:, j] = codes
        if isinstance(y, str) and y == "no_validation":
            return encoded
        y = column_or_1d(y, warn=True)
        check_consistent_length(encoded, y)
        return encoded, y

    def _check_categorical_noise(self):
        noised = np.intersect1d(self.noise_features_, self.categorical_features_)
        if noised.size == 0:
            return
        names = getattr(self, "feature_names_in_", None)
        columns = np.arange(self.n_features_in_)
        if names is not None:
            columns = np.asarray([str(name) for name in names], dtype=object)
        categorical = self.categorical_features_
        numeric = np.setdiff1d(np.arange(self.n_features_in_), categorical)
        raise ValueError(
            f"Noise can only go on numeric columns, but {columns[noised].tolist()} "
            "hold categories (strings). Pass the numeric columns to noise, e.g. "
            f"noise_features={columns[numeric].tolist()}: the base estimator (a "
            "pipeline that encodes the categories) gets the categories as they are, "
            "and the certificate holds them fixed."
        )

    def _as_input(self, X, columns=None):
        """Rows as the base estimator takes them: named, with their categories.

        With ``columns`` (sorted indices), only those columns, as the same
        container would hold them.
        """
        names = getattr(self, "feature_names_in_", None)
        categorical = self.categorical_features_
        selected = np.arange(X.shape[1]) if columns is None else np.asarray(columns)
        if categorical.size == 0:
            if columns is not None:
                X = X[:, selected]
            if names is None:
                return X
            return pd.DataFrame(X, columns=names[selected], copy=False)
        frame = {}
        for j in selected:
            if j in categorical:
                # The noisy copies of a row share its category: look each
                # distinct code up once.
                codes, inverse = np.unique(X[:, j], return_inverse=True)
                values = np.empty(codes.size, dtype=object)
                values[:] = [self._categories[code] for code in codes]
                column = values[inverse]
            else:
                column = X[:, j]
            frame[j if names is None else names[j]] = column
        frame = pd.DataFrame(frame, copy=False)
        return frame if names is not None else frame.to_numpy(dtype=object)

    def _resolve_noise_features(self, n_features):
        selection = self.noise_features
        if selection is None:
            return np.arange(n_features)
        selection = np.asarray(selection)
        if selection.ndim != 1 or selection.size == 0:
            raise ValueError(
                "noise_features must be a non-empty 1d array of indices, a boolean "
                f"mask or column names; got shape {selection.shape}."
            )
        if selection.dtype.kind == "b":
            if selection.size != n_features:
                raise ValueError(
                    f"The noise_features mask has {selection.size} entries, but X "
                    f"has {n_features} features."
                )
            indices = np.flatnonzero(selection)
            if indices.size == 0:
                raise ValueError("The noise_features mask selects no column.")
            return indices
        if selection.dtype.kind in "iu":
            bad = selection[(selection < 0) | (selection >= n_features)]
            if bad.size:
                raise ValueError(
                    f"noise_features indices {bad.tolist()} are out of range for "
                    f"{n_features} features."
                )
            indices = selection.astype(np.intp)
        elif selection.dtype.kind in "UO":
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(
                    "noise_features given by name needs X with column names (a "
                    "DataFrame)."
                )
            position = {name: i for i, name in enumerate(names)}
            unknown = [name for name in selection if name not in position]
            if unknown:
                raise ValueError(f"noise_features names not in X: {unknown}.")
            indices = np.array([position[name] for name in selection], dtype=np.intp)
        else:
            raise ValueError(
                "noise_features must hold integers, booleans or strings; got dtype "
                f"{selection.dtype}."
            )
        if np.unique(indices).size != indices.size:
            raise ValueError("noise_features lists a column more than once.")
        return np.sort(indices)

    def _resolve_feature_scale(self, X, sample_weight):
        columns = self.noise_features_
        if self.feature_scale is None:
            return np.ones(columns.size)
        if isinstance(self.feature_scale, str):
            # Weighted, so that a weight of 2 and a duplicated row agree.
            weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            values = X[:, columns].astype(np.float64)
            mean = np.average(values, axis=0, weights=weight)
            scale = np.sqrt(np.average((values - mean) ** 2, axis=0, weights=weight))
            return np.where(scale > 0, scale, 1.0)
        scale = np.asarray(self.feature_scale, dtype=np.float64)
        if scale.shape != (X.shape[1],):
            raise ValueError(
                f"feature_scale must have shape ({X.shape[1]},), one scale per "
                f"feature; got {scale.shape}."
            )
        scale = scale[columns]
        if not np.all(np.isfinite(scale) & (scale > 0)):
            raise ValueError("feature_scale must be positive and finite.")
        return scale

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` metadata to the base estimator's ``fit``.
        """
        return MetadataRouter(owner=self).add(
            estimator=self._get_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    # --------------------------------------------------------------- engine
    def _check_X(self, X):
        check_is_fitted(self)
        # Parameters may have been set after fit (n, alpha, batch_size, ...).
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        return self._validate_X(X, reset=False)

    def _voter(self):
        frozen = isinstance(self.estimator_, FrozenEstimator)
        base = self.estimator_.estimator if frozen else self.estimator_
        transformers, net, reason = _torch_pipeline_parts(base)
        values = self.classes_ if frozen else np.arange(self.classes_.size)
        if frozen and capability(base if net is None else net, "encoded_labels"):
            # Output index i is the base's classes_[i] (CRLClassifier), which
            # are the smoothed model's classes, in that order.
            values = np.arange(self.classes_.size)
        if net is not None:
            return PipelineTorchVoter(self._as_input, transformers, net, values)
        if reason is not None and self.verbose:
            print(
                "[SmoothedClassifier] the pipeline's net runs through its own "
                f"predict (slower): {reason}."
            )
        if self.categorical_features_.size:
            return NumpyVoter(_DecodedInput(self), values)
        if _uses_torch_path(base):
            return TorchVoter(base, values)
        return NumpyVoter(
            self.estimator_, values, getattr(self, "feature_names_in_", None)
        )

    def _count(self, X, n_samples, stage, voter=None):
        """Votes of the base classifier on ``n_samples`` noisy copies per row."""
        return count_votes(
            self._voter() if voter is None else voter,
            X,
            n_samples,
            noise_columns=self.noise_features_,
            noise_std=self.sigma * self.feature_scale_,
            seed=self.noise_seed_,
            stage=stage,
            n_classes=self.classes_.size,
            batch_size=self.batch_size,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def _predict_votes(self, X):
        """The votes behind predict: fixed size, or sequential when adaptive."""
        if not self.adaptive:
            return self._count(X, self.n_predict, "predict"), self.alpha
        checkpoints, alpha_look = sequential_checkpoints(self.n_predict, self.alpha)
        voter = self._voter()
        counts = np.zeros((X.shape[0], self.classes_.size), dtype=np.int64)
        active = np.arange(X.shape[0])
        drawn = 0
        for look, checkpoint in enumerate(checkpoints):
            counts[active] += self._count(
                X[active], checkpoint - drawn, f"predict-look{look}", voter
            )
            drawn = checkpoint
            top2 = -np.sort(-counts[active], axis=1)[:, :2]
            n_second = top2[:, 1] if top2.shape[1] > 1 else np.zeros(len(active))
            decided = binomial_test_pvalue(top2[:, 0], n_second) <= alpha_look
            active = active[~decided]
            if active.size == 0:
                break
        if self.verbose:
            print(
                f"[SmoothedClassifier] adaptive predict: {counts.sum(1).mean():.1f} "
                f"samples per row on average (at most {self.n_predict})."
            )
        return counts, alpha_look

    def _labels(self, index):
        """Labels of class indices, ``abstain_label_`` where the index is -1."""
        if np.all(index >= 0):
            return self.classes_[index]
        table = np.concatenate([self.classes_, np.asarray([self.abstain_label_])])
        return table[np.where(index >= 0, index, self.classes_.size)]

    # -------------------------------------------------------------- predict
    def predict_counts(self, X):
        """Votes of the base classifier under noise, per row and class.

        These are the votes that :meth:`predict` and :meth:`predict_proba` use:
        ``n_predict`` per row, or fewer with ``adaptive=True`` (the row sums are
        then the samples each row needed).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        counts : ndarray of shape (n_samples, n_classes), dtype int64
            Votes, columns in the order of ``classes_``.
        """
        X = self._check_X(X)
        return self._predict_votes(X)[0]

    def predict_proba(self, X):
        """Vote frequencies of the classes under noise.

        Estimates of ``P(f(x + e) = c)``, not calibrated probabilities, and with
        no column for abstention.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        counts = self.predict_counts(X)
        return counts / counts.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Smoothed prediction, abstaining when ``abstain=True`` and undecided.

        With ``abstain=True`` this is PREDICT of Cohen et al.: the two most voted
        classes are compared with a two-sided binomial test, and the method
        abstains (returns ``abstain_label_``) unless it is significant at
        ``alpha``; a class other than ``g(x)`` is returned with probability at
        most ``alpha``.

        Where this label is returned with probability at least ``1 - alpha`` on
        a ball around ``x`` (a :meth:`certify` radius supplies one for ``g``), it
        gives any adversary at most ``alpha / 2`` advantage in telling ``x`` from
        a point of the ball (see the class Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The arg max of :meth:`predict_proba`, or ``abstain_label_``.
        """
        X = self._check_X(X)
        if self.abstain and self.n_predict < min_samples_to_predict(self.alpha):
            warnings.warn(
                f"n_predict={self.n_predict} is too small to ever avoid abstaining "
                f"at alpha={self.alpha}: at least "
                f"{min_samples_to_predict(self.alpha)} samples are needed.",
                SmallSampleWarning,
                stacklevel=2,
            )
        counts, alpha = self._predict_votes(X)
        index = counts.argmax(axis=1)
        if self.abstain:
            top2 = -np.sort(-counts, axis=1)[:, :2]
            n_second = top2[:, 1] if top2.shape[1] > 1 else np.zeros(len(index))
            undecided = binomial_test_pvalue(top2[:, 0], n_second) > alpha
            index = np.where(undecided, -1, index)
        return self._labels(index)

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict`, abstentions counted as errors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Fraction of rows predicted correctly (an abstention is never correct).
        """
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    # -------------------------------------------------------------- certify
    def _certify(self, X, n0, n, alpha, stage=""):
        """CERTIFY on validated rows: class indices (-1 abstains), radii, pA bound.

        Selection and estimation samples come from different stages, so the
        ``n0`` samples that pick the class are never reused to bound it.
        """
        voter = self._voter()
        selection = self._count(X, n0, f"{stage}selection", voter)
        top = selection.argmax(axis=1)
        estimation = self._count(X, n, f"{stage}estimation", voter)
        n_top = estimation[np.arange(X.shape[0]), top]
        p_lower = clopper_pearson_lower(n_top, n, alpha)
        abstained = p_lower < 0.5
        radius = certified_radius(p_lower, self.sigma)
        return np.where(abstained, -1, top), radius, p_lower

    def certify(self, X, *, return_pa=False):
        """Certified prediction and l2 radius per row (CERTIFY of Cohen et al.).

        ``n0`` noisy samples select the top class; ``n`` fresh samples give a
        one-sided Clopper-Pearson lower bound ``pA`` on its probability at level
        ``alpha``. The method abstains when ``pA < 1/2`` and otherwise certifies
        the radius ``sigma * Phi^-1(pA)``: with probability at least
        ``1 - alpha``, the smoothed classifier returns the label for every input
        whose noised columns differ by less than the radius (in units of
        ``feature_scale_``) and whose other columns are unchanged.

        This is (R, alpha)-Robust Privacy: a release that returns the label with
        probability at least ``1 - alpha`` on the ball gives any adversary at
        most ``alpha / 2`` advantage in telling ``x`` from a point of the ball
        (see the class Notes for the proof sketch).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        return_pa : bool, default=False
            Also return the lower bounds on the top-class probability.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Certified labels, ``abstain_label_`` on abstention.
        radii : ndarray of shape (n_samples,)
            Certified radii, 0 on abstention.
        p_lower : ndarray of shape (n_samples,)
            Lower confidence bounds on ``P(f(x + e) = label)``; only with
            ``return_pa=True``.
        """
        X = self._check_X(X)
        if self.n < min_samples_to_certify(self.alpha):
            warnings.warn(
                f"n={self.n} is too small to ever certify at alpha={self.alpha}: "
                f"at least {min_samples_to_certify(self.alpha)} estimation samples "
                "are needed, so certify always abstains.",
                SmallSampleWarning,
                stacklevel=2,
            )
        index, radius, p_lower = self._certify(X, self.n0, self.n, self.alpha)
        labels = self._labels(index)
        if return_pa:
            return labels, radius, p_lower
        return labels, radius

    def _certify_sequential(self, X, n_max, stop, stage="sequential-"):
        """Sequential CERTIFY on validated rows: indices, radii, pA bounds, samples.

        ``n0`` selection samples pick the class as in :meth:`_certify`; the
        estimation votes then come in the rounds of
        :func:`certify_spending_schedule`, each with fresh noise, and a row leaves
        as soon as ``stop(n_top, n_drawn, p_lower, alpha_look)`` says so. Every
        look's bound holds together with the others' at overall level ``alpha``,
        whatever the stopping rule, so the largest bound seen is returned.
        """
        voter = self._voter()
        n_rows = X.shape[0]
        top = self._count(X, self.n0, f"{stage}selection", voter).argmax(axis=1)
        checkpoints, alphas = certify_spending_schedule(n_max, self.alpha)
        n_top = np.zeros(n_rows, dtype=np.int64)
        n_drawn = np.zeros(n_rows, dtype=np.int64)
        p_lower = np.zeros(n_rows)
        active = np.arange(n_rows)
        drawn = 0  # every active row has been through every look so far
        for look, (checkpoint, alpha_look) in enumerate(
            zip(checkpoints, alphas, strict=True)
        ):
            votes = self._count(
                X[active], checkpoint - drawn, f"{stage}estimation-look{look}", voter
            )
            drawn = checkpoint
            n_top[active] += votes[np.arange(active.size), top[active]]
            n_drawn[active] = checkpoint
            bound = clopper_pearson_lower(n_top[active], checkpoint, alpha_look)
            p_lower[active] = np.maximum(p_lower[active], bound)
            if look == len(checkpoints) - 1:
                break
            done = stop(n_top[active], checkpoint, p_lower[active], alpha_look)
            active = active[~done]
            if active.size == 0:
                break
        index = np.where(p_lower < 0.5, -1, top)
        return index, certified_radius(p_lower, self.sigma), p_lower, n_drawn

    def certify_sequential(
        self, X, *, radius=None, rtol=0.02, n_max=None, return_n_samples=False
    ):
        """Certify with as few samples as each row needs (anytime-valid CERTIFY).

        The estimation samples of :meth:`certify` are drawn in rounds that double
        in size, up to ``n_max``; the Clopper-Pearson bound of each round is
        taken at a share of ``alpha`` (:func:`certify_spending_schedule`) so that
        all of them hold together with probability at least ``1 - alpha``. A row
        stops as soon as more samples cannot change its answer:

        - **At a target radius** (``radius`` given): a sequential test of
          ``pA > Phi(radius / sigma)``. The row stops once its lower bound
          certifies ``radius``, or once an upper bound at the same level shows
          that ``n_max`` samples will not.
        - **For the whole radius curve** (``radius=None``): the row stops when
          sampling on to ``n_max`` would raise its certified radius by at most
          the fraction ``rtol`` if the vote frequency stayed where it is, or when
          an upper bound establishes ``pA < 1/2`` (the row abstains). Rows whose
          votes are (almost) unanimous gain radius with every doubling of the
          samples, as fixed-sample CERTIFY does, and run to ``n_max``.

        **Guarantee.** The same as :meth:`certify`'s, at the stopping time: with
        probability at least ``1 - alpha``, every row either abstains or returns
        ``g(x)`` with a correct radius. The stopping rules only decide how many
        samples are spent; they cannot inflate the error, which the union bound
        over the rounds controls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        radius : float, default=None
            The radius to decide, in units of ``feature_scale_``; ``None``
            certifies the largest radius each row supports, as :meth:`certify`.
        rtol : float, default=0.02
            Curve mode: stop a row when sampling on to ``n_max`` is expected to
            raise its radius by at most this fraction of it. Ignored when
            ``radius`` is given.
        n_max : int, default=None
            The most estimation samples per row; ``None`` means ``n``.
        return_n_samples : bool, default=False
            Also return the samples each row used (selection included).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Certified labels, ``abstain_label_`` on abstention.
        radii : ndarray of shape (n_samples,)
            Certified radii, 0 on abstention. At a target radius a row that
            certifies it gets its full certified radius (at least ``radius``);
            a row that does not may still certify a smaller one.
        n_samples : ndarray of shape (n_samples,)
            Selection plus estimation samples per row; only with
            ``return_n_samples=True``.

        See Also
        --------
        certify : Fixed-sample CERTIFY, ``n0 + n`` samples for every row.

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skprivacy import SmoothedClassifier
        >>> X, y = make_classification(n_samples=200, random_state=0)
        >>> clf = SmoothedClassifier(
        ...     LogisticRegression(), sigma=0.5, n=20_000, random_state=0
        ... ).fit(X, y)
        >>> labels, radii, used = clf.certify_sequential(
        ...     X[:50], radius=0.25, return_n_samples=True
        ... )
        >>> bool(used.mean() < 0.2 * (clf.n0 + clf.n))
        True
        """
        X = self._check_X(X)
        n_max = self.n if n_max is None else n_max
        if not isinstance(n_max, Integral) or isinstance(n_max, bool) or n_max < 1:
            raise ValueError(f"n_max must be an int >= 1, got {n_max!r}.")
        if radius is not None:
            if not isinstance(radius, Real) or not 0 <= radius < np.inf:
                raise ValueError(
                    f"radius must be a finite number >= 0, got {radius!r}."
                )
            p_star = max(0.5, float(norm.cdf(radius / self.sigma)))

            def stop(n_top, n_drawn, p_lower, alpha_look):
                # Stopping on the upper bound spends power, never error: only
                # the lower bounds make claims, and their levels sum to alpha.
                hopeless = clopper_pearson_upper(n_top, n_drawn, alpha_look) < p_star
                return (p_lower > p_star) | hopeless

        else:
            if not isinstance(rtol, Real) or not 0 <= rtol < np.inf:
                raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}.")
            alpha_last = certify_spending_schedule(n_max, self.alpha)[1][-1]

            def stop(n_top, n_drawn, p_lower, alpha_look):
                p_upper = clopper_pearson_upper(n_top, n_drawn, alpha_look)
                # The radius that sampling on to n_max would certify if the vote
                # frequency stayed where it is. The rule only decides how many
                # samples to spend (never the error), so a point forecast will do.
                expected = certified_radius(
                    clopper_pearson_lower(n_top / n_drawn * n_max, n_max, alpha_last),
                    self.sigma,
                )
                current = certified_radius(p_lower, self.sigma)
                # A row with no radius yet goes on until pA < 1/2 is established:
                # an early frequency below 1/2 is no forecast of abstention.
                settled = (current > 0) & (expected <= (1 + rtol) * current)
                return (p_upper < 0.5) | settled

        if n_max < min_samples_to_certify(self.alpha / 2):
            warnings.warn(
                f"n_max={n_max} is too small to ever certify at alpha={self.alpha}:"
                f" at least {min_samples_to_certify(self.alpha / 2)} estimation "
                "samples are needed, so certify_sequential always abstains.",
                SmallSampleWarning,
                stacklevel=2,
            )
        index, radii, _, n_drawn = self._certify_sequential(X, n_max, stop)
        n_samples = n_drawn + self.n0
        if self.verbose:
            print(
                "[SmoothedClassifier] certify_sequential: samples per row mean "
                f"{n_samples.mean():.0f}, median {np.median(n_samples):.0f}, max "
                f"{n_samples.max()} (fixed-sample certify: {self.n0 + self.n})."
            )
        labels = self._labels(index)
        if return_n_samples:
            return labels, radii, n_samples
        return labels, radii

    def certify_attribute(self, X, feature, *, domain=None, n_anchors=1):
        """Certified label and interval of one attribute's values, per row.

        For each row, the returned interval holds values of the attribute
        ``feature`` at which the smoothed classifier provably returns the row's
        certified label when every other feature stays as it is (robust
        attribute privacy, Jin et al., 2026): a release at the row cannot tell
        those values apart. With ``n_anchors=1`` this is one CERTIFY at the row,
        the same as :meth:`certify`: its radius ``R`` (in units of
        ``feature_scale_``) certifies every value within ``scale * R`` of the
        row's value, ``scale`` being the attribute's ``feature_scale_`` entry.

        **Guarantee.** With probability at least ``1 - alpha`` (over the noise
        seed), a row either abstains (``abstain_label_`` and an interval of NaN)
        or its label is ``g(x)`` and ``g`` returns it at every value ``v`` of the
        domain with ``lower < v < upper`` (and at ``lower`` or ``upper`` when it
        is a domain bound the interval was clipped to), the other features fixed.
        The same guarantee as :meth:`certify`, restricted to one axis.

        **Chained mode** (``n_anchors > 1``). CERTIFY runs at the row and then at
        anchors placed at the current ends of the interval, each at level
        ``alpha / n_anchors`` with its own noise; an anchor that certifies the
        same label extends the interval by its own half-width. The union bound
        keeps the guarantee above for the whole, possibly asymmetric interval. It
        reaches beyond the largest radius one CERTIFY can give with ``n`` samples
        (``sigma * Phi^-1(alpha^(1/n))``) and, with noise on several columns,
        closer to a decision boundary along the attribute. A side stops at a
        domain bound or at an anchor that abstains or certifies another label.

        **Exactness.** For a linear base model with noise on this attribute
        alone, ``scale * R`` tends to the distance to the decision boundary along
        the attribute as ``n`` grows (Cohen's bound is tight there); with noise on
        several columns it is that distance times
        ``sigma_s |w_s| / ||sigma * w||`` (smoothing.md, section 4).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        feature : int or str
            The attribute's column: a position, or a name seen in fit. It must be
            one of the noised columns (``noise_features_``).
        domain : tuple of float, default=None
            ``(low, high)``, the attribute's possible values; the intervals are
            clipped to it and the chain stops at its bounds. Every row's own
            value must lie in it (a ``ValueError`` otherwise: the interval holds
            that value). ``None`` is the real line.
        n_anchors : int, default=1
            The most CERTIFY runs per row; ``alpha`` is split evenly between
            them. 1 certifies at the row only.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Certified labels, ``abstain_label_`` on abstention.
        lower : ndarray of shape (n_samples,)
            Lower end of each interval, in the attribute's raw units; NaN on
            abstention.
        upper : ndarray of shape (n_samples,)
            Upper end of each interval; NaN on abstention.

        See Also
        --------
        compatible_intervals : The values compatible with a release, on a grid.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> from skprivacy import SmoothedClassifier
        >>> from skprivacy.datasets import make_recommendation
        >>> rec = make_recommendation(n_samples=500, random_state=0)
        >>> clf = SmoothedClassifier(
        ...     DecisionTreeClassifier(max_depth=3, random_state=0),
        ...     sigma=0.5, n=1000, noise_features=[0], feature_scale="std",
        ...     random_state=0,
        ... ).fit(rec.data, rec.target)
        >>> labels, lower, upper = clf.certify_attribute(
        ...     rec.data[:3], 0, domain=rec.sensitive_domain
        ... )
        >>> labels.tolist(), lower.round(1).tolist(), upper.round(1).tolist()
        ([1, 0, 1], [32.0, 20.1, 27.6], [43.0, 30.5, 35.6])
        >>> _, lower, upper = clf.certify_attribute(
        ...     rec.data[:3], 0, domain=rec.sensitive_domain, n_anchors=6
        ... )
        >>> lower.round(1).tolist(), upper.round(1).tolist()
        ([32.0, 15.0, 27.3], [50.0, 31.3, 50.0])
        """
        X = self._check_X(X)
        column, position = resolve_attribute(
            feature,
            self.n_features_in_,
            getattr(self, "feature_names_in_", None),
            self.noise_features_,
        )
        if (
            not isinstance(n_anchors, Integral)
            or isinstance(n_anchors, bool)
            or n_anchors < 1
        ):
            raise ValueError(f"n_anchors must be an int >= 1, got {n_anchors!r}.")
        low, high = check_attribute_domain(domain, X[:, column])
        if self.n < min_samples_to_certify(self.alpha / n_anchors):
            warnings.warn(
                f"n={self.n} is too small to ever certify at alpha / n_anchors = "
                f"{self.alpha / n_anchors:g}: at least "
                f"{min_samples_to_certify(self.alpha / n_anchors)} estimation "
                "samples are needed, so every row abstains.",
                SmallSampleWarning,
                stacklevel=2,
            )

        def certify(rows, alpha, stage):
            index, radius, _ = self._certify(rows, self.n0, self.n, alpha, stage)
            return index, radius

        index, lower, upper = chained_intervals(
            certify,
            X,
            column,
            self.feature_scale_[position],
            low,
            high,
            int(n_anchors),
            self.alpha,
        )
        return self._labels(index), lower, upper
