"""Tests of attribute_grid, attribute_response and compatible_intervals."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.certify import attribute_grid, attribute_response, compatible_intervals
from skprivacy.datasets import make_recommendation

DOMAIN = (15.0, 50.0)


class BandAbstainer:
    """Label 1[x0 > t], abstaining with the string "abstain" when |x0 - t| < band.

    Mimics a smoothed release: int classes plus an abstain token of another type.
    """

    def __init__(self, t=30.0, band=2.0):
        self.t, self.band = t, band
        self.classes_ = np.array([0, 1])

    def predict(self, X):
        x = np.asarray(X, dtype=float)[:, 0]
        out = (x > self.t).astype(int).astype(object)
        out[np.abs(x - self.t) < self.band] = "abstain"
        return out


class Constant:
    def predict(self, X):
        return np.zeros(len(X), dtype=int)


@pytest.fixture(scope="module")
def linear_task():
    rec = make_recommendation(n_samples=400, random_state=0)
    model = LogisticRegression().fit(rec.data, rec.target)
    return rec, model


def test_attribute_grid_cells():
    values, edges = attribute_grid(DOMAIN, grid=35)
    np.testing.assert_allclose(edges, np.arange(15.0, 51.0))
    np.testing.assert_allclose(values, np.arange(15.5, 50.0))
    values, edges = attribute_grid((0.0, 1.0), grid=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(edges, [0.0, 0.25, 0.75, 1.0])


@pytest.mark.parametrize(
    "domain, grid, error, match",
    [
        ((3.0, 3.0), 10, ValueError, "domain is empty"),
        ((5.0, 1.0), 10, ValueError, "domain is empty"),
        ((0.0, np.inf), 10, ValueError, "domain must be finite"),
        ("ab", 10, InvalidParameterError, "The 'domain' parameter of attribute_grid"),
        ((1.0, 2.0, 3.0), 10, ValueError, "domain must be a pair"),
        ((0.0, 1.0), [0.5, 1.5], ValueError, "inside the domain"),
        ((0.0, 1.0), [0.5, 0.2], ValueError, "strictly increasing"),
        ((0.0, 1.0), 0, InvalidParameterError, "The 'grid' parameter"),
        ((0.0, 1.0), [], ValueError, "non-empty"),
        ((0.0, 1.0), ["a"], TypeError, "grid must be an int or an array"),
    ],
)
def test_attribute_grid_errors(domain, grid, error, match):
    with pytest.raises(error, match=match):
        attribute_grid(domain, grid)


def test_attribute_response_matches_a_per_row_loop_and_ignores_batching(linear_task):
    rec, model = linear_task
    X, values = rec.data[:23], np.linspace(16.0, 49.0, 7)
    expected = np.empty((23, 7), dtype=int)
    for i in range(23):
        for j, v in enumerate(values):
            row = X[i].copy()
            row[0] = v
            expected[i, j] = model.predict(row[None])[0]
    for batch_size in (1, 10, 65536):
        got = attribute_response(model, X, 0, values, batch_size=batch_size)
        np.testing.assert_array_equal(got, expected)
    proba = attribute_response(model, X, 0, values, response_method="predict_proba")
    assert proba.shape == (23, 7, 2)
    np.testing.assert_array_equal(proba.argmax(axis=2), expected)


def test_attribute_response_int_input_is_not_truncated():
    # An int matrix must not round the queried float values.
    X = np.array([[20, 1], [40, 1]])
    model = BandAbstainer(t=30.5, band=0.0)
    got = attribute_response(model, X, 0, [30.2, 30.8])
    np.testing.assert_array_equal(got.astype(int), [[0, 1], [0, 1]])


def test_attribute_response_dataframe_by_name_through_a_pipeline():
    frame = pd.DataFrame(
        {"sex": ["F", "M", "F", "M"] * 10, "age": np.arange(40, dtype=np.int64) + 20}
    )
    y = (frame["age"] > 40).astype(int)
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["sex"]), (StandardScaler(), ["age"])
        ),
        LogisticRegression(C=100.0),
    ).fit(frame, y)
    got = attribute_response(model, frame.iloc[:3], "age", [20.0, 59.0])
    np.testing.assert_array_equal(got, [[0, 1]] * 3)


def test_attribute_response_errors(linear_task):
    rec, model = linear_task
    with pytest.raises(TypeError, match="has no predict method"):
        attribute_response(object(), rec.data, 0, [1.0])
    with pytest.raises(TypeError, match="has no predict_proba"):
        attribute_response(
            Constant(), rec.data, 0, [1.0], response_method="predict_proba"
        )
    with pytest.raises(
        InvalidParameterError,
        match="The 'response_method' parameter of attribute_response must be a str",
    ):
        attribute_response(model, rec.data, 0, [1.0], response_method="decision")
    with pytest.raises(ValueError, match="feature index 6 is out of range"):
        attribute_response(model, rec.data, 6, [1.0])
    with pytest.raises(ValueError, match="'bmi' is not a column name of X"):
        attribute_response(model, rec.data, "bmi", [1.0])
    with pytest.raises(TypeError, match="Sparse X"):
        attribute_response(model, sparse.csr_matrix(rec.data), 0, [1.0])
    with pytest.raises(ValueError, match="values must be a non-empty 1-d"):
        attribute_response(model, rec.data, 0, [])
    with pytest.raises(InvalidParameterError, match="The 'batch_size' parameter"):
        attribute_response(model, rec.data, 0, [1.0], batch_size=0)
    with pytest.raises(ValueError, match="X has no rows"):
        attribute_response(model, rec.data[:0], 0, [1.0])
    with pytest.raises(ValueError, match="X must be 2-d"):
        attribute_response(model, rec.data[0], 0, [1.0])


def test_compatible_set_of_a_linear_model_is_the_analytic_half_line(linear_task):
    rec, model = linear_task
    X = rec.data[:200]
    ci = compatible_intervals(model, X, 0, domain=DOMAIN, grid=70)
    # Oracle: w0 * v + (b + w_rest . x_rest) > 0  <=>  v > t_i  (w0 > 0 here).
    w, b = model.coef_[0], model.intercept_[0]
    assert w[0] > 0
    t = -(b + X[:, 1:] @ w[1:]) / w[0]
    released = model.predict(X)
    positive = ci.grid[None, :] > t[:, None]
    expected = np.where(released[:, None] == 1, positive, ~positive)
    assert np.min(np.abs(ci.grid[None, :] - t[:, None])) > 1e-9  # no grid value on it
    np.testing.assert_array_equal(ci.compatible, expected)
    widths = np.diff(ci.edges)
    np.testing.assert_allclose(ci.measure, expected @ widths)
    # One interval: hull == measure, with an edge of the domain as one end and the
    # threshold, rounded to the cell edges, as the other (half a cell at most).
    np.testing.assert_allclose(ci.hull_length, ci.measure)
    inside = (t > DOMAIN[0]) & (t < DOMAIN[1])
    cut = np.where(released == 1, ci.lower, ci.upper)
    assert np.all(np.abs(cut[inside] - t[inside]) <= widths[0] / 2 + 1e-12)
    np.testing.assert_allclose(
        np.where(released == 1, ci.upper, ci.lower),
        np.where(released == 1, DOMAIN[1], DOMAIN[0]),
    )
    true_cell = np.searchsorted(ci.edges, X[:, 0], side="right") - 1
    hit = expected[np.arange(200), true_cell]
    np.testing.assert_allclose(ci.precision, np.where(hit, widths[0] / ci.measure, 0))
    assert ci.median_measure == np.median(ci.measure)


def test_abstention_is_an_observation():
    X = np.column_stack([np.array([20.0, 29.0, 31.5, 45.0]), np.zeros(4)])
    ci = compatible_intervals(BandAbstainer(), X, 0, domain=DOMAIN, grid=35)
    assert list(ci.released) == [0, "abstain", "abstain", 1]
    # The abstaining rows are compatible with exactly the band (28, 32).
    for i in (1, 2):
        assert ci.lower[i] == 28.0 and ci.upper[i] == 32.0 and ci.measure[i] == 4.0
    assert (ci.lower[0], ci.upper[0], ci.measure[0]) == (15.0, 28.0, 13.0)
    assert (ci.lower[3], ci.upper[3], ci.measure[3]) == (32.0, 50.0, 18.0)
    np.testing.assert_allclose(ci.precision, [1 / 13, 1 / 4, 1 / 4, 1 / 18])


def test_dataframe_by_column_name_matches_the_array(linear_task):
    rec = linear_task[0]
    frame = pd.DataFrame(rec.data, columns=rec.feature_names)
    by_name = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        frame, rec.target
    )
    by_index = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        rec.data, rec.target
    )
    named = compatible_intervals(
        by_name, frame.iloc[:40], "bmi", domain=DOMAIN, batch_size=100
    )
    indexed = compatible_intervals(
        by_index, rec.data[:40], 0, domain=DOMAIN, batch_size=100
    )
    np.testing.assert_array_equal(named.compatible, indexed.compatible)
    np.testing.assert_array_equal(named.precision, indexed.precision)
    assert 0 < named.median_measure < DOMAIN[1] - DOMAIN[0]


def test_chunking_does_not_change_the_result(linear_task):
    rec, model = linear_task
    X = rec.data[:50]
    full = compatible_intervals(model, X, 0, domain=DOMAIN, grid=35)
    chunked = compatible_intervals(model, X, 0, domain=DOMAIN, grid=35, batch_size=40)
    np.testing.assert_array_equal(chunked.compatible, full.compatible)
    abstain = compatible_intervals(
        BandAbstainer(), X, 0, domain=DOMAIN, grid=35, batch_size=1
    )
    assert abstain.compatible.any(axis=1).all()


def test_released_can_be_given_and_empty_sets_are_handled():
    X = np.column_stack([np.array([20.0, 45.0]), np.zeros(2)])
    ci = compatible_intervals(Constant(), X, 0, domain=DOMAIN, released=[0, 7])
    assert ci.measure.tolist() == [35.0, 0.0]
    assert ci.hull_length.tolist() == [35.0, 0.0]
    assert np.isnan(ci.lower[1]) and np.isnan(ci.upper[1])
    np.testing.assert_allclose(ci.precision, [0.7 / 35.0, 0.0])


def test_compatible_intervals_errors(linear_task):
    rec, model = linear_task
    X = rec.data[:5].copy()
    with pytest.raises(TypeError, match="has no predict method"):
        compatible_intervals(object(), X, 0, domain=DOMAIN)
    with pytest.raises(ValueError, match="domain is empty"):
        compatible_intervals(model, X, 0, domain=(20.0, 20.0))
    with pytest.raises(ValueError, match="inside the domain"):
        compatible_intervals(model, X, 0, domain=DOMAIN, grid=[10.0, 20.0])
    with pytest.raises(ValueError, match="outside the domain"):
        compatible_intervals(model, X, 0, domain=(30.0, 31.0))
    with pytest.raises(ValueError, match="feature index -7 is out of range"):
        compatible_intervals(model, X, -7, domain=DOMAIN)
    with pytest.raises(ValueError, match=r"released must have shape \(5,\)"):
        compatible_intervals(model, X, 0, domain=DOMAIN, released=[0, 1])
    strings = np.array([["a", 1.0], ["b", 2.0]], dtype=object)
    with pytest.raises(TypeError, match="categorical attributes are out of scope"):
        compatible_intervals(Constant(), strings, 0, domain=DOMAIN)
