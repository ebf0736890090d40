"""Device-resident flat arrays and batches as slices of them (no per-sample DataLoader)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch

from studio.engine.data.tokenize import PAD_ID


def shard_bounds(n: int, world: int, rank: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous part of ``n`` items; sizes differ by at most one."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def shard_counts(n: int, world: int) -> list[int]:
    """How many of ``n`` items each of ``world`` ranks gets (see :func:`shard_bounds`)."""
    return [b - a for a, b in (shard_bounds(n, world, r) for r in range(world))]


class Batch(NamedTuple):
    """One step's documents: the whole (global) batch, and this rank's part of it.

    In a single-process run the part is the whole batch. In a distributed run every rank
    walks the same global batches (one shared shuffle) and trains on its contiguous slice.
    """

    ids: torch.Tensor
    offsets: torch.Tensor
    targets: torch.Tensor
    n_docs: int
    n_tokens: int
    part_ids: torch.Tensor
    part_offsets: torch.Tensor
    part_targets: torch.Tensor
    part_counts: list[int]  # documents of each rank's part
    may_pad: bool = True  # False: no id is <pad> (the fast CPU kernels apply)


def gather_docs(
    ids: np.ndarray, offsets: np.ndarray, docs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The flat ids and offsets of the documents ``docs``, in that order."""
    starts = offsets[docs]
    lengths = offsets[docs + 1] - starts
    new_offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    index = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return np.ascontiguousarray(ids[index], dtype=np.int32), new_offsets


class DeviceData:
    """One split moved to the device once; each epoch is one gather, each batch a slice."""

    def __init__(
        self,
        ids: np.ndarray,
        offsets: np.ndarray,
        targets: np.ndarray,
        device: torch.device,
    ) -> None:
        self.device = device
        self.n_docs = len(offsets) - 1
        self.n_tokens = int(offsets[-1])
        self.lengths = np.diff(offsets)
        self.offsets_np = np.asarray(offsets[:-1], dtype=np.int64)
        self.ids = torch.from_numpy(np.asarray(ids, dtype=np.int64)).to(device)
        self.offsets = torch.from_numpy(np.asarray(offsets, dtype=np.int64)).to(device)
        self.targets = torch.from_numpy(np.asarray(targets)).to(device)
        self.lengths_t = torch.from_numpy(self.lengths).to(device)
        self.starts_t = self.offsets[:-1]
        # checked once here rather than every step (see table_optim.has_pad)
        self.may_pad = device.type != "cpu" or bool((self.ids == PAD_ID).any())

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        rank: int = 0,
        world: int = 1,
    ) -> Iterator[Batch]:
        """The batches in order, or shuffled when ``rng`` is given.

        With ``world`` > 1 each batch also carries rank ``rank``'s slice of its documents.
        The shuffle runs in this call, not at the first batch (the trainer calls it before
        its Hogwild threads take one intra-op thread each).
        """
        n = self.n_docs
        if rng is None:
            ids, offsets_np, offsets_t, targets = self.ids, None, self.offsets, self.targets
            offsets_np = np.concatenate([self.offsets_np, [self.n_tokens]])
        else:
            perm = rng.permutation(n)
            lengths = self.lengths[perm]
            offsets_np = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets_np[1:])
            perm_t = torch.from_numpy(perm).to(self.device)
            offsets_t = torch.from_numpy(offsets_np).to(self.device)
            shift = self.starts_t[perm_t] - offsets_t[:-1]
            index = torch.repeat_interleave(
                shift, self.lengths_t[perm_t], output_size=self.n_tokens
            ) + torch.arange(self.n_tokens, device=self.device)
            ids = self.ids.index_select(0, index)  # several times faster than ids[index]
            targets = self.targets.index_select(0, perm_t)
        return self._slices(ids, offsets_np, offsets_t, targets, batch_size, rank, world)

    def _slices(
        self,
        ids: torch.Tensor,
        offsets_np: np.ndarray,
        offsets_t: torch.Tensor,
        targets: torch.Tensor,
        batch_size: int,
        rank: int,
        world: int,
    ) -> Iterator[Batch]:
        n = self.n_docs
        for b in range(0, n, batch_size):
            e = min(b + batch_size, n)
            a, z = int(offsets_np[b]), int(offsets_np[e])
            batch_ids, batch_offsets, batch_targets = ids[a:z], offsets_t[b:e] - a, targets[b:e]
            if world == 1:
                yield Batch(
                    batch_ids, batch_offsets, batch_targets, e - b, z - a,
                    batch_ids, batch_offsets, batch_targets, [e - b], self.may_pad,
                )  # fmt: skip
                continue
            p, q = shard_bounds(e - b, world, rank)
            pa, pz = int(offsets_np[b + p]), int(offsets_np[b + q])
            yield Batch(
                batch_ids, batch_offsets, batch_targets, e - b, z - a,
                ids[pa:pz], offsets_t[b + p : b + q] - pa, targets[b + p : b + q],
                shard_counts(e - b, world), self.may_pad,
            )  # fmt: skip
