"""A study folder: the Optuna SQLite study and the settings, base and best configs beside it.

::

    <runs>/studies/<name>/
        study.db      Optuna's RDB storage (SQLite): every trial, its parameters and curve
        study.json    the tuner's settings: objective, seed, max_params, budget
        base.toml     the config every trial starts from
        best.toml     the best complete trial's config (``studio train --config best.toml``)
        running.json  the process tuning it now (left behind by a killed one)

A study survives a crash: SQLite commits each trial's state as it changes, and resuming
marks a trial left *running* by a dead process as stopped (Optuna FAIL), keeping every
finished one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna
import psutil
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from studio.config import StudioConfig, load_config, save_config
from studio.engine.atomic import write_text_atomic
from studio.engine.runs.layout import default_runs_dir
from studio.engine.runs.status import pid_alive
from studio.engine.tune.budget import OBJECTIVES, Budget, Direction
from studio.engine.tune.events import TrialRecord, TrialStateName
from studio.errors import StudioError

__all__ = [
    "BASE_FILE",
    "BEST_FILE",
    "STUDIES_DIR",
    "STUDY_DB",
    "StudyFolder",
    "TuneSettings",
    "create_study",
    "default_studies_dir",
    "discard_if_empty",
    "load_trials",
    "resolve_study",
]

STUDIES_DIR = "studies"
STUDY_DB = "study.db"
SETTINGS_FILE = "study.json"
BASE_FILE = "base.toml"
BEST_FILE = "best.toml"
LOCK_FILE = "running.json"
STUDY_NAME = "studio"  # one Optuna study per database
SETTINGS_VERSION = 1

# trial user attributes
OUTCOME, MESSAGE, SECONDS, PARAMETERS, BASE = "outcome", "message", "seconds", "parameters", "base"


@dataclass(frozen=True)
class TuneSettings:
    """What a study optimises and how; fixed when the study is created (``budget`` aside)."""

    objective: str = "accuracy"
    seed: int = 0
    max_params: int | None = None
    budget: Budget = field(default_factory=Budget)

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise StudioError(
                f"objective: must be one of {', '.join(OBJECTIVES)}; got {self.objective!r}"
            )
        if self.max_params is not None and self.max_params < 1:
            raise StudioError(f"max_params: must be at least 1, got {self.max_params}")
        if isinstance(self.seed, bool) or not 0 <= self.seed < 2**63:
            raise StudioError(f"seed: must be between 0 and 2**63-1, got {self.seed}")

    @property
    def direction(self) -> Direction:
        return OBJECTIVES[self.objective][0]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SETTINGS_VERSION,
            "objective": self.objective,
            "seed": self.seed,
            "max_params": self.max_params,
            "budget": self.budget.to_json(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TuneSettings:
        return cls(
            objective=raw.get("objective", "accuracy"),
            seed=int(raw.get("seed", 0)),
            max_params=raw.get("max_params"),
            budget=Budget.from_json(raw.get("budget")),
        )


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's own log lines off while the tuner works; its callbacks report instead."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def default_studies_dir(runs_dir: str | Path | None = None) -> Path:
    """Where studies go: ``<runs>/studies``."""
    return (Path(runs_dir) if runs_dir else default_runs_dir()) / STUDIES_DIR


def _storage(path: Path) -> RDBStorage:
    # a reader polling the database (the window, a test) may hold it for a moment
    return RDBStorage(f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 30}})


def _absolute(config: StudioConfig) -> StudioConfig:
    """Data and vector paths made absolute, so best.toml trains from any folder."""
    data = {
        k: str(Path(v).resolve())
        for k in ("path", "valid_path", "test_path")
        if (v := getattr(config.data, k))
    }
    model = {}
    if config.model.pretrained_vectors:
        model["pretrained_vectors"] = str(Path(config.model.pretrained_vectors).resolve())
    return config.with_overrides(data=data, model=model)


def _new_folder(base: StudioConfig, runs_dir: str | Path | None) -> Path:
    parent = default_studies_dir(runs_dir)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(base.data.path).stem).strip("-.")[:40]
    name = f"{stem or 'study'}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder, n = parent / name, 1
    while folder.exists():
        n += 1
        folder = parent / f"{name}-{n}"
    return folder


def create_study(
    base: StudioConfig,
    settings: TuneSettings,
    *,
    study_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
) -> Path:
    """A new study folder (``study_dir``, or a fresh one in ``<runs>/studies``); its path."""
    if not base.data.path:
        raise StudioError("no dataset given: pass DATA or a --config with data.path")
    folder = Path(study_dir) if study_dir is not None else _new_folder(base, runs_dir)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StudioError(f"{folder}: not an empty folder; continue a study with --resume")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        base = _absolute(base)
        save_config(base, folder / BASE_FILE)
        write_text_atomic(folder / SETTINGS_FILE, json.dumps(settings.to_json(), indent=2))
        storage = _storage(folder / STUDY_DB)
    except OSError as exc:
        raise StudioError(f"{folder}: cannot create the study folder: {exc}") from None
    try:
        with quiet_optuna():
            optuna.create_study(
                study_name=STUDY_NAME, storage=storage, direction=settings.direction
            )
    finally:
        storage.engine.dispose()
    return folder


def resolve_study(study: str | Path, runs_dir: str | Path | None = None) -> Path:
    """A study folder from a path or a name in ``<runs>/studies``; StudioError if neither."""
    studies = default_studies_dir(runs_dir)
    for candidate in (Path(study), studies / str(study)):
        if (candidate / STUDY_DB).is_file() and (candidate / SETTINGS_FILE).is_file():
            return candidate
    raise StudioError(f"--resume: no study {str(study)!r} (not a study folder, nor in {studies})")


def _state(t: FrozenTrial) -> TrialStateName:
    outcome = t.user_attrs.get(OUTCOME)
    if t.state == TrialState.COMPLETE:
        return "complete"
    if t.state == TrialState.PRUNED:
        return "pruned"
    if t.state == TrialState.FAIL:
        return outcome if outcome in ("skipped", "stopped") else "failed"
    return "running" if t.state == TrialState.RUNNING else "waiting"


def record_of(t: FrozenTrial) -> TrialRecord:
    """The study's view of one Optuna trial."""
    state = _state(t)
    attrs = t.user_attrs
    return TrialRecord(
        number=t.number,
        state=state,
        params=dict(t.params),
        score=t.value if state in ("complete", "pruned") else None,
        curve=tuple(v for _, v in sorted(t.intermediate_values.items())),
        seconds=attrs.get(SECONDS),
        parameters=attrs.get(PARAMETERS),
        message=str(attrs.get(MESSAGE, "")),
        base=bool(attrs.get(BASE, False)),
    )


