"""The training memory estimate against the tensors a real fit allocates.

Each case trains one step with the engine's own builders (``fit``), then sums the bytes of
the model's parameters, their ``.grad`` tensors and every optimiser state tensor (the dense
optimisers' state dicts and the row-wise Adagrad's accumulator): the estimate must give
exactly those numbers. On CUDA the whole estimate is compared with the allocator's peak.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitStart
from studio.engine.train.loop import fit
from studio.engine.train.memory import MemoryEstimate, estimate_training_memory
from studio.engine.train.resume import TrainState
from tests.conftest import write_topics_csv


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


class _Probe(Callback):
    """Counts the live tensors after the epoch's (only) step."""

    def __init__(self) -> None:
        self.info: FitStart | None = None
        self.state: TrainState | None = None
        self.ctx: FitContext | None = None
        self.weights = self.dense_grads = 0
        self.sparse_grads: list[torch.Tensor] = []
        self.peak = 0

    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        self.info = info

    def on_train_state(self, ctx: FitContext, state: TrainState) -> None:
        self.state = state

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        self.ctx = ctx
        params = list(ctx.model.parameters())
        self.weights = sum(_nbytes(p) for p in params)
        grads = [p.grad for p in params if p.grad is not None]
        self.dense_grads = sum(_nbytes(g) for g in grads if not g.is_sparse)
        self.sparse_grads = [g for g in grads if g.is_sparse]
        if ctx.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(ctx.device)

    def optimizer_bytes(self) -> int:
        assert self.state is not None
        total = 0 if self.state.table_state is None else _nbytes(self.state.table_state)
        for sd in self.state.optimizers:
            for per_param in sd["state"].values():
                total += sum(_nbytes(v) for v in per_param.values() if isinstance(v, torch.Tensor))
        return total


def _write_binary_csv(path: Path) -> Path:
    rows = [
        f"good fine great nice {i},yes" if i % 2 else f"bad poor awful {i},no" for i in range(80)
    ]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _config(data: Path, **sections: dict[str, Any]) -> StudioConfig:
    base = StudioConfig(data=DataConfig(path=str(data)))
    merged: dict[str, dict[str, Any]] = {
        "tokenizer": {"vocab_size": 300, "ngram_buckets": 97, "char_ngrams": (0, 0)},
        "model": {"embed_dim": 12, "hidden": (7,)},
        "train": {"epochs": 1, "batch_size": 4096, "lr": 0.01},  # one step: the whole split
        "device": {"device": "cpu"},
    }
    for name, values in sections.items():
        merged[name] = {**merged.get(name, {}), **values}
    return base.with_overrides(**merged)


def _one_step(
    config: StudioConfig, cache: Path, tokens_per_doc: float = 64
) -> tuple[_Probe, MemoryEstimate]:
    probe = _Probe()
    fit(config, [probe], cache_dir=cache)
    assert probe.info is not None and probe.ctx is not None and probe.info.steps_per_epoch == 1
    ctx = probe.ctx
    estimate = estimate_training_memory(
        config,
        ctx.encoder.vocab_size,
        len(ctx.label_names),
        multi_label=ctx.multi_label,
        tokens_per_doc=tokens_per_doc,
    )
    assert estimate.table_rows == ctx.encoder.table_rows
    assert estimate.parameters == probe.info.parameters
    return probe, estimate


CASES = {
    "default: AdamW head, row-wise Adagrad table": {},
    "same: Adam, SparseAdam table": {
        "train": {"optimizer": "adam", "table_optimizer": "same"},
    },
    "same: AdamW, max pooling (dense table)": {
        "train": {"optimizer": "adamw", "table_optimizer": "same"},
        "model": {"pooling": "max"},
    },
    "adagrad asked, max pooling: dense Adam table": {
        "train": {"optimizer": "adam"},
        "model": {"pooling": "max", "hidden": ()},
    },
    "same: SGD, sum pooling (sparse, no state)": {
        "train": {"optimizer": "sgd", "table_optimizer": "same"},
        "model": {"pooling": "sum", "hidden": (5, 3)},
    },
    "frozen table": {"model": {"freeze_embeddings": True}},
    "character n-grams, idf weights": {
        "tokenizer": {"char_ngrams": (2, 4), "char_buckets": 53},
        "model": {"weighting": "idf"},
    },
}


