"""Background work in the window: the one module that creates, starts and stops QThreads.

Two tools, used by every part of the window that works off the GUI thread:

* :class:`WorkerThread` owns one QThread and the QObject worker that lives on it, from the
  start to the deletion of both: start (at once or from the event loop), a stop that asks the
  worker to stop, quits and waits (with a bound or without), ``deleteLater`` of the worker
  when its thread ends, and a stop on application quit and on its own destruction, so a
  running thread is never destroyed. Shutdown is idempotent.
* :class:`LatestRunner` runs callables on one such thread, newest request wins: every
  request gets an id and a :class:`threading.Event`; a new request cancels the running one,
  and whatever a superseded request still reports is dropped.

Work is cooperative: it stops when asked (an event, a control object); nothing here ever
terminates a thread. Nothing here touches a widget.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    SignalInstance,
    Slot,
)

from studio.errors import StudioError

__all__ = ["Job", "LatestRunner", "WorkerThread"]

W = TypeVar("W", bound=QObject)


def _last_resort_stop(thread: QThread, on_stop: Callable[[], object] | None) -> None:
    """Stop and wait for ``thread`` as its owner is destroyed (without waiting it would
    be destroyed running, which aborts the process)."""
    try:
        if thread.isRunning():
            if on_stop is not None:
                on_stop()
            thread.quit()
            thread.wait()
    except RuntimeError:  # already deleted
        pass


class WorkerThread(QObject, Generic[W]):
    """One QThread and the QObject worker moved to it: start, stop, wait, delete.

    Connect the worker's signals and the requests to its slots first, then :meth:`start`.
    ``entry`` is called on the thread when it starts (a worker that does one job);
    ``quit_on`` are worker signals after which the thread quits (connected directly, so the
    thread ends even while the GUI thread is blocked waiting for it); ``on_stop`` asks the
    worker to stop (set an event, request a stop) and runs before every quit.

    When the thread has ended, the worker is deleted (on the GUI thread), :attr:`sig_finished`
    is emitted, and this object deletes itself (with the QThread) from the event loop.
    """

    sig_finished = Signal()
    """The thread has ended and the worker is gone (GUI thread, once)."""

    def __init__(
        self,
        worker: W,
        name: str,
        parent: QObject | None = None,
        *,
        entry: Callable[[], object] | None = None,
        quit_on: Iterable[SignalInstance] = (),
        on_stop: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"{name}_owner")
        thread = QThread(self)
        thread.setObjectName(name)
        if entry is not None:
            thread.started.connect(entry)
        for signal in quit_on:
            signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        # As the thread ends, the worker moves back to the GUI thread and is deleted there
        # (in _finish). Deleting it on its own thread deadlocks now and then: ~QObject holds
        # Qt's signal-slot lock while PySide looks up Python overrides (it needs the GIL),
        # and the GUI thread, holding the GIL, may be waiting for that lock in a connect().
        thread.finished.connect(partial(_move_home, worker), Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._worker: W | None = worker
        self._on_stop = on_stop
        self._state = "new"  # new -> scheduled -> running -> done
        self._start_timer = QTimer(self)
        self._start_timer.setSingleShot(True)
        self._start_timer.setInterval(0)
        self._start_timer.timeout.connect(self._start_now)
        self.destroyed.connect(partial(_last_resort_stop, thread, on_stop))
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_about_to_quit)

    @property
    def worker(self) -> W | None:
        """The worker, until its thread has ended."""
        return self._worker

    def is_running(self) -> bool:
        """Started (or about to start) and not yet ended."""
        return self._state in ("scheduled", "running")

    def is_done(self) -> bool:
        """The thread has ended (or was shut down before it started)."""
        return self._state == "done"

    def start(self, *, deferred: bool = False) -> None:
        """Start the thread now, or with ``deferred`` from the event loop: the caller can
        then connect to the worker after this call and still miss no signal."""
        if self._state != "new":
            return
        if deferred:
            self._state = "scheduled"
            self._start_timer.start()
        else:
            self._start_now()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Ask the worker to stop, quit the thread and wait; True when it has ended.

        ``timeout_ms`` bounds the wait (None: until the worker returns). A thread still
        running after it is handed to the application, which waits for it when it exits:
        deleting the owner never destroys a running thread. Safe to call again.
        """
        if self._state == "done":
            return True
        if self._state != "running":  # never started: nothing to wait for
            self._start_timer.stop()
            self._finish()
            return True
        if self._on_stop is not None:
            self._on_stop()
        self._thread.quit()
        ended = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        if ended:
            self._finish()
            return True
        app = QCoreApplication.instance()
        if app is not None and self.parent() is not app:
            self.setParent(app)  # outlive the owner; finishes (and deletes itself) later
        return False

    @Slot()
    def _start_now(self) -> None:
        if self._state not in ("new", "scheduled") or self._worker is None:
            return
        self._worker.moveToThread(self._thread)
        self._state = "running"
        self._thread.start()

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._state == "running":
            self._thread.wait()  # returns at once: the thread emitted finished as it ended
            self._finish()

    @Slot()
    def _on_about_to_quit(self) -> None:
        self.shutdown()

    def _finish(self) -> None:
        if self._state == "done":
            return
        self._state = "done"
        worker, self._worker = self._worker, None
        if worker is not None and shiboken6.isValid(worker):  # on the GUI thread by now
            worker.deleteLater()
        self.sig_finished.emit()
        self.deleteLater()


