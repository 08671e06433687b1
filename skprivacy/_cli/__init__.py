"""The ``skprivacy`` command line (``python -m skprivacy``); private."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause
