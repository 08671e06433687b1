"""Content digests of records, and seeds keyed on them.

Randomness that must not depend on a record's position (smoothing noise,
perturbations of query attacks, tie-breaking of membership decisions) and the
look-up of records already seen (the auditor's pool) are keyed on a BLAKE2b
digest of the record's content. This module is the one place that computes
those digests.

A record is hashed by value, cell by cell, whatever holds it: every number
(bool, integer, float, pandas nullable integer) as a float64, with one NaN for
every missing value (``None``, ``pd.NA``, ``NaN``) and ``-0.0`` read as
``0.0``; a string as its UTF-8 text; anything else by its type and ``repr``.
Each cell is tagged with its kind (and a string with its length), so a number
never shares an encoding with a string and the cells of a row cannot run into
one another.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib
import math
from functools import reduce
from numbers import Real

import numpy as np
import pandas as pd

_NUMBER, _TEXT, _OTHER = b"n", b"s", b"o"
# Rows of sparse matrices are made dense this many at a time.
_SPARSE_CHUNK = 1024


def _number_cells(values) -> np.ndarray:
    """Tagged float64 encodings of numbers, shape ``(n, 9 * n_columns)``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, np.newaxis]
    # One NaN for every missing value; adding 0.0 turns -0.0 into 0.0.
    values = np.where(np.isnan(values), np.nan, values) + 0.0
    cells = np.empty((*values.shape, 9), dtype=np.uint8)
    cells[..., 0] = _NUMBER[0]
    little = np.ascontiguousarray(values, dtype="<f8")
    cells[..., 1:] = little.view(np.uint8).reshape(*values.shape, 8)
    return cells.reshape(values.shape[0], 9 * values.shape[1])


def _tagged(tag: bytes, text: bytes) -> bytes:
    return tag + len(text).to_bytes(8, "little") + text


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False


def _cell(value) -> bytes:
    """The encoding of one cell that is not known to be a number."""
    if isinstance(value, (Real, np.bool_)):
        try:
            return _number_cells([float(value)]).tobytes()
        except OverflowError:  # an integer beyond float64, kept exact below
            pass
    if isinstance(value, str):
        return _tagged(_TEXT, value.encode("utf-8"))
    if _missing(value):
        return _number_cells([np.nan]).tobytes()
    return _tagged(_OTHER, f"{type(value).__qualname__}:{value!r}".encode())


def _object_cells(values) -> np.ndarray:
    """Encodings of a column of any values, as an object array of bytes."""
    values = np.asarray(values, dtype=object).ravel()
    # Each distinct value is encoded once; factorize groups values equal in
    # Python (1, 1.0 and True; -0.0 and 0.0), which share an encoding anyway,
    # and gives every missing value the code -1.
    codes, uniques = pd.factorize(values)
    encoded = np.array([*map(_cell, uniques), _cell(None)], dtype=object)
    return encoded[codes]


def _columns(X):
    """The columns of ``X``, each a float64-able array or one of any values."""
    if hasattr(X, "iloc"):  # pandas DataFrame or Series
        frame = X.to_frame() if X.ndim == 1 else X
        for _, column in frame.items():
            if column.dtype.kind in "biuf":
                yield column.to_numpy(dtype=np.float64, na_value=np.nan), True
            else:
                yield column.to_numpy(dtype=object), False
        return
    array = np.asarray(X)
    array = array.reshape(array.shape[0], math.prod(array.shape[1:]))
    if array.dtype.kind in "biuf":
        yield array, True
    else:
        for j in range(array.shape[1]):
            yield array[:, j], False


def _row_bytes(X) -> list[bytes]:
    if hasattr(X, "toarray"):  # sparse: hashed exactly as its dense copy
        X = X.tocsr()
        return [
            row.tobytes()
            for start in range(0, X.shape[0], _SPARSE_CHUNK)
            for row in _number_cells(X[start : start + _SPARSE_CHUNK].toarray())
        ]
    parts = [
        _number_cells(column) if numeric else _object_cells(column)
        for column, numeric in _columns(X)
    ]
    if not parts:
        return [b""] * len(X)
    if all(part.dtype == np.uint8 for part in parts):
        return [row.tobytes() for row in np.concatenate(parts, axis=1)]
    parts = [
        np.array([row.tobytes() for row in part], dtype=object)
        if part.dtype == np.uint8
        else part
        for part in parts
    ]
    return list(reduce(np.add, parts))


def row_digests(X, y=None) -> list[bytes]:
    """A 16-byte digest of each record (and its label when ``y`` is given).

    Records are hashed by value, whatever their container and dtype: a
    DataFrame, its ``to_numpy()`` copy, a copy with an integer column cast to
    float, a float32 array and its float64 cast, a sparse matrix and its dense
    copy all give the same digests (numbers are compared as float64, every
    missing value is one NaN, ``-0.0`` is ``0.0``; strings and categories by
    their values). The index of a DataFrame is ignored. Integers that round
    to the same float64 (beyond ``2**53``) share a digest.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
        Records.
    y : array-like of shape (n_samples,), default=None
        Labels, hashed by value with their record.

    Returns
    -------
    digests : list of bytes
        One digest per record, in row order.
    """
    rows = _row_bytes(X)
    if y is None:
        return [hashlib.blake2b(row, digest_size=16).digest() for row in rows]
    labels = _row_bytes(np.asarray(y))
    return [
        hashlib.blake2b(row + b"|" + label, digest_size=16).digest()
        for row, label in zip(rows, labels, strict=True)
    ]


def keyed_seed(seed: int, data: bytes, *, key_size: int = 32) -> int:
    """A 128-bit seed from ``data`` (a record's digest or bytes) keyed on ``seed``.

    Parameters
    ----------
    seed : int
        The secret of the stream family (for example a seed fixed at fit).
    data : bytes
        What the stream is for: a record's bytes or digest, possibly prefixed
        by a stage name.
    key_size : int, default=32
        Bytes of ``seed`` used as the BLAKE2b key.

    Returns
    -------
    seed : int
        In ``[0, 2**128)``.
    """
    digest = hashlib.blake2b(
        data, key=int(seed).to_bytes(key_size, "little"), digest_size=16
    ).digest()
    return int.from_bytes(digest, "little")


def keyed_uniforms(seed: int, digests) -> np.ndarray:
    """One uniform draw in ``[0, 1)`` per digest, a pure function of both.

    Used to break ties at random yet reproducibly: the same record gets the
    same draw whatever the other records and their order.

    Parameters
    ----------
    seed : int
        Seed of the draws.
    digests : iterable of bytes
        One digest per record (see :func:`row_digests`).

    Returns
    -------
    u : ndarray of shape (n,), float64
    """
    return np.array(
        [keyed_seed(seed, d, key_size=16) / 2.0**128 for d in digests],
        dtype=np.float64,
    )
