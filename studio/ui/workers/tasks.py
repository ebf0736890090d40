"""Run short engine computations off the GUI thread; the newest request wins.

Pages submit a plain callable (it may import torch and the engine: it runs on the worker
thread). Results of requests that were superseded before they finished are dropped, so
typing in a search box never shows a stale answer.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.errors import StudioError


class _TaskWorker(QObject):
    sig_done = Signal(int, object)
    sig_failed = Signal(int, str, str)

    def __init__(self) -> None:
        super().__init__()
        self.latest = 0
        self.lock = threading.Lock()

    @Slot(int, object)
    def run(self, request_id: int, fn: Callable[[], Any]) -> None:
        with self.lock:
            if request_id != self.latest:
                return  # superseded while queued
        try:
            result = fn()
        except StudioError as exc:
            self.sig_failed.emit(request_id, str(exc), "")
        except Exception as exc:
            self.sig_failed.emit(
                request_id, f"unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc()
            )
        else:
            self.sig_done.emit(request_id, result)


class TaskRunner(QObject):
    """One worker thread per owner. ``submit(fn)``; listen to ``sig_result``/``sig_error``."""

    sig_result = Signal(object)
    """The newest request's return value (GUI thread)."""
    sig_error = Signal(str, str)
    """The newest request's error: one line for the user, details (traceback) or ''."""
    sig_busy = Signal(bool)
    _sig_submit = Signal(int, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread(self)
        self._thread.setObjectName(name)
        self._worker = _TaskWorker()
        self._worker.moveToThread(self._thread)
        self._sig_submit.connect(self._worker.run)
        self._worker.sig_done.connect(self._on_done)
        self._worker.sig_failed.connect(self._on_failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._next = 0
        self._busy = False
        self._thread.start()

    def submit(self, fn: Callable[[], Any]) -> int:
        self._next += 1
        with self._worker.lock:
            self._worker.latest = self._next
        if not self._busy:
            self._busy = True
            self.sig_busy.emit(True)
        self._sig_submit.emit(self._next, fn)
        return self._next

    def shutdown(self) -> None:
        """Drop pending work and wait for the thread (call from the owner's close)."""
        with self._worker.lock:
            self._worker.latest = -1
        self._thread.quit()
        self._thread.wait()

    @Slot(int, object)
    def _on_done(self, request_id: int, result: object) -> None:
        if request_id == self._next:
            self._set_idle()
            self.sig_result.emit(result)

    @Slot(int, str, str)
    def _on_failed(self, request_id: int, message: str, details: str) -> None:
        if request_id == self._next:
            self._set_idle()
            self.sig_error.emit(message, details)

    def _set_idle(self) -> None:
        if self._busy:
            self._busy = False
            self.sig_busy.emit(False)
