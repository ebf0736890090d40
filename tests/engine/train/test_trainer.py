"""The training loop: learning, stop/pause, <pad>/<unk> gradients, reproducibility."""

from __future__ import annotations

import itertools
import math
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig, TokenizerConfig, TrainConfig
from studio.engine import Callback, TrainControl, fit, prepare_dataset
from studio.engine.data.tokenize import PAD_ID, UNK_ID
from studio.engine.train import loop
from studio.engine.train.context import FitContext
from studio.engine.train.events import EpochEnd, FitStart, StepEnd
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.optim import clip_gradients
from studio.errors import ConfigError


def _config(path: Path, **train: object) -> StudioConfig:
    base = StudioConfig(data=DataConfig(path=str(path)))
    return base.with_overrides(train={"epochs": 2, "batch_size": 32, **train})


class Recorder(Callback):
    def __init__(self) -> None:
        self.info: FitStart | None = None
        self.steps: list[StepEnd] = []
        self.epochs: list[EpochEnd] = []

    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        self.info = info

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        self.steps.append(event)

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        self.epochs.append(event)


def test_loss_goes_down_on_the_sample(sample_path: Path) -> None:
    config = StudioConfig(
        data=DataConfig(path=str(sample_path), text_column="text", label_column="section"),
        train=TrainConfig(epochs=3, batch_size=64),
    )
    rec = Recorder()
    result = fit(config, [rec])
    first = np.mean([s.loss for s in rec.steps[:20]])
    last = np.mean([s.loss for s in rec.steps[-20:]])
    assert last < 0.6 * first
    assert rec.epochs[-1].val_loss < rec.epochs[0].val_loss
    counts = prepare_dataset(config.data, config.tokenizer).label_counts("valid")
    majority = max(counts.values()) / sum(counts.values())
    assert result.val_accuracy > majority + 0.2


def test_stop_is_honoured_within_one_step(topics_csv: Path) -> None:
    control = TrainControl()

    class StopAt(Recorder):
        def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
            super().on_step_end(ctx, event)
            if event.step == 5:
                control.request_stop()

    rec = StopAt()
    result = fit(_config(topics_csv), [rec], control)
    assert [s.step for s in rec.steps] == [1, 2, 3, 4, 5]
    assert result.status == "stopped"
    assert result.steps == 5


def test_pause_runs_zero_steps_until_resumed(topics_csv: Path) -> None:
    control = TrainControl()
    rec = Recorder()
    control.pause()
    outcome: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("result", fit(_config(topics_csv), [rec], control))
    )
    worker.start()
    assert control.wait_until_paused(timeout=60)
    assert rec.steps == []  # parked before the first step
    control.request_stop()  # releases the pause; the loop stops without a step
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert rec.steps == []
    assert outcome["result"].steps == 0  # type: ignore[attr-defined]


def test_pause_then_resume_continues(topics_csv: Path) -> None:
    control = TrainControl()
    seen = threading.Event()

    class PauseAt(Recorder):
        def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
            super().on_step_end(ctx, event)
            if event.step == 3:
                control.pause()
                seen.set()

    rec = PauseAt()
    worker = threading.Thread(target=fit, args=(_config(topics_csv), [rec], control))
    worker.start()
    assert control.wait_until_paused(timeout=60)
    assert len(rec.steps) == 3
    control.resume()
    worker.join(timeout=60)
    assert len(rec.steps) > 3


def test_pad_gets_no_gradient_and_unk_does() -> None:
    model = TextClassifier(ModelSpec(num_embeddings=10, embed_dim=4, num_outputs=3), sparse=False)
    ids = torch.tensor([PAD_ID, UNK_ID, 5, PAD_ID, 7, UNK_ID])
    offsets = torch.tensor([0, 3])
    loss = torch.nn.functional.cross_entropy(model(ids, offsets), torch.tensor([0, 2]))
    loss.backward()
    grad = model.embedding.weight.grad
    assert grad is not None
    assert torch.count_nonzero(grad[PAD_ID]) == 0
    assert torch.count_nonzero(grad[UNK_ID]) > 0
    assert torch.count_nonzero(model.embedding.weight[PAD_ID]) == 0


