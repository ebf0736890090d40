"""What the training workers tell the window: one frozen dataclass per event.

Both workers (the thread worker, :mod:`studio.ui.workers.training`, and the subprocess
worker, :mod:`studio.ui.workers.process`) emit these and nothing else, each as the one
argument of a ``Signal(object)``; the pages and the main window read their fields. The
``from_record`` constructors read the engine's records (``FitStart``/``EpochEnd`` as dicts,
or the lines of ``metrics.jsonl``), leniently: a missing number is NaN or 0, never a crash.

Pure Python: numpy only appears in annotations (the step rows are a numpy array).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "EpochDone",
    "EpochPredictions",
    "RunEnded",
    "RunFailed",
    "RunFinished",
    "RunStarted",
    "StepsBatch",
]


def _int(record: Mapping[str, Any], key: str, default: int = 0) -> int:
    try:
        return int(record.get(key) or default)
    except (TypeError, ValueError):
        return default


def _float(record: Mapping[str, Any], key: str, default: float = math.nan) -> float:
    value = record.get(key)
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _path(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class RunStarted:
    """Training began: the sizes of the run, where it trains, and its folder."""

    n_train: int
    n_valid: int
    steps_per_epoch: int
    total_steps: int
    epochs: int
    device: str  # for people: "cpu", "cuda:1", "CPU × 4 processes"
    vocab_size: int | None  # None when the run does not say
    parameters: int | None
    run_dir: str | None
    nproc: int = 1


@dataclass(frozen=True)
class StepsBatch:
    """At most ``max_rate_hz`` a second: the steps since the last batch, and where the run is.

    ``steps`` has one row per step: step, epoch (fractional), wall seconds, loss. The
    position fields are None until known; a batch may carry only a ``notice``.
    """

    steps: np.ndarray
    step: int | None = None
    total_steps: int | None = None
    epoch: int | None = None
    docs_per_second: float | None = None
    elapsed: float | None = None  # training seconds
    eta: float | None = None  # seconds
    gpu_memory: int | None = None  # bytes allocated on the training GPU
    notice: str = ""


@dataclass(frozen=True)
class EpochPredictions:
    """The validation split's predictions after an epoch (thread worker only: read-only
    arrays the evaluation page builds its report from, and the prepared dataset)."""

    probs: np.ndarray
    y_true: np.ndarray
    doc_ids: np.ndarray
    label_names: tuple[str, ...]
    multi_label: bool
    prepared: Any  # studio.engine.data.dataset.PreparedDataset


@dataclass(frozen=True)
class EpochDone:
    """An epoch ended: the engine's EpochEnd, its wall time and the run folder."""

    epoch: int
    step: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    val_weighted_f1: float
    elapsed: float
    docs_per_second: float
    tokens_per_second: float
    is_best: bool
    best_epoch: int
    wall: float  # seconds since the run started
    run_dir: str | None
    predictions: EpochPredictions | None = None

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        *,
        wall: float,
        run_dir: object,
        predictions: EpochPredictions | None = None,
    ) -> EpochDone:
        """From an EpochEnd as a dict or an ``epoch`` line of ``metrics.jsonl``."""
        return cls(
            epoch=_int(record, "epoch"),
            step=_int(record, "step"),
            train_loss=_float(record, "train_loss"),
            val_loss=_float(record, "val_loss"),
            val_accuracy=_float(record, "val_accuracy"),
            val_macro_f1=_float(record, "val_macro_f1"),
            val_weighted_f1=_float(record, "val_weighted_f1"),
            elapsed=_float(record, "elapsed", 0.0),
            docs_per_second=_float(record, "docs_per_second", 0.0),
            tokens_per_second=_float(record, "tokens_per_second", 0.0),
            is_best=bool(record.get("is_best", False)),
            best_epoch=_int(record, "best_epoch"),
            wall=wall,
            run_dir=_path(run_dir),
            predictions=predictions,
        )


@dataclass(frozen=True)
class RunFinished:
    """Training ended normally or was stopped: the engine's FitResult summary."""

    status: str  # "finished" | "stopped" | "early_stopped"
    run_dir: str | None = None
    epochs: int = 0  # completed epochs
    steps: int = 0
    best_epoch: int = 0
    val_loss: float = math.nan
    val_accuracy: float = math.nan
    val_macro_f1: float = math.nan
    val_weighted_f1: float = math.nan
    train_seconds: float = 0.0
    docs_per_second: float = 0.0
    tokens_per_second: float = 0.0

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RunFinished:
        """From ``FitResult.summary()``, an ``end`` line or the summary in ``run.json``."""
        return cls(
            status=str(record.get("status") or "finished"),
            run_dir=_path(record.get("run_dir")),
            epochs=_int(record, "epochs"),
            steps=_int(record, "steps"),
            best_epoch=_int(record, "best_epoch"),
            val_loss=_float(record, "val_loss"),
            val_accuracy=_float(record, "val_accuracy"),
            val_macro_f1=_float(record, "val_macro_f1"),
            val_weighted_f1=_float(record, "val_weighted_f1"),
            train_seconds=_float(record, "train_seconds", 0.0),
            docs_per_second=_float(record, "docs_per_second", 0.0),
            tokens_per_second=_float(record, "tokens_per_second", 0.0),
        )

    @classmethod
    def from_epochs(cls, status: str, run_dir: str | None, epochs: list[EpochDone]) -> RunFinished:
        """The summary of a run that ended without its ``end`` record: its best epoch's
        metrics and its last epoch's counts."""
        best = max((e for e in epochs if e.is_best), key=lambda e: e.epoch, default=None)
        last = epochs[-1] if epochs else None
        return cls(
            status=status,
            run_dir=run_dir,
            epochs=last.epoch if last else 0,
            steps=last.step if last else 0,
            best_epoch=best.epoch if best else 0,
            val_loss=best.val_loss if best else math.nan,
            val_accuracy=best.val_accuracy if best else math.nan,
            val_macro_f1=best.val_macro_f1 if best else math.nan,
            val_weighted_f1=best.val_weighted_f1 if best else math.nan,
            train_seconds=last.elapsed if last else 0.0,
            docs_per_second=last.docs_per_second if last else 0.0,
            tokens_per_second=last.tokens_per_second if last else 0.0,
        )


@dataclass(frozen=True)
class RunFailed:
    """Training failed: one line for the user, and the details (traceback, stderr) or ''."""

    status: ClassVar[Literal["failed"]] = "failed"
    message: str
    details: str = ""


RunEnded = RunFinished | RunFailed
"""How a run ended, as the main window reports it (``sig_training_done``)."""
