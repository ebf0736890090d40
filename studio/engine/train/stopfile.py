"""Requests from another process: files named ``STOP`` and ``PAUSE`` in the run folder.

The window stops a run it launched as a subprocess (its single-device child runs, several
processes under torchrun) this way, and so can a shell: ``touch RUN/STOP``. Rank 0
watches; the ranks agree on the stop at their next step (see
:mod:`studio.engine.train.loop`). A single-process run also watches ``PAUSE``: training
waits before its next step once the file appears and goes on when it is removed. The
watcher acts on the file's changes only, so a pause or resume made through the
:class:`~studio.engine.train.control.TrainControl` itself (the window's thread runs) stands.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from types import TracebackType

from studio.engine.train.control import TrainControl


class StopFileWatcher:
    """While entered, checks every ``interval`` seconds for ``path``; its appearance stops."""

    def __init__(
        self,
        path: Path,
        control: TrainControl,
        interval: float = 0.2,
        *,
        stale: bool = False,
        pause_path: Path | None = None,
    ) -> None:
        """``stale``: a STOP (or PAUSE) already there is left over from an earlier process
        (a resumed run's) and is removed; otherwise it is a request made before training
        began. ``pause_path``: also pause while that file exists (one process only: the
        ranks of a distributed run must stay in step)."""
        self.path = path
        self.pause_path = pause_path
        self.stale = stale
        self.control = control
        self.interval = interval
        self._pause_seen = False  # whether PAUSE existed at the last check
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stop-file", daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            if self.check():
                return

    def check(self) -> bool:
        """Act on the files as they are now; True once a stop was requested."""
        if self.path.exists():
            self.control.request_stop()
            return True
        if self.pause_path is not None:
            paused = self.pause_path.exists()
            if paused != self._pause_seen:  # created or removed since the last check
                self._pause_seen = paused
                (self.control.pause if paused else self.control.resume)()
        return False

    def _files(self) -> tuple[Path, ...]:
        return (self.path,) if self.pause_path is None else (self.path, self.pause_path)

    def __enter__(self) -> StopFileWatcher:
        if self.stale:
            for path in self._files():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        else:
            self.check()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        for path in self._files():
            with contextlib.suppress(OSError):
                path.unlink()
