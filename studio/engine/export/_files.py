"""Export outputs: refusing what must not be replaced, and writing files atomically.

Existing output is never replaced unless ``overwrite``. A file output is then replaced
atomically; for a folder output only the files this export writes are removed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.engine.atomic import write_atomic
from studio.errors import StudioError

__all__ = ["EXPORT_FILE_MODE", "check_file_target", "prepare_folder", "write_file", "write_text"]

EXPORT_FILE_MODE = 0o644  # exports are meant to be shared, unlike the temp file


def check_file_target(path: Path, overwrite: bool, *others: Path) -> None:
    """Refuse folders and (without ``overwrite``) existing files; create the parent folder."""
    for p in (path, *others):
        if p.is_dir():
            raise StudioError(f"{p}: is a folder; give a file name to export to")
        if p.exists() and not overwrite:
            raise StudioError(f"{p}: already exists (--overwrite replaces it)")
    _mkdir(path.parent)


def prepare_folder(folder: Path, overwrite: bool, ours: Callable[[str], bool]) -> Path:
    """An empty (or, with ``overwrite``, cleared of our own files) output folder."""
    if folder.exists() and not folder.is_dir():
        raise StudioError(f"{folder}: is a file; give a folder to export to")
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise StudioError(f"{folder}: folder is not empty (--overwrite replaces its files)")
        for child in folder.iterdir():
            if child.is_file() and ours(child.name):
                try:
                    child.unlink()
                except OSError as exc:
                    raise StudioError(f"{child}: cannot remove: {exc.strerror or exc}") from None
    _mkdir(folder)
    return folder


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"{folder}: cannot create the folder: {exc.strerror or exc}") from None


def write_file(path: Path, write: Callable[[Path], Any]) -> None:
    """Write via a temp file and a rename; readable by others (the temp file is 0600)."""

    def write_shared(tmp: Path) -> None:
        write(tmp)
        os.chmod(tmp, EXPORT_FILE_MODE)

    try:
        write_atomic(path, write_shared)
    except OSError as exc:
        raise StudioError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_text(path: Path, text: str) -> None:
    """``text`` as UTF-8 into ``path``, atomically (see :func:`write_file`)."""
    write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
