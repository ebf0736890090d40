"""The Runs page's watcher: lists a runs folder and follows the selected runs' metrics.

:class:`RunsWatcher` lives on a worker thread of the Runs page
(a :class:`~studio.ui.workers.threads.WorkerThread`) and does all its file access: listing
the folder, the cheap change check every second (folder names + ``run.json`` stat) with the
live status of runs marked running, and reading the selected runs' ``metrics.jsonl``
incrementally (:class:`studio.engine.runs.tail.MetricsTail`). A run written by another
process (the CLI, a job on another machine sharing the folder) therefore shows up and grows
live like one trained in the window. Nothing here touches a widget.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QObject, Qt, Signal, Slot

if TYPE_CHECKING:
    from studio.engine.runs.layout import RunInfo
    from studio.engine.runs.tail import MetricsTail

__all__ = ["READ_SLICE_BYTES", "RunsWatcher"]

log = logging.getLogger(__name__)

#: Bytes of one run's metrics.jsonl read in one go; the rest follows in later slices.
READ_SLICE_BYTES: Final = 4 << 20


class RunsWatcher(QObject):
    """Worker on the runs thread: lists the folder and tails the selected runs' metrics.

    Every slot is called through a queued signal from the Runs page; nothing here
    touches a widget. Exceptions never escape a slot: they are reported by ``sig_failed``.
    """

    sig_listed = Signal(str, object)
    """``(runs_dir, list[RunInfo])`` with live statuses; emitted when the listing changes."""
    sig_metrics = Signal(str, bool, object)
    """``(run path, fresh, curves dict)``; ``fresh``: drop what was read before for this run."""
    sig_failed = Signal(str)
    """A one-line error (the folder cannot be read)."""
    sig_tick_done = Signal()
    """A periodic check finished (the page sends the next one only then)."""

    _sig_more = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._dir: str | None = None
        self._signature: tuple[Any, ...] | None = None
        self._runs: list[RunInfo] = []
        self._stored_running: list[int] = []  # rows whose run.json says "running"
        self._tails: dict[str, MetricsTail] = {}
        self._fresh: set[str] = set()
        self._more_queued = False
        self._sig_more.connect(self._continue, Qt.ConnectionType.QueuedConnection)

    # -- requests (worker thread)
    @Slot(str)
    def set_dir(self, runs_dir: str) -> None:
        """Watch another folder; lists it at once."""
        self._dir = runs_dir
        self._signature = None
        self._runs = []
        self._stored_running = []
        self._guarded(self._list, True)

    @Slot()
    def refresh(self) -> None:
        """List the folder again even if it looks unchanged."""
        self._guarded(self._list, True)

    @Slot(list)
    def track(self, paths: list[str]) -> None:
        """Follow the metrics of exactly these runs (new ones are read from the start)."""
        self._guarded(self._track, paths)

    @Slot()
    def tick(self) -> None:
        """The periodic check: folder changed? run processes gone? new metrics lines?"""
        try:
            self._guarded(self._list, False)
            self._guarded(self._read_tails)
        finally:
            self.sig_tick_done.emit()

    def _guarded(self, fn: Any, *args: Any) -> None:
        """Run ``fn``; an unexpected error becomes ``sig_failed`` (never escapes a slot)."""
        try:
            fn(*args)
        except Exception as exc:
            log.exception("runs watcher failed")
            self.sig_failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")

    # -- work
    def _track(self, paths: list[str]) -> None:
        wanted = list(dict.fromkeys(paths))
        for path in list(self._tails):
            if path not in wanted:
                del self._tails[path]
                self._fresh.discard(path)
        from studio.engine.runs.layout import METRICS_FILE
        from studio.engine.runs.tail import MetricsTail

        for path in wanted:
            if path not in self._tails:
                self._tails[path] = MetricsTail(Path(path) / METRICS_FILE)
                self._fresh.add(path)
        self._read_tails(only_new=True)

    def _list(self, force: bool) -> None:
        if not self._dir:
            return
        from studio.engine.runs import runs_signature
        from studio.engine.runs.listing import list_runs, run_info

        runs_dir = self._dir
        try:
            signature = runs_signature(runs_dir)
            if not force and signature == self._signature:
                # Unchanged files, but a "running" run's process may have died since, or
                # its run.json been replaced within the signature's time resolution: read
                # the whole row again (status, epochs, accuracy), not the status alone
                changed = False
                for row in self._stored_running:
                    fresh = run_info(self._runs[row].path)
                    if fresh is not None and fresh != self._runs[row]:
                        self._runs[row] = fresh
                        changed = True
                if changed:
                    self.sig_listed.emit(runs_dir, list(self._runs))
                return
            runs = list_runs(Path(runs_dir))
        except OSError as exc:
            self.sig_failed.emit(f"{runs_dir}: cannot read the runs folder: {exc.strerror or exc}")
            return
        self._signature = signature
        # the listing's status is live; these may still die without touching a file
        self._stored_running = [i for i, run in enumerate(runs) if run.status == "running"]
        self._runs = runs
        self.sig_listed.emit(runs_dir, list(runs))

    def _read_tails(self, only_new: bool = False) -> None:
        from studio.engine.runs.compare import curves

        behind = False
        for path, tail in list(self._tails.items()):
            fresh = path in self._fresh
            if only_new and not fresh:
                continue
            try:
                records = tail.read_new(READ_SLICE_BYTES)
            except Exception as exc:  # never let a bad file stop the others
                log.exception("reading %s failed", tail.path)
                self.sig_failed.emit(f"{tail.path}: cannot read: {exc}")
                continue
            fresh = fresh or tail.restarted
            self._fresh.discard(path)
            if records or fresh:
                self.sig_metrics.emit(path, fresh, curves(records))
            behind = behind or not tail.at_end()
        if behind and not self._more_queued:
            self._more_queued = True
            self._sig_more.emit()  # the next slice after any queued request

    @Slot()
    def _continue(self) -> None:
        self._more_queued = False
        self._guarded(self._read_tails)
