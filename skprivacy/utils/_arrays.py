"""Row operations on any container of records (array, DataFrame, sparse)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np

# The log of the smallest positive double: log-probabilities are floored here, so
# a class a model never predicts stays finite.
LOG_FLOOR = float(np.log(np.finfo(np.float64).tiny))


def concat_rows(a, b):
    """The records of ``a`` followed by those of ``b``, in ``a``'s container.

    Parameters
    ----------
    a, b : array-like, DataFrame or sparse matrix
        Records with the same columns.

    Returns
    -------
    rows : array-like, DataFrame or sparse matrix
        A DataFrame with a fresh index, a CSR matrix, or an ndarray.
    """
    if hasattr(a, "iloc"):
        import pandas as pd

        return pd.concat([a, b], ignore_index=True)
    if hasattr(a, "tocsr"):
        import scipy.sparse as sp

        return sp.vstack([a, b]).tocsr()
    return np.concatenate([np.asarray(a), np.asarray(b)])


def masked_mean(values, weight=None):
    """Mean of ``values`` over the entries whose ``weight`` is 1.

    Works on numpy arrays and torch tensors alike (no Python branching on
    data, so it can be vmapped); padding entries get weight 0.

    Parameters
    ----------
    values : tensor or ndarray
        Values.
    weight : tensor or ndarray of the same shape, default=None
        1 for real entries, 0 for padding; ``None`` averages every entry.

    Returns
    -------
    mean : scalar tensor or float
    """
    if weight is None:
        return values.mean()
    return (values * weight).sum() / weight.sum().clip(min=1.0)


def log_softmax(z):
    """Log-softmax whose largest entry keeps its precision near 0.

    ``log p_max = -log1p(sum_{i != max} exp(z_i - z_max))`` stays distinct from 0
    down to ``1e-308``, where ``log(sum(exp(z - z_max)))`` rounds it to 0 as soon
    as ``p_max > 1 - 1e-16``.
    """
    top = z.argmax(axis=1)
    rows = np.arange(len(z))
    shifted = z - z[rows, top][:, None]
    rest = np.exp(shifted)
    rest[rows, top] = 0.0
    return shifted - np.log1p(rest.sum(axis=1))[:, None]