def test_pad_is_masked_out_of_mean_pooling() -> None:
    model = TextClassifier(ModelSpec(num_embeddings=10, embed_dim=4, num_outputs=2))
    with_pad = model.pooled(torch.tensor([3, 4, PAD_ID, PAD_ID]), torch.tensor([0]))
    without = model.pooled(torch.tensor([3, 4]), torch.tensor([0]))
    torch.testing.assert_close(with_pad, without)


def test_pad_row_stays_zero_after_sparse_training(topics_csv: Path) -> None:
    captured: dict[str, torch.Tensor] = {}

    class Grab(Callback):
        def on_fit_end(self, ctx: FitContext, result: object) -> None:
            captured["w"] = ctx.model.embedding.weight.detach().clone()

    fit(_config(topics_csv, epochs=1, optimizer="adamw"), [Grab()])
    assert torch.count_nonzero(captured["w"][PAD_ID]) == 0


def test_seeded_cpu_runs_are_identical(topics_csv: Path) -> None:
    a = fit(_config(topics_csv, seed=7))
    b = fit(_config(topics_csv, seed=7))
    c = fit(_config(topics_csv, seed=8))
    hist = lambda r: [(e.train_loss, e.val_loss, e.val_accuracy) for e in r.history]  # noqa: E731
    assert hist(a) == hist(b)
    assert hist(a) != hist(c)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("pooling", ["mean", "sum", "max"])
def test_every_optimizer_and_pooling_learns(topics_csv: Path, optimizer: str, pooling: str) -> None:
    # plain SGD on a mean-pooled table needs a far larger step than Adam
    lr = (5.0 if pooling == "mean" else 0.5) if optimizer == "sgd" else 0.02
    config = _config(topics_csv, epochs=4, optimizer=optimizer, lr=lr)
    # words only: max pooling has dense gradients (no sparse EmbeddingBag for it), so each
    # step would update all 500,000 character n-gram rows
    words = {"ngram_buckets": 0, "char_ngrams": (0, 0)}
    config = config.with_overrides(model={"pooling": pooling}, tokenizer=words)
    result = fit(config)
    assert result.val_accuracy > 0.6  # three balanced classes: chance is 0.33


def _scheduled_lr(schedule: str, base: float, step: int, total: int) -> float:
    """The rate (1-based) ``step`` of ``total`` should run with, computed independently."""
    progress = min((step - 1) / total, 1.0)
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base * (1.0 - progress) if schedule == "linear" else base


def _grad_norm(params: list[torch.nn.Parameter]) -> float:
    norms = [
        torch.linalg.vector_norm(p.grad.coalesce()._values() if p.grad.is_sparse else p.grad)
        for p in params
        if p.grad is not None
    ]
    return float(torch.linalg.vector_norm(torch.stack(norms)))


