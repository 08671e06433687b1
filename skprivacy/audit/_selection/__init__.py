"""Choosing a defense: the many-model game, its display, the grid scorer."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause
