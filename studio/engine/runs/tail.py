"""Watching runs as they are written: the runs folder's fingerprint, ``metrics.jsonl``'s tail.

Both are cheap enough for a timer: :func:`runs_signature` stats one file per run, and
:class:`MetricsTail` reads only the bytes appended since its last call.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Final

from studio.engine.runs.layout import RUN_FILE

__all__ = ["MetricsTail", "runs_signature"]


def runs_signature(runs_dir: str | Path) -> tuple[tuple[str, int, int, int], ...]:
    """A cheap fingerprint of a runs directory: sorted folder names + run.json stat.

    Changes whenever a run appears, disappears, is renamed, or rewrites its ``run.json``
    (status, summary). One ``scandir`` plus one ``stat`` per folder; nothing is read.
    """
    out: list[tuple[str, int, int, int]] = []
    try:
        entries = list(os.scandir(runs_dir))
    except OSError:
        return ()
    for entry in entries:
        try:
            st = os.stat(os.path.join(entry.path, RUN_FILE))
        except OSError:
            continue
        out.append((entry.name, st.st_mtime_ns, st.st_size, st.st_ino))
    out.sort()
    return tuple(out)


class MetricsTail:
    """Reads ``metrics.jsonl`` incrementally: each call returns only the new complete lines.

    Keeps the byte offset of what it has read; a line not yet ended by ``\\n`` (the writer is
    mid-line) is kept and completed by a later call. A missing file reads as empty. When the
    file is replaced (another inode), shrinks, or its first bytes change (truncated and
    rewritten), reading starts over and :attr:`restarted` is True for that call: the caller
    should then drop what it had.
    """

    #: Bytes of the file's start remembered to notice a truncate-and-rewrite.
    HEAD_BYTES: Final = 256

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.restarted = False
        self._offset = 0  # bytes consumed, pending included
        self._pending = b""
        self._ident: tuple[int, int] | None = None
        self._head = b""

    @property
    def offset(self) -> int:
        """Bytes read so far (the torn tail included)."""
        return self._offset

    def at_end(self) -> bool:
        """Whether everything the file holds now has been read (cheap ``stat``)."""
        try:
            return os.stat(self.path).st_size <= self._offset
        except OSError:
            return True

    def _reset(self) -> None:
        self._offset = 0
        self._pending = b""
        self._ident = None
        self._head = b""

    def read_new(self, max_bytes: int | None = None) -> list[dict[str, Any]]:
        """The records of the complete lines appended since the last call.

        ``max_bytes`` caps how much is read in this call (the rest comes next time), so a
        caller can read a huge file in slices. Lines that are not JSON objects are skipped.
        """
        had_data = self._ident is not None
        self.restarted = False
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below, after fstat
        except FileNotFoundError:
            self.restarted = had_data
            self._reset()
            return []
        except OSError:
            return []
        with fh:
            st = os.fstat(fh.fileno())
            ident = (st.st_dev, st.st_ino)
            if self._ident is not None and (ident != self._ident or st.st_size < self._offset):
                self._reset()
                self.restarted = True
            elif self._head and st.st_size != self._offset:
                fh.seek(0)
                if fh.read(len(self._head)) != self._head:
                    self._reset()
                    self.restarted = True
            self._ident = ident
            if st.st_size <= self._offset:
                return []
            fh.seek(self._offset)
            data = fh.read(-1 if max_bytes is None else max(1, max_bytes))
        if len(self._head) < self.HEAD_BYTES and self._offset < self.HEAD_BYTES:
            self._head = (self._head + data)[: self.HEAD_BYTES]
        self._offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        out: list[dict[str, Any]] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:  # JSONDecodeError, UnicodeDecodeError
                continue
            if isinstance(record, dict):
                out.append(record)
        return out
