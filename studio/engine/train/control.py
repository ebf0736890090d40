"""Cooperative stop and pause requests, safe to call from any thread."""

from __future__ import annotations

import threading
import time


class TrainControl:
    """Checked by the trainer before every step.

    ``pause()`` makes the loop block on an event (no polling) before its next step;
    ``resume()`` releases it. ``request_stop()`` also releases a paused loop, which then
    stops without running another step.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._paused_waiting = threading.Event()

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        """Block until a stop is requested (for tests); False if ``timeout`` ran out."""
        return self._stop.wait(timeout)

    def wait_until_paused(self, timeout: float | None = None) -> bool:
        """Block until the training loop is parked in a pause (for tests and the UI)."""
        return self._paused_waiting.wait(timeout)

    def checkpoint(self) -> float:
        """Called by the trainer before each step; blocks while paused.

        Returns the seconds spent paused, so throughput can leave them out.
        """
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        self._paused_waiting.set()
        self._running.wait()
        self._paused_waiting.clear()
        return time.perf_counter() - start
