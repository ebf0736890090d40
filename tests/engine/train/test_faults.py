"""Faults during training: a NaN loss and running out of GPU memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.runs.layout import read_json, read_metrics
from studio.engine.train import loop as trainer
from studio.engine.train.batching import Batch
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, StepEnd
from studio.engine.train.loop import TrainingError, fit
from studio.engine.train.resume import read_manifest
from studio.engine.train.session import train_run


def _config(path: Path, **train: Any) -> StudioConfig:
    base = StudioConfig(data=DataConfig(path=str(path)))
    return base.with_overrides(
        train={"epochs": 3, "batch_size": 32, **train},
        device={"device": "cpu"},
        model={"kind": "embedding"},  # the epochs' faults are the point, not the choice
    )


class PoisonAt(Callback):
    """Fills the head's weights with NaN after step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        if event.step == self.step:
            with torch.no_grad():
                for p in ctx.model.head.parameters():
                    p.fill_(float("nan"))


def test_nan_loss_fails_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, topics_csv: Path
) -> None:
    # 1200 documents, 80% for training, 32 a batch: 30 steps an epoch; poison in epoch 2
    poison = 40
    with pytest.raises(TrainingError, match=f"at step {poison + 1}"):
        train_run(_config(topics_csv), [PoisonAt(poison)], runs_dir=tmp_path / "runs")
    (run,) = list((tmp_path / "runs").iterdir())
    meta = read_json(run / "run.json")
    assert meta["status"] == "failed"
    assert f"at step {poison + 1}" in meta["error"]
    records = read_metrics(run)
    assert [r["epoch"] for r in records if r["type"] == "epoch"] == [1]
    assert records[-1]["type"] == "error"
    manifest = read_manifest(run)
    assert manifest is not None and manifest["epoch"] == 1  # resumable from epoch 1

    loaded = load_run(run, weights="last")
    probs = loaded.predict_proba(["ball goal team win", "cook bread soup", "code server bug"])
    assert np.isfinite(probs).all()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


class Notices(Callback):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def on_notice(self, ctx: FitContext, message: str) -> None:
        self.messages.append(message)


def _oom_above(limit: int, seen: list[int]) -> Any:
    real = trainer._forward

    def forward(model: Any, table: Any, batch: Batch, amp: bool, device: Any) -> Any:
        seen.append(len(batch.part_offsets))
        if len(batch.part_offsets) > limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(model, table, batch, amp, device)

    return forward


def test_out_of_memory_halves_the_batch_and_redoes_the_epoch(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(trainer, "_forward", _oom_above(32, seen))
    notices = Notices()
    result = fit(_config(topics_csv, batch_size=128), [notices])
    assert result.status == "finished"
    assert len(notices.messages) == 2
    assert "batch size halved to 64" in notices.messages[0]
    assert "batch size halved to 32" in notices.messages[1]
    assert max(seen[2:]) == 32  # after the two failed first steps, batches of 32 only
    assert result.epochs == 3
    assert [e.epoch for e in result.history] == [1, 2, 3]
    n_train = 960
    assert result.steps == 3 * (n_train // 32)
    assert all(np.isfinite(e.val_loss) for e in result.history)
    assert result.history[-1].val_loss < result.history[0].val_loss
    assert result.val_accuracy > 0.6

    # the same as training with batches of 32 from the start
    monkeypatch.setattr(trainer, "_forward", _oom_above(10**9, []))
    plain = fit(_config(topics_csv, batch_size=32))
    assert [e.val_loss for e in plain.history] == [e.val_loss for e in result.history]


def test_out_of_memory_in_a_later_epoch_rolls_back_to_its_start(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = trainer._forward

    def forward(model: Any, table: Any, batch: Batch, amp: bool, device: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 20 + 3:  # third step of epoch 2 (20 steps an epoch at 48)
            raise RuntimeError("CUDA error: out of memory")
        return real(model, table, batch, amp, device)

    monkeypatch.setattr(trainer, "_forward", forward)
    notices = Notices()
    result = fit(_config(topics_csv, batch_size=48), [notices])
    assert notices.messages == ["out of memory: batch size halved to 24; redoing epoch 2"]
    assert result.status == "finished"
    assert result.steps == 20 + 2 * 40


def test_out_of_memory_below_the_floor_is_an_error(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trainer, "_forward", _oom_above(4, []))
    notices = Notices()
    with pytest.raises(TrainingError, match="out of memory even at batch size 8"):
        fit(_config(topics_csv, batch_size=32), [notices])
    assert [m.split(";")[0] for m in notices.messages] == [
        "out of memory: batch size halved to 16",
        "out of memory: batch size halved to 8",
    ]


def test_other_runtime_errors_are_not_swallowed(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forward(*args: Any) -> Any:
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(trainer, "_forward", forward)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        fit(_config(topics_csv))
