"""Attribute inference and model inversion, and their reports."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause
