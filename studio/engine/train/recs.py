"""Training user and item embeddings for recommendation: a user table and an item table,
scored by their dot product, trained with BPR on sampled negatives.

The tables are the engine's embedding tables with row 0 reserved (``<pad>``: never
updated), each updated by the engine's fused row-wise Adagrad
(:class:`~studio.engine.train.table_optim.RowwiseAdagrad`) from the analytic BPR gradient:
no autograd graph and no sparse tensors. Negatives are drawn uniformly or by popularity
(training counts to the power 0.75, as word2vec draws them); with ``exclude_positives`` a
negative that is one of the user's training items is drawn again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.train.control import TrainControl
from studio.engine.train.ranking import RankMetrics, popularity_scores, rank_metrics
from studio.engine.train.table_optim import RowwiseAdagrad
from studio.errors import StudioError

__all__ = ["RecEpoch", "RecResult", "RecSettings", "RecTables", "draw_negatives", "fit_recs"]


@dataclass(frozen=True)
class RecSettings:
    dim: int = 64
    epochs: int = 20
    batch_size: int = 1024
    lr: float = 0.2
    negatives: Literal["uniform", "popularity"] = "uniform"
    exclude_positives: bool = True
    k: int = 10
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "k"):
            if getattr(self, name) < 1:
                raise StudioError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.negatives not in ("uniform", "popularity"):
            raise StudioError(f"negatives must be uniform or popularity, got {self.negatives!r}")


@dataclass(frozen=True)
class RecEpoch:
    epoch: int
    loss: float
    metrics: RankMetrics
    seconds: float  # training seconds so far
    interactions_per_second: float


@dataclass
class RecTables:
    """Row ``u + 1`` of ``users`` is user ``u``'s vector, row ``i + 1`` of ``items`` item
    ``i``'s; row 0 of each is ``<pad>``."""

    users: torch.Tensor
    items: torch.Tensor

    def scores(self, users: np.ndarray) -> np.ndarray:
        """Every item's score for each of ``users`` (dense ids)."""
        with torch.no_grad():
            u = self.users[torch.as_tensor(users, dtype=torch.long) + 1]
            return (u @ self.items[1:].T).cpu().numpy()


@dataclass
class RecResult:
    tables: RecTables
    history: list[RecEpoch] = field(default_factory=list)
    popularity: RankMetrics | None = None


def _pair_codes(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    return np.unique(users.astype(np.int64) * n_items + items)


def draw_negatives(
    users: np.ndarray, n_items: int, rng: np.random.Generator, cumulative: np.ndarray | None,
    positives: np.ndarray | None, rounds: int = 8,
) -> np.ndarray:  # fmt: skip
    """One negative item per user: uniform, or by ``cumulative`` popularity; with sorted
    ``positives`` pair codes, a draw that is a positive of its user is drawn again (up to
    ``rounds`` times; then the few left step to the next item that is not one)."""

    def draw(n: int) -> np.ndarray:
        if cumulative is None:
            return rng.integers(0, n_items, size=n)
        return np.minimum(np.searchsorted(cumulative, rng.random(n) * cumulative[-1]), n_items - 1)

    neg = draw(len(users))
    if positives is None or len(positives) == 0:
        return neg
    for attempt in range(rounds + n_items + 1):
        codes = users * n_items + neg
        at = np.minimum(np.searchsorted(positives, codes), len(positives) - 1)
        clash = np.flatnonzero(positives[at] == codes)
        if len(clash) == 0:
            break
        if attempt < rounds:
            neg[clash] = draw(len(clash))
        else:  # a user who has nearly every item: step to the next one
            neg[clash] = (neg[clash] + 1) % n_items
    return neg  # still clashing only for a user who has every item


def _init(rows: int, dim: int, gen: torch.Generator, device: str) -> torch.Tensor:
    table = torch.randn(rows, dim, generator=gen) * (0.1 / dim**0.5)
    table[0] = 0.0
    return table.to(device)


def fit_recs(
    data: Interactions,
    split: InteractionSplit,
    settings: RecSettings,
    on_epoch: Callable[[RecEpoch], None] | None = None,
    control: TrainControl | None = None,
    on_baseline: Callable[[RankMetrics], None] | None = None,
) -> RecResult:
    """Train on ``split.train_idx``; score recall/NDCG/hit@k on ``split.test_idx`` each epoch.
    ``on_baseline`` gets the popularity baseline's metrics before the first epoch."""
    s = settings
    gen = torch.Generator().manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    tables = RecTables(
        _init(data.n_users + 1, s.dim, gen, s.device), _init(data.n_items + 1, s.dim, gen, s.device)
    )
    user_opt = RowwiseAdagrad(tables.users, s.lr, "sum")
    item_opt = RowwiseAdagrad(tables.items, s.lr, "sum")
    tu, ti = data.users[split.train_idx], data.items[split.train_idx]
    test = (data.users[split.test_idx], data.items[split.test_idx])
    counts = np.bincount(ti, minlength=data.n_items).astype(np.float64)
    cumulative = np.cumsum(counts**0.75) if s.negatives == "popularity" else None
    positives = _pair_codes(tu, ti, data.n_items) if s.exclude_positives else None
    result = RecResult(tables, popularity=rank_metrics(popularity_scores(ti, data.n_items),
                                                       (tu, ti), test, s.k))  # fmt: skip
    if on_baseline is not None and result.popularity is not None:
        on_baseline(result.popularity)
    seconds = 0.0
    for epoch in range(1, s.epochs + 1):
        start, total, batches = time.perf_counter(), 0.0, 0
        order = rng.permutation(len(tu))
        for at in range(0, len(order), s.batch_size):
            if control is not None and control.stop_requested:
                return result
            rows = order[at : at + s.batch_size]
            neg = draw_negatives(tu[rows], data.n_items, rng, cumulative, positives)
            total += _bpr_step(tables, user_opt, item_opt, tu[rows], ti[rows], neg, s.device)
            batches += 1
        seconds += time.perf_counter() - start
        metrics = rank_metrics(tables.scores, (tu, ti), test, s.k)
        done = RecEpoch(epoch, total / max(batches, 1), metrics, seconds, len(tu) * epoch / seconds)
        result.history.append(done)
        if on_epoch is not None:
            on_epoch(done)
    return result


@torch.no_grad()
def _bpr_step(
    tables: RecTables, user_opt: RowwiseAdagrad, item_opt: RowwiseAdagrad, users: np.ndarray,
    pos: np.ndarray, neg: np.ndarray, device: str,
) -> float:  # fmt: skip
    """One BPR step, ``-log sigmoid(u.(p - n))`` averaged; its analytic gradients go to
    the row-wise Adagrad of each table. Returns the batch's loss."""
    uid = torch.as_tensor(users + 1, device=device)
    pid = torch.as_tensor(pos + 1, device=device)
    nid = torch.as_tensor(neg + 1, device=device)
    u, p, n = tables.users[uid], tables.items[pid], tables.items[nid]
    x = (u * (p - n)).sum(dim=1)
    g = (-torch.sigmoid(-x) / len(x)).unsqueeze(1)  # d loss / d x, per pair
    user_opt.apply_rows(uid, g * (p - n))
    item_opt.apply_rows(torch.cat([pid, nid]), torch.cat([g * u, -g * u]))
    return float(torch.nn.functional.softplus(-x).mean())
