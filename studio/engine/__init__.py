"""The headless engine: data -> vocabulary -> model -> training -> run folder.

Imports torch and numpy, never Qt. The public surface is small; everything else is an
implementation detail of its module.
"""

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
