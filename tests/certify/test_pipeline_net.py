"""SmoothedClassifier on a pipeline ending in a skorch net: the batched voter.

The pipeline's transformers get the noisy blocks that ``Pipeline.predict`` gets
and the net's module runs once per block; the votes must be those of the generic
path (the pipeline's own ``predict``) exactly.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from skorch import NeuralNetClassifier

from skprivacy import SmoothedClassifier
from skprivacy.certify import _smoothed
from skprivacy.certify._sampling import (
    NumpyVoter,
    PipelineTorchVoter,
    _ColumnTransformerCache,
)

NUMERIC = ["a", "b", "c"]


class MLP(torch.nn.Module):
    def __init__(self, n_in=6, n_out=3):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_in, 32), torch.nn.ReLU(), torch.nn.Linear(32, n_out)
        )

    def forward(self, X):
        return self.layers(X)


class CountingMLP(MLP):
    """Records the number of rows of each forward pass at prediction time."""

    calls: list = []  # noqa: RUF012 (a class-level log survives clone)

    def forward(self, X):
        if not self.training:
            CountingMLP.calls.append(len(X))
        return super().forward(X)


class ColumnsMLP(MLP):
    """Takes each column as its own argument, as skorch passes a DataFrame."""

    def forward(self, a, b, c):
        return super().forward(torch.cat([a, b, c], dim=1).float())


def to_float32(X):
    return X.astype(np.float32)


class RandomShift(TransformerMixin, BaseEstimator):
    """Adds noise from its own generator at every transform (not deterministic)."""

    def fit(self, X, y=None):
        self.rng_ = np.random.RandomState(0)
        return self

    def transform(self, X):
        return X + self.rng_.normal(scale=0.1, size=X.shape).astype(X.dtype)


class Stateless(TransformerMixin, BaseEstimator):
    """Works unfitted but says nothing of it: check_is_fitted fails on it."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2


class BlockLog(TransformerMixin, BaseEstimator):
    """Identity that records the size of each block it transforms."""

    sizes: list = []  # noqa: RUF012 (a class-level log survives clone)

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        BlockLog.sizes.append(len(X))
        return X


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    data = pd.DataFrame(
        rng.normal(size=(n, 3)) * [1, 5, 0.1] + [0, 10, 1], columns=NUMERIC
    )
    data["color"] = rng.choice(["red", "green", "blue"], n)
    y = (data["a"] + data["b"] / 5 + (data["color"] == "red") > 2.5).astype(int)
    y += (data["c"] > 1.05).to_numpy()
    return data, y.to_numpy()


