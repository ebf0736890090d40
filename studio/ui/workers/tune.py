"""The tuning worker: a QObject on a worker thread that runs the engine's ``run_study``.

The engine tells the study's progress through a :class:`~studio.engine.tune.events.TuneCallback`
on the tuning thread; the bridge here turns each hook into one Qt signal carrying a frozen
payload (a few signals per epoch: no throttling is needed). Stop goes through the engine's
:class:`TrainControl` (thread-safe), never through Qt; start, stop and shutdown are
:class:`~studio.ui.workers.stoppable.StoppableJob`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.config import StudioConfig
from studio.ui.workers.stoppable import StoppableJob, report_outcome

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl
    from studio.engine.tune.events import StudyResult, StudyStart, TrialRecord
    from studio.engine.tune.space import Param

__all__ = [
    "BestFound",
    "TrialEnded",
    "TrialEpoch",
    "TrialStarted",
    "TuneController",
    "TuneFinished",
    "TuneRequest",
    "TuneStarted",
    "TuneWorker",
]


@dataclass(frozen=True)
class TuneRequest:
    """What to tune: the base config, the objective, the budget, and where studies go."""

    base: StudioConfig
    objective: str = "accuracy"
    trials: int | None = None
    seconds: float | None = None
    runs_dir: str | None = None
    space: tuple[Param, ...] | None = None  # None: the engine's whole search space


@dataclass(frozen=True)
class TuneStarted:
    """The study is prepared: its folder, objective and the trials it already holds."""

    study_dir: str
    objective: str
    direction: str  # "maximize" | "minimize"
    budget: str  # for people: "10 trials", "5m"
    device: str
    trials: tuple[TrialRecord, ...] = ()


@dataclass(frozen=True)
class TrialStarted:
    """A trial begins with these parameters (``section.field -> value``)."""

    number: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialEpoch:
    """A trial's epoch ended with this validation score."""

    number: int
    epoch: int
    score: float


@dataclass(frozen=True)
class TrialEnded:
    """A trial ended (complete, pruned, skipped, failed or stopped)."""

    record: TrialRecord


@dataclass(frozen=True)
class BestFound:
    """A trial beat every earlier one, ``elapsed`` seconds into the session."""

    number: int
    score: float
    elapsed: float


@dataclass(frozen=True)
class TuneFinished:
    """The session ended: the best trial, its chosen values beside the defaults, best.toml."""

    study_dir: str
    objective: str
    ended_by: str  # "trials" | "time" | "stop" | "skipped"
    seconds: float
    best: TrialRecord | None
    chosen: tuple[tuple[str, Any, Any], ...]  # (parameter, chosen value, base value)
    best_path: str | None  # None until a trial completes


def _finished(result: StudyResult) -> TuneFinished:
    from studio.engine.tune.space import value_of

    best = result.best if result.best is not None and result.best.score is not None else None
    chosen = (
        ()
        if best is None
        else tuple((k, v, value_of(result.base_config, k)) for k, v in best.params.items())
    )
    path = str(result.best_path) if best is not None and result.best_path.exists() else None
    return TuneFinished(
        str(result.study_dir), result.objective, result.ended_by, result.seconds, best, chosen,
        path,
    )  # fmt: skip


def _make_bridge(worker: TuneWorker) -> Any:
    """The engine listener that turns each hook into a signal (runs on the tuning thread)."""
    from studio.engine.tune.events import TuneCallback

    class SignalBridge(TuneCallback):
        def __init__(self) -> None:
            self.t0 = time.monotonic()

        def on_study_start(self, info: StudyStart) -> None:
            worker.sig_study_started.emit(
                TuneStarted(
                    str(info.study_dir),
                    info.objective,
                    info.direction,
                    info.budget.describe(),
                    info.device,
                    tuple(info.trials),
                )
            )

        def on_trial_start(self, trial_number: int, params: dict[str, Any]) -> None:
            worker.sig_trial_started.emit(TrialStarted(trial_number, dict(params)))

        def on_trial_epoch(self, trial_number: int, epoch: int, score: float) -> None:
            worker.sig_trial_epoch.emit(TrialEpoch(trial_number, epoch, score))

        def on_trial_end(self, trial: TrialRecord) -> None:
            worker.sig_trial_ended.emit(TrialEnded(trial))

        def on_best(self, trial_number: int, score: float, config: StudioConfig) -> None:
            worker.sig_best.emit(BestFound(trial_number, score, time.monotonic() - self.t0))

        def on_notice(self, message: str) -> None:
            worker.sig_notice.emit(message)

    return SignalBridge()


class TuneWorker(QObject):
    """Creates a study and runs it on a worker thread: ``run`` is its thread's entry point."""

    sig_study_started = Signal(object)
    """The study is prepared: :class:`TuneStarted`."""
    sig_trial_started = Signal(object)
    """A trial began: :class:`TrialStarted`."""
    sig_trial_epoch = Signal(object)
    """A trial's epoch ended: :class:`TrialEpoch`."""
    sig_trial_ended = Signal(object)
    """A trial ended: :class:`TrialEnded`."""
    sig_best = Signal(object)
    """A new best trial: :class:`BestFound` (just before its :attr:`sig_trial_ended`)."""
    sig_notice = Signal(str)
    """Something the user should know (one line)."""
    sig_finished = Signal(object)
    """The session ended normally or was stopped: :class:`TuneFinished`."""
    sig_failed = Signal(object)
    """The study failed: :class:`~studio.ui.workers.payloads.RunFailed`."""

    def __init__(self, request: TuneRequest, control: TrainControl) -> None:
        super().__init__()
        self.request = request  # frozen: safe to read from the worker thread
        self.control = control

    @Slot()
    def run(self) -> None:
        report_outcome(lambda: _finished(self._run_study()), self.sig_finished, self.sig_failed)

    def _run_study(self) -> StudyResult:
        from studio.engine.tune.budget import Budget
        from studio.engine.tune.runner import run_study
        from studio.engine.tune.space import SPACE
        from studio.engine.tune.study import TuneSettings, create_study, discard_if_empty

        r = self.request
        budget = Budget(trials=r.trials, seconds=r.seconds)
        settings = TuneSettings(objective=r.objective, seed=r.base.train.seed, budget=budget)
        folder = create_study(r.base, settings, runs_dir=r.runs_dir)
        try:
            return run_study(
                folder, None, [_make_bridge(self)], self.control, space=r.space or SPACE
            )
        except BaseException:
            discard_if_empty(folder)  # failed before its first trial: leave nothing
            raise


class TuneController(StoppableJob[TuneWorker]):
    """Owns one tuning session: start, stop (ends the running trial as stopped, and the
    session with it), and a clean shutdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("tune_thread", parent)

    def start(self, request: TuneRequest) -> TuneWorker:
        """Start a session; connect to the returned worker's signals before control returns
        to the event loop (the study begins from there, so no signal is missed)."""
        return self._start_worker(
            lambda control: TuneWorker(request, control),
            lambda w: w.run,
            lambda w: (w.sig_finished, w.sig_failed),
        )
