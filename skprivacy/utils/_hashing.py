"""Content digests of records, and seeds keyed on them.

Randomness that must not depend on a record's position (smoothing noise,
perturbations of query attacks, tie-breaking of membership decisions) and the
look-up of records already seen (the auditor's pool) are keyed on a BLAKE2b
digest of the record's content. This module is the one place that computes
those digests.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib

import numpy as np


def _row_bytes(X) -> list[bytes]:
    if hasattr(X, "iloc"):
        import pandas as pd

        rows = pd.util.hash_pandas_object(X, index=False).to_numpy()
        return [row.tobytes() for row in rows]
    if hasattr(X, "toarray"):
        return [X[i].toarray().tobytes() for i in range(X.shape[0])]
    array = np.asarray(X)
    if array.dtype == object:
        return [repr(tuple(row)).encode() for row in array]
    # One dtype, so float32 and float64 copies of a record match.
    dtype = np.float64 if array.dtype.kind in "biuf" else array.dtype
    array = np.ascontiguousarray(array.reshape(len(array), -1), dtype=dtype)
    return [row.tobytes() for row in array]


def row_digests(X, y=None) -> list[bytes]:
    """A 16-byte digest of each record (and its label when ``y`` is given).

    Numeric records are compared as float64, so float32 and float64 copies of
    a record share a digest; DataFrames are hashed by value, ignoring the index.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
        Records.
    y : array-like of shape (n_samples,), default=None
        Labels, hashed with their record.

    Returns
    -------
    digests : list of bytes
        One digest per record, in row order.
    """
    rows = _row_bytes(X)
    if y is None:
        return [hashlib.blake2b(row, digest_size=16).digest() for row in rows]
    return [
        hashlib.blake2b(row + repr(label).encode(), digest_size=16).digest()
        for row, label in zip(rows, np.asarray(y).tolist(), strict=True)
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