# --------------------------------------------------------------------------- newest wins


def _move_home(worker: QObject) -> None:
    """On the ending thread: hand the worker back to the application's thread."""
    app = QCoreApplication.instance()
    if app is not None and shiboken6.isValid(worker):  # not deleted by its owner already
        worker.moveToThread(app.thread())


def _drop(_request_id: int, _value: object) -> None:
    pass


@dataclass(frozen=True)
class Job:
    """One request as the function that runs it sees it: its id, its cancel event, and a
    way to hand over partial results (dropped once the request is no longer the newest)."""

    request_id: int
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)
    report: Callable[[int, object], None] = field(default=_drop, compare=False, repr=False)

    def is_cancelled(self) -> bool:
        """Whether a newer request (or a cancel) has made this one stale."""
        return self.cancel.is_set()

    def partial(self, value: object) -> None:
        """Report an intermediate result (LatestRunner.sig_partial), unless cancelled."""
        if not self.cancel.is_set():
            self.report(self.request_id, value)


@dataclass(frozen=True)
class _Request:
    job: Job
    fn: Callable[[Job], object]


class _Latest:
    """The newest job, kept outside the QObjects so a last-resort stop can cancel it."""

    def __init__(self) -> None:
        self.job: Job | None = None

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel.set()


def _describe(exc: BaseException) -> tuple[str, str]:
    """A one-line message for the user and the details: '' for a StudioError (its message
    says it all), the traceback for anything unexpected."""
    if isinstance(exc, StudioError):
        return str(exc), ""
    return f"unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc()


class _RequestWorker(QObject):
    """Runs requests on the runner's thread; every signal carries the request id first."""

    sig_done = Signal(int, object)
    sig_failed = Signal(int, str, str)
    sig_cancelled = Signal(int)
    sig_partial = Signal(int, object)

    @Slot(object)
    def run(self, request: _Request) -> None:
        """Run one request to its end; never lets an exception escape."""
        job = request.job
        if job.is_cancelled():  # superseded while queued: never runs
            self.sig_cancelled.emit(job.request_id)
            return
        try:
            result = request.fn(job)
        except Exception as exc:
            if job.is_cancelled():  # whatever a cancelled request raises is moot
                self.sig_cancelled.emit(job.request_id)
            else:
                self.sig_failed.emit(job.request_id, *_describe(exc))
            return
        if job.is_cancelled():
            self.sig_cancelled.emit(job.request_id)
        else:
            self.sig_done.emit(job.request_id, result)


