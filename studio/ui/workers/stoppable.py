"""One stoppable engine job at a time: a worker on a :class:`WorkerThread`, asked to stop
through the engine's thread-safe :class:`TrainControl` (never through Qt).

The tuner and the label-issue finder are both such jobs; each subclass says how to build
its worker from a request and the control object.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import QObject, Signal, SignalInstance, Slot

from studio.ui.workers.threads import WorkerThread

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl

__all__ = ["StoppableJob", "report_outcome"]

W = TypeVar("W", bound=QObject)


def report_outcome(
    work: Callable[[], object], finished: SignalInstance, failed: SignalInstance
) -> None:
    """Run a job's ``work`` on its thread: its result to ``finished``; a StudioError as its
    message, anything else as "unexpected error" with the traceback, to ``failed``
    (a :class:`~studio.ui.workers.payloads.RunFailed`)."""
    from studio.errors import StudioError
    from studio.ui.workers.payloads import RunFailed

    try:
        finished.emit(work())
    except StudioError as exc:
        failed.emit(RunFailed(str(exc)))
    except Exception as exc:
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        failed.emit(RunFailed(message, traceback.format_exc()))


class StoppableJob(QObject, Generic[W]):
    """Owns one job's thread from start to end: start, stop, and a clean shutdown."""

    sig_running = Signal(bool)
    """True when a job starts, False when its thread has finished."""

    def __init__(self, thread_name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread_name = thread_name
        self._run: WorkerThread[W] | None = None
        self._control: TrainControl | None = None
        self.shutdown_timeout_ms = 5000
        """How long :meth:`shutdown` waits for the job to stop."""

    def is_running(self) -> bool:
        return self._run is not None

    def _start_worker(
        self,
        make: Callable[[TrainControl], W],
        entry: Callable[[W], Callable[[], object]],
        quit_on: Callable[[W], Iterable[SignalInstance]],
    ) -> W:
        """Build the worker with a fresh control, start its thread from the event loop (so
        the caller connects to the returned worker first and misses no signal)."""
        if self._run is not None:
            raise RuntimeError(f"{self._thread_name} is already running")
        from studio.engine.train.control import TrainControl  # torch-free module

        control = self._control = TrainControl()
        worker = make(control)
        run = WorkerThread(
            worker, self._thread_name, self, entry=entry(worker), quit_on=quit_on(worker),
            on_stop=control.request_stop,
        )  # fmt: skip
        run.sig_finished.connect(self._on_thread_finished)
        self._run = run
        run.start(deferred=True)
        self.sig_running.emit(True)
        return worker

    @Slot()
    def stop(self) -> None:
        """Ask the running job to stop (it ends at its next check)."""
        if self._control is not None:
            self._control.request_stop()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop the job and wait for its thread; True when none is left."""
        if self._run is None:
            return True
        return self._run.shutdown(self.shutdown_timeout_ms if timeout_ms is None else timeout_ms)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._run is None:
            return
        self._run = None
        self._control = None
        self.sig_running.emit(False)
