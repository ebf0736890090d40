"""Keep writes inside the runs directory: :func:`ensure_inside`."""

from __future__ import annotations

import os
from pathlib import Path

from studio.errors import RunError

__all__ = ["ensure_inside"]


def ensure_inside(root: str | Path, path: str | Path) -> Path:
    """Return ``path`` if it lies inside ``root`` and is not reached through a symlink.

    ``root`` itself may be a symlink (a runs folder moved to another disk is the user's
    choice); every component of ``path`` below ``root`` must be a real folder or file, so a
    run folder that is a symbolic link to elsewhere is refused even when it points back
    inside ``root``. Raises RunError naming the path.
    """
    root_real = Path(os.path.realpath(root))
    target = Path(path)
    if not target.is_absolute():
        target = Path(root) / target
    try:
        relative = Path(os.path.abspath(target)).relative_to(os.path.abspath(root))
    except ValueError:
        raise RunError(f"{path}: outside the runs folder {root}; refusing to write there") from None
    if any(part == ".." for part in relative.parts):
        raise RunError(f"{path}: outside the runs folder {root}; refusing to write there")
    current = Path(os.path.abspath(root))
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise RunError(f"{current}: a symbolic link, not a run folder; refusing to write there")
    real = Path(os.path.realpath(target))
    if real != root_real and root_real not in real.parents:
        raise RunError(f"{path}: outside the runs folder {root}; refusing to write there")
    return target
