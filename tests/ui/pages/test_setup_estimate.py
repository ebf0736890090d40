"""The Setup page's memory figure is the engine's estimate (bug b: it ignored the table
optimiser and counted the default row-wise Adagrad as a gradient and two Adam moments per
table element, about 4x the weights)."""

from __future__ import annotations

from studio.config import StudioConfig
from studio.engine.train.memory import estimate_training_memory
from studio.ui.pages.setup import estimate


def test_the_setup_estimate_counts_the_rowwise_table_optimiser() -> None:
    config = StudioConfig()  # row-wise Adagrad for the table, AdamW for the head
    shown = estimate(config, n_labels=7, vocab_found=20_000)
    engine = estimate_training_memory(config, 20_000, 7)
    assert shown["parameters"] == engine.parameters
    assert shown["table_bytes"] == engine.table_bytes == 220_000 * 64 * 4
    assert shown["training_bytes"] == engine.training_bytes
    assert shown["training_bytes"] < 2 * shown["table_bytes"]  # it used to say 4x


def test_the_setup_estimate_follows_the_table_optimiser() -> None:
    base = StudioConfig().with_overrides(train={"batch_size": 64})  # the same activations
    adagrad = estimate(base, 7, 20_000)
    same = estimate(base.with_overrides(train={"table_optimizer": "same"}), 7, 20_000)
    # SparseAdam keeps two moments per table element
    assert same["training_bytes"] > adagrad["training_bytes"] + 1.9 * adagrad["table_bytes"]
