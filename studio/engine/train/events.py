"""Trainer events and the callback base class (Lightning-style hooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.engine.train.context import FitContext


@dataclass(frozen=True)
class FitStart:
    n_train: int
    n_valid: int
    steps_per_epoch: int
    total_steps: int
    epochs: int
    device: str
    label_names: tuple[str, ...]
    vocab_size: int
    table_rows: int
    parameters: int
    pretrained_found: int | None = None


@dataclass(frozen=True)
class StepEnd:
    step: int  # 1-based, counted over the whole run
    epoch: int  # 1-based
    loss: float
    lr: float
    elapsed: float  # training seconds, pauses and evaluation excluded
    docs_per_second: float
    tokens_per_second: float
    eta: float  # seconds
    fraction: float  # of all steps


@dataclass(frozen=True)
class EpochEnd:
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


@dataclass(frozen=True)
class FitResult:
    status: str  # "finished" | "stopped" | "early_stopped"
    epochs: int  # completed epochs
    steps: int
    best_epoch: int
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    val_weighted_f1: float
    train_seconds: float
    docs_per_second: float
    tokens_per_second: float
    history: list[EpochEnd] = field(default_factory=list)
    run_dir: str | None = None
    model_kind: str = "embedding"  # the model kept: "embedding" or "linear" (model.kind)
    linear_seconds: float = 0.0  # fitting the linear model (model.kind "auto" or "linear")

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "run_dir": self.run_dir,
            "epochs": self.epochs,
            "steps": self.steps,
            "best_epoch": self.best_epoch,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
            "val_macro_f1": self.val_macro_f1,
            "val_weighted_f1": self.val_weighted_f1,
            "train_seconds": self.train_seconds,
            "docs_per_second": self.docs_per_second,
            "tokens_per_second": self.tokens_per_second,
            "model_kind": self.model_kind,
            "linear_seconds": self.linear_seconds,
        }


class Callback:
    """Override the hooks you need. Hooks run on the training thread; keep them cheap."""

    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        """Before the first step."""

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        """After each step whose loss was read back (every ``log_every`` steps)."""

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        """After each epoch's validation."""

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        """After the last step, with the final (best, when restored) weights in place."""

    def on_exception(self, ctx: FitContext, error: BaseException) -> None:
        """When training fails; the exception is re-raised afterwards."""

    def on_notice(self, ctx: FitContext, message: str) -> None:
        """Something the user should know that does not stop training (one line), e.g.
        the batch size was halved after running out of memory."""
