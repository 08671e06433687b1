"""Gaussian noise augmentation of skorch training batches (Cohen's recipe)."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback

from skprivacy.utils import torch_generator


class GaussianNoiseAugmentation(Callback):
    """Add fresh Gaussian noise to the noised columns of every training batch.

    Drawn anew for each batch of each epoch, so the net sees new noise every
    epoch (adding it once to the data set, ART issue #1617, trains on a single
    noisy copy). Validation batches are left clean.

    Parameters
    ----------
    columns : ndarray of int
        Noised columns.
    std : ndarray of float
        Noise standard deviation of each of ``columns``.
    seed : int
        Seed of the callback's own generator.
    """

    def __init__(self, columns, std, seed):
        self.columns = columns
        self.std = std
        self.seed = seed

    def initialize(self):
        self.generator_ = None
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        Xi = batch[0]
        if not isinstance(Xi, torch.Tensor) or Xi.ndim != 2:
            raise TypeError(
                "Noise augmentation of a skorch net needs 2d tensor batches, got "
                f"{type(Xi).__name__}."
            )
        if self.generator_ is None or self.generator_.device != Xi.device:
            self.generator_ = torch_generator(self.seed, Xi.device)
        columns = torch.as_tensor(np.asarray(self.columns), device=Xi.device)
        std = torch.as_tensor(np.asarray(self.std), device=Xi.device).to(Xi.dtype)
        noise = torch.randn(
            (Xi.shape[0], len(self.columns)),
            generator=self.generator_,
            dtype=Xi.dtype,
            device=Xi.device,
        )
        # The collated batch is a fresh tensor: the data set itself stays clean.
        Xi[:, columns] += noise * std

    def __getstate__(self):
        state = self.__dict__.copy()
        state["generator_"] = None
        return state
