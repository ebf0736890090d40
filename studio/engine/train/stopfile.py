"""A stop request from another process: a file named ``STOP`` appearing in the run folder.

The window stops a run it launched as a subprocess (several processes under torchrun) this
way, and so can a shell: ``touch RUN/STOP``. Rank 0 watches; the ranks agree on the stop
at their next step (see :mod:`studio.engine.train.loop`).
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
        self, path: Path, control: TrainControl, interval: float = 0.2, *, stale: bool = False
    ) -> None:
        """``stale``: a STOP already there is left over from an earlier process (a resumed
        run's) and is removed; otherwise it is a request made before training began."""
        self.path = path
        self.stale = stale
        self.control = control
        self.interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stop-file", daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            if self.path.exists():
                self.control.request_stop()
                return

    def __enter__(self) -> StopFileWatcher:
        if self.stale:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        elif self.path.exists():
            self.control.request_stop()
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
        with contextlib.suppress(OSError):
            self.path.unlink()
