"""DP auditing: validity on mechanisms of known epsilon, the auditor and report."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import json
import warnings

import matplotlib
import numpy as np
import pytest
from scipy import stats
from scipy.optimize import brentq
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprivacy.audit import (
    CanarySet,
    DPAuditDisplay,
    DPAuditor,
    DPAuditReport,
    epsilon_from_guesses,
    epsilon_multi_run,
    epsilon_one_run,
    make_canaries,
)
from skprivacy.audit._dp._bounds import guess_grid
from skprivacy.audit._epsilon import one_run_p_value

matplotlib.use("Agg")


def randomized_response(epsilon, shape, rng):
    """Inclusion bits and their epsilon-DP randomized responses as scores."""
    inclusion = rng.random(shape) < 0.5
    flip = rng.random(shape) < 1 / (1 + np.exp(epsilon))
    return inclusion, (inclusion ^ flip).astype(float)


def gaussian_epsilon(sigma, delta):
    """Exact epsilon of the Gaussian mechanism of sensitivity 1 at ``delta``.

    Balle & Wang (2018, Theorem 8): delta(eps) = Phi(1/(2s) - eps s)
    - e^eps Phi(-1/(2s) - eps s).
    """

    def excess(eps):
        return (
            stats.norm.cdf(0.5 / sigma - eps * sigma)
            - np.exp(eps) * stats.norm.cdf(-0.5 / sigma - eps * sigma)
            - delta
        )

    return brentq(excess, 0.0, 100.0)


def max_exceedances(n_repetitions, alpha):
    """Most exceedances a valid bound shows but with probability 1e-4.

    A valid bound exceeds the true epsilon with probability at most alpha per
    independent repetition, so the count is dominated by Binomial(n, alpha).
    """
    bound = int(stats.binom.isf(1e-4, n_repetitions, alpha))
    assert stats.binom.sf(bound, n_repetitions, alpha) <= 1e-4
    return bound


# --- The one-run bound (Steinke, Nasr & Jagielski 2023) -----------------------


def test_one_run_p_value_matches_the_theorem_by_hand():
    # delta = 0: P[Binomial(r, e^eps / (1 + e^eps)) >= v].
    q = np.exp(1.0) / (1 + np.exp(1.0))
    assert one_run_p_value(1.0, 8, 10, 100, 0.0) == pytest.approx(
        sum(stats.binom.pmf(k, 10, q) for k in range(8, 11))
    )

    # delta > 0 adds 2 m delta max_i (f(v - i) - f(v)) / i, here by brute force.
    def tail(v):
        return stats.binom.sf(v - 1, 10, q)

    term = max((tail(8 - i) - tail(8)) / i for i in range(1, 101))
    assert one_run_p_value(1.0, 8, 10, 100, 1e-3) == pytest.approx(
        tail(8) + 2 * 100 * 1e-3 * term
    )


def test_one_run_p_value_grows_with_epsilon():
    # The bound inverts the p-value by root finding, which needs monotonicity.
    for v, r, m, delta in [(90, 100, 1000, 1e-5), (30, 50, 100, 1e-3), (5, 9, 9, 0)]:
        p = [one_run_p_value(e, v, r, m, delta) for e in np.linspace(0, 10, 300)]
        assert np.all(np.diff(p) >= -1e-12)


def test_epsilon_from_guesses_is_the_p_value_root():
    eps = epsilon_from_guesses(90, 100, 1000, delta=1e-5, confidence=0.95)
    assert one_run_p_value(eps, 90, 100, 1000, 1e-5) == pytest.approx(0.05, abs=1e-6)
    # All of 100 guesses right at delta = 0: q^100 = 0.05.
    assert epsilon_from_guesses(100, 100, 100) == pytest.approx(
        np.log(0.05 ** (1 / 100) / (1 - 0.05 ** (1 / 100))), abs=1e-5
    )
    # Half right is chance: no bound.
    assert epsilon_from_guesses(50, 100, 100) == 0.0
    assert epsilon_from_guesses(0, 0, 10) == 0.0


def test_one_run_bound_is_valid_on_randomized_response():
    # 200 seeded repetitions of 1,000 canaries answered by eps-DP randomized
    # response. At confidence 0.5 a correct bound exceeds eps in at most half of
    # them: more than max_exceedances(200, 0.5) = 126 has probability <= 1e-4.
    # The test is sharp: with these guesses the bound is nearly tight, and it
    # exceeds eps in about 37% of repetitions.
    rng = np.random.default_rng(0)
    for confidence in (0.5, 0.95):
        bounds = np.array(
            [
                epsilon_one_run(
                    *randomized_response(1.0, 1000, rng),
                    confidence=confidence,
                    n_guesses=(500, 500),
                    random_state=i,
                )
                for i in range(200)
            ]
        )
        exceed = int((bounds > 1.0).sum())
        assert exceed <= max_exceedances(200, 1 - confidence), (confidence, exceed)


def test_one_run_bound_is_valid_on_the_gaussian_mechanism():
    # Each canary adds 1 to its own coordinate of a sum released with N(0, 1)
    # noise (a Gaussian mechanism of sensitivity 1, exact epsilon 4.38 at
    # delta = 1e-5). 100 repetitions at confidence 0.5: at most 68 may exceed.
    delta = 1e-5
    true_epsilon = gaussian_epsilon(1.0, delta)
    assert true_epsilon == pytest.approx(4.377, abs=1e-3)
    rng = np.random.default_rng(1)
    exceed = 0
    for i in range(100):
        inclusion = rng.random(1000) < 0.5
        release = inclusion + rng.standard_normal(1000)
        eps = epsilon_one_run(
            inclusion, release, delta=delta, confidence=0.5, random_state=i
        )
        exceed += eps > true_epsilon
    assert exceed <= max_exceedances(100, 0.5)


def test_one_run_bound_is_not_vacuous():
    # Randomized response at eps = 2 on 2,000 canaries, guessing "in" for 500
    # canaries that answered 1 (there are at least 500 but with probability
    # 2e-116): each guess is right with probability e^2 / (1 + e^2)
    # independently, so at least 412 are right but with probability 8.1e-5,
    # and 412 of 500 give a bound of 1.347 at 95% confidence: 67% of eps.
    inclusion, scores = randomized_response(2.0, 2000, np.random.default_rng(2))
    eps = epsilon_one_run(inclusion, scores, n_guesses=500, random_state=0)
    assert eps >= 0.65 * 2.0
    assert epsilon_from_guesses(412, 500, 2000) == pytest.approx(1.347, abs=1e-3)


def test_guess_grid_is_fixed_and_union_bounded():
    assert guess_grid(1000) == guess_grid(1000)
    assert len(guess_grid(1000)) == 14
    assert all(k_plus + k_minus <= 1000 for k_plus, k_minus in guess_grid(1000))
    # A perfect attack: the auto grid pays log(14) in its level, not more.
    inclusion = np.r_[np.ones(500), np.zeros(500)]
    auto = epsilon_one_run(inclusion, inclusion, random_state=0)
    fixed = epsilon_one_run(inclusion, inclusion, n_guesses=(500, 500))
    assert auto == pytest.approx(
        epsilon_from_guesses(1000, 1000, 1000, confidence=1 - 0.05 / 14)
    )
    assert auto < fixed


def test_ties_are_guessed_in_a_random_order():
    # Constant scores carry no information: guessing must not follow the
    # position, where the included canaries were put first.
    inclusion = np.r_[np.ones(500), np.zeros(500)]
    assert epsilon_one_run(inclusion, np.zeros(1000), random_state=0) == 0.0


# --- The many-runs bound (Jagielski et al. 2020) ------------------------------


def test_multi_run_bound_is_valid_on_randomized_response():
    # 100 repetitions of 200 runs x 3 canaries (eps = 1): at confidence 0.5, at
    # most 68 repetitions may exceed eps (probability <= 1e-4).
    rng = np.random.default_rng(3)
    exceed = sum(
        epsilon_multi_run(*randomized_response(1.0, (200, 3), rng), confidence=0.5)
        > 1.0
        for _ in range(100)
    )
    assert exceed <= max_exceedances(100, 0.5)


def test_multi_run_bound_chooses_on_calibration_and_bounds_on_trials():
    rng = np.random.default_rng(4)
    inclusion = rng.random((400, 5)) < 0.5
    scores = rng.normal(size=(400, 5))
    # Canary 3 leaks perfectly: it is the one chosen.
    scores[:, 3] = inclusion[:, 3]
    from skprivacy.audit._dp._bounds import multi_run_audit

    result = multi_run_audit(inclusion, scores, delta=0.0, confidence=0.95)
    assert result["canary"] == 3 and result["n_trials"] == 200
    assert result["false_positives"] == 0
    assert result["true_positives"] == result["n_included"]
    # Perfect separation of n trials bounds eps by CP alone, about log(n / 7.4).
    assert 2.0 < result["epsilon"] < np.log(200)
    # Three runs cannot give a bound: NaN, not a 0 that reads as "no leakage".
    assert np.isnan(epsilon_multi_run(inclusion[:3], scores[:3]))


def test_one_run_report_gives_no_multi_run_bound_and_says_why():
    # Before: multi_run was {"epsilon": 0.0, "canary": -1} for a single run.
    rng = np.random.default_rng(5)
    inclusion = rng.random((1, 400)) < 0.5
    scores = inclusion + rng.normal(size=(1, 400))
    report = DPAuditReport.from_predictions(inclusion, scores, random_state=0)
    assert np.isnan(report.multi_run["epsilon"]) and report.multi_run["canary"] is None
    assert "n_runs >= 4" in report.multi_run["reason"]
    assert np.isnan(report.to_frame().loc["multi_run_epsilon", "value"])
    assert json.loads(report.to_json())["multi_run"]["epsilon"] is None
    assert "Many runs: no bound (it needs at least 2 calibration" in report.summary()
    # The one-run guesses read as counts out of the canaries.
    one = report.one_run
    assert one["n_guesses"] == one["k_plus"] + one["k_minus"]
    assert one["n_abstained"] == 400 - one["n_guesses"]
    assert f"{one['n_correct']} of its {one['n_guesses']} guesses" in report.summary()
    assert f"of 400 canaries and abstained on {one['n_abstained']}" in report.summary()


@pytest.mark.parametrize(
    ("claim", "verdict", "words"),
    [
        (0.1, "claim_refuted", "The claim is false"),
        (50.0, "consistent_with_claim", "says nothing of how tight"),
        (None, "no_claim", "provably not (epsilon, delta=0)-DP for any epsilon below"),
        (np.inf, "no_claim", "No claim to check"),
    ],
)
def test_dp_report_states_its_verdict(claim, verdict, words):
    # Randomized response at eps = 2 over 2,000 canaries: the one-run bound is
    # far above 0.1 and below 50 whatever the seed (it is valid at 95%, and
    # this seed gives 1.78).
    rng = np.random.default_rng(6)
    inclusion, scores = randomized_response(2.0, (1, 2000), rng)
    report = DPAuditReport.from_predictions(
        inclusion, scores, accountant_epsilon=claim, random_state=0
    )
    assert report.verdict == verdict
    assert words in report.verdict_text and words in report.to_html()
    assert json.loads(report.to_json())["verdict"] == verdict
    assert 0.1 < report.one_run["epsilon"] < 2.0


# --- Bad input ---------------------------------------------------------------


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_outside_0_1_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence"):
        epsilon_one_run([0, 1], [0.0, 1.0], confidence=confidence)
    with pytest.raises(ValueError, match="confidence"):
        epsilon_from_guesses(1, 1, 2, confidence=confidence)
    with pytest.raises(ValueError, match="confidence"):
        DPAuditor(LogisticRegression(), confidence=confidence).fit(
            np.zeros((4, 1)), [0, 1, 0, 1]
        )


def test_more_guesses_than_canaries_are_refused():
    with pytest.raises(ValueError, match="only 10 canaries"):
        epsilon_one_run(np.ones(10), np.ones(10), n_guesses=(6, 5))
    with pytest.raises(ValueError, match="n_correct <= n_guesses <= n_canaries"):
        epsilon_from_guesses(5, 20, 10)
    with pytest.raises(ValueError, match="same shape"):
        epsilon_one_run(np.ones(10), np.ones(9))


# --- DPAuditor ---------------------------------------------------------------


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(900, 8, n_informative=5, random_state=0)
    return X[:400], y[:400], X[400:800], y[400:800], X[800:], y[800:]


def test_memorizing_recipe_gives_a_large_bound_and_a_regularized_one_a_small(data):
    X, y, X_pool, y_pool, X_test, y_test = data
    # 1-nearest-neighbour memorises every training record: an included
    # mislabeled canary is predicted with its wrong label, an excluded one only
    # when its nearest training record has that label (the ties cap the bound).
    memorizing = DPAuditor(KNeighborsClassifier(1), n_canaries=300, random_state=0).fit(
        X, y, X_canary=X_pool, y_canary=y_pool
    )
    report = memorizing.audit(X_test, y_test)
    assert report.one_run["epsilon"] > 1.0
    assert report.test_accuracy > 0.7
    smooth = DPAuditor(
        make_pipeline(StandardScaler(), LogisticRegression(C=0.01)),
        n_canaries=300,
        random_state=0,
    ).fit(X, y, X_canary=X_pool, y_canary=y_pool)
    assert smooth.audit().one_run["epsilon"] < report.one_run["epsilon"] / 2


def test_auditor_records_inclusion_and_uses_other_runs_as_references(data):
    X, y, X_pool, y_pool, _, _ = data
    auditor = DPAuditor(
        KNeighborsClassifier(3),
        n_canaries=60,
        n_runs=12,
        attack="lira",
        random_state=0,
    ).fit(X, y, X_canary=X_pool, y_canary=y_pool)
    assert auditor.inclusion_.shape == auditor.scores_.shape == (12, 60)
    assert auditor.n_calibration_ == 6
    # Calibration runs are balanced (each canary in 3 of 6); trials are not.
    np.testing.assert_array_equal(auditor.inclusion_[:6].sum(axis=0), 3)
    report = auditor.audit()
    assert len(report.one_run_epsilons) == 6
    assert set(report.curves) == {"canaries", "runs"}
    assert report.multi_run["n_trials"] == 6
    # Each run trained on exactly its included canaries after the training data.
    model = auditor.estimators_[7]
    assert model.n_samples_fit_ == 400 + auditor.inclusion_[7].sum()
    # Reproducible.
    again = clone(auditor).fit(X, y, X_canary=X_pool, y_canary=y_pool)
    np.testing.assert_array_equal(again.scores_, auditor.scores_)


def test_auditor_bad_input(data):
    X, y, X_pool, y_pool, _, _ = data
    with pytest.raises(ValueError, match="X_canary"):
        DPAuditor(LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="duplicate training records"):
        DPAuditor(LogisticRegression(), canaries=CanarySet(X[:10], y[:10])).fit(X, y)
    with pytest.raises(ValueError, match="n_runs >= 12"):
        DPAuditor(LogisticRegression(), attack="lira", n_runs=4).fit(
            X, y, X_canary=X_pool, y_canary=y_pool
        )
    with pytest.raises(ValueError, match="queries or population"):
        DPAuditor(LogisticRegression(), attack="label_gap").fit(
            X, y, X_canary=X_pool, y_canary=y_pool
        )
    with pytest.raises(ValueError, match="only 20 canaries"):
        DPAuditor(LogisticRegression(), n_canaries=20, n_guesses=(15, 10)).fit(
            X, y, X_canary=X_pool, y_canary=y_pool
        ).audit()


class _ClaimsDelta(LogisticRegression):
    """A recipe whose models claim (1, 1e-5)-DP, as a DP-SGD accountant would."""

    def fit(self, X, y):
        super().fit(X, y)
        self.epsilon_, self.delta_ = 1.0, 1e-5
        return self


def test_auditor_takes_the_models_claim_and_refuses_delta_zero_for_it(data):
    X, y, X_pool, y_pool, _, _ = data
    auditor = DPAuditor(_ClaimsDelta(), n_canaries=50, random_state=0)
    auditor.fit(X, y, X_canary=X_pool, y_canary=y_pool)
    assert auditor.accountant_epsilon_ == 1.0 and auditor.delta_ == 1e-5
    with pytest.raises(ValueError, match="delta=0"):
        clone(auditor).set_params(delta=0.0).fit(X, y, X_canary=X_pool, y_canary=y_pool)


def test_report_outputs(data, tmp_path):
    X, y, X_pool, y_pool, _, _ = data
    auditor = DPAuditor(
        KNeighborsClassifier(1), n_canaries=100, n_runs=4, epsilon=2.0, random_state=0
    ).fit(X, y, X_canary=X_pool, y_canary=y_pool)
    report = auditor.audit()
    frame = report.to_frame()
    assert frame.loc["accountant_epsilon", "value"] == 2.0
    assert frame.loc["n_runs", "value"] == 4
    assert json.loads(report.to_json())["one_run"]["n_canaries"] == 100
    page = report.to_html(tmp_path / "audit.html")
    assert page.count("<img") == 2 and (tmp_path / "audit.html").exists()
    display = report.plot("runs")
    assert display.ax_.get_xlabel() == "Number of runs"
    with pytest.raises(ValueError, match="no 'runs' curve"):
        DPAuditReport.from_predictions(
            auditor.inclusion_[:1], auditor.scores_[:1]
        ).plot("runs")
    display = DPAuditDisplay.from_estimator(auditor)
    np.testing.assert_array_equal(display.sizes, report.curves["canaries"]["sizes"])
    assert display.line_.get_ydata()[-1] == pytest.approx(report.one_run["epsilon"])


def test_displays_share_axes_and_skip_an_infinite_claim():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    sizes = np.array([10, 100])
    DPAuditDisplay(
        sizes=sizes, epsilon=np.array([0, 0.5]), accountant_epsilon=1.0
    ).plot(ax=ax)
    DPAuditDisplay(
        sizes=sizes, epsilon=np.array([0, 3.0]), accountant_epsilon=np.inf
    ).plot(ax=ax)
    # The second bound is in view, and only the finite claim is drawn.
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 3.0
    assert [
        line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"
    ] == [1.0]
    plt.close(ax.figure)


def test_auditor_with_canaries_of_every_kind_and_frames(data):
    X, y, X_pool, y_pool, _, _ = data
    for kind in ("crafted", "outlier", "out_of_distribution"):
        auditor = DPAuditor(
            KNeighborsClassifier(1), canaries=kind, n_canaries=50, random_state=0
        ).fit(X, y, X_canary=X_pool, y_canary=y_pool)
        assert auditor.canaries_.kind == kind
    canaries = make_canaries(X_pool, y_pool, 50, random_state=0)
    auditor = DPAuditor(KNeighborsClassifier(1), canaries=canaries, random_state=0)
    assert auditor.fit(X, y).canaries_ is canaries


# --- DP-SGD ------------------------------------------------------------------


@pytest.fixture(scope="module")
def dpsgd_data():
    X, y = make_classification(700, 50, n_informative=6, random_state=1)
    X = X.astype(np.float32)
    return X[:400], y[:400], X[400:], y[400:]


def _dp_audit(epsilon, seed, data, confidence=0.95):
    import torch

    from skprivacy.defense import DPSGDClassifier
    from skprivacy.exceptions import DPParameterWarning

    X, y, X_pool, y_pool = data
    private = epsilon is not None
    # Without DP, the same network unclipped and noiseless, trained longer.
    network = DPSGDClassifier(
        hidden_units=(128,),
        max_epochs=10 if private else 30,
        batch_size=64,
        optimizer=torch.optim.SGD,
        lr=0.5,
        target_epsilon=epsilon,
        noise_multiplier=None if private else 0.0,
        max_grad_norm=1.0 if private else 1e3,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DPParameterWarning)
        # Opacus' RDP accountant notes that zero noise has no useful order.
        warnings.filterwarnings("ignore", message="Optimal order")
        auditor = DPAuditor(
            network,
            canaries="out_of_distribution",
            n_canaries=300,
            confidence=confidence,
            random_state=seed,
        ).fit(X, y, X_canary=X_pool, y_canary=y_pool)
    return auditor, auditor.audit()


@pytest.mark.slow
def test_dpsgd_audit_never_exceeds_the_accountant(dpsgd_data):
    pytest.importorskip("opacus")
    # 3 budgets x 2 seeds audited at confidence 1 - 1e-4 / 6: if DP-SGD keeps
    # its accountant's promise, some bound exceeds it with probability <= 1e-4
    # (union bound over the 6 audits).
    for epsilon in (1.0, 4.0, 8.0):
        for seed in (0, 1):
            auditor, report = _dp_audit(
                epsilon, seed, dpsgd_data, confidence=1 - 1e-4 / 6
            )
            assert report.accountant_epsilon <= epsilon + 0.01
            assert report.delta == auditor.estimators_[0].delta_ > 0
            assert report.one_run["epsilon"] <= report.accountant_epsilon


@pytest.mark.slow
def test_dpsgd_without_noise_shows_clearly_more_than_at_epsilon_1(dpsgd_data):
    pytest.importorskip("opacus")
    _, private = _dp_audit(1.0, 0, dpsgd_data)
    _, noiseless = _dp_audit(None, 0, dpsgd_data)
    assert noiseless.accountant_epsilon == np.inf
    # Measured: 1.06 (102 of 120 guesses right) against 0 at epsilon = 1.
    assert noiseless.one_run["epsilon"] > 0.8
    assert noiseless.one_run["epsilon"] > private.one_run["epsilon"] + 0.6
