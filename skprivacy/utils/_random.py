"""Random-state plumbing.

One ``random_state`` is turned into independent numpy and torch streams with
:class:`numpy.random.SeedSequence`, so parallel workers never share a stream and
no global random number generator (numpy's or torch's) is read or changed.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import numpy as np

from skprivacy.utils._sklearn_compat import Interval, validate_params

_SEED_BOUND = 2**32
# What as_seed_sequence accepts (an int must also not be a bool; it says so).
_RANDOM_STATE = [
    None,
    Interval(numbers.Integral, 0, None, closed="left"),
    np.random.RandomState,
    np.random.Generator,
    np.random.SeedSequence,
]


@validate_params({"random_state": _RANDOM_STATE}, prefer_skip_nested_validation=True)
def as_seed_sequence(random_state=None) -> np.random.SeedSequence:
    """Turn an sklearn-style ``random_state`` into a ``SeedSequence``.

    Parameters
    ----------
    random_state : None, int, RandomState, Generator or SeedSequence
        ``None`` draws fresh OS entropy; an int always gives the same sequence; a
        :class:`~numpy.random.RandomState` or :class:`~numpy.random.Generator` is
        advanced by one draw (as :func:`sklearn.utils.check_random_state` users
        expect from a shared generator); a ``SeedSequence`` is returned as is.

    Returns
    -------
    seed_sequence : SeedSequence
        The root of every stream derived from ``random_state``.

    Examples
    --------
    >>> from skprivacy.utils import as_seed_sequence
    >>> as_seed_sequence(0).entropy
    0
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        return np.random.SeedSequence(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(_SEED_BOUND)))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(_SEED_BOUND)))
    raise ValueError(
        "random_state must be None, an int, a numpy RandomState, Generator or "
        f"SeedSequence; got {random_state!r}."
    )


@validate_params(
    {
        "random_state": _RANDOM_STATE,
        "n": [Interval(numbers.Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def spawn_seeds(random_state, n: int) -> list[int]:
    """Derive ``n`` independent 32-bit integer seeds from one ``random_state``.

    Parameters
    ----------
    random_state : None, int, RandomState, Generator or SeedSequence
        See :func:`as_seed_sequence`.
    n : int
        Number of seeds.

    Returns
    -------
    seeds : list of int
        Seeds in ``[0, 2**32)``, one per independent stream (for example one per
        reference model or per parallel worker).

    Examples
    --------
    >>> from skprivacy.utils import spawn_seeds
    >>> spawn_seeds(0, 3) == spawn_seeds(0, 3)
    True
    >>> len(set(spawn_seeds(0, 3)))
    3
    """
    root = as_seed_sequence(random_state)
    return [int(child.generate_state(1)[0]) for child in root.spawn(n)]


@validate_params(
    {
        "random_state": _RANDOM_STATE,
        "n": [Interval(numbers.Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def spawn_generators(random_state, n: int) -> list[np.random.Generator]:
    """Derive ``n`` independent numpy :class:`~numpy.random.Generator` streams.

    Parameters
    ----------
    random_state : None, int, RandomState, Generator or SeedSequence
        See :func:`as_seed_sequence`.
    n : int
        Number of streams.

    Returns
    -------
    generators : list of Generator
        Independent generators (PCG64), none of them numpy's global one.

    Examples
    --------
    >>> from skprivacy.utils import spawn_generators
    >>> a, b = spawn_generators(0, 2)
    >>> bool(a.random() != b.random())
    True
    """
    root = as_seed_sequence(random_state)
    return [np.random.default_rng(child) for child in root.spawn(n)]


@validate_params(
    {
        "seed": [Interval(numbers.Integral, 0, None, closed="left")],
        "device": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def torch_generator(seed: int, device="cpu"):
    """A :class:`torch.Generator` on ``device`` seeded with ``seed``.

    Use it for every draw that torch functions accept a ``generator`` for
    (``torch.randn``, ``torch.randperm``, ...), so the global torch RNG is not used.

    Parameters
    ----------
    seed : int
        The seed, for example one of :func:`spawn_seeds`.
    device : str or torch.device, default="cpu"
        Device the generator draws on; noise drawn there never crosses to the host.

    Returns
    -------
    generator : torch.Generator
        A freshly seeded generator.

    Examples
    --------
    >>> import torch
    >>> from skprivacy.utils import torch_generator
    >>> x = torch.randn(2, generator=torch_generator(0))
    >>> bool(torch.equal(x, torch.randn(2, generator=torch_generator(0))))
    True
    """
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


@contextlib.contextmanager
@validate_params(
    {
        "seed": [Interval(numbers.Integral, 0, None, closed="left")],
        "devices": "no_validation",  # any iterable, as torch.random.fork_rng takes
    },
    prefer_skip_nested_validation=True,
)
def torch_seed(seed: int, devices=None) -> Iterator[None]:
    """Seed torch's global RNG inside the block and restore it on exit.

    Some torch code (parameter initialisation, dropout) only draws from the
    global generator. Running it under this context makes it reproducible from
    ``seed`` while leaving the caller's global RNG state as it was.

    Parameters
    ----------
    seed : int
        Seed for the block.
    devices : iterable of int, default=None
        CUDA devices whose RNG state is forked; ``None`` forks every visible
        CUDA device (torch's own default), so no device's state leaks out.

    Yields
    ------
    None

    Examples
    --------
    >>> import torch
    >>> from skprivacy.utils import torch_seed
    >>> before = torch.random.get_rng_state()
    >>> with torch_seed(0):
    ...     a = torch.rand(1)
    >>> with torch_seed(0):
    ...     b = torch.rand(1)
    >>> bool(torch.equal(a, b)), bool(torch.equal(before, torch.random.get_rng_state()))
    (True, True)
    """
    import torch

    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