class LatestRunner(QObject):
    """Runs callables on one worker thread of its own; the newest request wins.

    :meth:`submit` (a callable without arguments) or :meth:`submit_job` (a callable taking
    the :class:`Job`, to check its cancel event and report partial results). A new request
    cancels the running one (its event is set) and skips the queued ones; the signals
    below carry only the newest request's outcome, so a slow, stale answer never replaces
    a fresh one. The thread starts with the first request and stops in :meth:`shutdown`.
    """

    sig_result = Signal(object)
    """The newest request's return value (GUI thread)."""
    sig_error = Signal(str, str)
    """The newest request failed: one line for the user, and the details (traceback) or ''."""
    sig_partial = Signal(object)
    """An intermediate result of the newest request (:meth:`Job.partial`)."""
    sig_cancelled = Signal()
    """The newest request was cancelled (at once by :meth:`cancel`)."""
    sig_busy = Signal(bool)
    """True when a request starts while idle; False when the newest one has ended."""

    _sig_submit = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._latest = _Latest()
        self._next_id = 0
        self._busy = False
        self._thread: WorkerThread[_RequestWorker] | None = None

    # -- state
    def is_busy(self) -> bool:
        """Whether a request is current (not finished, failed or cancelled)."""
        return self._latest.job is not None

    def current_id(self) -> int | None:
        """Id of the current request, if any."""
        job = self._latest.job
        return None if job is None else job.request_id

    # -- requests
    def submit(self, fn: Callable[[], Any]) -> int:
        """Run ``fn()`` on the worker thread (superseding the current request); its id."""
        return self.submit_job(lambda _job: fn())

    def submit_job(self, fn: Callable[[Job], Any], cancel: threading.Event | None = None) -> int:
        """Run ``fn(job)`` on the worker thread (superseding the current request); its id.

        ``cancel`` is the request's event (a new one by default): set by :meth:`cancel`, by
        a newer request and by :meth:`shutdown`; ``fn`` should check it between stages.
        """
        self._latest.cancel()
        worker = self._ensure_thread()
        self._next_id += 1
        job = Job(self._next_id, cancel or threading.Event(), worker.sig_partial.emit)
        self._latest.job = job
        if not self._busy:
            self._busy = True
            self.sig_busy.emit(True)
        self._sig_submit.emit(_Request(job, fn))
        return job.request_id

    def cancel(self) -> bool:
        """Cancel the current request; True if there was one. Emits sig_cancelled at once."""
        if self._latest.job is None:
            return False
        self._latest.cancel()
        self._end_current()
        self.sig_cancelled.emit()
        return True

    @Slot()
    def shutdown(self) -> None:
        """Cancel without signals, then stop the thread and wait for it. Safe to call twice;
        a later request starts a new thread."""
        self._latest.cancel()
        self._latest.job = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown()

    def _ensure_thread(self) -> _RequestWorker:
        if self._thread is not None and self._thread.worker is not None:
            return self._thread.worker
        worker = _RequestWorker()
        self._sig_submit.connect(worker.run)
        worker.sig_done.connect(self._on_done)
        worker.sig_failed.connect(self._on_failed)
        worker.sig_cancelled.connect(self._on_cancelled)
        worker.sig_partial.connect(self._on_partial)
        thread = WorkerThread(worker, self.objectName(), self, on_stop=self._latest.cancel)
        thread.sig_finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()
        return worker

    # -- worker reports (GUI thread); anything from a stale request is dropped
    def _is_current(self, request_id: int) -> bool:
        job = self._latest.job
        return job is not None and job.request_id == request_id

    def _end_current(self) -> None:
        self._latest.job = None
        if self._busy:
            self._busy = False
            self.sig_busy.emit(False)

    @Slot(int, object)
    def _on_done(self, request_id: int, result: object) -> None:
        if self._is_current(request_id):
            self._end_current()
            self.sig_result.emit(result)

    @Slot(int, str, str)
    def _on_failed(self, request_id: int, message: str, details: str) -> None:
        if self._is_current(request_id):
            self._end_current()
            self.sig_error.emit(message, details)

    @Slot(int)
    def _on_cancelled(self, request_id: int) -> None:
        if self._is_current(request_id):  # only if cancelled behind the runner's back
            self._end_current()
            self.sig_cancelled.emit()

    @Slot(int, object)
    def _on_partial(self, request_id: int, value: object) -> None:
        if self._is_current(request_id):
            self.sig_partial.emit(value)

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread = None  # one thread at a time: the next request starts a new one
