"""Canary audits of (epsilon, delta)-DP: guesses and tests from canary scores.

The bounds themselves are computed in :mod:`skprivacy.audit._epsilon`; here
canary scores become the guesses and tests they take. Two auditing schemes
share the conventions here: ``inclusion[t, i]`` says whether canary ``i`` was
in training run ``t`` (each drawn independently with probability 1/2) and
``scores[t, i]`` is an attack's score of canary ``i`` on the model of run
``t``, higher for canaries it believes were included.

- One run (Steinke, Nasr & Jagielski, NeurIPS 2023): the canaries of a single
  run are guessed at once and the number of correct guesses is compared with
  the tail of a binomial, through the paper's Theorem 3.
- Many runs (Jagielski, Ullman & Oprea 2020): every run is an independent
  trial of one canary, and Clopper-Pearson bounds on the TPR and FPR of a
  threshold test give the bound (:func:`~skprivacy.audit.empirical_epsilon`).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from skprivacy.audit._epsilon import empirical_epsilon, epsilon_bounds, one_run_epsilon
from skprivacy.audit._roc import roc_vertices
from skprivacy.utils import spawn_generators
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params

# Shares of the canaries tried as numbers of guesses when ``n_guesses="auto"``.
_GUESS_SHARES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def _check_confidence(confidence):
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            f"confidence must be in (0, 1), e.g. 0.95; got {confidence}. It is the "
            "probability that the lower bound holds."
        )


def _check_delta(delta):
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must be in [0, 1); got {delta}.")


def guess_grid(n_canaries: int) -> list[tuple[int, int]]:
    """The fixed ``(k_plus, k_minus)`` grid tried by ``n_guesses="auto"``.

    ``k`` runs over shares of the canaries; each ``k`` is tried as ``k`` "in"
    guesses alone and as ``k`` "in" plus ``k`` "out" guesses. The grid depends
    only on ``n_canaries``, never on the scores.
    """
    ks = sorted({max(1, round(share * n_canaries)) for share in _GUESS_SHARES})
    grid = [(k, 0) for k in ks] + [(k, k) for k in ks if 2 * k <= n_canaries]
    return list(dict.fromkeys(grid))


def _check_guesses(n_guesses, n_canaries):
    if isinstance(n_guesses, str):
        if n_guesses != "auto":
            raise ValueError(
                f"n_guesses must be 'auto' or (k_plus, k_minus); got {n_guesses!r}."
            )
        return guess_grid(n_canaries)
    if isinstance(n_guesses, Integral):
        n_guesses = (n_guesses, 0)
    k_plus, k_minus = (int(k) for k in n_guesses)
    if k_plus < 0 or k_minus < 0 or k_plus + k_minus == 0:
        raise ValueError(
            f"n_guesses must be non-negative and not both 0; got {n_guesses}."
        )
    if k_plus + k_minus > n_canaries:
        raise ValueError(
            f"Cannot make {k_plus} + {k_minus} guesses with only {n_canaries} "
            "canaries: use more canaries or fewer guesses (k_plus + k_minus <= "
            "n_canaries)."
        )
    return [(k_plus, k_minus)]


def _check_inclusion_scores(inclusion, scores):
    inclusion = np.asarray(inclusion)
    scores = np.asarray(scores, dtype=np.float64)
    if inclusion.shape != scores.shape:
        raise ValueError(
            f"inclusion and scores must have the same shape; got {inclusion.shape} "
            f"and {scores.shape}."
        )
    if not np.isin(inclusion, [0, 1]).all():
        raise ValueError("inclusion must hold only 0 (left out) and 1 (included).")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite.")
    return inclusion.astype(bool), scores


def one_run_audit(inclusion, scores, *, delta, confidence, n_guesses, random_state):
    """The one-run bound with the guesses behind it, as a dict."""
    _check_confidence(confidence)
    _check_delta(delta)
    inclusion, scores = _check_inclusion_scores(inclusion, scores)
    if inclusion.ndim != 1:
        raise ValueError("A one-run audit takes 1-d inclusion and scores.")
    m = len(scores)
    grid = _check_guesses(n_guesses, m)
    # Ties are broken in a random order drawn independently of the inclusion,
    # so tied canaries are guessed as by a coin and not by their position.
    (rng,) = spawn_generators(random_state, 1)
    shuffle = rng.permutation(m)
    order = shuffle[np.argsort(-scores[shuffle], kind="stable")]
    correct_in = np.r_[0, np.cumsum(inclusion[order])]
    correct_out = np.r_[0, np.cumsum(~inclusion[order[::-1]])]
    # Union bound over the grid: each (k_plus, k_minus) is tested at alpha / K.
    alpha = (1.0 - confidence) / len(grid)
    best = None
    for k_plus, k_minus in grid:
        v = int(correct_in[k_plus] + correct_out[k_minus])
        eps = one_run_epsilon(v, k_plus + k_minus, m, delta, alpha)
        if best is None or eps > best["epsilon"]:
            best = {
                "epsilon": eps,
                "k_plus": k_plus,
                "k_minus": k_minus,
                "n_correct": v,
                "n_guesses": k_plus + k_minus,
            }
    best.update(
        n_abstained=m - best["n_guesses"],
        n_canaries=m,
        n_included=int(inclusion.sum()),
        grid_size=len(grid),
    )
    return best


@validate_params(
    {
        "inclusion": ["array-like"],
        "scores": ["array-like"],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "n_guesses": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            tuple,
        ],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def epsilon_one_run(
    inclusion,
    scores,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    n_guesses="auto",
    random_state=None,
) -> float:
    """Epsilon lower bound from one training run with canaries.

    Each of the ``m`` canaries was included in the single training run
    independently with probability 1/2. The auditor guesses "in" for the
    ``k_plus`` highest-scoring canaries and "out" for the ``k_minus`` lowest,
    abstains on the rest, and turns the number of correct guesses into a bound
    with :func:`epsilon_from_guesses` (Steinke, Nasr & Jagielski 2023,
    Theorem 3). Choosing ``(k_plus, k_minus)`` after looking at the guesses
    would make the bound optimistic, so ``n_guesses="auto"`` tries a fixed grid
    of ``K`` pairs (shares of ``m``) and tests each at level
    ``(1 - confidence) / K`` (a union bound); the best bound is returned.

    Parameters
    ----------
    inclusion : array-like of shape (n_canaries,)
        1 when the canary was included in training, 0 when it was left out.
    scores : array-like of shape (n_canaries,)
        Attack scores of the canaries on the trained model, higher for the
        canaries the attack believes were included.
    delta : float, default=0.0
        The delta of the (epsilon, delta)-DP claim audited.
    confidence : float, default=0.95
        Probability that the bound holds.
    n_guesses : "auto", int or tuple of (int, int), default="auto"
        ``(k_plus, k_minus)`` fixed in advance (an int means ``k_minus=0``), or
        ``"auto"`` for the corrected grid.
    random_state : int, RandomState instance or None, default=None
        Seed of the order in which tied scores are guessed.

    Returns
    -------
    epsilon : float
        A lower bound on epsilon that holds with probability ``confidence``.

    See Also
    --------
    epsilon_from_guesses : The bound from counts of guesses.
    epsilon_multi_run : The bound from many training runs.
    DPAuditor : Trains and scores the canaries.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import epsilon_one_run
    >>> rng = np.random.default_rng(0)
    >>> inclusion = rng.random(1000) < 0.5
    >>> scores = inclusion + rng.normal(size=1000) * 0.5
    >>> round(epsilon_one_run(inclusion, scores, random_state=0), 2)
    3.56
    """
    return one_run_audit(
        inclusion,
        scores,
        delta=delta,
        confidence=confidence,
        n_guesses=n_guesses,
        random_state=random_state,
    )["epsilon"]


def multi_run_audit(inclusion, scores, *, delta, confidence, n_calibration=None):
    """The many-runs bound with the canary and threshold behind it, as a dict.

    The first ``n_calibration`` runs (half by default) choose the canary and
    the threshold with the best bound; the bound reported is the one of that
    test on the other runs, which are independent trials of it. When no bound
    can be computed, ``epsilon`` is NaN and ``reason`` says why (else None).
    """
    _check_confidence(confidence)
    _check_delta(delta)
    inclusion, scores = _check_inclusion_scores(inclusion, scores)
    if inclusion.ndim != 2:
        raise ValueError("A many-runs audit takes 2-d (n_runs, n_canaries) arrays.")
    n_runs = inclusion.shape[0]
    half = n_runs // 2 if n_calibration is None else n_calibration
    # No bound is computed (NaN, with the reason) until a test can be chosen
    # and tried; then "reason" is None.
    result = {
        "epsilon": np.nan,
        "n_runs": n_runs,
        "canary": None,
        "threshold": np.nan,
        "reason": None,
    }
    if half < 2 or n_runs - half < 2:
        result["reason"] = (
            f"it needs at least 2 calibration and 2 trial runs, n_runs >= 4; "
            f"this audit made {n_runs}"
        )
        return result
    best = (-1.0, -1.0, -1, np.nan)
    for i in range(inclusion.shape[1]):
        m, s = inclusion[:half, i], scores[:half, i]
        if m.all() or not m.any():
            continue
        tp, fp, thresholds = roc_vertices(m, s)
        eps = epsilon_bounds(tp, fp, m.sum(), (~m).sum(), delta, confidence)
        # Few runs bound nothing yet: the advantage TPR - FPR breaks the ties.
        advantage = tp / m.sum() - fp / (~m).sum()
        j = np.lexsort((-advantage, -eps))[0]
        if (eps[j], advantage[j]) > best[:2]:
            best = (float(eps[j]), float(advantage[j]), i, float(thresholds[j]))
    _, _, canary, threshold = best
    if canary < 0:
        result["reason"] = (
            "no canary was both included and left out in the calibration runs"
        )
        return result
    m, s = inclusion[half:, canary], scores[half:, canary]
    result.update(canary=canary, threshold=threshold, n_trials=len(m))
    if m.all() or not m.any():
        result["reason"] = (
            f"the {len(m)} trial runs all {'included' if m.all() else 'left out'} "
            f"canary {canary}: no false or no true positive can be counted"
        )
        return result
    # The trial runs are independent, one trial each: Clopper-Pearson applies.
    result["epsilon"] = empirical_epsilon(
        m.astype(int),
        s,
        delta=delta,
        confidence=confidence,
        threshold=threshold,
        trials="independent",
    )
    flagged = s >= threshold
    result.update(
        true_positives=int((flagged & m).sum()),
        false_positives=int((flagged & ~m).sum()),
        n_included=int(m.sum()),
    )
    return result


@validate_params(
    {
        "inclusion": ["array-like"],
        "scores": ["array-like"],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def epsilon_multi_run(
    inclusion, scores, *, delta: float = 0.0, confidence: float = 0.95
) -> float:
    """Epsilon lower bound from many training runs, one trial per run.

    Run ``t`` trained on the data plus canary ``i`` with probability 1/2,
    independently of the other runs; the test "canary ``i`` was included"
    is ``scores[t, i] >= threshold``. (epsilon, delta)-DP bounds the TPR and
    FPR of every such test (``TPR <= e^eps FPR + delta``), so Clopper-Pearson
    bounds on them over independent runs give a lower bound on epsilon
    (Jagielski, Ullman & Oprea 2020; computed by
    :func:`~skprivacy.audit.empirical_epsilon`). The canary and the threshold
    are chosen on the first half of the runs; the bound is that of the chosen
    test on the second half, whose runs are fresh independent trials. Trials
    of different canaries in one run are not independent, so each run
    contributes one trial.

    Parameters
    ----------
    inclusion : array-like of shape (n_runs, n_canaries)
        1 when run ``t`` included canary ``i``.
    scores : array-like of shape (n_runs, n_canaries)
        Attack scores of each canary on each run's model, computed without the
        inclusion of the run scored (reference models must be other runs).
    delta : float, default=0.0
        The delta of the (epsilon, delta)-DP claim audited.
    confidence : float, default=0.95
        Probability that the bound holds.

    Returns
    -------
    epsilon : float
        The lower bound (0 when the test shows no leakage); NaN when no bound
        can be computed: with fewer than 4 runs, or when the trial runs all
        included, or all left out, the chosen canary.

    See Also
    --------
    epsilon_one_run : The bound from one training run.
    empirical_epsilon : The test bound it reads.
    DPAuditor : Trains and scores the canaries.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import epsilon_multi_run
    >>> rng = np.random.default_rng(0)
    >>> inclusion = rng.random((400, 3)) < 0.5
    >>> scores = inclusion + rng.normal(size=(400, 3)) * 0.3
    >>> round(epsilon_multi_run(inclusion, scores), 2)
    3.03
    """
    return multi_run_audit(inclusion, scores, delta=delta, confidence=confidence)[
        "epsilon"
    ]


def bound_curve(
    inclusion,
    scores,
    *,
    delta,
    confidence,
    n_guesses,
    random_state,
    n_calibration=None,
):
    """Bounds from growing prefixes of the canaries (1-d) or of the trial runs (2-d).

    Canaries and runs are exchangeable, so a prefix is a random subset: the
    curve shows how the bound grows with the audit's size. For runs, the
    first ``n_calibration`` (half by default) stay and the sizes count the
    trial runs after them.
    """
    inclusion, scores = _check_inclusion_scores(inclusion, scores)
    total = len(scores)
    if inclusion.ndim == 2:
        n_calibration = total // 2 if n_calibration is None else n_calibration
        total -= n_calibration
    start = 10 if inclusion.ndim == 1 else 2
    sizes = np.unique(np.r_[np.geomspace(start, total, 8).round().astype(int), total])
    sizes = sizes[(sizes >= min(start, total)) & (sizes <= total)]
    if inclusion.ndim == 1:
        # A fixed number of guesses needs at least that many canaries.
        fixed = 0 if n_guesses == "auto" else sum(_check_guesses(n_guesses, total)[0])
        epsilon = [
            np.nan
            if fixed > k
            else one_run_audit(
                inclusion[:k],
                scores[:k],
                delta=delta,
                confidence=confidence,
                n_guesses=n_guesses,
                random_state=random_state,
            )["epsilon"]
            for k in sizes
        ]
    else:
        # The calibration runs stay; the trials grow.
        epsilon = [
            multi_run_audit(
                inclusion[: n_calibration + k],
                scores[: n_calibration + k],
                delta=delta,
                confidence=confidence,
                n_calibration=n_calibration,
            )["epsilon"]
            for k in sizes
        ]
    return sizes, np.asarray(epsilon, dtype=float)
