"""Train into a new run folder: prepare (cached) -> fit with a :class:`RunRecorder`."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from studio.config import StudioConfig, load_config
from studio.engine.data.prepare import PreparedDataset, Progress, prepare_dataset
from studio.engine.runs.layout import (
    PAUSE_FILE,
    RUN_FILE,
    STOP_FILE,
    check_run_dir,
    claim_run_dir,
    create_run_dir,
    default_cache_dir,
    default_runs_dir,
    read_json,
)
from studio.engine.runs.paths import ensure_inside
from studio.engine.runs.status import pid_alive
from studio.engine.train.control import TrainControl
from studio.engine.train.devices import resolve_device
from studio.engine.train.distributed import (
    DEFAULT_TIMEOUT,
    DistributedError,
    ProcessGroup,
    Topology,
    rank_device,
    topology_from_env,
)
from studio.engine.train.events import Callback, FitResult
from studio.engine.train.loop import fit
from studio.engine.train.recorder import RunRecorder
from studio.engine.train.resume import NO_CHECKPOINT, read_manifest
from studio.engine.train.stopfile import StopFileWatcher
from studio.engine.train.tensorboard import TENSORBOARD_DIR, TensorBoardLogger
from studio.errors import ConfigError, RunError, StudioError


def train_run(
    config: StudioConfig,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    *,
    runs_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    prepared: PreparedDataset | None = None,
    progress: Progress | None = None,
    run_dir: str | Path | None = None,
    dist_timeout: float = DEFAULT_TIMEOUT,
) -> FitResult:
    """Everything ``studio train`` does; the window calls the same function.

    ``run_dir`` names the exact (new or empty) run folder; otherwise one is made in
    ``runs_dir``. Under torchrun or Slurm (rank and world size in the environment) this is
    one rank of a distributed run: only rank 0 writes the run folder, and ``callbacks``
    are only called on rank 0.
    """
    topo = topology_from_env()
    if topo is not None:
        return _train_distributed(
            topo, config, callbacks, control, runs_dir, cache_dir, prepared, progress,
            run_dir, dist_timeout,
        )  # fmt: skip
    resolve_device(config.device.device)  # fail before anything is written
    if run_dir is not None:
        check_run_dir(Path(run_dir))
    if prepared is None:
        prepared = _prepare(config, cache_dir, progress)
    run = _new_run_dir(config, runs_dir, run_dir)
    return _train_into(run, config, callbacks, control, prepared)


def _prepare(
    config: StudioConfig, cache_dir: str | Path | None, progress: Progress | None
) -> PreparedDataset:
    return prepare_dataset(
        config.data,
        config.tokenizer,
        cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
        progress=progress,
    )


def _new_run_dir(
    config: StudioConfig, runs_dir: str | Path | None, run_dir: str | Path | None
) -> Path:
    if run_dir is not None:
        return claim_run_dir(Path(run_dir))
    return create_run_dir(Path(runs_dir) if runs_dir else default_runs_dir(), config.data.path)


def _train_into(
    run_dir: Path,
    config: StudioConfig,
    callbacks: Sequence[Callback],
    control: TrainControl | None,
    prepared: PreparedDataset,
    group: ProcessGroup | None = None,
    meta: dict[str, object] | None = None,
) -> FitResult:
    """Fit into a fresh run folder (recorder, TensorBoard, a STOP file watcher)."""
    recorder = RunRecorder(run_dir, config.data.path, extra_meta=meta)
    try:
        result = _fit_recorded(run_dir, config, recorder, callbacks, control, prepared, group)
    except BaseException as exc:
        if not any(run_dir.iterdir()):
            shutil.rmtree(run_dir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(exc, run_dir) from None
        raise
    return replace(result, run_dir=str(run_dir))


def _fit_recorded(
    run_dir: Path,
    config: StudioConfig,
    recorder: RunRecorder,
    callbacks: Sequence[Callback],
    control: TrainControl | None,
    prepared: PreparedDataset,
    group: ProcessGroup | None = None,
    resume: bool = False,
) -> FitResult:
    """``fit`` with the run folder's writers, stoppable by a STOP file in the folder."""
    control = control or TrainControl()
    extra: list[Callback] = []
    if config.train.tensorboard:
        extra.append(TensorBoardLogger(run_dir / TENSORBOARD_DIR))
    pause = run_dir / PAUSE_FILE if group is None else None  # ranks must stay in step
    with StopFileWatcher(run_dir / STOP_FILE, control, stale=resume, pause_path=pause):
        return fit(
            config,
            [recorder, *extra, *callbacks],
            control,
            prepared=prepared,
            run_dir=str(run_dir),
            resume_from=str(run_dir) if resume else None,
            group=group,
        )


def _train_distributed(
    topo: Topology,
    config: StudioConfig,
    callbacks: Sequence[Callback],
    control: TrainControl | None,
    runs_dir: str | Path | None,
    cache_dir: str | Path | None,
    prepared: PreparedDataset | None,
    progress: Progress | None,
    run_dir: str | Path | None,
    timeout: float,
) -> FitResult:
    """One rank of a distributed run: rank 0 prepares (into the cache) and makes the run
    folder while the others wait; then they open the prepared dataset from the cache."""
    device = resolve_device(rank_device(config.device.device, topo))
    group = ProcessGroup(topo, device, timeout)
    try:
        run: Path | None = None
        failure: StudioError | None = None
        if topo.is_main:
            try:
                prepared = prepared or _prepare(config, cache_dir, progress)
                run = _new_run_dir(config, runs_dir, run_dir)
            except StudioError as exc:
                failure = exc
        if group.setup_any(failure is not None):
            if failure is not None:
                raise failure
            raise DistributedError("rank 0 failed before training; see its message", quiet=True)
        if prepared is None:
            prepared = _prepare(config, cache_dir, None)
        ranks = group.describe_ranks()
        if run is None:  # ranks other than 0 write nothing
            return fit(config, (), control, prepared=prepared, group=group)
        meta: dict[str, object] = {
            "world_size": topo.world_size,
            "backend": group.backend,
            "ranks": ranks,
        }
        return _train_into(run, config, callbacks, control, prepared, group, meta)
    finally:
        group.close()


def _write_error(exc: OSError, run_dir: Path) -> RunError:
    """A one-line error for a failed write (a full disk, a vanished folder) in a run."""
    return RunError(f"{exc.filename or run_dir}: cannot write the run: {exc.strerror or exc}")


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
        and pid_alive(pid)
    ):
        raise RunError(f"{run}: this run is still training (process {pid})")
    manifest = read_manifest(run)
    if manifest is None:
        raise RunError(f"{run}: {NO_CHECKPOINT}")
    try:
        config = load_config(run / "config.toml")
    except ConfigError as exc:
        raise RunError(str(exc)) from None
    if topology_from_env() is not None:
        raise RunError(f"{run}: a run resumes in one process, not under torchrun or srun")
    resolve_device(config.device.device)
    prepared = prepare_dataset(
        config.data,
        config.tokenizer,
        cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
        progress=progress,
    )
    dataset = str(meta.get("dataset") or config.data.path)
    recorder = RunRecorder(run, dataset, resume_epoch=int(manifest["epoch"]))
    try:
        result = _fit_recorded(run, config, recorder, callbacks, control, prepared, resume=True)
    except OSError as exc:
        raise _write_error(exc, run) from None
    return replace(result, run_dir=str(run))
