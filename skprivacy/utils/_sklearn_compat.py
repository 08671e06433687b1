"""The one place that imports scikit-learn's private APIs.

scikit-learn moves its private helpers between releases; every module of
skprivacy imports them from here, so a move is mended in one file. Supported
range: scikit-learn 1.6 and newer.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    make_constraint,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._plotting import _validate_style_kwargs
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_raise_for_params",
    "_routing_enabled",
    "_safe_indexing",
    "_validate_style_kwargs",
    "column_transformer_input_indices",
    "make_constraint",
    "validate_data",
    "validate_parameter_constraints",
    "validate_params",
]


def column_transformer_input_indices(column_transformer):
    """Input column positions of each part of a fitted ColumnTransformer.

    A dict from each transformer's name (``"remainder"`` included) to the
    positions of the columns it reads, from the private attribute that
    scikit-learn 1.6 to 1.9 keep; ``None`` where a release lacks it, so that
    callers fall back to transforming whole rows.
    """
    return getattr(column_transformer, "_transformer_to_input_indices", None)
