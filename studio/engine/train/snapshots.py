"""Each epoch's vectors of the most frequent words, kept for the projector's animation.

``snapshots/epoch-NNNN.safetensors`` holds ``vectors``: float16 ``[n, dim]``, the composed
vectors (:func:`~studio.engine.data.word_vectors.word_vectors`) of token ids
``2 .. n + 1`` with ``n`` at most :data:`~studio.engine.runs.layout.SNAPSHOT_WORDS`:
256 KB an epoch at the default dimension, whatever the table's size.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.engine.data.tokenize import SPECIALS
from studio.engine.data.word_vectors import word_vectors
from studio.engine.runs.checkpoint import save_weights
from studio.engine.runs.layout import SNAPSHOT_WORDS, SNAPSHOTS_DIR
from studio.engine.train.context import FitContext


def snapshot_path(run_dir: Path, epoch: int) -> Path:
    """Where epoch ``epoch``'s snapshot lives."""
    return Path(run_dir) / SNAPSHOTS_DIR / f"epoch-{epoch:04d}.safetensors"


def save_snapshot(ctx: FitContext, run_dir: Path, epoch: int) -> None:
    """Write epoch ``epoch``'s snapshot from the live table (replacing a redone epoch's)."""
    first = len(SPECIALS)
    vectors = word_vectors(ctx.model.embedding.weight, ctx.encoder, first + SNAPSHOT_WORDS)
    path = snapshot_path(run_dir, epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensor = torch.from_numpy(vectors[first:]).to(torch.float16)
    meta = {"epoch": str(epoch), "first_id": str(first)}
    save_weights(path, {"vectors": tensor}, meta, durable=False)  # as checkpoints (recorder)