def test_bigrams_hidden_layers_clipping_and_cosine(
    topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    max_norm = 0.25  # low enough that about a third of the steps are clipped
    norms: list[tuple[float, float]] = []  # (before, after) clipping, every step

    def spy(params: list[torch.nn.Parameter], limit: float) -> None:
        before = _grad_norm(params)
        clip_gradients(params, limit)
        norms.append((before, _grad_norm(params)))

    monkeypatch.setattr(loop, "clip_gradients", spy)
    config = _config(topics_csv, epochs=3, grad_clip=max_norm, schedule="cosine")
    config = config.with_overrides(
        tokenizer={"ngram_buckets": 1000}, model={"hidden": (32, 16), "dropout": 0.1}
    )
    rec = Recorder()
    result = fit(config, [rec])
    assert result.val_accuracy > 0.6

    # clipping: every step's gradient norm ends at most max_norm; larger ones end at it
    assert len(norms) == result.steps
    clipped = [(b, a) for b, a in norms if b > max_norm]
    assert clipped and len(clipped) < len(norms)
    assert all(a <= max_norm * (1 + 1e-5) for _, a in norms)
    assert all(a == pytest.approx(max_norm, rel=1e-4) for _, a in clipped)
    assert all(a == pytest.approx(b, rel=1e-5) for b, a in norms if b <= max_norm)

    # the cosine schedule: each step's rate, from the base rate down to almost 0
    assert rec.info is not None
    total, base = rec.info.total_steps, config.train.lr
    assert [s.step for s in rec.steps] == list(range(1, total + 1))
    for s in rec.steps:
        assert s.lr == pytest.approx(_scheduled_lr("cosine", base, s.step, total), rel=1e-9)
    assert rec.steps[0].lr == base and rec.steps[-1].lr < 0.001 * base


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
def test_recorded_lr_is_each_steps_own_between_flushes(topics_csv: Path, schedule: str) -> None:
    # 30 steps an epoch, losses read back every 25 steps and at each epoch's end: the
    # steps of a flush, and those flushed at an epoch's end, each keep their own rate
    config = _config(topics_csv, epochs=3, schedule=schedule, log_every=25)
    rec = Recorder()
    fit(config, [rec])
    assert rec.info is not None
    total, base = rec.info.total_steps, config.train.lr
    assert [s.step for s in rec.steps] == list(range(1, total + 1))
    want = [_scheduled_lr(schedule, base, s.step, total) for s in rec.steps]
    assert [s.lr for s in rec.steps] == pytest.approx(want, rel=1e-9)
    lrs = [s.lr for s in rec.steps]
    assert all(b <= a for a, b in itertools.pairwise(lrs))  # never back up


def test_early_stopping_restores_the_best_epoch(topics_csv: Path) -> None:
    config = _config(topics_csv, epochs=40, lr=0.05, early_stopping_patience=1)
    result = fit(config)
    assert result.status == "early_stopped"
    assert result.epochs < 40
    best = min(result.history, key=lambda e: e.val_loss)
    assert result.best_epoch == best.epoch
    assert result.val_loss == best.val_loss


def test_nan_loss_stops_with_the_step_named(topics_csv: Path) -> None:
    from studio.engine.train.loop import TrainingError

    class Poison(Callback):
        def on_fit_start(self, ctx: FitContext, info: object) -> None:
            with torch.no_grad():
                ctx.model.head[-1].weight.fill_(float("nan"))

    with pytest.raises(TrainingError, match="step 1"):
        fit(_config(topics_csv), [Poison()])


def test_binary_and_multilabel_targets(tmp_path: Path) -> None:
    binary = tmp_path / "bin.csv"
    multi = tmp_path / "multi.csv"
    rows = [("good great fine", "pos"), ("bad awful poor", "neg")] * 60
    binary.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows))
    mrows = [("ball goal", "sport"), ("code chip", "tech"), ("ball chip goal code", "sport|tech")]
    multi.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in mrows * 40))
    r = fit(_config(binary, epochs=5, lr=0.05))
    assert r.val_accuracy == 1.0
    cfg = _config(multi, epochs=8, lr=0.05).with_overrides(data={"label_delimiter": "|"})
    r = fit(cfg)
    assert r.val_accuracy > 0.9


def test_bpe_tokenizer_trains(topics_csv: Path) -> None:
    config = _config(topics_csv, epochs=3).with_overrides(
        tokenizer={"kind": "bpe", "vocab_size": 300}
    )
    assert fit(config).val_accuracy > 0.6


def test_config_tokenizer_validation() -> None:
    with pytest.raises(ConfigError, match=r"tokenizer\.vocab_size"):
        TokenizerConfig(vocab_size=2)


def test_compiled_head_trains(topics_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = torch.compile

    def compile_eager(module: object, **kwargs: object) -> object:
        calls.append(module)
        return real(module, backend="eager")  # no C++ toolchain needed in CI

    monkeypatch.setattr(torch, "compile", compile_eager)
    config = _config(topics_csv, epochs=3, early_stopping_patience=1).with_overrides(
        device={"compile": True}
    )
    from studio.engine import load_run, train_run

    result = train_run(config)
    assert result.val_accuracy > 0.6 and len(calls) == 1
    run = load_run(str(result.run_dir))  # saved weights carry plain names
    assert run.predict("goal coach team")[0][0] == "sport"
