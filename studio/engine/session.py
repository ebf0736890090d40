"""Train into a new run folder: prepare (cached) -> fit with a :class:`RunRecorder`."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from studio.config import StudioConfig
from studio.engine.callbacks import Callback, FitResult
from studio.engine.control import TrainControl
from studio.engine.devices import resolve_device
from studio.engine.prepare import PreparedDataset, Progress, prepare_dataset
from studio.engine.recorder import RunRecorder
from studio.engine.runstore import create_run_dir, default_cache_dir, default_runs_dir
from studio.engine.tblog import TENSORBOARD_DIR, TensorBoardLogger
from studio.engine.trainer import fit


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
    except BaseException:
        if not any(run_dir.iterdir()):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return replace(result, run_dir=str(run_dir))
