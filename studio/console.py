"""Terminal output for the CLI: a rate-limited rich progress bar and tables."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd


class ProgressBar(Callback):
    """A progress bar callback, refreshed at most ``refresh_hz`` times a second."""

    def __init__(self, console: Console, refresh_hz: float = 10.0) -> None:
        self.console = console
        self.min_interval = 1.0 / refresh_hz
        self._last = 0.0
        self._progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[epochs]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TextColumn("{task.fields[docs_s]:,.0f} docs/s"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: Any = None

    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        self.console.print(
            f"training on [bold]{info.device}[/]: {info.n_train:,} train / {info.n_valid:,} "
            f"validation documents, vocabulary {info.vocab_size:,}, "
            f"{info.parameters:,} parameters"
        )
        if info.pretrained_found is not None:
            self.console.print(
                f"pretrained vectors found for {info.pretrained_found:,} "
                f"of {info.vocab_size:,} words"
            )
        self._progress.start()
        self._task = self._progress.add_task(
            "train",
            total=info.total_steps,
            epoch=1,
            epochs=info.epochs,
            loss=float("nan"),
            docs_s=0.0,
        )

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        now = time.monotonic()
        if now - self._last < self.min_interval:
            return
        self._last = now
        self._progress.update(
            self._task,
            completed=event.step,
            epoch=event.epoch,
            loss=event.loss,
            docs_s=event.docs_per_second,
        )

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        self._progress.update(
            self._task,
            completed=event.step,
            epoch=event.epoch,
            loss=event.train_loss,
            docs_s=event.docs_per_second,
        )
        mark = " *" if event.is_best else ""
        self._progress.console.print(
            f"epoch {event.epoch}: train loss {event.train_loss:.4f}  "
            f"val loss {event.val_loss:.4f}  "
            f"accuracy {event.val_accuracy:.4f}  macro-F1 {event.val_macro_f1:.4f}{mark}"
        )

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self._progress.stop()

    def on_exception(self, ctx: FitContext, error: BaseException) -> None:
        self._progress.stop()

    def on_notice(self, ctx: FitContext, message: str) -> None:
        self._progress.console.print(f"[yellow]{escape(message)}[/]")


def table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*r)
    return t
