"""Label-only model inversion by boundary repulsion (BREP-MI, Kahla et al. 2022)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from skprivacy.audit._intervals import clopper_pearson
from skprivacy.audit._inversion._report import ModelInversionReport
from skprivacy.exceptions import SmallSampleWarning
from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import (
    HasMethods,
    Interval,
    validate_parameter_constraints,
)


class _CountingRelease:
    """The attacked release's ``predict``, counting every queried row."""

    def __init__(self, estimator, generator, n_features):
        self.estimator = estimator
        self.generator = generator
        self.n_features = n_features
        self.queries = 0

    def images(self, Z):
        out = Z if self.generator is None else self.generator(Z)
        out = np.asarray(out)
        if out.ndim != 2 or out.shape[0] != Z.shape[0]:
            raise ValueError(
                "The generator must map latent codes of shape (n, latent_dim) to "
                f"inputs of shape (n, n_features); for {Z.shape} it returned shape "
                f"{out.shape}."
            )
        if self.n_features is not None and out.shape[1] != self.n_features:
            raise ValueError(
                f"The generator's outputs have {out.shape[1]} features but the "
                f"release expects {self.n_features} (n_features_in_): the "
                "generator does not fit the release."
            )
        return out

    def predict(self, Z):
        X = self.images(Z)
        self.queries += Z.shape[0]
        try:
            return np.asarray(self.estimator.predict(X))
        except ValueError as exc:
            raise ValueError(
                f"The release rejected the generator's outputs (shape {X.shape}): "
                f"{exc}. The generator does not fit the release."
            ) from exc


