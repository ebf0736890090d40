"""Changing run folders: safe names, rename, delete (to the trash when it can).

Plain functions over the runs directory (see :mod:`studio.engine.runs.layout`); no Qt. The
Runs page calls them, and so can any script: a run folder written by another process (the
CLI, a job on another machine sharing the folder) is handled like one the window wrote. A
run that is still training (:mod:`studio.engine.runs.status`) is never renamed or deleted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from pathlib import Path
from typing import Final

from studio.engine.runs.layout import RUN_FILE, write_json
from studio.engine.runs.status import read_run_meta, refuse_if_running
from studio.errors import RunError

__all__ = ["MAX_NAME_LENGTH", "check_run_name", "delete_run", "rename_run", "trash_available"]

MAX_NAME_LENGTH: Final = 100
#: Characters no run name may hold: path separators, and what Windows refuses in names.
_FORBIDDEN_CHARS: Final = frozenset('/\\<>:"|?*')
_WINDOWS_RESERVED: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
)


def check_run_name(name: str) -> str:
    """Return ``name`` if it is a safe single folder name; else raise RunError saying why."""
    if not isinstance(name, str) or not name.strip():
        raise RunError("a run name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RunError(f"a run name has at most {MAX_NAME_LENGTH} characters, not {len(name)}")
    if name != name.strip():
        raise RunError(f"{name!r}: a run name cannot start or end with a space")
    if name.startswith("."):
        raise RunError(f"{name!r}: a run name cannot start with '.'")
    if ".." in name:
        raise RunError(f"{name!r}: a run name cannot contain '..'")
    bad = sorted({c for c in name if c in _FORBIDDEN_CHARS or ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise RunError(f"{name!r}: a run name cannot contain {shown}")
    if name.endswith("."):
        raise RunError(f"{name!r}: a run name cannot end with '.'")
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise RunError(f"{name!r}: this name is reserved on Windows")
    return name


def _require_run_folder(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    if not (run_dir / RUN_FILE).is_file():
        raise RunError(f"{run_dir}: not a run folder (it has no {RUN_FILE})")


def rename_run(run_dir: str | Path, new_name: str) -> Path:
    """Rename a run folder inside its runs directory; returns the new path.

    Raises RunError for an unsafe name (see :func:`check_run_name`), an existing target, or a
    run that is still training. ``summary.run_dir`` in ``run.json`` follows the new path.
    """
    src = Path(run_dir)
    check_run_name(new_name)
    _require_run_folder(src)
    if new_name == src.name:
        return src
    refuse_if_running(src, "renaming")
    dst = src.parent / new_name
    if dst.exists() or dst.is_symlink():
        same = False
        with contextlib.suppress(OSError):
            same = dst.samefile(src)  # a case-only rename on a case-insensitive disk
        if not same:
            raise RunError(f"{new_name}: a run or file with this name already exists")
    try:
        os.rename(src, dst)
    except OSError as exc:
        raise RunError(f"{src.name}: cannot rename to {new_name}: {exc.strerror or exc}") from None
    _retarget_summary(dst, src)
    return dst


def _retarget_summary(run_dir: Path, old: Path) -> None:
    """Best effort: ``summary.run_dir`` in run.json names the folder the run lives in."""
    try:
        meta = read_run_meta(run_dir)
        summary = meta.get("summary")
        if isinstance(summary, dict) and summary.get("run_dir") == str(old):
            summary["run_dir"] = str(run_dir)
            write_json(run_dir / RUN_FILE, meta)
    except (RunError, OSError):
        pass


def trash_available() -> bool:
    """Whether deleted runs can go to the trash (the ``send2trash`` package is installed)."""
    return importlib.util.find_spec("send2trash") is not None


def delete_run(
    run_dir: str | Path, to_trash: bool = True, *, runs_dir: str | Path | None = None
) -> None:
    """Move a run folder to the trash (``send2trash``) or, failing that, delete it for good.

    Only a real folder (not a symlink) holding ``run.json``, directly inside its parent
    (``runs_dir`` when given, which must then be that parent) and not itself inside a run
    folder, is ever deleted. A run that is still training is refused. Errors are RunError.
    """
    path = Path(run_dir)
    if path.name in ("", ".", ".."):
        raise RunError(f"{path}: not a run folder")
    if path.is_symlink():
        raise RunError(f"{path}: a symbolic link, not a run folder; refusing to delete it")
    _require_run_folder(path)
    try:
        real = path.resolve(strict=True)
        parent = path.parent.resolve(strict=True)
    except OSError as exc:
        raise RunError(f"{path}: {exc.strerror or exc}") from None
    if real.parent != parent or real == parent:
        raise RunError(f"{path}: not directly inside a runs folder; refusing to delete it")
    if runs_dir is not None and parent != Path(runs_dir).resolve():
        raise RunError(f"{path}: not inside the runs folder {runs_dir}; refusing to delete it")
    if (parent / RUN_FILE).exists():
        raise RunError(f"{path}: inside another run folder; refusing to delete it")
    refuse_if_running(path, "deleting")
    if to_trash and trash_available():
        from send2trash import send2trash

        try:
            send2trash(str(path))
        except Exception as exc:  # TrashPermissionError, OSError: the folder stays
            raise RunError(f"{path.name}: cannot move to the trash: {exc}") from None
        return
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise RunError(f"{path.name}: cannot delete: {exc.strerror or exc}") from None
