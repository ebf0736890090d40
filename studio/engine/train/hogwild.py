"""Training steps from several threads at once over one shared table (Hogwild).

fastText reaches its speed on CPU by letting every core update the embedding table without
locks: two threads rarely touch the same row at the same moment, and when they do, a lost
update costs less than a lock would. The studio does the same with threads: each step's
heavy work (the bag, the row-wise Adagrad update) runs in PyTorch kernels that release the
GIL, so ``n`` threads with one intra-op thread each use ``n`` cores. The head is shared
too; each thread gets its own gradients (``torch.autograd.grad``, nothing accumulates into
``.grad``) and the head's optimiser step, a few microseconds, runs under a lock.

Results then vary slightly from run to run (the order of the threads' updates varies);
``device.workers = 1`` keeps runs bit-identical for a seed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import torch

from studio.config import StudioConfig
from studio.engine.train.batching import Batch
from studio.engine.train.losses import batch_loss
from studio.engine.train.optim import Optimizer, clip_gradients
from studio.engine.train.step import forward
from studio.engine.train.table_optim import RowwiseAdagrad

if TYPE_CHECKING:
    from studio.engine.train.model import TextClassifier

AUTO_MAX_THREADS = 8  # a cap: the GIL-held part of a step grows with the threads (measured on 2)
AUTO_MIN_STEPS = 100  # steps per epoch below which one thread is kept (and runs reproduce)
STEPS_PER_THREAD = 8  # steps each thread takes between two waits for the others


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def hogwild_threads(
    config: StudioConfig, device: torch.device, fused: bool, distributed: bool, steps: int
) -> int:
    """How many threads train: ``device.workers``, or for 0 (auto) one per core (at most
    :data:`AUTO_MAX_THREADS`) on CPU with the fused table when an epoch has at least
    :data:`AUTO_MIN_STEPS` steps, else one. Only a single CPU process with the fused table
    can share its table this way; anything else trains on one thread."""
    if device.type != "cpu" or not fused or distributed:
        return 1
    if config.device.workers:
        return config.device.workers
    if steps < AUTO_MIN_STEPS:
        return 1
    return max(1, min(usable_cores(), AUTO_MAX_THREADS))


class Hogwild:
    """Runs groups of steps, one per thread, over the shared table and head."""

    @classmethod
    def maybe(
        cls,
        config: StudioConfig,
        device: torch.device,
        model: TextClassifier,
        table: RowwiseAdagrad | None,
        optimizers: Sequence[Optimizer],
        loss_fn: torch.nn.Module,
        *,
        distributed: bool,
        steps: int,
    ) -> Hogwild | None:
        """The threads for this fit, or None when one thread trains (see hogwild_threads)."""
        threads = hogwild_threads(config, device, table is not None, distributed, steps)
        if threads < 2 or table is None:
            return None
        return cls(threads, model, table, optimizers, loss_fn, config.train.grad_clip)

    def __init__(
        self,
        threads: int,
        model: TextClassifier,
        table: RowwiseAdagrad,
        optimizers: Sequence[Optimizer],
        loss_fn: torch.nn.Module,
        grad_clip: float,
    ) -> None:
        self.threads = threads
        self.model, self.table, self.optimizers = model, table, list(optimizers)
        self.loss_fn, self.grad_clip = loss_fn, grad_clip
        self.params = [q for q in model.head.parameters() if q.requires_grad]
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="studio-hogwild")

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """One intra-op thread while the threads train (each kernel then runs on its own
        thread's core); the previous count again after, for validation."""
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @property
    def at_once(self) -> int:
        """Steps per call of :meth:`steps`: a few per thread, so that the threads wait for
        each other (and for the loop's bookkeeping) once per few steps, not every step."""
        return self.threads * STEPS_PER_THREAD

    def steps(self, batches: Sequence[Batch]) -> list[torch.Tensor]:
        """Train on ``batches`` at once, thread ``t`` on every ``threads``-th from ``t``;
        their losses, in the batches' order."""
        parts = [batches[t :: self.threads] for t in range(self.threads)]
        futures = [self.pool.submit(self._run, part) for part in parts[1:]]
        losses = [self._run(parts[0]), *(f.result() for f in futures)]  # this thread too
        out: list[torch.Tensor] = [torch.empty(())] * len(batches)
        for t, part_losses in enumerate(losses):
            out[t :: self.threads] = part_losses
        return out

    def _run(self, part: Sequence[Batch]) -> list[torch.Tensor]:
        return [self.step(b) for b in part]

    def step(self, batch: Batch) -> torch.Tensor:
        """One step of one thread: its gradients, the head's update, the table's."""
        logits, pooled = forward(self.model, self.table, batch, False, batch.ids.device)
        assert pooled is not None
        loss = batch_loss(self.model.spec, self.loss_fn, logits.float(), batch.targets)
        grads = torch.autograd.grad(loss, [pooled, *self.params], allow_unused=True)
        with self.lock:
            for q, g in zip(self.params, grads[1:], strict=True):
                q.grad = g
            if self.grad_clip > 0:
                clip_gradients(self.params, self.grad_clip)
            for opt in self.optimizers:
                opt.step()
                opt.zero_grad(set_to_none=True)
        self.table.apply(batch.ids, batch.offsets, grads[0], batch.may_pad)
        return loss.detach()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
