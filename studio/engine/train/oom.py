"""Running out of device memory: what counts as it, and the smallest batch worth retrying."""

from __future__ import annotations

import torch

OOM_MIN_BATCH = 8  # below this, running out of memory is an error


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is the device running out of memory (CUDA's error, or one that says so)."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )
