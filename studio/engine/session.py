"""Train into a new run folder: prepare (cached) -> fit with a :class:`RunRecorder`."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from studio.config import StudioConfig, load_config
from studio.engine.callbacks import Callback, FitResult
from studio.engine.control import TrainControl
from studio.engine.devices import resolve_device
from studio.engine.paths import ensure_inside
from studio.engine.prepare import PreparedDataset, Progress, prepare_dataset
from studio.engine.recorder import RunRecorder
from studio.engine.resume import NO_CHECKPOINT, read_manifest
from studio.engine.runstore import (
    RUN_FILE,
    create_run_dir,
    default_cache_dir,
    default_runs_dir,
    read_json,
)
from studio.engine.tblog import TENSORBOARD_DIR, TensorBoardLogger
from studio.engine.trainer import fit
from studio.errors import ConfigError, RunError


def train_run(
    config: StudioConfig,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    *,
    runs_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    prepared: PreparedDataset | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Everything ``studio train`` does; the window calls the same function."""
    resolve_device(config.device.device)  # fail before anything is written
    if prepared is None:
        prepared = prepare_dataset(
            config.data,
            config.tokenizer,
            cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
            progress=progress,
        )
    run_dir = create_run_dir(Path(runs_dir) if runs_dir else default_runs_dir(), config.data.path)
    recorder = RunRecorder(run_dir, config.data.path)
    try:
        extra: list[Callback] = []
        if config.train.tensorboard:
            extra.append(TensorBoardLogger(run_dir / TENSORBOARD_DIR))
        result = fit(
            config,
            [recorder, *extra, *callbacks],
            control,
            prepared=prepared,
            run_dir=str(run_dir),
        )
    except BaseException as exc:
        if not any(run_dir.iterdir()):
            shutil.rmtree(run_dir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(exc, run_dir) from None
        raise
    return replace(result, run_dir=str(run_dir))


def _write_error(exc: OSError, run_dir: Path) -> RunError:
    """A one-line error for a failed write (a full disk, a vanished folder) in a run."""
    return RunError(f"{exc.filename or run_dir}: cannot write the run: {exc.strerror or exc}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def resume_run(
    run_dir: str | Path,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    *,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> FitResult:
    """Continue a stopped, failed or killed run in its own folder from its last checkpoint.

    Uses the run's ``config.toml``; appends to its ``metrics.jsonl`` (after a ``resume``
    record) and sets ``run.json``'s status back to running, then to how it ends.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise RunError(f"{run}: not a run folder")
    run = ensure_inside(run.parent, run)  # never write through a symlinked run folder
    meta = read_json(run / RUN_FILE)
    status = str(meta.get("status", ""))
    if status in ("finished", "early_stopped"):
        raise RunError(f"{run}: this run already finished ({status}); nothing to resume")
    pid = meta.get("pid")
    if (
        status == "running"
        and isinstance(pid, int)
        and pid != os.getpid()
        and meta.get("host") == socket.gethostname()
        and _alive(pid)
    ):
        raise RunError(f"{run}: this run is still training (process {pid})")
    manifest = read_manifest(run)
    if manifest is None:
        raise RunError(f"{run}: {NO_CHECKPOINT}")
    try:
        config = load_config(run / "config.toml")
    except ConfigError as exc:
        raise RunError(str(exc)) from None
    resolve_device(config.device.device)
    prepared = prepare_dataset(
        config.data,
        config.tokenizer,
        cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
        progress=progress,
    )
    dataset = str(meta.get("dataset") or config.data.path)
    recorder = RunRecorder(run, dataset, resume_epoch=int(manifest["epoch"]))
    extra: list[Callback] = []
    if config.train.tensorboard:
        extra.append(TensorBoardLogger(run / TENSORBOARD_DIR))
    try:
        result = fit(
            config,
            [recorder, *extra, *callbacks],
            control,
            prepared=prepared,
            run_dir=str(run),
            resume_from=str(run),
        )
    except OSError as exc:
        raise _write_error(exc, run) from None
    return replace(result, run_dir=str(run))
