"""What a study tells its listeners: the trial records and the :class:`TuneCallback` hooks.

The window's Tune view and the CLI's trial lines both subclass :class:`TuneCallback`. Hooks
run on the thread that runs the study (the window adapts them to signals); keep them cheap.
Pure Python: no torch, numpy or Optuna.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from studio.engine.tune.budget import Budget

if TYPE_CHECKING:
    from studio.config import StudioConfig

__all__ = ["StudyResult", "StudyStart", "TrialRecord", "TrialStateName", "TuneCallback"]

#: complete: trained and scored; pruned: stopped early by the pruner (scored by its last
#: epoch); skipped: over ``max_params``, never trained, not counted; failed: training raised
#: an error (for example a NaN loss); stopped: interrupted (Stop, the time budget, a killed
#: process), not counted; running / waiting: in progress or queued. In Optuna's storage
#: skipped and stopped trials are FAIL with the user attribute ``outcome`` saying which.
TrialStateName = Literal["complete", "pruned", "skipped", "failed", "stopped", "running", "waiting"]

#: the states a trials budget counts
COUNTED_STATES: frozenset[str] = frozenset({"complete", "pruned", "failed"})


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a study as stored: its parameters, state, score and curve."""

    number: int
    state: TrialStateName
    params: dict[str, Any]
    score: float | None = None  # the objective on validation (a pruned trial: last epoch's)
    curve: tuple[float, ...] = ()  # the objective after each epoch
    seconds: float | None = None
    parameters: int | None = None  # the model's parameter count
    message: str = ""  # why it was skipped, failed or stopped
    base: bool = False  # the base config's own values (the study's first trial)

    @property
    def counted(self) -> bool:
        """Whether it counts towards a trials budget."""
        return self.state in COUNTED_STATES


@dataclass(frozen=True)
class StudyStart:
    """Before the first new trial: the study and the trials it already holds."""

    study_dir: Path
    objective: str
    direction: str  # "maximize" | "minimize"
    budget: Budget
    trials: list[TrialRecord] = field(default_factory=list)
    device: str = "cpu"


@dataclass(frozen=True)
class StudyResult:
    """A tuning session's outcome (the whole study's trials, this session's and earlier)."""

    study_dir: Path
    objective: str
    direction: str
    trials: list[TrialRecord]
    best: TrialRecord | None
    best_config: StudioConfig | None
    base_config: StudioConfig
    ended_by: str  # "trials" | "time" | "stop" | "skipped"
    seconds: float  # this session's
    best_path: Path  # best.toml in the study folder (written once a trial completes)


class TuneCallback:
    """Override the hooks you need; every one is called on the study's thread."""

    def on_study_start(self, info: StudyStart) -> None:
        """After the data is prepared, before the session's first trial."""

    def on_trial_start(self, trial_number: int, params: dict[str, Any]) -> None:
        """A trial begins with these parameters (``section.field -> value``)."""

    def on_trial_epoch(self, trial_number: int, epoch: int, score: float) -> None:
        """A trial's epoch ended with this validation score (its curve, live)."""

    def on_trial_end(self, trial: TrialRecord) -> None:
        """A trial ended: complete, pruned, skipped, failed or stopped."""

    def on_best(self, trial_number: int, score: float, config: StudioConfig) -> None:
        """A trial beat every earlier one; ``config`` (saved as best.toml) reproduces it.

        Called just before that trial's :meth:`on_trial_end`.
        """

    def on_notice(self, message: str) -> None:
        """Something the user should know (one line), e.g. an interrupted trial marked."""

    def on_study_end(self, result: StudyResult) -> None:
        """After the session's last trial (also when stopped)."""
