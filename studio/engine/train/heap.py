"""Giving freed memory back to the operating system (glibc's ``malloc_trim``).

Streaming a large split allocates and frees many mid-sized numpy arrays per block. glibc
keeps such freed memory in its heaps (and in per-thread arenas) instead of returning it,
so a process's resident size creeps up block after block. ``malloc_trim(0)`` returns the
free pages of every arena, as Dask's workers do for the same reason. Elsewhere (macOS,
Windows, musl) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def trim_heap() -> None:
    """Return freed heap memory to the operating system, where the C library can."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
