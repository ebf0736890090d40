"""Where a recommendation step's row gradients go: the item side's two tables, and, in a
distributed run, every rank.

The steps of :mod:`~studio.engine.train.rec_losses` hand each table's row gradients to an
object with ``apply_rows(ids, grad)``: the table's :class:`RowwiseAdagrad`, or one of these.

- :class:`ItemRows`: the item table and, with item text, the text bags (one gradient for
  both, since an item's vector is their sum).
- :class:`GatheredRows`, for ``torch.distributed``: it keeps the step's rows; then
  :meth:`GatheredRows.flush` gathers every rank's (in rank order) and applies them all on
  every rank, so the tables stay identical replicas, as the text table's do
  (:mod:`~studio.engine.train.distributed`). Each rank's gradients are its share's mean,
  so they are divided by N: with equal shares (every whole batch) that is the one-process
  step's gradient exactly, up to float rounding; a last, partial batch is cut into
  blocks per rank, so its step differs a little.
"""

from __future__ import annotations

from typing import Protocol

import torch

from studio.engine.train.distributed import ProcessGroup
from studio.engine.train.item_text import ItemText
from studio.engine.train.table_optim import RowwiseAdagrad

__all__ = ["GatheredRows", "ItemRows", "RowTarget", "shard_rows"]


class RowTarget(Protocol):
    def apply_rows(self, ids: torch.Tensor, grad: torch.Tensor) -> None: ...


class ItemRows:
    """The item side's update: its table's rows and its text bags, from one gradient."""

    def __init__(self, table: RowwiseAdagrad, text: ItemText) -> None:
        self.table, self.text = table, text

    def apply_rows(self, ids: torch.Tensor, grad: torch.Tensor) -> None:
        self.table.apply_rows(ids, grad)
        self.text.apply(ids, grad)


class GatheredRows:
    """Buffers a step's ``apply_rows`` calls; :meth:`flush` applies every rank's."""

    def __init__(self, target: RowTarget, dim: int, group: ProcessGroup) -> None:
        self.target, self.dim, self.group = target, dim, group
        self._ids: list[torch.Tensor] = []
        self._grads: list[torch.Tensor] = []

    def apply_rows(self, ids: torch.Tensor, grad: torch.Tensor) -> None:
        self._ids.append(ids)
        self._grads.append(grad)

    def flush(self) -> None:
        """Three collectives, whatever this rank's share held (even nothing)."""
        device = self.group.device
        ids = torch.cat(self._ids) if self._ids else torch.zeros(0, dtype=torch.long)
        grads = torch.cat(self._grads) if self._grads else torch.zeros(0, self.dim)
        self._ids, self._grads = [], []
        size = torch.tensor([[len(ids)]], dtype=torch.long, device=device)
        counts = [int(c) for c in self.group.gather_rows(size, [1] * self.group.world_size)]
        every = self.group.gather_rows(ids.to(device).unsqueeze(1), counts).squeeze(1)
        grad = self.group.gather_rows(grads.to(device, torch.float32), counts)
        if len(every):  # each rank's are its share's mean: over N, the whole batch's
            self.target.apply_rows(every, grad.div_(self.group.world_size).to(grads.dtype))


def shard_rows(n: int, block: int, rank: int, world: int) -> slice:
    """This rank's slice of a global batch of ``n`` rows: whole blocks of ``block`` (so a
    rank's softmax blocks are a one-process run's), the last rank taking the rest."""
    blocks = max(n // block, 1)
    starts = [min(n, round(r * blocks / world) * block) for r in range(world)] + [n]
    return slice(starts[rank], starts[rank + 1])
