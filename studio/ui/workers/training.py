"""The training worker: a QObject on a worker thread that runs the engine's ``train_run``.

The engine talks to the window only through a callback (on the training thread) that
batches step events and emits at most ``max_rate_hz`` update signals per second, however
fast training runs, plus one signal per epoch; every signal carries one of the payloads of
:mod:`studio.ui.workers.payloads`. Stop and pause go through the engine's
:class:`TrainControl` (thread-safe events), never through Qt. The thread itself is a
:class:`~studio.ui.workers.threads.WorkerThread`.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.config import StudioConfig
from studio.errors import StudioError
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.payloads import (
    EpochDone,
    EpochPredictions,
    RunFailed,
    RunFinished,
    RunStarted,
    StepsBatch,
)
from studio.ui.workers.process import ProcessWorker
from studio.ui.workers.threads import WorkerThread
from studio.ui.workers.train_command import CommandFactory, build_train_command

if TYPE_CHECKING:
    from studio.engine.train.context import FitContext
    from studio.engine.train.control import TrainControl
    from studio.engine.train.events import FitStart


def _run_started(info: FitStart, run_dir: str | None) -> RunStarted:
    return RunStarted(
        n_train=info.n_train,
        n_valid=info.n_valid,
        steps_per_epoch=info.steps_per_epoch,
        total_steps=info.total_steps,
        epochs=info.epochs,
        device=info.device,
        vocab_size=info.vocab_size,
        parameters=info.parameters,
        run_dir=None if run_dir is None else str(run_dir),
    )


def _predictions(ctx: FitContext) -> EpochPredictions | None:
    """The validation predictions after an epoch: read-only arrays the evaluation view
    builds its report from (None when the epoch did not validate)."""
    import numpy as np

    if ctx.val_probs is None or ctx.prepared is None or ctx.valid_docs is None:
        return None
    return EpochPredictions(
        probs=ctx.val_probs,
        y_true=np.asarray(ctx.prepared.targets[ctx.valid_docs]),
        doc_ids=ctx.valid_docs,
        label_names=tuple(ctx.label_names),
        multi_label=ctx.multi_label,
        prepared=ctx.prepared,
    )


def _make_bridge(worker: TrainWorker, max_rate_hz: float) -> Any:
    """The engine callback that turns events into throttled Qt signals (runs in the worker)."""
    import numpy as np
    import torch

    from studio.engine.train.events import Callback, EpochEnd, FitResult, StepEnd

    class SignalBridge(Callback):
        def __init__(self) -> None:
            self.interval = 1.0 / max_rate_hz
            self.rows: list[tuple[float, float, float, float]] = []
            self.last_emit = 0.0
            self.steps_per_epoch = 1
            self.total_steps = 1
            self.t0 = time.perf_counter()
            self.latest = StepsBatch(steps=np.zeros((0, 4)))  # the position so far

        def _flush(self) -> None:
            rows = np.asarray(self.rows, dtype=np.float64).reshape(-1, 4)
            self.rows = []
            self.last_emit = time.perf_counter()
            worker.sig_update.emit(dataclasses.replace(self.latest, steps=rows))

        def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
            self.steps_per_epoch = info.steps_per_epoch
            self.total_steps = info.total_steps
            self.cuda = ctx.device.type == "cuda"
            worker.sig_started.emit(_run_started(info, ctx.run_dir))

        def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
            epoch_f = event.step / self.steps_per_epoch
            self.rows.append((event.step, epoch_f, time.perf_counter() - self.t0, event.loss))
            if time.perf_counter() - self.last_emit < self.interval:
                return
            self.latest = StepsBatch(
                steps=self.latest.steps,
                step=event.step,
                total_steps=self.total_steps,
                epoch=event.epoch,
                docs_per_second=event.docs_per_second,
                elapsed=event.elapsed,
                eta=event.eta,
                gpu_memory=torch.cuda.memory_allocated(ctx.device) if self.cuda else None,
            )
            self._flush()

        def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
            self._flush()
            done = EpochDone.from_record(
                dataclasses.asdict(event),
                wall=time.perf_counter() - self.t0,
                run_dir=ctx.run_dir,
                predictions=_predictions(ctx),
            )
            worker.sig_epoch.emit(done)

        def on_notice(self, ctx: FitContext, message: str) -> None:
            worker.sig_update.emit(
                dataclasses.replace(self.latest, steps=np.zeros((0, 4)), notice=message)
            )

        def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
            if self.rows:
                self._flush()

    return SignalBridge()


class TrainWorker(QObject):
    """Runs one training run on a worker thread: ``run`` is its thread's entry point."""

    sig_started = Signal(object)
    """Training began: :class:`~studio.ui.workers.payloads.RunStarted`."""
    sig_update = Signal(object)
    """At most ``max_rate_hz`` a second: :class:`~studio.ui.workers.payloads.StepsBatch`."""
    sig_epoch = Signal(object)
    """An epoch ended: :class:`~studio.ui.workers.payloads.EpochDone` (with predictions)."""
    sig_finished = Signal(object)
    """Training ended normally or was stopped: :class:`~studio.ui.workers.payloads.RunFinished`."""
    sig_failed = Signal(object)
    """Training failed: :class:`~studio.ui.workers.payloads.RunFailed` (message, traceback)."""

    def __init__(
        self,
        config: StudioConfig,
        control: TrainControl,
        runs_dir: str | None = None,
        max_rate_hz: float = 20.0,
        resume_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.config = config  # frozen: safe to read from the worker thread
        self.control = control
        self.runs_dir = runs_dir
        self.max_rate_hz = max_rate_hz
        self.resume_dir = resume_dir
        """A run folder to continue from its last checkpoint instead of a new run."""

    @Slot()
    def run(self) -> None:
        try:
            from studio.engine.train.session import resume_run, train_run

            bridge = _make_bridge(self, self.max_rate_hz)
            if self.resume_dir is not None:
                result = resume_run(self.resume_dir, [bridge], self.control)
            else:
                result = train_run(self.config, [bridge], self.control, runs_dir=self.runs_dir)
            self.sig_finished.emit(RunFinished.from_record(result.summary()))
        except StudioError as exc:
            self.sig_failed.emit(RunFailed(str(exc)))
        except Exception as exc:
            self.sig_failed.emit(RunFailed(_describe(exc), traceback.format_exc()))


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    if "OutOfMemory" in name:
        return "out of memory: lower the batch size or the embedding size"
    return f"unexpected error: {name}: {exc}"


class TrainingController(QObject):
    """Owns the run: start, pause/resume, stop, and a clean shutdown.

    A run trains in a child process (:class:`studio.ui.workers.process.ProcessWorker`): one
    ``studio train`` process, or a distributed launch of several. A resumed run, or any run
    when :attr:`child_runs` is False, trains on a worker thread of this process
    (:class:`TrainWorker`). Both workers have the same signals, with the same payloads.
    """

    sig_running = Signal(bool)
    """True when a run starts, False when its thread or process has finished."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run: WorkerThread[TrainWorker] | None = None
        self._control: TrainControl | None = None
        self._process: ProcessWorker | None = None
        self.command_factory: CommandFactory = build_train_command
        """What a child run starts (tests substitute a fake child)."""
        self.child_runs = True
        """Train single-device runs in a child process. Chosen by measurement
        (``tests/bench/bench_window.py``, 2 cores, medians): on the man pages the child
        trained at 0.84x the CLI's docs/s against the thread's 0.76x, with the GUI timer's
        p95 lateness 5.9 ms against 36.5 ms; on the Debian descriptions at 0.90x against
        0.85x, p95 4.3 ms against 9.6 ms. Painting no longer holds the training's GIL."""
        self.stop_grace_ms = 15_000
        """After Stop, how long a distributed run may take before it gets SIGTERM."""
        self.shutdown_timeout_ms = 5000
        """How long :meth:`shutdown` waits for the run to stop before forcing it."""

    @property
    def worker(self) -> TrainWorker | ProcessWorker | None:
        if self._process is not None:
            return self._process
        return None if self._run is None else self._run.worker

    def is_running(self) -> bool:
        return self._run is not None or self._process is not None

    def is_distributed(self) -> bool:
        """Whether the current run is a multi-process launch."""
        return self._process is not None and self._process.selection.distributed

    def can_pause(self) -> bool:
        """A run of one process can pause (ranks of a launch must stay in step)."""
        return self._run is not None or (self._process is not None and self._process.can_pause)

    def is_paused(self) -> bool:
        if self._process is not None:
            return self._process.is_paused
        return self._control is not None and self._control.paused

    def start(
        self,
        config: StudioConfig,
        runs_dir: str | None = None,
        selection: DeviceSelection | None = None,
        resume_dir: str | None = None,
    ) -> TrainWorker | ProcessWorker:
        """Start a run; connect to the returned worker's signals before control returns
        to the event loop (the run begins from there, so no signal is missed).

        ``selection`` with more than one process starts a distributed launch; one process
        trains in a child process too, or with :attr:`child_runs` off on a worker thread of
        this process. ``resume_dir`` continues that run (``config`` is its own) on a worker
        thread, whatever ``selection`` says.
        """
        if self.is_running():
            raise RuntimeError("a run is already in progress")
        selection = selection or DeviceSelection(config.device.device)
        if resume_dir is None and (selection.distributed or self.child_runs):
            return self._start_process(config, runs_dir, selection)
        from studio.engine.train.control import TrainControl  # torch-free module

        control = self._control = TrainControl()
        worker = TrainWorker(config, control, runs_dir, resume_dir=resume_dir)
        run = WorkerThread(
            worker,
            "training_thread",
            self,
            entry=worker.run,
            quit_on=(worker.sig_finished, worker.sig_failed),
            on_stop=control.request_stop,
        )
        run.sig_finished.connect(self._on_thread_finished)
        self._run = run
        run.start(deferred=True)  # from the event loop: the caller connects to the worker first
        self.sig_running.emit(True)
        return worker

    def _start_process(
        self, config: StudioConfig, runs_dir: str | None, selection: DeviceSelection
    ) -> ProcessWorker:
        worker = ProcessWorker(
            config,
            selection,
            runs_dir,
            self.command_factory,
            stop_grace_ms=self.stop_grace_ms,
            parent=self,
        )
        worker.setObjectName("process_worker")
        worker.sig_done.connect(self._on_process_done)
        self._process = worker
        worker.start()  # launches from the event loop, after the caller has connected
        self.sig_running.emit(True)
        return worker

    @Slot()
    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()
        if self._process is not None:
            self._process.pause()

    @Slot()
    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()
        if self._process is not None:
            self._process.pause(False)

    @Slot()
    def stop(self) -> None:
        if self._control is not None:
            self._control.request_stop()
        if self._process is not None:
            self._process.request_stop()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop the run and wait for its thread or processes; True when none is left.

        The thread gets ``timeout_ms`` to obey STOP (it is never terminated: one still
        running is waited for at exit). A distributed run gets ``timeout_ms`` to obey STOP,
        then SIGTERM and two more seconds, then every process of its tree is killed: no rank
        outlives the window.
        """
        if timeout_ms is None:
            timeout_ms = self.shutdown_timeout_ms
        if self._process is not None:
            return self._shutdown_process(self._process, timeout_ms)
        if self._run is None:
            return True
        return self._run.shutdown(timeout_ms)  # sig_finished -> _on_thread_finished

    def _shutdown_process(self, worker: ProcessWorker, timeout_ms: int) -> bool:
        worker.blockSignals(True)  # the window is closing: no results, no evaluation
        worker.request_stop()
        gone = worker.wait(timeout_ms)
        if not gone:
            worker.terminate()
            gone = worker.wait(2000)
        if not gone:
            worker.kill()
            gone = worker.wait(2000)
        if gone:
            self._on_process_done()
        return gone

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._run is None:
            return
        self._run = None
        self._control = None
        self.sig_running.emit(False)

    @Slot()
    def _on_process_done(self) -> None:
        if self._process is None:
            return
        worker, self._process = self._process, None
        worker.deleteLater()
        self.sig_running.emit(False)
