"""The alpha/2 theorem of (R, alpha)-Robust Privacy, against the exact binomial law.

Theorem (Jin et al., Robust Privacy, v2): if a release ``M`` returns one label
``c`` with probability at least ``1 - alpha`` at every input of a set (here two
inputs ``x`` and ``x'``), then no adversary who sees ``M(x_b)``, ``b ~
Bernoulli(1/2)``, guesses ``b`` with probability above ``1/2 + alpha/2``.
Proof: for any event ``A``, ``P(M(x) in A) - P(M(x') in A) <= alpha`` (if ``c``
is in ``A`` the second probability is at least ``1 - alpha``, if not the first
is at most ``alpha``), so ``TV(M(x), M(x')) <= alpha``, and the best
adversary's advantage is ``TV / 2``.

Oracle: ``f(x) = 1[2 x_0 > 0]`` (column 1 is ignored) with smoothing noise on
column 0 only, so ``P(f(x + e) = 1) = Phi(x_0 / sigma)`` exactly, and the
always-label release ``M_N`` (majority of ``N`` votes, odd ``N``: no ties)
returns class 1 with probability ``q(x) = P(Binomial(N, Phi(x_0 / sigma)) >
N / 2)``, exactly. A row's noise is a function of the row, so rows that differ
in the ignored column 1 are independent runs of the release with fresh noise:
each of the ``T`` trials of the distinguishing game uses its own row.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from scipy.stats import binom, norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.frozen import FrozenEstimator

from skprivacy import SmoothedClassifier

SIGMA, N, T = 0.5, 25, 4000


class ThresholdOracle(ClassifierMixin, BaseEstimator):
    """The fitted classifier ``1[2 x_0 > 0]``."""

    def fit(self, X=None, y=None):
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = 2
        return self

    def predict(self, X):
        return (2.0 * np.asarray(X)[:, 0] > 0).astype(int)


def release(seed=0):
    return SmoothedClassifier(
        FrozenEstimator(ThresholdOracle().fit()),
        sigma=SIGMA,
        noise_features=[0],
        n_predict=N,
        batch_size=100_000,
        random_state=seed,
    ).fit(np.zeros((2, 2)), [0, 1])


def q_exact(x0):
    """P(M_N(x) = 1): more than N/2 of N votes for class 1."""
    return binom.sf(N // 2, N, norm.cdf(x0 / SIGMA))


def x0_with_error(alpha):
    """The x_0 > 0 at which M_N errs (returns 0) with probability alpha."""
    # P(M_N = 0) = P(Binomial(N, p) <= N // 2) decreases in p: bisect on p.
    low, high = 0.5, 1.0
    for _ in range(100):
        p = (low + high) / 2
        low, high = (p, high) if binom.cdf(N // 2, N, p) > alpha else (low, p)
    return SIGMA * norm.ppf((low + high) / 2)


def play(model, x0, x0_prime, seed):
    """T rounds of the game; the adversary says b = 1 (x') iff the output is 0."""
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 2, size=T)
    rows = np.column_stack([np.where(b == 1, x0_prime, x0), np.arange(T) + 0.5])
    guess = (model.predict(rows) == 0).astype(int)
    return int(np.sum(guess == b))


@pytest.mark.parametrize(
    "alpha_x, alpha_x_prime",
    [
        (1e-9, 0.10),  # far from the boundary vs at error 0.10: TV close to alpha*
        (0.02, 0.15),
        (0.05, 0.05),  # equal laws: no advantage at all
    ],
)
def test_advantage_is_at_most_half_alpha(alpha_x, alpha_x_prime):
    x0 = 20 * SIGMA if alpha_x < 1e-6 else x0_with_error(alpha_x)
    x0_prime = x0_with_error(alpha_x_prime)
    q, q_prime = q_exact(x0), q_exact(x0_prime)
    alpha_star = max(1 - q, 1 - q_prime)
    assert alpha_star == pytest.approx(max(alpha_x, alpha_x_prime), rel=1e-6)
    successes = play(release(), x0, x0_prime, seed=int(alpha_x_prime * 100))
    # Each round succeeds independently with probability 1/2 + (q - q')/2 (this
    # adversary is optimal for q >= q'), at most 1/2 + alpha*/2 by the theorem:
    # successes ~ Binomial(T, <= 1/2 + alpha*/2), P(above isf(1e-4)) <= 1e-4.
    assert successes <= binom.isf(1e-4, T, 0.5 + alpha_star / 2)
    # Exactness of the release's law (so the check above can fail): two-sided
    # region of Binomial(T, 1/2 + (q - q')/2), 0.5e-4 in each tail.
    p_success = 0.5 + (q - q_prime) / 2
    low, high = binom.ppf(0.5e-4, T, p_success), binom.isf(0.5e-4, T, p_success)
    assert low - 1 < successes < high + 1, (successes, T * p_success)
    # The two assertions hold together with probability >= 1 - 2e-4 per case.


def test_half_alpha_is_tight_so_a_smaller_claim_would_fail():
    # Far point vs error 0.30: the advantage is 0.15 = alpha*/2, so a claimed
    # bound of alpha*/4 is refuted: P(successes <= isf(1e-4) at 1/2 + 0.075)
    # under the true law Binomial(4000, 0.65) is below 1e-4 (asserted below).
    x0, x0_prime = 20 * SIGMA, x0_with_error(0.30)
    claimed = binom.isf(1e-4, T, 0.5 + 0.30 / 4)
    true_p = 0.5 + (q_exact(x0) - q_exact(x0_prime)) / 2
    assert binom.cdf(claimed, T, true_p) < 1e-4
    assert play(release(), x0, x0_prime, seed=1) > claimed


def test_certificate_gives_the_premise_on_its_ball():
    # A CERTIFY radius R at x (confidence 1 - alpha over the seed) puts every x'
    # with |x'_0 - x_0| < R on the side of class 1 for the exact smoothed g; for
    # the always-label release the error at such x' is that of the Binomial law.
    model = release().set_params(n=2000, n0=100, alpha=0.001)
    x = np.array([[1.0, 0.25]])
    labels, radius = model.certify(x)
    assert labels[0] == 1 and 0 < radius[0] < 1.0 / SIGMA
    edge = 1.0 - SIGMA * radius[0]  # the ball's edge, in raw units
    assert edge > 0  # g(x') = 1 on the whole ball: the premise holds there
    assert 1 - q_exact(edge) < 0.5
