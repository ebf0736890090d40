"""The process worker: a run as a ``studio train`` subprocess (one process or ``--nproc N``).

Runs of several processes (CPU processes over gloo, or several GPUs over NCCL) cannot train
inside the window, and a single-device run trains faster outside it and leaves the window
responsive (the measurements are in the README's Performance section):
:class:`ProcessWorker` starts the CLI (:mod:`studio.ui.workers.train_command`) with
:class:`QProcess` and follows the run folder's
``metrics.jsonl`` on a timer, turning its records into the same signals and payloads
(:mod:`studio.ui.workers.payloads`) as the thread worker (``workers.training.TrainWorker``).
It talks to the engine only through files and the command line:

* the config goes in as a TOML file (``--config``), the run folder is chosen here
  (``--run-dir``, an empty folder named like every run) and rank 0 fills it;
* progress comes back through ``metrics.jsonl`` (read with :class:`MetricsTail`, never
  blocking) and the exit status: 0 = finished or stopped, 2 = a user error with one
  ``studio: error:`` line on stderr, anything else a crash (the stderr tail is the details);
* a single process also writes each epoch's validation predictions (``--live-predictions``),
  which reach the evaluation view with the epoch (:mod:`studio.ui.workers.child_epochs`);
  Pause creates ``<run dir>/PAUSE`` and Resume removes it;
* Stop creates ``<run dir>/STOP``, which every rank obeys after its current step. Should the
  launch still run some seconds later it gets SIGTERM (the launcher passes it on to the
  ranks), and then every process of its tree gets SIGKILL
  (:mod:`studio.ui.workers.process_tree`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal, Slot

from studio.config import StudioConfig, save_config
from studio.errors import StudioError
from studio.ui.workers.child_epochs import ChildEpochs
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.payloads import EpochDone, RunFailed, RunFinished, RunStarted, StepsBatch
from studio.ui.workers.process_tree import kill_tree, process_tree
from studio.ui.workers.train_command import CommandFactory, build_train_command

if TYPE_CHECKING:
    from studio.engine.runs.tail import MetricsTail

__all__ = ["ProcessWorker"]

#: The line prefix of a user error on the child's stderr (the CLI's exit status 2).
ERROR_PREFIX: Final = "studio: error: "
#: Bytes of the child's stderr (and stdout) kept for the error details.
TAIL_BYTES: Final = 64 << 10
#: Bytes of metrics.jsonl read per timer tick; a backlog follows in later ticks.
READ_SLICE_BYTES: Final = 1 << 20
#: After the ``end`` record the processes have this long to exit before they are stopped.
TEARDOWN_MS: Final = 30_000


class ProcessWorker(QObject):
    """Runs one distributed training run in a subprocess; lives in the GUI thread.

    Same signals and payloads as the thread worker. Call :meth:`start`; connect to the
    signals before control returns to the event loop (the launch happens from it).
    """

    sig_started = Signal(object)
    """The run began (its ``start`` record + ``run.json``): a ``RunStarted``."""
    sig_update = Signal(object)
    """At most ``max_rate_hz`` a second: a ``StepsBatch`` (or one with only a notice)."""
    sig_epoch = Signal(object)
    """An epoch ended: its ``epoch`` record as an ``EpochDone`` (with the validation
    predictions when one process trains)."""
    sig_finished = Signal(object)
    """Training ended normally or was stopped: a ``RunFinished`` (from the ``end`` record)."""
    sig_failed = Signal(object)
    """Training failed: a ``RunFailed`` (one line for the user; details: the stderr tail)."""
    sig_done = Signal()
    """The processes are gone and the worker cleaned up (after sig_finished / sig_failed)."""

    def __init__(
        self,
        config: StudioConfig,
        selection: DeviceSelection,
        runs_dir: str | None = None,
        command_factory: CommandFactory = build_train_command,
        *,
        max_rate_hz: float = 20.0,
        poll_ms: int = 100,
        stop_grace_ms: int = 15_000,
        kill_grace_ms: int = 5_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.selection = selection
        self.runs_dir = runs_dir
        self.command_factory = command_factory
        self.max_rate_hz = max_rate_hz
        self.stop_grace_ms = stop_grace_ms
        self.kill_grace_ms = kill_grace_ms
        self.run_dir: Path | None = None
        self.process: QProcess | None = None
        self._tmp: Path | None = None
        self._tail: MetricsTail | None = None
        self._stderr = bytearray()
        self._stdout = bytearray()
        self._stop_requested = False
        self._paused = False
        self._live: ChildEpochs | None = None
        self._done = False
        self._tree: dict[int, int] = {}  # pid -> start time, remembered at terminate()
        # what the records said so far
        self._started = False
        self._total_steps = 1
        self._epochs_planned = 1
        self._steps_per_epoch = 1
        self._docs_per_step = 0.0
        self._first: tuple[float, float] | None = None  # (step, time) of the first step
        self._rows: list[tuple[float, float, float, float]] = []
        self._latest = StepsBatch(steps=_rows_array([]))  # the position so far
        self._last_emit = 0.0
        self._epochs: list[EpochDone] = []
        self._end: RunFinished | None = None
        self._error_record = ""

        self._launch_timer = self._timer(0, self._launch)
        self._poll = self._timer(poll_ms, self._on_poll, single=False)
        self._stop_timer = self._timer(stop_grace_ms, self.terminate)
        self._kill_timer = self._timer(kill_grace_ms, self.kill)
        self._teardown_timer = self._timer(TEARDOWN_MS, self.terminate)

    def _timer(self, ms: int, slot: Callable[[], None], single: bool = True) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(single)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # -- control (GUI thread) ----------------------------------------------------------
    def start(self) -> None:
        """Launch from the event loop, so the caller can connect the signals first."""
        self._launch_timer.start()

    @property
    def can_pause(self) -> bool:
        """Only a single process pauses (ranks of a launch must stay in step)."""
        return not self.selection.distributed

    @property
    def is_paused(self) -> bool:
        return self._paused

    def pause(self, paused: bool = True) -> None:
        """Create ``PAUSE`` in the run folder (the run waits before its next step), or with
        ``paused=False`` remove it (the run goes on)."""
        if not self.can_pause or self.run_dir is None or self._done:
            return
        from studio.engine.runs.layout import PAUSE_FILE  # torch-free

        path = self.run_dir / PAUSE_FILE
        with contextlib.suppress(OSError):
            path.touch() if paused else path.unlink(missing_ok=True)
            self._paused = paused

    def is_alive(self) -> bool:
        """Whether the launched process is still running."""
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    @Slot()
    def request_stop(self) -> None:
        """Create ``STOP`` in the run folder; SIGTERM follows if the run outlives the grace."""
        if self._stop_requested or self._done:
            return
        self._stop_requested = True
        if self._launch_timer.isActive():  # not launched yet: nothing to stop
            self._end_run()
            return
        if self.run_dir is not None:
            from studio.engine.runs.layout import STOP_FILE  # torch-free

            try:
                (self.run_dir / STOP_FILE).touch()
            except OSError:
                self.terminate()
                return
        if self.is_alive():
            self._stop_timer.start()

    @Slot()
    def terminate(self) -> None:
        """SIGTERM to the launcher (it stops its ranks); SIGKILL to the tree if that fails."""
        if not self.is_alive() or self.process is None:
            return
        pid = int(self.process.processId())
        if pid > 0:
            self._tree = {**process_tree(pid), **self._tree}
        self.process.terminate()
        if not self._kill_timer.isActive():
            self._kill_timer.start()

    @Slot()
    def kill(self) -> None:
        """SIGKILL the launcher and every process under it (remembered or found now)."""
        if self.process is None:
            return
        if sys.platform == "win32":  # pragma: no cover - no process tree there
            self.process.kill()
            return
        pid = int(self.process.processId())
        if pid > 0 and self.is_alive():
            self._tree = {**process_tree(pid), **self._tree}
        kill_tree(self._tree)

    def wait(self, msecs: int) -> bool:
        """Block up to ``msecs`` for the process to exit (shutdown only); True when gone."""
        if not self.is_alive() or self.process is None:
            return True
        return bool(self.process.waitForFinished(msecs)) or not self.is_alive()

    # -- launching ---------------------------------------------------------------------
    @Slot()
    def _launch(self) -> None:
        try:
            from studio.engine.runs.layout import METRICS_FILE, create_run_dir, default_runs_dir
            from studio.engine.runs.tail import MetricsTail

            runs = Path(self.runs_dir) if self.runs_dir else default_runs_dir()
            self.run_dir = create_run_dir(runs, self.config.data.path)
            self._tmp = Path(tempfile.mkdtemp(prefix="studio-launch-"))
            config_path = self._tmp / "config.toml"
            save_config(self.config, config_path)
            command = self.command_factory(config_path, self.selection, self.run_dir)
        except StudioError as exc:
            self._end_run(failure=(str(exc), ""))
            return
        except OSError as exc:
            self._end_run(failure=(f"cannot prepare the run: {exc.strerror or exc}", ""))
            return
        self._tail = MetricsTail(self.run_dir / METRICS_FILE)
        if not self.selection.distributed:
            self._live = ChildEpochs(self.run_dir, self.config)
        process = QProcess(self)
        process.setObjectName("training_process")
        process.setProgram(command.program)
        process.setArguments(list(command.args))
        env = QProcessEnvironment.systemEnvironment()
        for key, value in command.env.items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.setStandardInputFile(QProcess.nullDevice())
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.errorOccurred.connect(self._on_error)
        process.finished.connect(self._on_finished)
        self.process = process
        process.start()
        self._poll.start()

    # -- following ---------------------------------------------------------------------
    @Slot()
    def _read_stdout(self) -> None:
        if self.process is not None:
            self._keep(self._stdout, bytes(self.process.readAllStandardOutput().data()))

    @Slot()
    def _read_stderr(self) -> None:
        if self.process is not None:
            self._keep(self._stderr, bytes(self.process.readAllStandardError().data()))

    @staticmethod
    def _keep(buffer: bytearray, data: bytes) -> None:
        buffer += data
        if len(buffer) > TAIL_BYTES:
            del buffer[: len(buffer) - TAIL_BYTES]

    @Slot()
    def _on_poll(self) -> None:
        self._read_records(drain=False)
        if self._live is not None:
            self._emit_epochs(self._live.ready())

    def _emit_epochs(self, epochs: list[EpochDone]) -> None:
        for epoch in epochs:
            self.sig_epoch.emit(epoch)

    def _read_records(self, drain: bool) -> None:
        tail = self._tail
        if tail is None:
            return
        while True:
            for record in tail.read_new(max_bytes=READ_SLICE_BYTES):
                self._handle(record)
            if not drain or tail.at_end():
                break
        if self._rows and (
            drain or time.monotonic() - self._last_emit >= 1.0 / max(self.max_rate_hz, 1e-3)
        ):
            self._flush()

    def _handle(self, r: dict[str, Any]) -> None:
        kind = r.get("type")
        if kind in ("start", "resume"):
            self._on_start_record(r)
        elif kind == "step":
            self._on_step_record(r)
        elif kind == "epoch":
            self._flush()
            wall = float(r.get("time", 0.0) or 0.0)
            record = EpochDone.from_record(r, wall=wall, run_dir=self.run_dir)
            self._epochs.append(record)
            self._emit_epochs([record] if self._live is None else self._live.add(record))
        elif kind == "notice":
            self._flush()
            notice = str(r.get("message", ""))
            self.sig_update.emit(StepsBatch(steps=_rows_array([]), notice=notice))
        elif kind == "end":
            self._end = RunFinished.from_record({"run_dir": str(self.run_dir), **r})
            if self.is_alive():
                self._teardown_timer.start()
        elif kind == "error":
            self._error_record = str(r.get("message", ""))

    def _on_start_record(self, r: dict[str, Any]) -> None:
        if self._started:
            return
        self._started = True
        meta = self._run_meta()
        self._total_steps = max(int(r.get("total_steps", 1) or 1), 1)
        self._epochs_planned = max(int(r.get("epochs", 1) or 1), 1)
        self._steps_per_epoch = max(math.ceil(self._total_steps / self._epochs_planned), 1)
        n_train = int(meta.get("n_train", 0) or 0)
        if not meta.get("n_valid"):
            self._live = None  # no validation split: no predictions to wait for
        self._docs_per_step = n_train / self._steps_per_epoch
        parameters = meta.get("parameters")
        started = RunStarted(
            n_train=n_train,
            n_valid=int(meta.get("n_valid", 0) or 0),
            steps_per_epoch=self._steps_per_epoch,
            total_steps=self._total_steps,
            epochs=self._epochs_planned,
            device=self.selection.describe(),
            vocab_size=self._vocab_size(meta),
            parameters=parameters if isinstance(parameters, int) else None,
            run_dir=str(self.run_dir),
            nproc=self.selection.nproc,
        )
        self.sig_started.emit(started)

    def _on_step_record(self, r: dict[str, Any]) -> None:
        try:
            step = float(r["step"])
            wall = float(r.get("time", 0.0) or 0.0)
            loss = float(r["loss"]) if r.get("loss") is not None else math.nan
        except (KeyError, TypeError, ValueError):
            return
        self._rows.append((step, step / self._steps_per_epoch, wall, loss))
        latest = StepsBatch(
            steps=self._latest.steps,
            step=int(step),
            total_steps=self._total_steps,
            epoch=int(r.get("epoch", 0) or 0),
        )
        if self._first is None:
            self._first = (step, wall)
        first_step, first_wall = self._first
        if self._docs_per_step > 0 and step > first_step and wall > first_wall:
            seconds_per_step = (wall - first_wall) / (step - first_step)
            latest = dataclasses.replace(
                latest,
                docs_per_second=self._docs_per_step / seconds_per_step,
                elapsed=wall,
                eta=max(self._total_steps - step, 0.0) * seconds_per_step,
            )
        self._latest = latest

    def _flush(self) -> None:
        if not self._rows:
            return
        rows = _rows_array(self._rows)
        self._rows = []
        self._last_emit = time.monotonic()
        self.sig_update.emit(dataclasses.replace(self._latest, steps=rows))

    def _run_meta(self, name: str = "run.json") -> dict[str, Any]:
        from studio.engine.runs.layout import read_json

        if self.run_dir is None:
            return {}
        try:
            meta = read_json(self.run_dir / name)
        except StudioError:
            return {}
        return meta if isinstance(meta, dict) else {}

    def _vocab_size(self, meta: dict[str, Any]) -> int | None:
        """Table rows (``model.json``) less the bigram buckets: the vocabulary found."""
        settings = meta.get("settings") or {}
        rows = self._run_meta("model.json").get("num_embeddings")
        if isinstance(rows, int):
            return max(rows - int(settings.get("ngram_buckets", 0) or 0), 0)
        size = settings.get("vocab_size")
        return size if isinstance(size, int) else None

    # -- the end -----------------------------------------------------------------------
    @Slot(QProcess.ProcessError)
    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self.process is not None:
            message = f"cannot start the training process: {self.process.errorString()}"
            self._end_run(failure=(message, ""))

    @Slot(int, QProcess.ExitStatus)
    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self._tree and sys.platform != "win32":
            kill_tree(self._tree)  # ranks that outlived the launcher we terminated
        self._read_stdout()
        self._read_stderr()
        self._read_records(drain=True)
        crashed = status == QProcess.ExitStatus.CrashExit
        if self._end is not None or self._stop_requested or (code == 0 and not crashed):
            self._end_run()  # a run that saved its end, was stopped, or exited cleanly
        else:
            self._end_run(failure=self._describe_failure(code, crashed))

    def _describe_failure(self, code: int, crashed: bool) -> tuple[str, str]:
        text = self._stderr.decode("utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
        if errors:
            return errors[-1][len(ERROR_PREFIX) :], text if code != 2 else ""
        how = "crashed" if crashed else f"exited with status {code}"
        last = self._error_record or (lines[-1] if lines else "")
        message = f"the training process {how}" + (f": {last}" if last else "")
        details = text or self._stdout.decode("utf-8", errors="replace") or message
        return message, details

    def _end_run(self, failure: tuple[str, str] | None = None) -> None:
        """Emit the one terminal signal, clean up, then ``sig_done`` (once)."""
        if self._done:
            return
        self._done = True
        for timer in (
            self._launch_timer, self._poll, self._stop_timer, self._kill_timer,
            self._teardown_timer,
        ):  # fmt: skip
            timer.stop()
        self._flush()
        if self._live is not None:
            self._emit_epochs(self._live.drain())
        run_dir = self._cleanup_files()
        if failure is not None:
            self.sig_failed.emit(RunFailed(*failure))
        elif self._end is not None:
            self.sig_finished.emit(self._end)
        else:
            status = "stopped" if self._stop_requested else "finished"
            meta_summary = self._run_meta().get("summary") if run_dir else None
            if isinstance(meta_summary, dict) and meta_summary.get("status"):
                self.sig_finished.emit(
                    RunFinished.from_record({**meta_summary, "run_dir": run_dir})
                )
            else:
                self.sig_finished.emit(RunFinished.from_epochs(status, run_dir, self._epochs))
        self.sig_done.emit()

    def _cleanup_files(self) -> str | None:
        """Remove STOP, the launch folder, and a run folder left empty; the run folder or None."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self.run_dir is None:
            return None
        from studio.engine.runs.layout import REQUEST_FILES  # torch-free
        from studio.engine.runs.live import remove_live

        for name in REQUEST_FILES:
            with contextlib.suppress(OSError):
                (self.run_dir / name).unlink(missing_ok=True)
        remove_live(self.run_dir)
        with contextlib.suppress(OSError):
            if not any(self.run_dir.iterdir()):
                self.run_dir.rmdir()
        return str(self.run_dir) if self.run_dir.is_dir() else None


def _rows_array(rows: list[tuple[float, float, float, float]]) -> Any:
    import numpy as np

    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)
