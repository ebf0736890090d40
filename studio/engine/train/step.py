"""One training step's forward pass, shared by the loop and its Hogwild threads."""

from __future__ import annotations

import torch

from studio.engine.train.batching import Batch
from studio.engine.train.distributed import ReplicatedModel
from studio.engine.train.model import TextClassifier
from studio.engine.train.table_optim import RowwiseAdagrad


def forward(
    model: TextClassifier | ReplicatedModel,
    table: RowwiseAdagrad | None,
    batch: Batch,
    amp: bool,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits of this process's part of ``batch`` (and the pooled leaf, whose ``.grad`` the
    fused table update reads, when the table is fused)."""
    ids, offsets = batch.part_ids, batch.part_offsets
    if table is not None:
        pooled = table.pooled(ids, offsets, batch.may_pad)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            return model.head(pooled), pooled
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        return model(ids, offsets), None
