"""Lower bounds on the epsilon of (epsilon, delta)-DP, from a test's outcomes.

Every bound the audits report is computed here, with its confidence:

- from the (TPR, FPR) of a threshold test on independent trials, through
  Clopper-Pearson bounds on both rates and the two inequalities of
  (epsilon, delta)-DP (Kairouz et al. 2015; Jagielski, Ullman & Oprea 2020):
  :func:`empirical_epsilon`, :func:`epsilon_bounds`;
- from the correct guesses of a one-run audit (Steinke, Nasr & Jagielski 2023,
  Theorem 3): :func:`epsilon_from_guesses`, :func:`one_run_epsilon`.

The canary procedures that produce these outcomes are the DP wing's
(``audit/_dp/_bounds.py``).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import special
from scipy.optimize import brentq
from sklearn.utils import Bunch

from skprivacy.audit._intervals import (
    _stratified_half,
    clopper_pearson,
)
from skprivacy.audit._metrics import (
    _declare,
    check_membership,
)
from skprivacy.audit._roc import roc_vertices
from skprivacy.exceptions import DependentTrialsWarning
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params


def _epsilon_sides(tp, fp, n_in, n_out, delta, confidence):
    """Clopper-Pearson lower bounds on epsilon for each (tp, fp) test, one per
    inequality of (epsilon, delta)-DP: ``(positive, negative)`` arrays, 0
    where a side shows nothing."""
    tpr_lo, _ = clopper_pearson(tp, n_in, confidence)
    _, fpr_hi = clopper_pearson(fp, n_out, confidence)
    tpr_lo, fpr_hi = np.atleast_1d(tpr_lo), np.atleast_1d(fpr_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (eps, delta)-DP bounds every test: TPR <= e^eps FPR + delta and
        # TNR <= e^eps FNR + delta (Kairouz et al. 2015; Jagielski et al. 2020).
        sides = (
            np.log((tpr_lo - delta) / fpr_hi),
            np.log((1 - delta - fpr_hi) / (1 - tpr_lo)),
        )
    return tuple(np.where(np.isnan(e), 0.0, np.maximum(e, 0.0)) for e in sides)


def epsilon_bounds(tp, fp, n_in, n_out, delta, confidence):
    """Clopper-Pearson lower bounds on epsilon for each (tp, fp) test."""
    return np.maximum(*_epsilon_sides(tp, fp, n_in, n_out, delta, confidence))


@_declare(chooses_threshold=True)
@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "threshold": [Real, None],
        "trials": [StrOptions({"independent", "one_run"})],
        "random_state": ["random_state"],
        "return_details": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def empirical_epsilon(
    membership,
    scores,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    threshold: float | None = None,
    trials: str = "independent",
    random_state=None,
    return_details: bool = False,
) -> float | Bunch:
    """Lower bound on the epsilon of (epsilon, delta)-DP from independent trials.

    A mechanism that is (epsilon, delta)-DP bounds the TPR and FPR of every
    membership test in **two** ways: ``TPR <= e^eps FPR + delta`` (the test's
    positive calls: flagged records are rarely non-members) and ``TNR <= e^eps
    FNR + delta`` (its negative calls: unflagged records are rarely members).
    With a Clopper-Pearson lower bound on the TPR and upper bound on the FPR,
    each at ``(1 - confidence) / 2``, the bound
    ``max(log((TPR_lo - delta) / FPR_hi), log((1 - delta - FPR_hi) / (1 - TPR_lo)))``
    (the positive side, then the negative side)
    holds with probability at least ``confidence`` (Jagielski et al. 2020,
    "Auditing differentially private machine learning", Sec. 4) **when every
    record is an independent trial**: one training run per record, each with the
    record in or out (multi-run auditing). The records of *one* training run are
    not independent trials: a mechanism that publishes its whole training set
    with probability ``delta`` is (0, delta)-DP, yet this bound computed on one
    run's members and non-members is positive with probability about ``delta``,
    far above ``1 - confidence``. Say which case applies with ``trials``; for one
    run, use a one-run auditing bound instead.

    Choosing the threshold on the same records would make the bound optimistic,
    so when ``threshold`` is None the records are split in two stratified
    halves: the threshold maximising the bound on the first half is applied to
    the second, and the bound reported is the second half's.

    The negative side can bound epsilon where the TPR at low FPR is at chance:
    an attack that recognises some records as certain non-members (a high
    loss no member has) proves leakage without flagging any member.
    ``return_details`` says which side gave the bound.

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores; the test is ``score >= threshold``.
    delta : float, default=0.0
        The delta of the privacy definition audited.
    confidence : float, default=0.95
        Probability that the bound holds (with independent trials).
    threshold : float, default=None
        A threshold fixed in advance; then every record is used for the bound.
    trials : {"independent", "one_run"}, default="independent"
        How the records were obtained. ``"independent"``: each record's
        membership and score come from its own training run(s), independent of
        the other records', and the bound holds as stated. ``"one_run"``: the
        members and non-members of a single training run; the Clopper-Pearson
        guarantee does not hold, so with ``delta > 0`` (where the counterexample
        above applies) this raises a ValueError, and with ``delta = 0`` the
        statistic is returned with a
        :class:`~skprivacy.exceptions.DependentTrialsWarning`: it measures
        leakage but is not a lower bound with the stated confidence.
    random_state : int, RandomState instance or None, default=None
        Seed of the split.
    return_details : bool, default=False
        Return the test behind the bound as well.

    Returns
    -------
    epsilon : float or Bunch
        A lower bound, 0 when the records show no leakage at this confidence.
        With ``return_details``, a :class:`~sklearn.utils.Bunch` with
        ``epsilon``; ``side``, the inequality that gave it (``"positive"``:
        ``log((TPR_lo - delta) / FPR_hi)``, ``"negative"``:
        ``log((1 - delta - FPR_hi) / (1 - TPR_lo))``, None when the bound is
        0); ``threshold``, the test ``score >= threshold``; ``tpr`` and
        ``fpr``, its rates on the records that gave the bound;
        ``n_members`` and ``n_non_members``, those records.

    See Also
    --------
    epsilon_multi_run : The bound from many training runs with canaries.
    epsilon_from_guesses : The bound from the guesses of one run.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import empirical_epsilon
    >>> membership = np.r_[np.ones(500), np.zeros(500)]
    >>> scores = membership + np.random.default_rng(0).normal(size=1000) * 0.5
    >>> round(empirical_epsilon(membership, scores, random_state=0), 2)
    1.74

    Here the bound comes from the negative side: the test flags nearly every
    member and most non-members, and the records it leaves are almost all
    non-members.

    >>> details = empirical_epsilon(
    ...     membership, scores, random_state=0, return_details=True
    ... )
    >>> details.side, round(details.tpr, 2), round(details.fpr, 2)
    ('negative', 0.98, 0.65)
    """
    if trials == "one_run":
        if delta > 0:
            raise ValueError(
                "The Clopper-Pearson epsilon bound needs independent trials; the "
                "records of one training run are not (a mechanism that publishes "
                f"its training set with probability delta={delta:g} is (0, delta)-DP "
                "yet makes this bound positive with probability about delta). Audit "
                "several independent training runs (trials='independent') or use a "
                "one-run auditing bound."
            )
        warnings.warn(
            "empirical_epsilon on the members and non-members of one training run "
            "is a leakage statistic, not a lower bound on epsilon with the stated "
            "confidence: its Clopper-Pearson intervals assume independent trials "
            "(one training run per record). Use a one-run auditing bound for a "
            "guarantee.",
            DependentTrialsWarning,
            stacklevel=2,
        )
    membership, scores = check_membership(membership, scores)
    if threshold is None:
        first = _stratified_half(membership, random_state)
        m, s = membership[first], scores[first]
        tp, fp, thresholds = roc_vertices(m, s)
        eps = epsilon_bounds(tp, fp, m.sum(), (~m).sum(), delta, confidence)
        threshold = thresholds[np.argmax(eps)]
        membership, scores = membership[~first], scores[~first]
    flagged = scores >= threshold
    tp, fp = (flagged & membership).sum(), (flagged & ~membership).sum()
    n_in, n_out = membership.sum(), (~membership).sum()
    positive, negative = (
        float(e[0]) for e in _epsilon_sides(tp, fp, n_in, n_out, delta, confidence)
    )
    epsilon = max(positive, negative)
    if not return_details:
        return epsilon
    side = "positive" if positive >= negative else "negative"
    return Bunch(
        epsilon=epsilon,
        side=side if epsilon > 0 else None,
        threshold=float(threshold),
        tpr=float(tp / n_in),
        fpr=float(fp / n_out),
        n_members=int(n_in),
        n_non_members=int(n_out),
    )


# Above this epsilon, e^eps / (1 + e^eps) is 1 in float64: every count is likely.
_MAX_EPSILON = 40.0


def one_run_p_value(epsilon, n_correct, n_guesses, n_canaries, delta):
    """P-value of ``n_correct`` correct guesses if the mechanism is (eps, delta)-DP.

    Theorem 3 of Steinke, Nasr & Jagielski (2023): with ``m`` canaries each
    included independently with probability 1/2 and at most ``r`` guesses,

        P[W >= v] <= f(v) + 2 m delta max_{i = 1..m} (f(v - i) - f(v)) / i,

    where ``f(v) = P[Binomial(r, e^eps / (1 + e^eps)) >= v]``. For ``i >= v``
    the numerator is ``1 - f(v)``, so the maximum is reached at ``i <= v``.
    """
    # The ufuncs, not scipy.stats: the root finding calls this thousands of times.
    q = special.expit(epsilon)
    v = int(n_correct)
    f_v = special.bdtrc(v - 1, n_guesses, q)
    if delta == 0 or v == 0:
        return min(1.0, f_v)
    i = np.arange(1, v + 1)
    f_below = special.bdtrc(v - i - 1, n_guesses, q)
    return min(1.0, f_v + 2 * n_canaries * delta * np.max((f_below - f_v) / i))


def one_run_epsilon(n_correct, n_guesses, n_canaries, delta, alpha):
    """Largest epsilon whose null hypothesis is rejected at level ``alpha``."""
    if n_guesses == 0:
        return 0.0

    def excess(eps):
        return one_run_p_value(eps, n_correct, n_guesses, n_canaries, delta) - alpha

    # The p-value grows with epsilon (a more likely binomial success), so the
    # rejected epsilons form an interval [0, eps_hat].
    if excess(0.0) > 0:
        return 0.0
    if excess(_MAX_EPSILON) <= 0:
        return _MAX_EPSILON
    return float(brentq(excess, 0.0, _MAX_EPSILON, xtol=1e-6))


@validate_params(
    {
        "n_correct": [Interval(Integral, 0, None, closed="left")],
        "n_guesses": [Interval(Integral, 0, None, closed="left")],
        "n_canaries": [Interval(Integral, 1, None, closed="left")],
        "delta": [Interval(Real, 0, 1, closed="left")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def epsilon_from_guesses(
    n_correct: int,
    n_guesses: int,
    n_canaries: int,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> float:
    """Epsilon lower bound from the correct guesses of a one-run audit.

    ``n_canaries`` canaries were each included in training independently with
    probability 1/2; an auditor guessed the inclusion of ``n_guesses`` of them
    (abstaining on the rest), choosing how many to guess before looking, and
    ``n_correct`` guesses were right. If training is (epsilon, delta)-DP,
    Theorem 3 of Steinke, Nasr & Jagielski (2023, "Privacy auditing with one
    (1) training run") bounds the chance of that many correct guesses by

    ``f(v) + 2 m delta max_i (f(v - i) - f(v)) / i``, with
    ``f(v) = P[Binomial(r, e^eps / (1 + e^eps)) >= v]``.

    The bound returned is the largest epsilon for which that probability is at
    most ``1 - confidence``: with probability at least ``confidence`` the
    mechanism is not (epsilon', delta)-DP for any epsilon' below it.

    Parameters
    ----------
    n_correct : int
        Correct guesses ``v``.
    n_guesses : int
        Guesses made ``r`` (abstentions excluded).
    n_canaries : int
        Canaries ``m``, each included independently with probability 1/2.
    delta : float, default=0.0
        The delta of the (epsilon, delta)-DP claim audited.
    confidence : float, default=0.95
        Probability that the bound holds.

    Returns
    -------
    epsilon : float
        The lower bound, 0 when the guesses show nothing at this confidence.

    See Also
    --------
    epsilon_one_run : Makes the guesses from canary scores.
    empirical_epsilon : The bound from independent trials.

    Examples
    --------
    >>> from skprivacy.audit import epsilon_from_guesses
    >>> round(epsilon_from_guesses(90, 100, 1000), 2)
    1.63

    The delta term grows with the number of canaries: 2 m delta = 2 costs a lot.

    >>> round(epsilon_from_guesses(90, 100, 1000, delta=1e-3), 2)
    0.39
    """
    if n_correct > n_guesses or n_guesses > n_canaries:
        raise ValueError(
            "Need n_correct <= n_guesses <= n_canaries; got "
            f"n_correct={n_correct}, n_guesses={n_guesses}, n_canaries={n_canaries}."
        )
    return one_run_epsilon(n_correct, n_guesses, n_canaries, delta, 1.0 - confidence)
