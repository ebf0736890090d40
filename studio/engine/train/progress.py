"""The loop's progress as callbacks see it: time and counts, step reports, the result."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitResult, StepEnd


class Meter:
    """Training time and counts, with pauses and evaluation left out."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.docs = 0
        self.tokens = 0
        self._t = 0.0

    def start(self) -> None:
        self._t = time.perf_counter()

    def stop(self) -> None:
        self.seconds += time.perf_counter() - self._t

    def now(self) -> float:
        return self.seconds + time.perf_counter() - self._t

    def rates(self, elapsed: float) -> tuple[float, float]:
        if elapsed <= 0:
            return 0.0, 0.0
        return self.docs / elapsed, self.tokens / elapsed


def report_steps(
    ctx: FitContext,
    callbacks: Sequence[Callback],
    losses: list[float],
    last_step: int,
    epoch: int,
    lr_of: Callable[[int], float],
    meter: Meter,
    total_steps: int,
) -> None:
    """Report the steps up to ``last_step`` (1-based) whose losses were read back.

    ``lr_of(s)`` is the learning rate step ``s`` ran with: each step is reported with its own.
    """
    elapsed = meter.now()
    docs_s, tok_s = meter.rates(elapsed)
    eta = elapsed / last_step * (total_steps - last_step) if last_step else 0.0
    for i, v in enumerate(losses):
        s = last_step - len(losses) + i + 1
        fraction = s / max(total_steps, 1)
        event = StepEnd(s, epoch, v, lr_of(s), elapsed, docs_s, tok_s, eta, fraction)
        for cb in callbacks:
            cb.on_step_end(ctx, event)


def fit_result(
    status: str, history: list[EpochEnd], best: EpochEnd | None, steps: int, meter: Meter
) -> FitResult:
    """The outcome of a fit, with the metrics of ``best`` (or else the last epoch)."""
    final = best or (history[-1] if history else None)
    docs_s, tok_s = meter.rates(meter.seconds)
    return FitResult(
        status=status,
        epochs=len(history),
        steps=steps,
        best_epoch=final.epoch if final else 0,
        val_loss=final.val_loss if final else float("nan"),
        val_accuracy=final.val_accuracy if final else 0.0,
        val_macro_f1=final.val_macro_f1 if final else 0.0,
        val_weighted_f1=final.val_weighted_f1 if final else 0.0,
        train_seconds=meter.seconds,
        docs_per_second=docs_s,
        tokens_per_second=tok_s,
        history=history,
    )
