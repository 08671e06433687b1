"""Tabular datasets with their sensitive attributes, and preprocessing recipes."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from skprivacy.datasets._base import load_adult, load_german_credit, load_letter
from skprivacy.datasets._insurance import load_medical_insurance, make_insurance_like
from skprivacy.datasets._movielens import load_movielens_100k
from skprivacy.datasets._preprocessing import make_preprocessor
from skprivacy.datasets._recommendation import make_recommendation
from skprivacy.datasets._sparse_binary import make_sparse_binary_classification

__all__ = [
    "load_adult",
    "load_german_credit",
    "load_letter",
    "load_medical_insurance",
    "load_movielens_100k",
    "make_insurance_like",
    "make_preprocessor",
    "make_recommendation",
    "make_sparse_binary_classification",
]
