"""One trial: its config trained with ``fit`` on the shared prepared dataset, scored on validation.

:class:`TrialReporter` is the training callback that feeds each epoch's validation score to
the Optuna trial (its pruner decides from those) and stops the fit cooperatively
(``ctx.should_stop``, as early stopping does) when the trial is pruned or the session's time
ran out. :func:`train_trial` runs the fit and says how the trial ended; the test part of the
data is never read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
import torch

from studio.config import StudioConfig
from studio.engine.data.dataset import PreparedDataset
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback, EpochEnd, StepEnd
from studio.engine.train.linear_choice import considers_linear
from studio.engine.train.loop import TrainingError, fit
from studio.engine.train.memory import estimate_training_memory
from studio.engine.train.oom import is_oom
from studio.engine.train.recipe import resolve_recipe
from studio.engine.tune.budget import OBJECTIVES
from studio.engine.tune.events import TrialStateName, TuneCallback

__all__ = ["Outcome", "TrialReporter", "parameter_count", "train_trial"]


def parameter_count(config: StudioConfig, prepared: PreparedDataset) -> int:
    """The parameters of the model ``config`` saves on ``prepared``: the embedding model's
    table rows x dim + head, or the linear model's rows x outputs when ``model.kind`` may
    keep it (``"auto"``: the larger of the two, as either may be kept)."""
    config = resolve_recipe(config, prepared)  # "auto" n-grams as the fit will choose them
    tok, model = config.tokenizer, config.model
    n_labels = len(prepared.label_names)
    e = estimate_training_memory(
        config,
        prepared.effective_vocab_size(tok.vocab_size, tok.min_freq),
        n_labels,
        multi_label=prepared.multi_label,
    )
    if prepared.multi_label or not considers_linear(model):
        return e.parameters
    outputs = 1 if n_labels == 2 else max(n_labels, 1)
    linear = e.table_rows * outputs + outputs * outputs + outputs  # table, identity head
    return linear if model.kind == "linear" else max(linear, e.parameters)


class TrialReporter(Callback):
    """Reports each epoch's validation score to ``trial``; stops a pruned or late fit."""

    def __init__(
        self,
        trial: optuna.Trial,
        objective: str,
        listeners: Sequence[TuneCallback] = (),
        deadline: float | None = None,
    ) -> None:
        self.trial = trial
        self.field = OBJECTIVES[objective][1]
        self.listeners = list(listeners)
        self.deadline = deadline  # time.monotonic() at which the session's time runs out
        self.pruned_at: int | None = None  # the epoch after which the pruner stopped it
        self.out_of_time = False

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.out_of_time = True
            ctx.should_stop = True
            ctx.stop_reason = "the tuning time budget ran out"

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        score = float(getattr(event, self.field))
        self.trial.report(score, event.epoch)
        for cb in self.listeners:
            cb.on_trial_epoch(self.trial.number, event.epoch, score)
        if self.trial.should_prune():
            self.pruned_at = event.epoch
            ctx.should_stop = True
            ctx.stop_reason = f"pruned after epoch {event.epoch}"

    def on_notice(self, ctx: FitContext, message: str) -> None:
        for cb in self.listeners:
            cb.on_notice(f"trial {self.trial.number}: {message}")


@dataclass(frozen=True)
class Outcome:
    """How a trial ended (complete, pruned, skipped, failed or stopped), its score and why."""

    state: TrialStateName
    score: float | None = None
    message: str = ""
    seconds: float = 0.0


def train_trial(
    trial: optuna.Trial,
    config: StudioConfig,
    prepared: PreparedDataset,
    objective: str,
    listeners: Sequence[TuneCallback] = (),
    control: TrainControl | None = None,
    deadline: float | None = None,
) -> Outcome:
    """Train ``config`` (the base with the trial's parameters) and score it on validation."""
    reporter = TrialReporter(trial, objective, listeners, deadline)
    control = control or TrainControl()
    start = time.perf_counter()
    try:
        result = fit(config, [reporter], control, prepared=prepared)
    except TrainingError as exc:
        return Outcome("failed", message=str(exc), seconds=time.perf_counter() - start)
    except RuntimeError as exc:
        if not is_oom(exc):
            raise
        message = "out of memory; lower --max-params"
        return Outcome("failed", message=message, seconds=time.perf_counter() - start)
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the next trial builds a model of another size
    seconds = time.perf_counter() - start
    if reporter.pruned_at is not None:
        return Outcome(
            "pruned", message=f"pruned after epoch {reporter.pruned_at}", seconds=seconds
        )
    if result.epochs < config.train.epochs and (result.status == "stopped" or reporter.out_of_time):
        why = "stopped" if result.status == "stopped" else "the time budget ran out"
        return Outcome("stopped", message=f"{why} in epoch {result.epochs + 1}", seconds=seconds)
    score = float(getattr(result, reporter.field))
    if not math.isfinite(score):
        return Outcome("failed", message=f"the score is {score}", seconds=seconds)
    return Outcome("complete", score=score, seconds=seconds)
