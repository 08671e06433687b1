"""SmoothedClassifier: API, release contract, engine invariances, errors."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
import torch
from joblib import parallel_config
from scipy.stats import binom, chi2
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from skorch import NeuralNetClassifier

from skprivacy import SmoothedClassifier
from skprivacy.certify import clopper_pearson_lower


class Log(list):
    """A list that survives ``clone`` (which deep-copies parameters)."""

    def __deepcopy__(self, memo):
        return self


class Spy(ClassifierMixin, BaseEstimator):
    """Records every input of fit and predict; predicts by the sign of column 0."""

    def __init__(self, log=None):
        self.log = log

    def fit(self, X, y, sample_weight=None):
        self.log.append(("fit", np.array(X, copy=True)))
        self.log.append(("weight", sample_weight))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        X = np.asarray(X)
        self.log.append(("predict", X.copy()))
        return self.classes_[(X[:, 0] > 0).astype(int)]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=5, n_informative=3, random_state=0
    )
    return X, y


def fast(**params):
    return SmoothedClassifier(
        **{"n0": 20, "n": 200, "n_predict": 100, "random_state": 0, **params}
    )


def test_seeded_runs_identical_and_seed_matters(data):
    X, y = data
    a = fast().fit(X, y)
    b = fast().fit(X, y)
    assert a.noise_seed_ == b.noise_seed_
    np.testing.assert_array_equal(a.predict_counts(X[:20]), b.predict_counts(X[:20]))
    for left, right in zip(a.certify(X[:20]), b.certify(X[:20]), strict=True):
        np.testing.assert_array_equal(left, right)
    c = fast(random_state=1).fit(X, y)
    assert not np.array_equal(a.predict_counts(X[:20]), c.predict_counts(X[:20]))


def test_row_results_do_not_depend_on_batch_order_subset_or_jobs(data):
    X, y = data
    clf = fast(n=1000, batch_size=4096).fit(X, y)
    labels, radii = clf.certify(X[:30])
    perm = np.random.default_rng(0).permutation(30)
    for params in [{"batch_size": 7}, {"batch_size": 1000}, {"n_jobs": 3}]:
        other = clone(clf).set_params(**params).fit(X, y)
        with parallel_config(backend="threading"):
            got_labels, got_radii = other.certify(X[:30][perm])
        np.testing.assert_array_equal(got_labels, labels[perm])
        np.testing.assert_array_equal(got_radii, radii[perm])
    # A row alone gets what it gets among others; a repeated query gets one answer.
    np.testing.assert_array_equal(clf.certify(X[3:4])[1], radii[3:4])
    np.testing.assert_array_equal(clf.predict_counts(X[:5]), clf.predict_counts(X[:5]))


def test_selection_samples_never_reused_and_memory_bounded():
    log = Log()
    X = np.random.default_rng(0).normal(size=(3, 4))
    clf = SmoothedClassifier(
        FrozenEstimator(Spy(log).fit(X, [0, 1, 1])),
        n0=7,
        n=13,
        batch_size=5,
        alpha=0.1,
        random_state=0,
    ).fit(X, [0, 1, 1])
    log.clear()
    labels, _radii, p_lower = clf.certify(X, return_pa=True)
    batches = [x for kind, x in log if kind == "predict"]
    assert max(len(b) for b in batches) <= 5
    noisy = np.concatenate(batches)
    assert len(noisy) == 3 * (7 + 13)
    # Every noisy input is fresh: no selection sample is reused for estimation.
    assert len(np.unique(noisy, axis=0)) == len(noisy)
    # The bound uses exactly the n estimation votes (the last 13 per row here,
    # since rows are enumerated in order within each stage).
    estimation = noisy[3 * 7 :].reshape(3, 13, 4)
    votes_1 = (estimation[:, :, 0] > 0).sum(axis=1)
    top = np.where(labels == -1, -1, labels)
    for i in range(3):
        if top[i] != -1:
            k = votes_1[i] if top[i] == 1 else 13 - votes_1[i]
            assert p_lower[i] == pytest.approx(clopper_pearson_lower(k, 13, 0.1))


def test_noise_only_on_selected_columns_with_scale(data):
    log = Log()
    X, y = data
    scale = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    clf = SmoothedClassifier(
        Spy(log),
        sigma=0.5,
        noise_features=[1, 3],
        feature_scale=scale,
        n_augment=400,
        random_state=0,
    ).fit(X[:50], y[:50])
    (fit_X,) = [x for kind, x in log if kind == "fit"]
    clean = np.repeat(X[:50], 400, axis=0)
    noise = fit_X - clean
    np.testing.assert_array_equal(noise[:, [0, 2, 4]], 0)
    # 20000 draws per column: sum of squares / s^2 ~ chi2(20000); P(outside) <= 1e-4.
    for col in (1, 3):
        stat = np.sum(noise[:, col] ** 2) / (0.5 * scale[col]) ** 2
        assert chi2.ppf(0.5e-4, 20000) < stat < chi2.isf(0.5e-4, 20000)
    np.testing.assert_array_equal(clf.noise_features_, [1, 3])
    np.testing.assert_array_equal(clf.feature_scale_, [2.0, 4.0])


def test_sample_weight_follows_the_noisy_copies(data):
    log = Log()
    X, y = data
    weight = np.arange(10.0)
    SmoothedClassifier(Spy(log), n_augment=3, random_state=0).fit(
        X[:10], y[:10], sample_weight=weight
    )
    (fit_weight,) = [w for kind, w in log if kind == "weight"]
    np.testing.assert_array_equal(fit_weight, np.repeat(weight, 3))


def test_duplicated_rows_get_the_same_training_noise(data):
    log = Log()
    X, _y = data
    SmoothedClassifier(Spy(log), random_state=0).fit(np.vstack([X[:1], X[:1]]), [0, 1])
    fit_X = log[0][1]
    np.testing.assert_array_equal(fit_X[0], fit_X[1])
    assert not np.array_equal(fit_X[0], X[0])


def test_fit_noise_false_trains_on_clean_data(data):
    log = Log()
    X, y = data
    SmoothedClassifier(Spy(log), fit_noise=False).fit(X, y)
    np.testing.assert_array_equal(log[0][1], X)


def test_predict_and_predict_proba_agree(data):
    X, y = data
    for abstain in (False, True):
        clf = fast(abstain=abstain, sigma=1.0).fit(X, y)
        proba, pred = clf.predict_proba(X), clf.predict(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1)
        decided = pred != clf.abstain_label_
        assert np.all(pred[decided] == clf.classes_[proba.argmax(axis=1)][decided])
        if abstain:
            assert (~decided).any()
        else:
            assert decided.all()
    assert np.all(clf.predict_counts(X).sum(axis=1) == clf.n_predict)


def test_score_counts_abstentions_as_errors(data):
    X, y = data
    clf = fast(abstain=True, sigma=1.0).fit(X, y)
    pred = clf.predict(X)
    assert clf.score(X, y) == pytest.approx(np.mean(pred == y))
    assert clf.score(X, y) < clone(clf).set_params(abstain=False).fit(X, y).score(X, y)


@pytest.mark.parametrize(
    "y_values, expected",
    [
        ([0, 1], -1),
        ([-1, 1], -2),
        ([-1.0, 3.0], -2.0),
        (["a", "b"], "abstain"),
        (["abstain", "x"], "_abstain"),
        ([True, False], -1),
    ],
)
def test_abstain_label_is_never_a_class(data, y_values, expected):
    X, y = data
    labels = np.asarray(y_values)[y % 2]
    clf = fast(abstain=True, n_predict=10).fit(X, labels)
    assert clf.abstain_label_ == expected
    assert expected not in clf.classes_.tolist()
    with pytest.warns(UserWarning, match="too small to ever avoid abstaining"):
        pred = clf.predict(X[:5])
    assert np.all(pred == expected)
    with pytest.warns(UserWarning, match="too small to ever certify"):
        certified, radii = fast(n=5).fit(X, labels).certify(X[:3])
    assert np.all(certified == expected) and np.all(radii == 0)


def test_warns_when_n_cannot_certify(data):
    X, y = data
    clf = fast(n=9, alpha=0.001).fit(X, y)
    with pytest.warns(UserWarning, match="too small to ever certify"):
        labels, radii = clf.certify(X[:10])
    assert np.all(labels == -1) and np.all(radii == 0)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"sigma": 0}, InvalidParameterError, "sigma"),
        ({"sigma": -1.0}, InvalidParameterError, "sigma"),
        ({"alpha": 0}, InvalidParameterError, "alpha"),
        ({"alpha": 1.0}, InvalidParameterError, "alpha"),
        ({"n0": 0}, InvalidParameterError, "n0"),
        ({"n": 0}, InvalidParameterError, "'n'"),
        ({"estimator": object()}, InvalidParameterError, "estimator"),
        ({"noise_features": [0, 9]}, ValueError, "out of range"),
        ({"noise_features": [1, 1]}, ValueError, "more than once"),
        ({"noise_features": [True, False]}, ValueError, "mask has 2 entries"),
        ({"noise_features": np.zeros(5, bool)}, ValueError, "selects no column"),
        ({"noise_features": ["age"]}, ValueError, "needs X with column names"),
        ({"noise_features": []}, ValueError, "non-empty"),
        ({"feature_scale": [1.0, 2.0]}, ValueError, r"shape \(5,\)"),
        ({"feature_scale": [1.0, 0.0, 1, 1, 1]}, ValueError, "positive"),
        ({"feature_scale": "max"}, InvalidParameterError, "feature_scale"),
    ],
)
def test_bad_parameters(data, params, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        fast(**params).fit(X, y)


def test_bad_inputs_and_params_after_fit(data):
    X, y = data
    clf = fast().fit(X, y)
    X_nan = X[:3].copy()
    X_nan[0, 0] = np.nan
    for method in (clf.predict, clf.certify, clf.predict_counts):
        with pytest.raises(ValueError, match="NaN"):
            method(X_nan)
        with pytest.raises(ValueError, match="inf"):
            method(np.full((2, 5), np.inf))
        with pytest.raises(ValueError, match="5 features"):
            method(X[:, :4])
    with pytest.raises(InvalidParameterError, match="'n'"):
        clf.set_params(n=0).certify(X[:2])
    with pytest.raises(ValueError, match="Unknown label type"):
        fast().fit(X, np.linspace(0, 1, len(y)))


def test_frozen_estimator_used_as_is(data):
    X, y = data
    base = LogisticRegression().fit(X, y)
    coef = base.coef_.copy()
    clf = SmoothedClassifier(FrozenEstimator(base), n=500, random_state=0).fit(X, y)
    np.testing.assert_array_equal(base.coef_, coef)
    assert clf.estimator_.estimator is base
    labels, _radii = clf.certify(X[:50])
    # A linear model's smoothed vote is its own prediction, so certified labels agree.
    certified = labels != -1
    assert certified.mean() > 0.5
    np.testing.assert_array_equal(labels[certified], base.predict(X[:50])[certified])


def test_pipeline_with_named_noise_columns_in_std_units():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 400),
            "income": rng.normal(5e4, 1e4, 400),
            "flag": rng.integers(0, 2, 400).astype(float),
        }
    )
    y = (frame["age"] / 10 + frame["flag"] + rng.normal(0, 0.5, 400) > 4.5).astype(int)
    pipe = make_pipeline(
        ColumnTransformer([("keep", "passthrough", ["age", "flag"])]),
        HistGradientBoostingClassifier(max_iter=20),
    )
    clf = SmoothedClassifier(
        pipe,
        noise_features=["age", "income"],
        feature_scale="std",
        sigma=0.25,
        n0=20,
        n=300,
        n_predict=50,
        random_state=0,
    ).fit(frame, y)
    np.testing.assert_array_equal(clf.noise_features_, [0, 1])
    np.testing.assert_allclose(clf.feature_scale_, frame[["age", "income"]].std(ddof=0))
    _labels, radii = clf.certify(frame.iloc[:20])
    assert clf.score(frame, y) > 0.75
    assert np.all((radii >= 0) & (radii <= 0.25 * 3))


class TinyNet(torch.nn.Module):
    def __init__(self, n_in=5, log=None):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, 2)
        self.log = log

    def forward(self, X):
        if self.training and self.log is not None:
            self.log.append(X.detach().clone())
        return self.linear(X)


def test_skorch_net_trains_with_fresh_noise_each_epoch_and_uses_torch_path(data):
    X, y = data
    X = X.astype(np.float32)
    log = Log()
    net = NeuralNetClassifier(
        TinyNet,
        module__log=log,
        max_epochs=2,
        batch_size=len(X),
        train_split=None,
        iterator_train__shuffle=False,
        verbose=0,
    )
    clf = SmoothedClassifier(net, sigma=0.5, n0=20, n=200, random_state=0).fit(X, y)
    first, second = log
    assert not torch.allclose(first, torch.as_tensor(X))
    assert not torch.allclose(first, second)
    assert clf._voter().backend == "torch"
    _labels, radii = clf.certify(X[:10])
    # batch_size is read at query time: the same fitted net, other batches.
    np.testing.assert_array_equal(
        clf.set_params(batch_size=37).certify(X[:10])[1], radii
    )
    # The engine's votes are the net's own predictions on the noisy inputs: with
    # a tiny sigma they are its clean predictions.
    clf.set_params(sigma=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.estimator_.predict(X))


def test_torch_path_is_sound_on_the_linear_oracle():
    # A frozen skorch net computing 1[w.x + b > 0]: the torch engine's violation
    # count follows the exact law (as for the numpy engine in test_soundness).
    w, b, sigma, alpha, n0, n, T, p_a = (
        np.array([3.0, -4.0]),
        0.5,
        0.5,
        0.2,
        100,
        1000,
        1000,
        0.8,
    )
    net = NeuralNetClassifier(
        TinyNet, module__n_in=2, classes=[0, 1], verbose=0
    ).initialize()
    with torch.no_grad():
        net.module_.linear.weight.copy_(torch.tensor([[0.0, 0.0], [3.0, -4.0]]))
        net.module_.linear.bias.copy_(torch.tensor([0.0, 0.5]))
    clf = SmoothedClassifier(
        FrozenEstimator(net), sigma=sigma, alpha=alpha, n0=n0, n=n, random_state=0
    ).fit(np.zeros((2, 2), np.float32), [0, 1])
    assert clf._voter().backend == "torch"
    rng = np.random.default_rng(2)
    margin = sigma * 5 * 0.8416212335729143  # Phi^-1(0.8)
    u = rng.normal(scale=3.0, size=(T, 2))
    X = (u + ((margin - b - u @ w) / 25.0)[:, None] * w).astype(np.float32)
    labels, radii = clf.certify(X)
    true_margin = X.astype(np.float64) @ w + b  # float32 rows: recompute the truth
    violations = np.sum(
        (labels == 0) | ((labels == 1) & (radii > true_margin / 5 + 1e-6))
    )
    k = np.arange(n + 1)
    lower = clopper_pearson_lower(k, n, alpha)
    select_1 = binom.sf(n0 // 2, n0, p_a)
    p_exact = (
        select_1 * binom.pmf(k, n, p_a)[lower > p_a].sum()
        + (1 - select_1) * binom.pmf(k, n, 1 - p_a)[lower >= 0.5].sum()
    )
    # Binomial(T, p_exact) with each tail <= 0.5e-4.
    assert (
        binom.ppf(0.5e-4, T, p_exact) - 1
        < violations
        < binom.isf(0.5e-4, T, p_exact) + 1
    )


def test_base_predicting_unknown_labels_is_an_error(data):
    X, y = data
    base = LogisticRegression().fit(X, y)
    frozen = FrozenEstimator(base)
    clf = SmoothedClassifier(frozen, n0=5, n=20, random_state=0).fit(X, y)
    base.classes_ = np.array([5, 7])  # predict now returns labels unknown to clf
    with pytest.raises(ValueError, match="not among the classes"):
        clf.certify(X[:3])
    net = NeuralNetClassifier(TinyNet, module__n_in=5, classes=[0, 1], verbose=0)
    net.initialize()
    with torch.no_grad():  # output 1 always wins, but only class 0 is declared
        net.module_.linear.bias.copy_(torch.tensor([0.0, 100.0]))
    net.classes = [0]
    clf = SmoothedClassifier(FrozenEstimator(net), n0=5, n=20, random_state=0)
    clf.fit(X[:2].astype(np.float32), [0, 0])
    with pytest.raises(ValueError, match="not one of the classes"):
        clf.certify(X[:3].astype(np.float32))


def test_sample_weight_routing(data):
    from sklearn import config_context

    X, y = data
    weight = np.linspace(0.5, 2, len(y))
    with config_context(enable_metadata_routing=True):
        base = LogisticRegression().set_fit_request(sample_weight=True)
        fast(estimator=base).fit(X, y, sample_weight=weight)
        with pytest.raises(ValueError, match="sample_weight"):
            fast(estimator=LogisticRegression()).fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing"):
        fast().fit(X, y, foo=1)


def test_verbose_reports_adaptive_samples(data, capsys):
    X, y = data
    clf = fast(adaptive=True, abstain=True, verbose=1, n_predict=400).fit(X, y)
    counts = clf.predict_counts(X[:20])
    out = capsys.readouterr().out
    assert f"{counts.sum(axis=1).mean():.1f} samples per row" in out


@pytest.mark.parametrize("frozen", [True, False])
def test_crl_base_takes_the_torch_path_with_its_labels(frozen):
    # CRLClassifier encodes string labels; the torch path must map its output
    # indices back to them. At a vanishing sigma the smoothed vote is the base
    # prediction on every row (the noise, 1e-7 per feature, moves no logits order
    # on these well-separated points), so any mapping error shows up as a mismatch.
    from skprivacy import CRLClassifier
    from skprivacy.certify._sampling import TorchVoter

    X, y = make_classification(
        300, 6, n_informative=4, n_classes=3, class_sep=3.0, random_state=0
    )
    labels = np.array(["low", "mid", "high"])[y]
    crl = CRLClassifier(max_epochs=5, hidden_units=(16,), random_state=0)
    if frozen:
        base = FrozenEstimator(crl.fit(X, labels))
    else:
        base = crl
    smoothed = SmoothedClassifier(
        base, sigma=1e-7, n_predict=20, n0=10, n=50, fit_noise=False, random_state=0
    ).fit(X, labels)
    assert isinstance(smoothed._voter(), TorchVoter)
    if frozen:
        expected = smoothed.estimator_.predict(X)
    else:  # the inner net was trained on the encoded labels 0..k-1
        expected = smoothed.classes_[smoothed.estimator_.predict(X)]
    np.testing.assert_array_equal(smoothed.predict(X), expected)


def _global_rng_states():
    return np.random.get_state()[1].copy(), torch.random.get_rng_state().clone()


@pytest.mark.parametrize("kind", ["forest", "skorch"])
def test_random_state_seeds_the_base_model_and_spares_global_rngs(data, kind):
    # Issue 12, finding 7: two fits with one random_state give one model, and
    # fit neither reads nor changes numpy's or torch's global generator.
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    if kind == "forest":
        base = RandomForestClassifier(n_estimators=5, max_features=2)
    else:
        X = X.astype(np.float32)
        base = NeuralNetClassifier(
            TinyNet, max_epochs=2, batch_size=32, train_split=None, verbose=0
        )
    models = []
    for _ in range(2):
        numpy_state, torch_state = _global_rng_states()
        models.append(fast(estimator=base).fit(X, y))
        after = _global_rng_states()
        np.testing.assert_array_equal(after[0], numpy_state)
        assert torch.equal(after[1], torch_state)
        # Move the global generators: a fit that read them would differ.
        np.random.random()
        torch.rand(1)
    first, second = (model.estimator_ for model in models)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(models[0].predict(X[:20]), models[1].predict(X[:20]))
    if kind == "forest":
        # Every seed of the base comes from random_state, as in scikit-learn's
        # ensembles, a seed set by the user included.
        assert isinstance(first.random_state, int)
        seeded = fast(estimator=RandomForestClassifier(3, random_state=7)).fit(X, y)
        assert seeded.estimator_.random_state == first.random_state
        other = fast(estimator=base, random_state=1).fit(X, y).estimator_
        assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_pipeline_with_string_columns_noises_the_numeric_ones():
    # Issue 11, point 6: a pipeline that one-hot encodes string columns is
    # smoothed over the numeric columns only.
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=300),
            "colour": rng.choice(["red", "green", "blue"], 300),
            "b": rng.normal(size=300),
        }
    )
    y = ((X["a"] + (X["colour"] == "red")) > 0.5).astype(int)
    log = Log()
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        Spy(log),
    )
    # Spy predicts from the first encoded column: "blue" (one-hot, sorted).
    clf = fast(estimator=pipe, noise_features=["a", "b"], n_augment=2).fit(X, y)
    np.testing.assert_array_equal(clf.categorical_features_, [1])
    fitted = log[0][1]
    assert fitted.shape == (600, 5)
    np.testing.assert_array_equal(
        fitted[:, :3], np.repeat(pd.get_dummies(X["colour"]).to_numpy(float), 2, 0)
    )
    # The one-hot columns never move: every vote follows "blue".
    counts = clf.predict_counts(X[:20])
    blue = (X["colour"][:20] == "blue").to_numpy()
    np.testing.assert_array_equal(counts[:, 1], np.where(blue, 100, 0))
    labels, _ = clf.certify(X[:20])
    np.testing.assert_array_equal(labels, blue.astype(int))
    # Noise is keyed on each row's content, categories included: order and
    # subsets do not change a row's results.
    again = clf.predict_counts(X.iloc[::-1][:20])
    np.testing.assert_array_equal(again, clf.predict_counts(X.iloc[::-1][:20]))
    np.testing.assert_array_equal(clf.predict_counts(X.iloc[[5, 2]]), counts[[5, 2]])
    # With a logistic regression the smoothed model is accurate.
    real = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(),
    )
    named = fast(estimator=real, noise_features=["a", "b"]).fit(X, y)
    assert named.score(X, y) > 0.9
    # A numpy object array works alike (columns by position): same rows, same
    # noise, same votes.
    by_index = make_pipeline(
        make_column_transformer((OneHotEncoder(), [1]), remainder="passthrough"),
        LogisticRegression(),
    )
    plain = fast(estimator=by_index, noise_features=[0, 2])
    plain.fit(X.to_numpy(dtype=object), y)
    np.testing.assert_array_equal(
        plain.predict_counts(X.to_numpy(dtype=object)[:30]),
        named.predict_counts(X[:30]),
    )
    # Noise on a string column is refused with the columns to pass instead.
    with pytest.raises(ValueError, match=r"\['colour'\] hold categories.*\['a', 'b'\]"):
        fast(estimator=real).fit(X, y)
    with pytest.raises(ValueError, match="were numeric in fit"):
        clf.predict(X.assign(a="x"))
