"""Interactions read once, then memory-mapped: the recommendation side of the dataset cache.

:func:`open_interactions` reads a file (:func:`~.interactions.read_interactions`) the first
time and writes its arrays (``users``, ``items``, ``weights``, ``lines``, ``times``) and its
id strings (:class:`~.names.Names`) as ``.npy`` files in a cache folder keyed by the file's
bytes and the column choice, as text datasets are (:mod:`~.prepare`). Every later open maps
those files (``np.load(mmap_mode="r")``, never unpickled): nothing is parsed, nothing is
copied until it is used, and the processes of a distributed run share one copy in the page
cache. The user's file is only read. A damaged entry is rebuilt; a cache that cannot be
written only costs the next open a read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from studio.engine.atomic import write_folder_atomic
from studio.engine.data.interactions import Interactions, read_interactions
from studio.engine.data.names import Names, as_names
from studio.engine.data.prepare import file_digest
from studio.errors import DatasetError

__all__ = ["INTERACTIONS_VERSION", "interactions_key", "open_interactions"]

INTERACTIONS_VERSION = 1
_ARRAYS = ("users", "items", "weights", "lines")
_META = "interactions.json"


def interactions_key(path: Path, given: dict[str, str | None]) -> str:
    """Hash of the file's bytes, the columns asked for and the cache's format."""
    if not path.is_file():
        raise DatasetError("file not found", path=path)
    parts = {"version": INTERACTIONS_VERSION, "file": file_digest(path), "columns": given}
    return "recs-" + hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def open_interactions(
    path: str | Path,
    *,
    user_column: str | None = None,
    item_column: str | None = None,
    weight_column: str | None = None,
    time_column: str | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Interactions:
    """The interactions of ``path``, memory-mapped from ``cache_dir`` (read and cached on
    the first open); without ``cache_dir``, read into memory as
    :func:`~.interactions.read_interactions` does. The same DatasetErrors as reading."""
    path = Path(path)
    given = {"user": user_column, "item": item_column, "weight": weight_column,
             "time": time_column}  # fmt: skip
    if cache_dir is None:
        return read_interactions(path, **_columns(given))
    folder = Path(cache_dir) / interactions_key(path, given)
    report = progress or (lambda _stage: None)
    if (folder / _META).exists():
        try:
            report("opening cached interactions")
            return _load(folder, str(path))
        except (OSError, ValueError, KeyError):
            shutil.rmtree(folder, ignore_errors=True)  # damaged: read again below
    report("reading interactions")
    data = read_interactions(path, **_columns(given))
    report("saving cache")
    if _save(data, folder):
        return _load(folder, str(path))
    return data


def _columns(given: dict[str, str | None]) -> dict[str, str | None]:
    return {f"{role}_column": name for role, name in given.items()}


def _save(data: Interactions, folder: Path) -> bool:
    """Write ``data`` into ``folder`` through a temporary sibling; False if it failed."""

    def write(tmp: Path) -> None:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(getattr(data, name)))
        if data.times is not None:
            np.save(tmp / "times.npy", np.ascontiguousarray(data.times))
        as_names(data.user_names).save(tmp, "user")
        as_names(data.item_names).save(tmp, "item")
        meta = {"version": INTERACTIONS_VERSION, "columns": data.columns,
                "times": data.times is not None, "interactions": len(data)}  # fmt: skip
        (tmp / _META).write_text(json.dumps(meta), encoding="utf-8")

    return write_folder_atomic(folder, write)


def _load(folder: Path, source: str) -> Interactions:
    meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    if meta.get("version") != INTERACTIONS_VERSION:
        raise ValueError("cache version mismatch")
    arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in _ARRAYS}
    times = np.load(folder / "times.npy", mmap_mode="r") if meta["times"] else None
    if any(len(a) != meta["interactions"] for a in arrays.values()):
        raise ValueError("truncated cache entry")
    return Interactions(
        arrays["users"], arrays["items"], arrays["weights"], times, arrays["lines"],
        Names.load(folder, "user"), Names.load(folder, "item"), source, meta["columns"],
    )  # fmt: skip
