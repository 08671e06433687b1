# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import torch

# The test machine's cores are shared: keep torch on one thread.
torch.set_num_threads(1)