def _created(pid: int) -> float | None:
    """When process ``pid`` started (None if it is gone): a pid with its start is unique."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OverflowError, ValueError):
        return None


def _holds(owner: dict[str, Any]) -> bool:
    """Whether the process a running.json names is alive here (and is not this one)."""
    pid = owner.get("pid")
    return (
        owner.get("host") == socket.gethostname()
        and pid != os.getpid()
        and pid_alive(pid)
        and isinstance(pid, int)
        and owner.get("created") == _created(pid)  # not a later process given that id
    )


def _owner(lock: Path) -> dict[str, Any]:
    """The running.json of the process holding a study; empty when none or unreadable."""
    try:
        owner = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


class StudyFolder:
    """An open study folder: its settings, base config and storage."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / STUDY_DB).is_file() or not (self.path / SETTINGS_FILE).is_file():
            raise StudioError(f"{self.path}: not a study folder (no {STUDY_DB} or {SETTINGS_FILE})")
        try:
            raw = json.loads((self.path / SETTINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StudioError(f"{self.path / SETTINGS_FILE}: cannot read: {exc}") from None
        self.settings = TuneSettings.from_json(raw)
        self.base = load_config(self.path / BASE_FILE)
        self.storage = _storage(self.path / STUDY_DB)

    def close(self) -> None:
        self.storage.engine.dispose()

    def study(
        self,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
    ) -> optuna.Study:
        try:
            return optuna.Study(STUDY_NAME, self.storage, sampler=sampler, pruner=pruner)
        except KeyError:
            raise StudioError(f"{self.path / STUDY_DB}: holds no studio study") from None

    def trials(self) -> list[FrozenTrial]:
        study_id = self.storage.get_study_id_from_name(STUDY_NAME)
        return self.storage.get_all_trials(study_id, deepcopy=False)

    def records(self) -> list[TrialRecord]:
        return [record_of(t) for t in self.trials()]

    def set_budget(self, budget: Budget) -> None:
        """Keep this session's budget as the study's (a later plain ``--resume`` uses it)."""
        self.settings = replace(self.settings, budget=budget)
        text = json.dumps(self.settings.to_json(), indent=2)
        write_text_atomic(self.path / SETTINGS_FILE, text)

    @contextlib.contextmanager
    def session(self) -> Iterator[list[int]]:
        """Hold the study for this process; yields the trials marked as interrupted."""
        lock = self.path / LOCK_FILE
        owner = _owner(lock)
        pid = owner.get("pid")
        if _holds(owner):
            raise StudioError(f"{self.path}: the study is being tuned by process {pid}")
        me = {"pid": os.getpid(), "host": socket.gethostname(), "created": _created(os.getpid())}
        write_text_atomic(lock, json.dumps(me))
        try:
            yield self.mark_interrupted()
        finally:
            lock.unlink(missing_ok=True)

    def mark_interrupted(self) -> list[int]:
        """Trials left running by a process that ended: stopped (FAIL), not counted."""
        study_id = self.storage.get_study_id_from_name(STUDY_NAME)
        marked = []
        for t in self.storage.get_all_trials(study_id, states=(TrialState.RUNNING,)):
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            self.storage.set_trial_user_attr(trial_id, OUTCOME, "stopped")
            self.storage.set_trial_user_attr(
                trial_id, MESSAGE, "interrupted: the process ended during this trial"
            )
            self.storage.set_trial_state_values(trial_id, TrialState.FAIL)
            marked.append(t.number)
        return marked


def discard_if_empty(study_dir: str | Path) -> bool:
    """Delete a study folder that holds no trial (its first session failed before one)."""
    folder = Path(study_dir)
    try:
        opened = StudyFolder(folder)
    except StudioError:
        return False
    try:
        empty = all(t.state == TrialState.WAITING for t in opened.trials())
    finally:
        opened.close()
    if empty:
        shutil.rmtree(folder, ignore_errors=True)
    return empty


def load_trials(study_dir: str | Path) -> list[TrialRecord]:
    """Every trial of a study folder (for a table or the window's view of an old study)."""
    folder = StudyFolder(study_dir)
    try:
        return folder.records()
    finally:
        folder.close()
