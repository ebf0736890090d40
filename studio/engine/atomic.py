"""Crash-safe file writes: write a temporary file (or folder) beside the target, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], Any], durable: bool = True) -> None:
    """Call ``write(tmp)`` on a temp file in ``path``'s folder, then rename it over ``path``.

    A reader (or a process killed mid-write) sees either the old file or the new one,
    never a torn one. ``durable``: also flush it to the disk before the rename, so that it
    survives a power cut too (:func:`sync_file` does it later for a file written without).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if durable:
            sync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (``fsync``)."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def write_text_atomic(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text`` (UTF-8)."""
    write_atomic(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``."""
    write_atomic(Path(path), lambda tmp: tmp.write_bytes(data))


def write_folder_atomic(folder: Path, write: Callable[[Path], Any]) -> bool:
    """Call ``write(tmp)`` on an empty temporary sibling folder, then put it in ``folder``'s
    place. For caches: an OSError leaves nothing behind and returns False (never raised)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        write(tmp)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True