def column_pipeline(sparse_threshold, module=MLP):
    encode = ColumnTransformer(
        [("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(), ["color"])],
        sparse_threshold=sparse_threshold,
    )
    net = NeuralNetClassifier(
        module, max_epochs=3, lr=0.05, train_split=None, verbose=0
    )
    return make_pipeline(encode, FunctionTransformer(to_float32), net)


def smoothed(estimator, **params):
    params = {"sigma": 0.5, "n0": 30, "n": 300, "n_predict": 200, **params}
    return SmoothedClassifier(estimator, random_state=0, **params)


def generic_path(monkeypatch):
    """Switch the batched voter off: the pipeline's own predict votes."""
    monkeypatch.setattr(
        _smoothed, "_torch_pipeline_parts", lambda estimator: (None, None, None)
    )


def run_all(clf, X):
    return (clf.predict_counts(X), *clf.certify(X, return_pa=True))


@pytest.mark.parametrize("sparse_threshold", [0.0, 1.0])
def test_column_transformer_net_votes_equal_the_generic_path(
    frame, sparse_threshold, monkeypatch
):
    # Named columns, a category (no noise, one-hot encoded), dense and sparse
    # encodings: the batched voter must give exactly the pipeline's votes.
    data, y = frame
    clf = smoothed(
        column_pipeline(sparse_threshold),
        noise_features=NUMERIC,
        feature_scale="std",
        batch_size=1000,
    ).fit(data, y)
    assert isinstance(clf._voter(), PipelineTorchVoter)
    fast = run_all(clf, data.iloc[:20])
    generic_path(monkeypatch)
    assert isinstance(clf._voter(), NumpyVoter)
    for left, right in zip(fast, run_all(clf, data.iloc[:20]), strict=True):
        np.testing.assert_array_equal(left, right)
    assert len(np.unique(fast[1])) > 1  # the votes are not trivial


def test_frozen_scaler_net_pipeline_votes_equal_the_generic_path(frame, monkeypatch):
    data, y = frame
    X = (data[NUMERIC].to_numpy() * [1, 1, 10]).astype(np.float32)
    pipe = make_pipeline(
        StandardScaler(),
        NeuralNetClassifier(
            MLP, module__n_in=3, max_epochs=5, lr=0.05, train_split=None, verbose=0
        ),
    )
    torch.manual_seed(0)
    clf = smoothed(FrozenEstimator(pipe.fit(X, y)), batch_size=777).fit(X, y)
    assert isinstance(clf._voter(), PipelineTorchVoter)
    fast = run_all(clf, X[:40])
    generic_path(monkeypatch)
    for left, right in zip(fast, run_all(clf, X[:40]), strict=True):
        np.testing.assert_array_equal(left, right)


def test_frozen_crl_pipeline_maps_its_encoded_labels(frame, monkeypatch):
    # A CRLClassifier's output index i is its classes_[i] (here strings), not
    # the label itself: the batched voter must map it as the generic path does.
    from skprivacy import CRLClassifier

    data, y = frame
    X = data[NUMERIC].to_numpy(np.float32, copy=True)
    labels = np.array(["low", "mid", "high"])[y]
    crl = CRLClassifier(max_epochs=3, hidden_units=(16,), random_state=0)
    pipe = make_pipeline(StandardScaler(), crl).fit(X, labels)
    clf = smoothed(FrozenEstimator(pipe)).fit(X, labels)
    assert isinstance(clf._voter(), PipelineTorchVoter)
    fast = run_all(clf, X[:20])
    generic_path(monkeypatch)
    for left, right in zip(fast, run_all(clf, X[:20]), strict=True):
        np.testing.assert_array_equal(left, right)


def test_module_runs_once_per_block_and_blocks_stay_bounded(frame):
    # The memory bound and the speed both come from the engine's blocks: each
    # holds batch_size noisy rows at most, whatever n_rows * n_samples is, and
    # the module runs once on each (skorch's predict runs it per 128 rows).
    data, y = frame
    X = data[NUMERIC].to_numpy(np.float32, copy=True)
    pipe = Pipeline(
        [
            ("log", BlockLog()),
            (
                "net",
                NeuralNetClassifier(
                    CountingMLP,
                    module__n_in=3,
                    max_epochs=1,
                    train_split=None,
                    verbose=0,
                ),
            ),
        ]
    )
    clf = smoothed(pipe, batch_size=1000).fit(X, y)
    CountingMLP.calls.clear()
    BlockLog.sizes.clear()
    clf.set_params(n_predict=2500).predict_counts(X[:7])  # 17,500 noisy rows
    expected = [1000] * 17 + [500]
    assert CountingMLP.calls == expected
    assert BlockLog.sizes == expected


def test_random_transformer_gets_the_generic_paths_draws(frame, monkeypatch):
    # A transformer that draws noise at transform time is called on the same
    # blocks, in the same order, on both paths, so from the same state it makes
    # the same draws and the votes agree: randomness needs no fallback.
    data, y = frame
    X = data[NUMERIC].to_numpy(np.float32, copy=True)
    pipe = make_pipeline(
        StandardScaler(),
        RandomShift(),
        NeuralNetClassifier(
            MLP, module__n_in=3, max_epochs=3, lr=0.05, train_split=None, verbose=0
        ),
    )
    clf = smoothed(pipe).fit(X, y)
    shift = clf.estimator_.named_steps["randomshift"]
    state = shift.rng_.get_state()
    fast = run_all(clf, X[:30])
    generic_path(monkeypatch)
    shift.rng_.set_state(state)
    for left, right in zip(fast, run_all(clf, X[:30]), strict=True):
        np.testing.assert_array_equal(left, right)


def test_unfitted_step_falls_back_with_a_reason(frame, capsys):
    data, y = frame
    X = data[NUMERIC].to_numpy(np.float32, copy=True)
    net = NeuralNetClassifier(
        MLP, module__n_in=3, max_epochs=2, train_split=None, verbose=0
    ).fit(X, y)
    pipe = Pipeline([("double", Stateless()), ("net", net)])
    clf = smoothed(FrozenEstimator(pipe), verbose=1).fit(X, y)
    assert isinstance(clf._voter(), NumpyVoter)
    assert "step 'double' is not fitted" in capsys.readouterr().out
    # The generic path runs the pipeline's own predict, which works here.
    counts = clf.predict_counts(X[:5])
    np.testing.assert_array_equal(counts.sum(axis=1), 200)


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
def test_dataframe_output_goes_through_the_nets_predict(frame, monkeypatch):
    # skorch hands a DataFrame to the module column by column: the batched
    # voter leaves such output to the net's own predict, with the same votes.
    data, y = frame
    X = data[NUMERIC].to_numpy(np.float32, copy=True)
    pipe = make_pipeline(
        StandardScaler().set_output(transform="pandas"),
        NeuralNetClassifier(
            ColumnsMLP, module__n_in=3, max_epochs=2, train_split=None, verbose=0
        ),
    )
    clf = smoothed(pipe).fit(pd.DataFrame(X, columns=NUMERIC), y)
    voter = clf._voter()
    assert isinstance(voter, PipelineTorchVoter)
    fast = clf.predict_counts(pd.DataFrame(X[:10], columns=NUMERIC))
    generic_path(monkeypatch)
    np.testing.assert_array_equal(
        fast, clf.predict_counts(pd.DataFrame(X[:10], columns=NUMERIC))
    )


def test_batched_voter_pickles_for_joblib(frame):
    data, y = frame
    clf = smoothed(
        column_pipeline(0.0), noise_features=NUMERIC, feature_scale="std"
    ).fit(data, y)
    voter = pickle.loads(pickle.dumps(clf._voter()))
    X = clf._check_X(data.iloc[:5])
    np.testing.assert_array_equal(voter.classify(X), clf._voter().classify(X))


class MLP64(MLP):
    """MLP in float64, the dtype of the encoded frame."""

    def __init__(self, n_in=6, n_out=3):
        super().__init__(n_in, n_out)
        self.double()


def _encoder(case):
    scaler, onehot = StandardScaler, OneHotEncoder
    if case == "categories untouched":
        return ColumnTransformer(
            [("num", scaler(), NUMERIC), ("cat", onehot(), ["color"])],
            sparse_threshold=0.0,
        )
    if case == "some columns noised, weights":
        return ColumnTransformer(
            [
                ("ab", scaler(), ["a", "b"]),
                ("c", scaler(), ["c"]),
                ("cat", onehot(), ["color"]),
            ],
            sparse_threshold=0.0,
            transformer_weights={"ab": 2.0, "c": 0.5},
        )
    if case == "noised and clean columns mixed, drop":
        return ColumnTransformer(
            [
                ("mix", scaler(), ["a", "c"]),
                ("b", "drop", ["b"]),
                ("cat", onehot(), ["color"]),
            ],
            sparse_threshold=0.0,
        )
    if case == "noised and category columns mixed":
        # The noised part reads a category too: its block input holds both.
        nested = ColumnTransformer(
            [("a", scaler(), ["a"]), ("color", onehot(), ["color"])],
            sparse_threshold=0.0,
        )
        return ColumnTransformer(
            [("mix", nested, ["a", "color"]), ("c", scaler(), ["c"])],
            sparse_threshold=0.0,
        )
    if case == "remainder passthrough":
        return ColumnTransformer(
            [("cat", onehot(), ["color"]), ("c", "passthrough", ["c"])],
            remainder="passthrough",
            sparse_threshold=0.0,
        )
    if case == "remainder estimator":
        return ColumnTransformer(
            [("cat", onehot(), ["color"])], remainder=scaler(), sparse_threshold=0.0
        )
    if case == "positional columns":
        return ColumnTransformer(
            [("num", scaler(), [0, 1, 2]), ("cat", onehot(), [3])],
            sparse_threshold=0.0,
        )
    assert case == "sparse output"
    return ColumnTransformer(
        [("num", scaler(), NUMERIC), ("cat", onehot(), ["color"])],
        sparse_threshold=1.0,
    )


@pytest.mark.parametrize(
    "case",
    [
        "categories untouched",
        "some columns noised, weights",
        "noised and clean columns mixed, drop",
        "noised and category columns mixed",
        "remainder passthrough",
        "remainder estimator",
        "positional columns",
        "sparse output",
    ],
)
def test_column_transformer_parts_without_noise_run_once_per_record(
    frame, case, monkeypatch
):
    # The parts of a ColumnTransformer that read no noised column are computed
    # once per record and tiled: the encoded blocks must equal transform of the
    # whole block, value for value, and the votes those of the generic path.
    data, y = frame
    X_in, noised = data, ["a", "b"]
    if case == "positional columns":
        X_in, noised = data.to_numpy(dtype=object), [0, 1]
    encode = _encoder(case)
    n_in = clone(encode).fit_transform(X_in).shape[1]
    net = NeuralNetClassifier(
        MLP64,
        module__n_in=n_in,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        max_epochs=20,
        lr=0.01,
        train_split=None,
        verbose=0,
    )
    clf = smoothed(
        make_pipeline(encode, net),
        noise_features=noised,
        feature_scale="std",
        batch_size=500,
    ).fit(X_in, y)
    encode = clf.estimator_[0]
    X = clf._check_X(X_in[:20])
    cache = _ColumnTransformerCache.build(
        encode, clf._as_input, X, clf.noise_features_, last=True
    )
    assert cache is not None
    rows = np.repeat(np.arange(20), 7)
    X_noisy = X[rows]
    columns = clf.noise_features_
    X_noisy[:, columns] += np.random.default_rng(0).normal(size=(140, columns.size))
    expected = encode.transform(clf._as_input(X_noisy))
    got = cache.transform(X_noisy, rows)
    assert sparse.issparse(got) == sparse.issparse(expected)
    if sparse.issparse(got):
        got, expected = got.toarray(), expected.toarray()
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)

    blocks = []
    transform = _ColumnTransformerCache.transform

    def logged(self, Xb, rows):
        blocks.append(len(rows))
        return transform(self, Xb, rows)

    with monkeypatch.context() as patch:
        patch.setattr(_ColumnTransformerCache, "transform", logged)
        fast = run_all(clf, X_in[:20])
    # Every noisy row went through the cache: 20 * (200 + 30 + 300).
    assert sum(blocks) == 20 * 530
    generic_path(monkeypatch)
    for left, right in zip(fast, run_all(clf, X_in[:20]), strict=True):
        np.testing.assert_array_equal(left, right)
    # The votes are not trivial: they fall on more than one class.
    assert np.count_nonzero(fast[0].sum(axis=0)) > 1


def test_column_transformer_cache_leaves_other_outputs_to_the_block_path(frame):
    data, y = frame
    pipe = column_pipeline(1.0)
    clf = smoothed(pipe, noise_features=NUMERIC).fit(data, y)
    X = clf._check_X(data.iloc[:5])
    encode, noised = clf.estimator_[0], clf.noise_features_
    build = _ColumnTransformerCache.build
    # A sparse output that later steps take as it is.
    assert build(encode, clf._as_input, X, noised, last=False) is None
    # Every part reads a noised column: nothing to reuse.
    everything = np.arange(X.shape[1])
    encode.set_params(sparse_threshold=0.0)
    assert build(encode, clf._as_input, X, everything, last=True) is None
    # pandas output stays with the block path.
    frames = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(sparse_output=False), ["color"]),
        ]
    )
    frames.set_output(transform="pandas").fit(data)
    assert build(frames, clf._as_input, X, noised, last=True) is None
