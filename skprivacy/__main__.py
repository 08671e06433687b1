"""``python -m skprivacy``: the end-to-end privacy demo and report."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

from skprivacy._cli._main import main

if __name__ == "__main__":
    sys.exit(main())