class BoundaryRepulsionInversion(BaseEstimator):
    """Label-only model inversion by boundary repulsion (BREP-MI).

    The adversary sees only the labels a release predicts, and reconstructs a
    representative input of a target class: it searches the latent space of a
    generator ``G`` (a GAN's generator, a decoder, a PCA's
    ``inverse_transform``, or the identity on standardized features) for a code
    ``z`` deep inside the region that the release assigns to the class. Kahla
    et al. (CVPR 2022) start from a code the release already puts in the class
    and walk away from the class boundary: points on a sphere of radius ``r``
    around ``z`` are labelled by the release, those outside the class repel
    ``z``, and while the whole sphere (more than 87.5% of its points) stays in
    the class the radius grows. A reconstruction succeeds when an independent
    **evaluation classifier** assigns ``G(z)`` to the target class; the attack
    success rate (ASR) is the share of targets that succeed.

    One iteration, for a target ``c``, code ``z`` and radius ``r``::

        step = min(r / 3, max_step)
        u_i = r n_i / ||n_i||, n_i ~ N(0, I), i = 1..n_sphere_points
        s_i = +1 if release(G(z + u_i)) == c else -1
        grow = sum_i s_i > 0.75 n_sphere_points      # > 87.5% inside
        if grow: r <- r * expansion                    # and the patience restarts
        g = mean_i ((s_i - 1) / 2) u_i / r             # repulsion from outside points
        z_new = clip(z + step g, clamp)
        if release(G(z_new)) == c: z <- z_new, else the step is rejected

    The clamp applies to the codes ``z``, not to the sphere points around them.
    A rejected step does not count towards ``patience``; the search stops after
    ``patience`` accepted iterations without a radius increase, or after
    ``max_iter`` iterations in all. As in the reference implementation, the
    reconstruction is the code at the last radius increase (the start if the
    radius never grew), not the final iterate.

    Parameters
    ----------
    estimator : object
        The attacked release: anything with ``predict`` (a classifier, a
        :class:`~skprivacy.SmoothedClassifier`, a
        :class:`~skprivacy.defense.RandomizedResponseClassifier`). Only
        ``predict`` is called, on ``G(z)``. :func:`~sklearn.base.clone` re-creates
        scikit-learn estimators unfitted: wrap the fitted release and evaluator
        in :class:`~sklearn.frozen.FrozenEstimator` to clone the attack.
    generator : callable or None, default=None
        Maps an array of latent codes of shape ``(n, latent_dim)`` to inputs of
        the release, shape ``(n, n_features)``. ``None`` is the identity (the
        search is then over the inputs themselves, clamped to ``clamp``; pass a
        scaler's ``inverse_transform`` to search standardized features).
    evaluator : classifier
        The independent evaluation classifier deciding success (required). It
        must be fitted on the release's classes (``classes_`` holding every
        target) and take ``G(z)`` as input; its ``predict_proba`` or
        ``decision_function`` gives the top-k success.
    latent_dim : int, default=100
        Dimension of the latent codes (BREP-MI's ``z_dim``).
    targets : array-like or None, default=None
        Target classes (targeted mode). ``None`` is untargeted: the first
        ``n_targets`` distinct labels the release gives to random codes.
    n_targets : int, default=300
        Number of targets in untargeted mode.
    n_sphere_points : int, default=32
        Points on each sphere.
    initial_radius : float, default=2.0
        Starting sphere radius.
    expansion : float, default=1.3
        Radius growth factor.
    max_step : float, default=3.0
        Largest step length.
    clamp : tuple of float or None, default=(-1.5, 1.5)
        Bounds of every latent coordinate (the random starts are clipped too);
        ``None`` leaves the codes free.
    patience : int, default=1000
        Accepted iterations without a radius increase before a target stops.
    max_iter : int or None, default=None
        Cap on the iterations of one target, rejected steps included; ``None``
        means ``10 * patience``.
    init_batch : int, default=256
        Random codes per batch of the search for starting points.
    max_init_batches : int, default=100
        Batches the start search may use before it gives up.
    top_k : int, default=5
        The top-k success counts a target when fewer than ``top_k`` other
        classes get an evaluator score at least as high as its own (ties count
        against the target).
    random_state : int, RandomState instance or None, default=None
        Seeds the start search and each target's sphere draws.
    verbose : int, default=0
        Show a progress bar when positive.

    Attributes
    ----------
    targets_ : ndarray of shape (n_targets,)
        The attacked classes.
    latents_ : ndarray of shape (n_targets, latent_dim)
        The reconstructed codes (at each target's last radius increase).
    reconstructions_ : ndarray of shape (n_targets, n_features)
        ``G(latents_)``.
    success_ : ndarray of bool of shape (n_targets,)
        Whether the evaluator predicts the target class.
    top_k_success_ : ndarray of bool of shape (n_targets,) or None
        Whether the target is in the evaluator's top ``top_k``; None when the
        evaluator has neither ``predict_proba`` nor a multi-class
        ``decision_function`` (``evaluate`` then reports NaN).
    radii_ : ndarray of shape (n_targets,)
        Final sphere radii.
    n_iter_ : ndarray of int of shape (n_targets,)
        Iterations run per target, rejected steps included.
    queries_ : ndarray of int of shape (n_targets,)
        Release queries (rows given to ``predict``) per target.
    n_init_queries_ : int
        Queries of the start search.
    query_cost_ : int
        Forward passes of the base model per query: ``estimator.n_predict`` for
        a release that votes over noisy copies (a smoothed classifier), else 1.

    See Also
    --------
    ModelInversionReport : What :meth:`evaluate` returns.
    AttributeInferenceAttack : Inference of one attribute of a known record.

    Notes
    -----
    Queries are counted as rows given to the release; a smoothed release runs
    ``n_predict`` forward passes for each (``query_cost_``). A randomized
    release answers repeated queries of one input identically in skprivacy
    (its randomness is a function of the row), which this attack never relies
    on: its sphere points are distinct. BREP-MI's reference defaults are the
    parameter defaults here, made for a 100-dimensional GAN latent space;
    smaller spaces usually want a smaller ``initial_radius`` and ``patience``.

    sklearn's common checks do not apply: this is an attack on a fitted
    release, not a learner; ``fit`` takes no data.

    References
    ----------
    M. Kahla, S. Chen, H. A. Just, R. Jia. Label-Only Model Inversion Attacks
    via Boundary Repulsion. CVPR 2022, arXiv:2203.01925.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    >>> from skprivacy.audit import BoundaryRepulsionInversion
    >>> rng = np.random.default_rng(0)
    >>> centers = rng.uniform(-1, 1, size=(6, 2))
    >>> X = np.repeat(centers, 20, axis=0) + rng.normal(0, 0.05, size=(120, 2))
    >>> y = np.repeat(np.arange(6), 20)
    >>> release = NearestCentroid().fit(X, y)
    >>> evaluator = KNeighborsClassifier(3).fit(X, y)
    >>> attack = BoundaryRepulsionInversion(
    ...     release, evaluator=evaluator, latent_dim=2, n_targets=6,
    ...     initial_radius=0.05, patience=30, random_state=0,
    ... ).fit()
    >>> report = attack.evaluate()
    >>> report.n_targets, bool(report.asr >= 0.5)
    (6, True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["predict"])],
        "generator": [callable, None],
        "evaluator": [HasMethods(["predict"]), None],
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "targets": ["array-like", None],
        "n_targets": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_sphere_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "initial_radius": [Interval(numbers.Real, 0, None, closed="neither")],
        "expansion": [Interval(numbers.Real, 1, None, closed="neither")],
        "max_step": [Interval(numbers.Real, 0, None, closed="neither")],
        "clamp": ["array-like", None],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "init_batch": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_init_batches": [Interval(numbers.Integral, 1, None, closed="left")],
        "top_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        generator=None,
        *,
        evaluator=None,
        latent_dim=100,
        targets=None,
        n_targets=300,
        n_sphere_points=32,
        initial_radius=2.0,
        expansion=1.3,
        max_step=3.0,
        clamp=(-1.5, 1.5),
        patience=1000,
        max_iter=None,
        init_batch=256,
        max_init_batches=100,
        top_k=5,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.generator = generator
        self.evaluator = evaluator
        self.latent_dim = latent_dim
        self.targets = targets
        self.n_targets = n_targets
        self.n_sphere_points = n_sphere_points
        self.initial_radius = initial_radius
        self.expansion = expansion
        self.max_step = max_step
        self.clamp = clamp
        self.patience = patience
        self.max_iter = max_iter
        self.init_batch = init_batch
        self.max_init_batches = max_init_batches
        self.top_k = top_k
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------ validation
    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            type(self).__name__,
        )
        if self.evaluator is None:
            raise ValueError(
                "Pass evaluator=, an independent classifier that decides whether a "
                "reconstruction shows the target class (judging with the attacked "
                "release itself would count every accepted step as a success)."
            )
        if self.clamp is None:
            return None
        clamp = np.asarray(self.clamp, dtype=np.float64)
        if clamp.shape != (2,) or not clamp[0] < clamp[1]:
            raise ValueError(
                f"clamp must be (low, high) with low < high, got {self.clamp!r}."
            )
        return clamp

    def _check_evaluator_classes(self, targets):
        classes = getattr(self.evaluator, "classes_", None)
        if classes is None:
            raise ValueError(
                "The evaluator must be a fitted classifier exposing classes_, so "
                "that its predictions can be matched to the release's classes."
            )
        unknown = [t for t in targets if t not in set(np.asarray(classes).tolist())]
        if unknown:
            raise ValueError(
                f"The evaluator has other classes than the release: targets "
                f"{unknown[:5]} are not in its classes_ (first values "
                f"{np.asarray(classes)[:5].tolist()}). Train the evaluator on the "
                "release's classes."
            )

    def _clip(self, Z, clamp):
        return Z if clamp is None else np.clip(Z, clamp[0], clamp[1])

    # ------------------------------------------------------------ start points
    def _starting_points(self, release, rng, clamp):
        """First code seen for each target label (untargeted: each new label)."""
        wanted = None
        if self.targets is not None:
            wanted = list(dict.fromkeys(np.asarray(self.targets).tolist()))
            classes = getattr(self.estimator, "classes_", None)
            if classes is not None:
                known = set(np.asarray(classes).tolist())
                missing = [t for t in wanted if t not in known]
                if missing:
                    raise ValueError(
                        f"Target classes {missing[:5]} are not classes of the release "
                        "(its classes_): it never outputs them."
                    )
        found = {}
        limit = len(wanted) if wanted is not None else self.n_targets
        for _ in range(self.max_init_batches):
            Z = self._clip(
                rng.standard_normal((self.init_batch, self.latent_dim)), clamp
            )
            labels = release.predict(Z)
            for z, label in zip(Z, labels.tolist(), strict=True):
                if label in found or (wanted is not None and label not in wanted):
                    continue
                found[label] = z
                if len(found) == limit:
                    break
            if len(found) == limit:
                break
        if wanted is not None:
            missing = [t for t in wanted if t not in found]
            if missing:
                raise ValueError(
                    f"The release never output target classes {missing[:5]} in "
                    f"{self.max_init_batches * self.init_batch} random queries, so "
                    "the attack has no starting point for them. Raise "
                    "max_init_batches, or drop these targets."
                )
            order = wanted
        else:
            order = list(found)
            if len(order) < self.n_targets:
                warnings.warn(
                    f"Only {len(order)} distinct labels appeared in "
                    f"{self.max_init_batches * self.init_batch} random queries; "
                    f"attacking those instead of n_targets={self.n_targets}.",
                    SmallSampleWarning,
                    stacklevel=3,
                )
        return np.asarray(order), np.stack([found[t] for t in order])

    # -------------------------------------------------------------------- fit
    def fit(self, X=None, y=None):
        """Run the attack on every target.

        Parameters
        ----------
        X : None
            Ignored; the attack needs no data.
        y : None
            Ignored.

        Returns
        -------
        self : BoundaryRepulsionInversion
            The attack, with its reconstructions and outcomes.
        """
        clamp = self._check_params()
        n_features = getattr(self.estimator, "n_features_in_", None)
        release = _CountingRelease(self.estimator, self.generator, n_features)
        rng_init, rng_targets = spawn_generators(self.random_state, 2)
        targets, Z = self._starting_points(release, rng_init, clamp)
        self._check_evaluator_classes(targets.tolist())
        self.n_init_queries_ = release.queries
        n = len(targets)
        target_rngs = spawn_generators(rng_targets.integers(2**63), n)
        max_iter = 10 * self.patience if self.max_iter is None else self.max_iter
        M = self.n_sphere_points

        radius = np.full(n, float(self.initial_radius))
        accepted = np.zeros(n, dtype=np.int64)  # BREP-MI's iteration counter
        last_growth = np.zeros(n, dtype=np.int64)
        n_iter = np.zeros(n, dtype=np.int64)
        queries = np.zeros(n, dtype=np.int64)
        best = Z.copy()
        active = np.arange(n)
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=n, desc="BREP-MI targets")
        while active.size:
            noise = np.stack(
                [target_rngs[t].standard_normal((M, self.latent_dim)) for t in active]
            )
            norms = np.linalg.norm(noise, axis=2, keepdims=True)
            sphere = radius[active, None, None] * noise / np.maximum(norms, 1e-12)
            points = Z[active, None, :] + sphere
            labels = release.predict(points.reshape(-1, self.latent_dim)).reshape(
                len(active), M
            )
            inside = labels == targets[active, None]
            signs = np.where(inside, 1.0, -1.0)
            grow = signs.sum(axis=1) > 0.75 * M
            step = np.minimum(radius[active] / 3.0, self.max_step)
            radius[active] = np.where(
                grow, radius[active] * self.expansion, radius[active]
            )
            last_growth[active] = np.where(grow, accepted[active], last_growth[active])
            # Repulsion only: outside points weigh -1, inside ones 0 (the radius
            # after a possible growth normalises, as in the reference code).
            direction = ((signs - 1.0) / 2.0)[:, :, None] * sphere
            direction = direction.mean(axis=1) / radius[active, None]
            candidate = self._clip(Z[active] + step[:, None] * direction, clamp)
            kept = release.predict(candidate) == targets[active]
            queries[active] += M + 1
            n_iter[active] += 1
            moved = active[kept]
            Z[moved] = candidate[kept]
            grown = kept & grow
            best[active[grown]] = candidate[grown]
            accepted[active[kept & ~grow]] += 1
            done = (accepted[active] - last_growth[active] >= self.patience) | (
                n_iter[active] >= max_iter
            )
            if progress is not None:
                progress.update(int(done.sum()))
            active = active[~done]
        if progress is not None:
            progress.close()

        self.targets_ = targets
        self.latents_ = best
        self.reconstructions_ = release.images(best)
        self.radii_ = radius
        self.n_iter_ = n_iter
        self.queries_ = queries
        self.query_cost_ = int(getattr(self.estimator, "n_predict", 1))
        self.success_, self.top_k_success_ = self._judge(self.reconstructions_, targets)
        return self

    def _judge(self, images, targets):
        """Top-1 success, and top-k success (None without evaluator scores)."""
        success = np.asarray(self.evaluator.predict(images)) == targets
        for method in ("predict_proba", "decision_function"):
            if hasattr(self.evaluator, method):
                scores = np.asarray(getattr(self.evaluator, method)(images))
                break
        else:
            return success, None
        if scores.ndim != 2:  # a binary decision_function: no ranking of classes
            return success, None
        position = {
            c: i for i, c in enumerate(np.asarray(self.evaluator.classes_).tolist())
        }
        column = np.array([position[t] for t in targets.tolist()])
        target_score = scores[np.arange(len(targets)), column]
        # Ties count against the target: a class scored like it outranks it, so a
        # flat score vector (a 5-NN evaluator's zeros) is no top-k success.
        rank = (scores >= target_score[:, None]).sum(axis=1) - 1
        return success, rank < self.top_k

    # -------------------------------------------------------------- results
    def evaluate(self, *, confidence: float = 0.95) -> ModelInversionReport:
        """Attack success rates with Clopper-Pearson intervals, and query costs.

        Parameters
        ----------
        confidence : float, default=0.95
            Coverage of the two-sided Clopper-Pearson intervals.

        Returns
        -------
        report : ModelInversionReport
            ``asr`` and ``asr_ci`` (top-1 success rate over the targets and its
            interval), ``top_k_asr`` and ``top_k_asr_ci`` (NaN when the evaluator
            gives no scores), ``top_k``, ``n_targets``, ``n_successes``,
            ``total_queries`` (start search included), ``median_queries`` (per
            target), ``forward_passes`` (``total_queries * query_cost_``) and
            ``query_cost``.

            .. versionchanged:: 0.1
               A report object instead of a :class:`~sklearn.utils.Bunch`; its
               fields read as the Bunch's keys did.
        """
        check_is_fitted(self, "success_")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
        n = len(self.targets_)
        k = int(self.success_.sum())
        asr_ci = tuple(float(v) for v in clopper_pearson(k, n, confidence))
        if self.top_k_success_ is not None:
            k_top = int(self.top_k_success_.sum())
            top_k_asr = k_top / n
            top_k_ci = tuple(float(v) for v in clopper_pearson(k_top, n, confidence))
        else:
            top_k_asr, top_k_ci = float("nan"), (float("nan"), float("nan"))
        total = int(self.queries_.sum()) + self.n_init_queries_
        return ModelInversionReport(
            asr=k / n,
            asr_ci=asr_ci,
            top_k_asr=top_k_asr,
            top_k_asr_ci=top_k_ci,
            top_k=self.top_k,
            n_targets=n,
            n_successes=k,
            total_queries=total,
            median_queries=float(np.median(self.queries_)),
            forward_passes=total * self.query_cost_,
            query_cost=self.query_cost_,
            confidence=confidence,
        )
