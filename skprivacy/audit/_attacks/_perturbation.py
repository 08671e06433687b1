"""Perturbation attack: how the confidence in the true class falls under noise."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from typing import ClassVar

import numpy as np

from skprivacy.audit._attacks._query import POSITIVE_INT, BaseQueryAttack, row_normals
from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import StrOptions, _fit_context

# Pool records used to estimate feature importances (queries: n * n_features).
_IMPORTANCE_ROWS = 256


class PerturbationAttack(BaseQueryAttack):
    """Confidence drop under perturbations of increasing size (MERLIN-style).

    Members sit near minima of the loss, so noise raises their loss more often
    and more than a non-member's (Jayaraman et al. 2021, "Revisiting membership
    inference under realistic assumptions", MERLIN). Each record is queried as
    is and with ``n_samples`` copies at each noise level ``sigma_l`` in
    ``noise_levels``: ``x + sigma_l * scale * e`` on the perturbed features,
    ``e ~ N(0, I)``, ``scale`` each feature's standard deviation on the pool.
    With ``top_k``, only the ``top_k`` features whose perturbation moves the
    target's confidence most are perturbed (a feature-importance-guided
    variant: importance of feature ``j`` is the mean absolute change of
    ``log p_y`` when only ``j`` is perturbed at the middle noise level,
    measured on up to 256 pool records).

    The signal of a record is ``log p_y(x)`` followed, per level, by the
    fraction of copies whose loss is higher than the record's and by the mean
    drop ``log p_y(x) - mean log p_y(x + e)``. Scores:

    - ``scoring="threshold"``: MERLIN's fraction of loss increases, averaged
      over levels (ties broken by ``log p_y(x)``, a thousandth of a fraction
      step at most);
    - ``scoring="lrt"``: a Gaussian log-likelihood ratio of the vector
      ``(log p_y(x), drop_1, ..., drop_L)`` against the reference models: the
      non-member mean of each record is the mean of the references that left
      it out, the member mean is shifted by the mean in/out difference seen on
      the references, and the variances are the within-record variances pooled
      over records (independent coordinates, as fixed-variance LiRA).

    Parameters
    ----------
    noise_levels : tuple of float, default=(0.05, 0.2, 0.5)
        Noise standard deviations, in units of each feature's standard deviation.
    n_samples : int, default=8
        Noisy copies per record and level.
    top_k : int, default=None
        Perturb only the ``top_k`` most important features (all when None).
    scoring : {"threshold", "lrt"}, default="threshold"
        See above; ``"lrt"`` needs at least 2 references.

    Attributes
    ----------
    features_ : ndarray of int
        The perturbed features (set by :meth:`prepare`).
    importances_ : ndarray of shape (n_features,) or None
        Importance of each feature when ``top_k`` is set.
    shift_ : ndarray
        Member minus non-member mean of the signal (``"lrt"``).
    var_ : ndarray
        Pooled within-record variance of the signal (``"lrt"``).

    See Also
    --------
    BaseQueryAttack : The base of attacks that query the model.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import PerturbationAttack
    >>> def query(X):  # a model sharply confident near x = 1 only
    ...     p = 0.5 + 0.49 * np.exp(-((X[:, 0] - 1) ** 2) * 8)
    ...     return np.log(np.column_stack([1 - p, p]))
    >>> attack = PerturbationAttack(noise_levels=(0.3,), n_samples=50)
    >>> X, y = np.array([[1.0], [3.0]]), np.array([1, 1])
    >>> attack = attack.prepare(query, X, y, scale=np.ones(1), random_state=0)
    >>> signal = attack.signals(query, X, y, scale=np.ones(1), random_state=0)
    >>> bool(attack.fit(None).score_samples(signal, y, None, None)[0] > 0.9)
    True
    """

    query_output = "log_proba"

    _parameter_constraints: ClassVar[dict] = {
        "noise_levels": ["array-like"],
        "n_samples": POSITIVE_INT,
        "top_k": [*POSITIVE_INT, None],
        "scoring": [StrOptions({"threshold", "lrt"})],
    }

    def __init__(
        self,
        noise_levels=(0.05, 0.2, 0.5),
        n_samples=8,
        top_k=None,
        scoring="threshold",
    ):
        self.noise_levels = noise_levels
        self.n_samples = n_samples
        self.top_k = top_k
        self.scoring = scoring

    @property
    def min_references(self):
        return 2 if self.scoring == "lrt" else 0

    def _levels(self):
        """The noise levels, sorted; each must be positive."""
        levels = np.asarray(self.noise_levels, dtype=np.float64).ravel()
        if levels.size == 0 or not np.all(levels > 0):
            raise ValueError(
                f"noise_levels must be positive numbers; got {self.noise_levels!r}."
            )
        return np.sort(levels)

    def prepare(self, query, X, y, *, scale, random_state):
        """Choose the perturbed features (the ``top_k`` most important ones)."""
        self._validate_params()
        levels = self._levels()
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        self.importances_ = None
        if self.top_k is None or self.top_k >= d:
            self.features_ = np.arange(d)
            return self
        (rng,) = spawn_generators(random_state, 1)
        rows = rng.permutation(n)[:_IMPORTANCE_ROWS]
        Xs, ys = X[rows], y[rows]
        index = np.arange(len(rows))
        base = query(Xs)[index, ys]
        sigma = levels[len(levels) // 2]
        self.importances_ = np.empty(d)
        for j in range(d):  # one feature at a time: memory O(rows * d)
            moved = Xs.copy()
            moved[:, j] += rng.standard_normal(len(rows)) * sigma * scale[j]
            self.importances_[j] = np.abs(query(moved)[index, ys] - base).mean()
        self.features_ = np.sort(
            np.argsort(-self.importances_, kind="stable")[: self.top_k]
        )
        return self

    def signals(self, query, X, y, *, scale, random_state):
        """``log p_y(x)``, then per level the share of loss increases and the drop."""
        self._validate_params()
        levels = self._levels()
        X = np.asarray(X, dtype=np.float64)
        n, d = X.shape
        features = getattr(self, "features_", np.arange(d))
        rows = np.arange(n)
        base = query(X)[rows, y]
        T, L = self.n_samples, len(levels)
        noise = row_normals(X, random_state, (L, T, len(features)))
        noise = noise.transpose(1, 2, 0, 3) * levels[:, None, None, None]
        noise *= scale[features]
        copies = np.broadcast_to(X, (L, T, n, d)).copy()
        copies[..., features] += noise
        lp = query(copies.reshape(-1, d)).reshape(L, T, n, -1)[:, :, rows, y]
        fraction = (lp < base).mean(axis=1)  # (L, n)
        drop = base - lp.mean(axis=1)
        return np.column_stack([base, fraction.T, drop.T])

    def _split(self, signal):
        L = (signal.shape[-1] - 1) // 2
        base, fraction, drop = (
            signal[..., :1],
            signal[..., 1 : 1 + L],
            signal[..., 1 + L :],
        )
        return base, fraction, np.concatenate([base, drop], axis=-1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, references):
        """For ``"lrt"``, the in/out shift and pooled variance on the references."""
        self._levels()  # refuses non-positive noise levels
        if self.scoring != "lrt":
            return self
        _, _, v = self._split(np.asarray(references.signals, dtype=np.float64))
        keep = references.membership
        n_in, n_out = keep.sum(axis=0), (~keep).sum(axis=0)
        both = (n_in > 0) & (n_out > 0)
        if not both.any():
            raise ValueError(
                "PerturbationAttack(scoring='lrt') needs pool records that some "
                "references trained on and others did not; use more references."
            )
        w_in, w_out = keep[..., None], ~keep[..., None]
        mean_in = (v * w_in).sum(axis=0)[both] / n_in[both, None]
        mean_out = (v * w_out).sum(axis=0)[both] / n_out[both, None]
        self.shift_ = (mean_in - mean_out).mean(axis=0)
        resid = np.where(w_in, v - (v * w_in).sum(0) / np.maximum(n_in, 1)[:, None], 0)
        resid += np.where(
            w_out, v - (v * w_out).sum(0) / np.maximum(n_out, 1)[:, None], 0
        )
        dof = max(int((n_in[both] - 1).sum() + (n_out[both] - 1).sum()), 1)
        self.var_ = np.maximum((resid[:, both] ** 2).sum(axis=(0, 1)) / dof, 1e-12)
        return self

    def score_samples(self, signals, y, reference_signals, membership):
        """Membership score of each record (see ``scoring``)."""
        signal = np.asarray(signals, dtype=np.float64)
        base, fraction, v = self._split(signal)
        if self.scoring == "threshold":
            # Ties in the fraction are broken by the confidence, never reordered.
            tiebreak = 1e-3 / (self.n_samples * (1 + np.pi / 2))
            return fraction.mean(axis=1) + tiebreak * np.arctan(base[:, 0])
        _, _, ref = self._split(np.asarray(reference_signals, dtype=np.float64))
        out = ~np.asarray(membership, dtype=bool)
        n_out = out.sum(axis=0)
        if np.any(n_out == 0):
            raise ValueError(
                "Some records have no reference model that left them out; "
                "PerturbationAttack(scoring='lrt') cannot score them."
            )
        mu_out = (ref * out[..., None]).sum(axis=0) / n_out[:, None]
        # log N(v; mu_out + shift, var) - log N(v; mu_out, var), per coordinate.
        z = v - mu_out
        return ((self.shift_ * (z - self.shift_ / 2)) / self.var_).sum(axis=1)
