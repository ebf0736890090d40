"""The headless engine: data -> vocabulary -> model -> training -> run folder.

Imports torch and numpy, never Qt. The public names below load lazily (PEP 562), so
``from studio.engine.control import TrainControl`` costs no torch import: the window can
hold a control object before the engine is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Callback": "callbacks",
    "EpochEnd": "callbacks",
    "FitResult": "callbacks",
    "FitStart": "callbacks",
    "StepEnd": "callbacks",
    "TrainControl": "control",
    "DeviceInfo": "devices",
    "list_devices": "devices",
    "resolve_device": "devices",
    "FitContext": "fitcontext",
    "LoadedRun": "inference",
    "evaluate_run": "inference",
    "load_run": "inference",
    "PreparedDataset": "prepare",
    "prepare_dataset": "prepare",
    "RawDataset": "readers",
    "read_dataset": "readers",
    "RunInfo": "runstore",
    "default_runs_dir": "runstore",
    "list_runs": "runstore",
    "train_run": "session",
    "fit": "trainer",
}

__all__ = [
    "Callback",
    "DeviceInfo",
    "EpochEnd",
    "FitContext",
    "FitResult",
    "FitStart",
    "LoadedRun",
    "PreparedDataset",
    "RawDataset",
    "RunInfo",
    "StepEnd",
    "TrainControl",
    "default_runs_dir",
    "evaluate_run",
    "fit",
    "list_devices",
    "list_runs",
    "load_run",
    "prepare_dataset",
    "read_dataset",
    "resolve_device",
    "train_run",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"studio.engine.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from studio.engine.callbacks import Callback, EpochEnd, FitResult, FitStart, StepEnd
    from studio.engine.control import TrainControl
    from studio.engine.devices import DeviceInfo, list_devices, resolve_device
    from studio.engine.fitcontext import FitContext
    from studio.engine.inference import LoadedRun, evaluate_run, load_run
    from studio.engine.prepare import PreparedDataset, prepare_dataset
    from studio.engine.readers import RawDataset, read_dataset
    from studio.engine.runstore import RunInfo, default_runs_dir, list_runs
    from studio.engine.session import train_run
    from studio.engine.trainer import fit
