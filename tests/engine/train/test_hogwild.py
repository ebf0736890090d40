"""Hogwild: several CPU threads train one shared table; when they do, and that they train."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine.train import hogwild
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback, StepEnd
from studio.engine.train.hogwild import AUTO_MAX_THREADS, AUTO_MIN_STEPS, hogwild_threads
from studio.engine.train.loop import fit

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def _config(path: Path, workers: int = 0, **train: object) -> StudioConfig:
    return StudioConfig(data=DataConfig(path=str(path))).with_overrides(
        tokenizer={"vocab_size": 500, "ngram_buckets": 1000, "char_ngrams": (0, 0)},
        model={"embed_dim": 16},
        train={"epochs": 3, "batch_size": 8, **train},
        device={"workers": workers},
    )


def test_auto_uses_the_cores_on_cpu_with_the_fused_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auto = StudioConfig()
    monkeypatch.setattr(hogwild, "usable_cores", lambda: 2)
    assert hogwild_threads(auto, CPU, True, False, AUTO_MIN_STEPS) == 2
    monkeypatch.setattr(hogwild, "usable_cores", lambda: 64)
    assert hogwild_threads(auto, CPU, True, False, AUTO_MIN_STEPS) == AUTO_MAX_THREADS
    # one thread: small epochs (they then reproduce), GPUs, no fused table, many processes
    assert hogwild_threads(auto, CPU, True, False, AUTO_MIN_STEPS - 1) == 1
    assert hogwild_threads(auto, CUDA, True, False, 10_000) == 1
    assert hogwild_threads(auto, CPU, False, False, 10_000) == 1
    assert hogwild_threads(auto, CPU, True, True, 10_000) == 1
    three = auto.with_overrides(device={"workers": 3})
    assert hogwild_threads(three, CPU, True, False, 1) == 3
    assert hogwild_threads(auto.with_overrides(device={"workers": 1}), CPU, True, False, 10**6) == 1


class Steps(Callback):
    def __init__(self, stop_at: int = 0, control: TrainControl | None = None) -> None:
        self.steps: list[StepEnd] = []
        self.stop_at, self.control = stop_at, control

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        self.steps.append(event)
        if self.control is not None and len(self.steps) >= self.stop_at:
            self.control.request_stop()


def test_two_threads_train_as_well_as_one(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[str] = set()
    real = hogwild.Hogwild.step

    def step(self: hogwild.Hogwild, batch: object) -> torch.Tensor:
        seen.add(threading.current_thread().name)
        return real(self, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(hogwild.Hogwild, "step", step)
    one, steps_one = Steps(), Steps()
    single = fit(_config(topics_csv, workers=1), [steps_one])
    both = fit(_config(topics_csv, workers=2), [one])
    assert len(seen) == 2  # the loop's thread and the pool's
    assert both.steps == single.steps == len(steps_one.steps)
    assert [s.step for s in one.steps] == list(range(1, both.steps + 1))  # each step reported
    assert all(torch.isfinite(torch.tensor(s.loss)) for s in one.steps)
    assert both.history[-1].val_loss < both.history[0].val_loss
    assert both.val_accuracy >= single.val_accuracy - 0.05
    assert both.docs_per_second > 0


def test_a_stop_ends_hogwild_training_between_groups(topics_csv: Path) -> None:
    per_epoch = fit(_config(topics_csv, workers=1, epochs=1)).steps
    control = TrainControl()
    result = fit(_config(topics_csv, workers=2), [Steps(stop_at=10, control=control)], control)
    assert result.status == "stopped"
    assert 10 <= result.steps < per_epoch  # within the first epoch, at the group's end
    assert not any(t.name.startswith("studio-hogwild") for t in threading.enumerate())
