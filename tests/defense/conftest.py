# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import torch

# The test machine is shared: one thread per test process.
torch.set_num_threads(1)