@pytest.mark.parametrize("sections", list(CASES.values()), ids=list(CASES))
def test_estimate_matches_the_tensors_of_a_step(
    tmp_path: Path, sections: dict[str, dict[str, Any]]
) -> None:
    config = _config(write_topics_csv(tmp_path / "topics.csv", n=300), **sections)
    probe, estimate = _one_step(config, tmp_path / "cache")
    assert estimate.weight_bytes == probe.weights
    assert estimate.gradient_bytes == probe.dense_grads
    assert estimate.optimizer_bytes == probe.optimizer_bytes()
    # a sparse table gradient holds only the batch's rows: it is part of the batch's bytes
    for grad in probe.sparse_grads:
        assert _nbytes(grad._values()) + _nbytes(grad._indices()) < estimate.activation_bytes


def test_binary_labels_have_one_output(tmp_path: Path) -> None:
    config = _config(_write_binary_csv(tmp_path / "yes-no.csv"))
    probe, estimate = _one_step(config, tmp_path / "cache")
    assert estimate.weight_bytes == probe.weights
    assert estimate.gradient_bytes == probe.dense_grads
    assert estimate.optimizer_bytes == probe.optimizer_bytes()


def test_the_rowwise_table_optimiser_keeps_one_float_per_row() -> None:
    """Bug b: the default table optimiser was counted as a gradient and two Adam moments per
    table element, about 4x the weights; it keeps one float per row and no gradient."""
    config = StudioConfig()  # 20,000 words + 200,000 bigram buckets, 64 dimensions
    e = estimate_training_memory(config, 20_000, n_labels=7)
    rows = 220_000
    assert e.table_rows == rows and e.table_bytes == rows * 64 * 4
    head = 64 * 7 + 7
    assert e.optimizer_bytes == rows * 4 + 2 * 4 * head + 2 * 4  # Adagrad rows + AdamW head
    assert e.gradient_bytes == head * 4
    assert e.weight_bytes + e.optimizer_bytes + e.gradient_bytes < 1.05 * e.weight_bytes
    same = estimate_training_memory(
        config.with_overrides(train={"table_optimizer": "same"}), 20_000, 7
    )
    assert same.optimizer_bytes > 2 * e.table_bytes  # SparseAdam: two moments per element


def test_vocabulary_is_capped_by_the_config() -> None:
    config = StudioConfig().with_overrides(tokenizer={"vocab_size": 1000, "ngram_buckets": 0})
    assert estimate_training_memory(config, 50_000, 3).table_rows == 1000
    assert estimate_training_memory(config, 400, 3).table_rows == 400
    assert estimate_training_memory(config, None, 3).table_rows == 1000


def test_the_estimate_imports_no_torch() -> None:
    script = (
        "import sys; from studio.engine.train.memory import estimate_training_memory; "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.gpu
def test_estimate_matches_the_cuda_peak(tmp_path: Path) -> None:
    # a table of 2M rows x 64 (512 MB) dominates, as with real vocabularies and buckets;
    # one step over the ~1,600 training documents of 5 to 25 words
    config = _config(
        write_topics_csv(tmp_path / "topics.csv", n=2000),
        tokenizer={"ngram_buckets": 2_000_000},
        model={"embed_dim": 64, "hidden": (128,)},
        train={"batch_size": 2048},
        device={"device": "cuda"},
    )
    device = torch.device("cuda")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    probe, estimate = _one_step(config, tmp_path / "cache", tokens_per_doc=15)
    measured = probe.peak - before
    assert abs(measured - estimate.training_bytes) < 0.1 * estimate.training_bytes
