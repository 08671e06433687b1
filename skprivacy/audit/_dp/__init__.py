"""Auditing differential-privacy claims with canaries."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause
