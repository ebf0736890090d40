"""The one way the window runs background work: WorkerThread and LatestRunner (pytest-qt)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from pytestqt.qtbot import QtBot

from studio.errors import StudioError
from studio.ui.workers.threads import Job, LatestRunner, WorkerThread

UI = Path(__file__).resolve().parents[3] / "studio" / "ui"
TIMEOUT = 10_000


class Blocker(QObject):
    """A one-job worker that waits for ``release`` (or a stop) before it reports."""

    sig_done = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()
        self.ran_on: QThread | None = None

    @Slot()
    def run(self) -> None:
        self.ran_on = QThread.currentThread()
        self.started.set()
        self.release.wait(TIMEOUT / 1000)
        self.sig_done.emit("done")


def _one_shot(parent: QObject | None = None) -> tuple[Blocker, WorkerThread[Blocker]]:
    worker = Blocker()
    thread = WorkerThread(
        worker,
        "test_thread",
        parent,
        entry=worker.run,
        quit_on=(worker.sig_done,),
        on_stop=worker.release.set,
    )
    return worker, thread


def test_nothing_else_in_the_window_constructs_a_qthread() -> None:
    pattern = re.compile(r"\bQThread\(")
    offenders = [
        f"{path.relative_to(UI)}:{number}"
        for path in sorted(UI.rglob("*.py"))
        if path.name != "threads.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == [], f"QThread constructed outside studio/ui/workers/threads.py: {offenders}"


def test_a_one_shot_worker_runs_off_the_gui_thread_and_everything_is_deleted(
    qtbot: QtBot,
) -> None:
    worker, thread = _one_shot()
    got: list[str] = []
    worker.sig_done.connect(got.append)
    worker.release.set()
    with qtbot.waitSignal(thread.sig_finished, timeout=TIMEOUT):
        thread.start()
        assert thread.is_running()
    assert got == ["done"]  # the worker's last signal arrives before sig_finished
    assert worker.ran_on is not None and worker.ran_on is not QThread.currentThread()
    assert thread.is_done() and not thread.is_running() and thread.worker is None
    # back on the GUI thread as its thread ended, then deleted there (deleteLater)
    qtbot.waitUntil(lambda: not shiboken6.isValid(worker), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not shiboken6.isValid(thread), timeout=TIMEOUT)  # deleteLater
    assert thread.shutdown()  # idempotent, even gone


class Receiver(QObject):
    """Collects a worker's reports on the GUI thread (its slot runs where it lives)."""

    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[str, bool]] = []

    @Slot(str)
    def on_done(self, text: str) -> None:
        self.got.append((text, QThread.currentThread() is self.thread()))


def test_a_deferred_start_misses_no_signal(qtbot: QtBot) -> None:
    worker, thread = _one_shot()
    worker.release.set()
    thread.start(deferred=True)
    assert not worker.started.is_set()  # nothing runs before the event loop does
    receiver = Receiver()
    worker.sig_done.connect(receiver.on_done)  # connected after start(): still arrives
    with qtbot.waitSignal(thread.sig_finished, timeout=TIMEOUT):
        pass
    assert receiver.got == [("done", True)]  # on the GUI thread


def test_shutdown_before_the_start_runs_nothing(qtbot: QtBot) -> None:
    worker, thread = _one_shot()
    finished: list[bool] = []
    thread.sig_finished.connect(lambda: finished.append(True))
    thread.start(deferred=True)
    assert thread.shutdown() and thread.shutdown()
    assert finished == [True] and thread.is_done()
    QCoreApplication.processEvents()  # the cancelled start stays cancelled
    assert not worker.started.is_set()


def test_shutdown_asks_the_worker_to_stop_and_waits(qtbot: QtBot) -> None:
    worker, thread = _one_shot()
    thread.start()
    assert worker.started.wait(TIMEOUT / 1000)
    assert thread.shutdown()  # on_stop releases the worker; the wait has no bound
    assert worker.release.is_set() and thread.is_done()
    assert thread.shutdown()


def test_a_bounded_shutdown_hands_a_running_thread_to_the_application(qtbot: QtBot) -> None:
    owner = QObject()
    worker = Blocker()
    thread = WorkerThread(
        worker, "stubborn_thread", owner, entry=worker.run, quit_on=(worker.sig_done,)
    )
    thread.start()
    assert worker.started.wait(TIMEOUT / 1000)
    assert not thread.shutdown(timeout_ms=20)  # no on_stop: the worker ignores the request
    assert thread.parent() is QCoreApplication.instance() and thread.is_running()
    shiboken6.delete(owner)  # the owner goes; the running thread must not go with it
    with qtbot.waitSignal(thread.sig_finished, timeout=TIMEOUT):
        worker.release.set()
    assert thread.is_done()


def test_deleting_the_owner_stops_and_waits_for_the_thread(qtbot: QtBot) -> None:
    owner = QObject()
    worker, thread = _one_shot(owner)
    thread.start()
    assert worker.started.wait(TIMEOUT / 1000)
    shiboken6.delete(owner)  # no shutdown(): a running thread destroyed would abort
    assert worker.release.is_set()  # on_stop ran, then the thread was waited for
    assert not shiboken6.isValid(thread)


# --------------------------------------------------------------------------- newest wins


def test_the_newest_request_wins_and_partial_results_of_stale_ones_are_dropped(
    qtbot: QtBot,
) -> None:
    runner = LatestRunner("testRunner")
    first_running, release = threading.Event(), threading.Event()
    jobs: list[Job] = []
    partials: list[object] = []
    results: list[object] = []
    busy: list[bool] = []
    runner.sig_partial.connect(partials.append)
    runner.sig_result.connect(results.append)
    runner.sig_busy.connect(busy.append)

    def slow(job: Job) -> str:
        jobs.append(job)
        job.partial("first: started")
        first_running.set()
        release.wait(TIMEOUT / 1000)
        job.partial("first: late")  # stale by now: never delivered
        return "first"

    def fast(job: Job) -> str:
        jobs.append(job)
        job.partial("second: started")
        return "second"

    try:
        first = runner.submit_job(slow)
        qtbot.waitUntil(lambda: partials == ["first: started"], timeout=TIMEOUT)
        assert first_running.is_set() and runner.current_id() == first
        with qtbot.waitSignal(runner.sig_result, timeout=TIMEOUT) as got:
            second = runner.submit_job(fast)
            assert jobs[0].is_cancelled()  # the running request was told to stop
            release.set()
        assert got.args == ["second"] and results == ["second"]
        assert partials == ["first: started", "second: started"]
        assert [job.request_id for job in jobs] == [first, second]
        assert busy == [True, False] and not runner.is_busy()
    finally:
        release.set()
        runner.shutdown()


def test_cancel_reports_at_once_and_drops_the_late_result(qtbot: QtBot) -> None:
    runner = LatestRunner("testRunner")
    running, release = threading.Event(), threading.Event()
    results: list[object] = []
    runner.sig_result.connect(results.append)

    def work(job: Job) -> str:
        running.set()
        release.wait(TIMEOUT / 1000)
        return "late"

    try:
        cancel = threading.Event()
        runner.submit_job(work, cancel=cancel)
        assert running.wait(TIMEOUT / 1000)
        with qtbot.waitSignal(runner.sig_cancelled, timeout=100):
            assert runner.cancel()
        assert cancel.is_set() and not runner.is_busy() and not runner.cancel()
        release.set()
        with qtbot.waitSignal(runner.sig_result, timeout=TIMEOUT):
            runner.submit(lambda: "next")  # runs after the cancelled one has returned
        assert results == ["next"]
    finally:
        release.set()
        runner.shutdown()
        runner.shutdown()


@pytest.mark.parametrize(
    ("error", "message", "has_details"),
    [
        (StudioError("no such file"), "no such file", False),
        (ValueError("boom"), "unexpected error: ValueError: boom", True),
    ],
    ids=["studio-error", "unexpected"],
)
def test_errors_carry_a_message_and_the_traceback_when_unexpected(
    qtbot: QtBot, error: Exception, message: str, has_details: bool
) -> None:
    runner = LatestRunner("testRunner")

    def fail() -> None:
        raise error

    try:
        with qtbot.waitSignal(runner.sig_error, timeout=TIMEOUT) as got:
            runner.submit(fail)
        assert got.args[0] == message
        assert ("Traceback" in got.args[1]) is has_details
    finally:
        runner.shutdown()
