"""Comparison of released outputs (labels, abstentions) of any type."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import pandas as pd


def same_release(released: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Elementwise ``response[i, j] == released[i]`` for any release tokens.

    Numbers compare with numbers and strings with strings directly; anything else
    (a release mixing class labels with an abstain token of another type) is
    compared as hashable Python values, so an abstention is one more observable
    output and never equal to a class label.
    """
    kinds = {released.dtype.kind, response.dtype.kind}
    if kinds <= set("biuf") or kinds <= set("US"):
        return response == released[:, None]
    n = released.shape[0]
    tokens = np.concatenate([released.astype(object), response.astype(object).ravel()])
    codes, _ = pd.factorize(tokens, use_na_sentinel=False)
    return codes[n:].reshape(response.shape) == codes[:n, None]
