"""Deprecation of public names, with one warning text."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import warnings


def warn_renamed(old: str, new: str, *, since: str = "0.1", stacklevel: int = 3):
    """Warn that ``old`` was renamed ``new`` and will be removed two releases on.

    Parameters
    ----------
    old, new : str
        The public names, as users write them.
    since : str, default="0.1"
        Release of the rename.
    stacklevel : int, default=3
        Points the warning at the caller of the deprecated name.
    """
    warnings.warn(
        f"{old} was renamed {new} in skprivacy {since} and will be removed in a "
        f"later release; use {new}.",
        FutureWarning,
        stacklevel=stacklevel,
    )
