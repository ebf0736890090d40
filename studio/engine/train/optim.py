"""The dense optimisers and what each step applies: the learning-rate schedule, clipping.

(The embedding table's fused row-wise Adagrad is :mod:`studio.engine.train.table_optim`.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from studio.config import StudioConfig
from studio.engine.train.adam import Adam
from studio.engine.train.model import TextClassifier
from studio.engine.train.table_optim import RowwiseAdagrad

Optimizer = torch.optim.Optimizer | Adam  # what a step calls zero_grad, step, state_dict on


def build_optimizers(model: TextClassifier, config: StudioConfig) -> list[Optimizer]:
    """One optimiser for everything (SGD), or one for the head and one for the table.

    Adam and AdamW are :class:`~studio.engine.train.adam.Adam` (``torch.optim``'s arithmetic
    and kernels, without its second of start-up).
    """
    tc = config.train
    table = [p for p in model.embedding.parameters() if p.requires_grad]
    rest = list(model.head.parameters())
    sparse = model.embedding.sparse
    if tc.optimizer == "sgd":
        return [
            torch.optim.SGD(table + rest, lr=tc.lr, weight_decay=0.0 if sparse else tc.weight_decay)
        ]
    decoupled = tc.optimizer == "adamw"
    opts: list[Optimizer] = [Adam(rest, tc.lr, tc.weight_decay, decoupled)]
    if table:  # a dense table keeps torch.optim.AdamW's default decay, as it always had
        table_decay = 0.01 if decoupled else 0.0
        opts.append(
            torch.optim.SparseAdam(table, lr=tc.lr)
            if sparse
            else Adam(table, tc.lr, table_decay, decoupled)
        )
    return opts


def lr_factor(schedule: str, step: int, total: int) -> float:
    """The schedule's multiplier of the base rates at (0-based) ``step`` of ``total``."""
    progress = min(step / max(total, 1), 1.0)
    if schedule == "linear":
        return max(1.0 - progress, 0.0)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


class LrSchedule:
    """Sets the learning rate of every optimiser (and of the fused table) for each step."""

    def __init__(self, schedule: str, optimizers: list[Optimizer], table_lr: float) -> None:
        self.schedule = schedule
        self.optimizers = optimizers
        self.base_lrs = [[g["lr"] for g in o.param_groups] for o in optimizers]
        self.table_lr = table_lr

    def apply(self, step: int, total: int, table: RowwiseAdagrad | None) -> None:
        """Set the rates of (0-based) ``step`` of ``total``."""
        factor = lr_factor(self.schedule, step, total)
        for opt, lrs in zip(self.optimizers, self.base_lrs, strict=True):
            for param_group, lr in zip(opt.param_groups, lrs, strict=True):
                param_group["lr"] = lr * factor
        if table is not None:
            table.lr = self.table_lr * factor

    def reported_lr(self, step: int, total: int) -> float:
        """The rate reported for (0-based) ``step``: the first optimiser's first group's."""
        return self.base_lrs[0][0] * lr_factor(self.schedule, step, total)


def clip_gradients(params: list[nn.Parameter], max_norm: float) -> None:
    """Clip the global gradient norm, dense and sparse gradients alike."""
    norms = []
    for p in params:
        if p.grad is None:
            continue
        g = p.grad.coalesce() if p.grad.is_sparse else p.grad
        if p.grad.is_sparse:
            p.grad = g
        norms.append(torch.linalg.vector_norm(g._values() if g.is_sparse else g))
    if not norms:
        return
    total = torch.linalg.vector_norm(torch.stack(norms))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad.mul_(coef)
