"""The training objective: the loss of a model's logits, whole-batch and per-rank."""

from __future__ import annotations

import torch
from torch import nn

from studio.engine.train.batching import Batch
from studio.engine.train.model import ModelSpec


def loss_function(spec: ModelSpec) -> nn.Module:
    return nn.BCEWithLogitsLoss() if spec.sigmoid else nn.CrossEntropyLoss()


def batch_loss(
    spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """The mean loss of ``logits`` against targets ``y`` (class ids, or 0/1 label rows)."""
    if not spec.sigmoid:
        return fn(logits, y)
    if spec.num_outputs == 1:
        return fn(logits.squeeze(-1), y.float())
    return fn(logits, y.float())


def part_loss(
    spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, batch: Batch, world: int
) -> torch.Tensor:
    """This rank's share of the global batch's mean loss, times the world size.

    DDP averages the ranks' gradients, so weighting each part's mean by its share of the
    batch gives exactly the gradient of the whole batch's mean loss, even for uneven parts.
    """
    n = len(batch.part_targets)
    if n == 0:  # a last batch smaller than the world: this rank still joins the all-reduce
        return logits.sum() * 0.0
    return batch_loss(spec, fn, logits, batch.part_targets) * (n * world / batch.n_docs)
