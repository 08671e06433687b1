"""Per-record and per-slice significance of a membership attack: conformal
p-values of "non-member", slice metrics with Holm's correction.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import check_consistent_length, column_or_1d

from skprivacy.audit._metrics import (
    check_membership,
    membership_advantage,
    membership_auc,
    tpr_at_fpr,
)
from skprivacy.exceptions import UnresolvedMetricWarning
from skprivacy.utils._sklearn_compat import Interval, validate_params


@validate_params(
    {
        "scores": ["array-like"],
        "null_scores": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def membership_p_values(scores, null_scores):
    """Conformal p-values of "non-member" for each record.

    ``p(x) = (1 + #{null >= s(x)}) / (1 + n_null)``: if a record is a non-member
    exchangeable with the null records, ``P(p <= alpha) <= alpha`` for every
    ``alpha`` (Vovk et al. 2005), whatever the score distribution.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Attack scores of the records.
    null_scores : array-like of shape (n_null,)
        Attack scores of known non-members (population or reference records).

    Returns
    -------
    p_values : ndarray of shape (n_samples,)

    See Also
    --------
    skprivacy.MembershipInferenceAuditor.p_values : The auditor's p-values.

    Examples
    --------
    >>> from skprivacy.audit import membership_p_values
    >>> membership_p_values([0.5, 3.0], [0.0, 1.0, 2.0]).tolist()
    [0.75, 0.25]
    """
    scores = column_or_1d(scores).astype(np.float64)
    null = np.sort(column_or_1d(null_scores).astype(np.float64))
    at_least = len(null) - np.searchsorted(null, scores, side="left")
    return (1.0 + at_least) / (1.0 + len(null))


@validate_params(
    {
        "membership": ["array-like"],
        "scores": ["array-like"],
        "groups": ["array-like"],
        "fpr": [Interval(Real, 0, 1, closed="both")],
        "min_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def slice_metrics(
    membership,
    scores,
    groups,
    *,
    fpr: float = 0.01,
    min_size: int = 10,
) -> pd.DataFrame:
    """Attack metrics per slice, with Holm-corrected p-values.

    Each slice gets its AUC, TPR at ``fpr`` and advantage, and the one-sided
    Mann-Whitney p-value of "the attack does no better than chance on this
    slice" (AUC <= ½). Testing many slices finds some "leaky" by chance, so the
    p-values are also adjusted with Holm's step-down method, which controls the
    family-wise error rate (Holm 1979).

    Parameters
    ----------
    membership : array-like of shape (n_samples,)
        1 for members, 0 for non-members.
    scores : array-like of shape (n_samples,)
        Attack scores.
    groups : array-like of shape (n_samples,)
        Slice of each record (class label, sensitive attribute...). Missing
        values (None, NaN, NaT) form one slice of their own, so the slices
        hold every record.
    fpr : float, default=0.01
        FPR at which the TPR is reported (NaN in slices whose non-members do
        not resolve it, fewer than ``10 / fpr``).
    min_size : int, default=10
        Slices with fewer members or non-members get NaN metrics.

    Returns
    -------
    table : pandas.DataFrame
        One row per slice: ``slice``, ``n_members``, ``n_non_members``, ``auc``,
        ``tpr_at_fpr``, ``advantage``, ``p_value``, ``p_value_holm``.

    See Also
    --------
    membership_auc : The AUC of one slice.
    tpr_at_fpr : The TPR of one slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skprivacy.audit import slice_metrics
    >>> membership = np.tile([1, 0], 100)
    >>> groups = np.repeat(["a", "b"], 100)
    >>> scores = membership * (groups == "a") + np.random.default_rng(0).random(200)
    >>> slice_metrics(membership, scores, groups)["auc"].round(2).tolist()
    [1.0, 0.5...]
    """
    membership, scores = check_membership(membership, scores)
    groups = column_or_1d(groups)
    check_consistent_length(membership, groups)
    # Codes, not `groups == value`, which never holds for a missing value.
    codes, values = pd.factorize(groups, use_na_sentinel=False)
    rows = []
    for code, value in enumerate(values):
        mask = codes == code
        m, s = membership[mask], scores[mask]
        row = {
            "slice": value,
            "n_members": int(m.sum()),
            "n_non_members": int((~m).sum()),
        }
        if min(row["n_members"], row["n_non_members"]) < min_size:
            row.update(auc=np.nan, tpr_at_fpr=np.nan, advantage=np.nan, p_value=np.nan)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnresolvedMetricWarning)
                row.update(
                    auc=membership_auc(m, s),
                    tpr_at_fpr=tpr_at_fpr(m, s, fpr),
                    advantage=membership_advantage(m, s),
                    p_value=float(
                        stats.mannwhitneyu(s[m], s[~m], alternative="greater").pvalue
                    ),
                )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_value_holm"] = _holm(table["p_value"].to_numpy(dtype=float))
    return table


def _holm(p_values):
    """Holm's step-down adjusted p-values (NaN entries are left out)."""
    adjusted = np.full_like(p_values, np.nan)
    valid = np.flatnonzero(~np.isnan(p_values))
    order = valid[np.argsort(p_values[valid])]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
