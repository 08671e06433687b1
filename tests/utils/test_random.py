# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
import torch

from skprivacy.utils import (
    as_seed_sequence,
    spawn_generators,
    spawn_seeds,
    torch_generator,
    torch_seed,
)


def test_int_seed_reproducible_and_streams_independent():
    assert spawn_seeds(3, 4) == spawn_seeds(3, 4)
    assert spawn_seeds(3, 4) != spawn_seeds(4, 4)
    draws = [g.standard_normal(1000) for g in spawn_generators(0, 2)]
    # Independent N(0, 1) streams: |corr| * sqrt(1000) ~ N(0, 1); 4.5 sigma ~ 7e-6.
    assert abs(np.corrcoef(*draws)[0, 1]) * np.sqrt(1000) < 4.5


def test_global_rngs_untouched():
    np.random.seed(0)
    torch.manual_seed(0)
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state().clone()
    spawn_generators(1, 3)
    torch.randn(3, generator=torch_generator(5))
    with torch_seed(7):
        torch.randn(3)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_random_state_objects_are_advanced():
    rng = np.random.RandomState(0)
    first, second = as_seed_sequence(rng).entropy, as_seed_sequence(rng).entropy
    assert first != second
    gen = np.random.default_rng(0)
    assert as_seed_sequence(gen).entropy != as_seed_sequence(gen).entropy
    ss = np.random.SeedSequence(5)
    assert as_seed_sequence(ss) is ss
    assert as_seed_sequence(None).entropy != as_seed_sequence(None).entropy


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_random_state(bad):
    with pytest.raises(ValueError, match="random_state"):
        as_seed_sequence(bad)


def test_torch_seed_reproducible():
    with torch_seed(11):
        a = torch.nn.Linear(3, 2).weight.detach().clone()
    with torch_seed(11):
        b = torch.nn.Linear(3, 2).weight.detach().clone()
    assert torch.equal(a, b)
