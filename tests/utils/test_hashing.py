# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skprivacy.utils._hashing import keyed_uniforms, row_digests


@pytest.fixture
def frame():
    """Records with an integer, a float, a nullable integer, a boolean, a
    categorical and a string column."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, 8),
            "income": rng.normal(size=8),
            "children": pd.array([0, 1, None, 3, 0, 2, None, 1], dtype="Int64"),
            "owner": [True, False] * 4,
            "job": pd.Categorical(list("abcabcab")),
            "city": list("xyzwxyzw"),
        },
        index=np.arange(8)[::-1] + 100,
    )


def test_a_frame_and_its_copies_share_digests(frame):
    """Issue 20, point 5: one record, one digest, whatever holds it."""
    labels = np.arange(8) % 3
    expected = row_digests(frame, labels)
    copies = {
        "to_numpy": frame.to_numpy(),
        "int as float": frame.astype({"age": float, "children": float}),
        "object columns": frame.astype(object),
        "string dtype": frame.astype({"city": "string", "job": str}),
        "new index": frame.reset_index(drop=True),
    }
    for name, copy in copies.items():
        assert row_digests(copy, labels) == expected, name
    # Labels by value too: float, object and categorical copies of the labels.
    for copy in (labels.astype(float), labels.astype(object), pd.Categorical(labels)):
        assert row_digests(frame, copy) == expected
    assert len(set(expected)) == 8


def test_numeric_containers_share_digests():
    rng = np.random.default_rng(1)
    X = rng.integers(-3, 4, size=(20, 5))
    expected = row_digests(X)
    frame = pd.DataFrame(X, columns=list("abcde"))
    copies = {
        "float64": X.astype(float),
        "float32": X.astype(np.float32),  # exactly representable values
        "int8": X.astype(np.int8),
        "frame": frame,
        "mixed dtypes": frame.astype({"a": np.float32, "b": "Int64", "c": float}),
        "csr": sp.csr_matrix(X),
        "coo": sp.coo_matrix(X),
        "list": X.tolist(),
        "object": X.astype(object),
    }
    for name, copy in copies.items():
        assert row_digests(copy) == expected, name
    # A record that is one column: 1-D arrays and Series.
    assert (
        row_digests(X[:, 0])
        == row_digests(pd.Series(X[:, 0]))
        == row_digests(X[:, :1].astype(float))
    )
    # Images: n-dimensional records are hashed flat.
    images = rng.normal(size=(4, 3, 2))
    assert row_digests(images) == row_digests(images.reshape(4, 6))


def test_missing_values_and_signed_zeros_are_canonical():
    nan_payload = np.frombuffer(np.uint64(0x7FF8000000000001).tobytes(), np.float64)
    a = np.array([[0.0, np.nan], [1.0, 2.0]])
    b = np.array([[-0.0, -nan_payload[0]], [1.0, 2.0]])
    assert np.isnan(b[0, 1]) and np.signbit(b[0, 0])
    assert row_digests(a) == row_digests(b)
    missing = [None, pd.NA, float("nan"), np.nan]
    digests = {
        row_digests(pd.DataFrame({"a": [0.0], "b": pd.array([m], dtype=object)}))[0]
        for m in missing
    }
    assert digests == {row_digests(a[:1])[0]}
    assert row_digests(pd.DataFrame({"a": [0], "b": pd.array([None], "Int64")})) == (
        row_digests(a[:1])
    )


def test_different_records_get_different_digests():
    # A number is not its text; cells do not run into one another.
    assert row_digests(np.array([[1]])) != row_digests(np.array([["1"]]))
    assert row_digests([["ab", "c"]]) != row_digests([["a", "bc"]])
    assert row_digests([[1.0, 2.0]]) != row_digests([[2.0, 1.0]])
    assert row_digests([[1.0]], [0]) != row_digests([[1.0]], [1])
    assert row_digests([[1.0]], ["a"]) != row_digests([[1.0]])
    # Values a float64 tells apart.
    assert row_digests([[0.1]]) != row_digests(np.float32([[0.1]]))
    assert row_digests([[2**53]]) != row_digests([[2**53 + 2]])
    # Integers beyond float64's range are kept exact.
    assert row_digests([[10**400]]) != row_digests([[10**400 + 1]])


def test_digests_do_not_depend_on_the_other_records():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4))
    frame = pd.DataFrame(X).assign(kind=rng.choice(["p", "q"], 30))
    full = row_digests(frame)
    assert row_digests(frame.iloc[::-1]) == full[::-1]
    assert row_digests(frame.iloc[[7]]) == [full[7]]
    # Sparse matrices are made dense in chunks: rows across chunk borders.
    big = sp.random(2500, 6, density=0.3, random_state=0, format="csr")
    assert row_digests(big) == row_digests(big.toarray())
    assert row_digests(np.zeros((0, 3))) == row_digests(pd.DataFrame()) == []


def test_keyed_uniforms_follow_the_record():
    keys = row_digests(np.arange(12.0).reshape(6, 2))
    u = keyed_uniforms(7, keys)
    assert ((u >= 0) & (u < 1)).all() and len(set(u)) == 6
    np.testing.assert_array_equal(keyed_uniforms(7, keys[::-1]), u[::-1])
    assert not np.array_equal(keyed_uniforms(8, keys), u)
