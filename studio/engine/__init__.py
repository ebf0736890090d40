"""The headless engine: data -> vocabulary -> model -> training -> run folder.

Grouped by role: ``data`` (files to id arrays), ``train`` (the loop and what it needs),
``runs`` (run folders), ``analysis`` (a trained run: inference, reports, embeddings) and
``export`` (other tools' formats); ``atomic`` is the crash-safe write they all share.
Imports torch and numpy, never Qt. The public names below load lazily (PEP 562), so
``from studio.engine.train.control import TrainControl`` costs no torch import: the window can
hold a control object before the engine is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Callback": "train.events",
    "EpochEnd": "train.events",
    "FitResult": "train.events",
    "FitStart": "train.events",
    "StepEnd": "train.events",
    "TrainControl": "train.control",
    "DeviceInfo": "train.devices",
    "list_devices": "train.devices",
    "resolve_device": "train.devices",
    "FitContext": "train.context",
    "LoadedRun": "analysis.inference",
    "evaluate_run": "analysis.inference",
    "load_run": "analysis.inference",
    "PreparedDataset": "data.dataset",
    "prepare_dataset": "data.prepare",
    "RawDataset": "data.readers",
    "read_dataset": "data.readers",
    "RunInfo": "runs.layout",
    "default_runs_dir": "runs.layout",
    "list_runs": "runs.listing",
    "train_run": "train.session",
    "fit": "train.loop",
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
    from studio.engine.analysis.inference import LoadedRun, evaluate_run, load_run
    from studio.engine.data.prepare import PreparedDataset, prepare_dataset
    from studio.engine.data.readers import RawDataset, read_dataset
    from studio.engine.runs.layout import RunInfo, default_runs_dir
    from studio.engine.runs.listing import list_runs
    from studio.engine.train.context import FitContext
    from studio.engine.train.control import TrainControl
    from studio.engine.train.devices import DeviceInfo, list_devices, resolve_device
    from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd
    from studio.engine.train.loop import fit
    from studio.engine.train.session import train_run
