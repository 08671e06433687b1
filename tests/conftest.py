# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import os

# One thread per test process: CI has 2 cores and pytest-xdist may run two workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)
