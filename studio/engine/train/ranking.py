"""Top-k ranking metrics for recommendation, over the users with held-out interactions.

For each such user every item is scored, the items of their training rows are left out,
and the ``k`` best are compared with the held-out items ``T``: recall@k = hits / |T|,
hit-rate@k = 1 when any held-out item is among them, NDCG@k = DCG / ideal DCG with binary
relevance (gain 1 / log2(rank + 1)). Each metric is the mean over users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["RankMetrics", "popularity_scores", "rank_metrics"]

#: ``scores(users) -> [len(users), n_items]``, higher is better.
Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RankMetrics:
    k: int
    recall: float
    ndcg: float
    hit_rate: float
    users: int  # users scored


@dataclass(frozen=True)
class _Rows:
    """Each user's distinct items, CSR-style: user ``u``'s are ``items[start[u]:end[u]]``."""

    users: np.ndarray  # sorted distinct users
    start: np.ndarray
    end: np.ndarray
    items: np.ndarray

    @classmethod
    def of(cls, users: np.ndarray, items: np.ndarray) -> _Rows:
        n_items = int(items.max()) + 1 if len(items) else 1
        codes = np.unique(users.astype(np.int64) * n_items + items)
        u, it = codes // n_items, codes % n_items
        cuts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]]) if len(u) else np.zeros(0, np.int64)
        return cls(u[cuts], cuts, np.r_[cuts[1:], len(u)].astype(np.int64), it)

    def pairs(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row in ``chunk``, item) of every item of ``chunk``'s users (some may have none)."""
        if len(self.users) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        at = np.searchsorted(self.users, chunk).clip(max=len(self.users) - 1)
        found = self.users[at] == chunk
        lo = np.where(found, self.start[at], 0)
        size = np.where(found, self.end[at] - lo, 0)
        rows = np.repeat(np.arange(len(chunk)), size)
        offsets = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
        return rows, self.items[np.repeat(lo, size) + offsets]


def rank_metrics(
    scores: Scorer,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    k: int = 10,
    batch: int = 1024,
) -> RankMetrics:
    """Recall, NDCG and hit rate at ``k``; ``train`` and ``test`` are (users, items) arrays."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    held = _Rows.of(*test)
    users = held.users
    if len(users) == 0:
        return RankMetrics(k, 0.0, 0.0, 0.0, 0)
    # only the scored users' training rows matter: a lookup table, not a sort of them all
    mine = np.isin(train[0], users, kind="table") if len(train[0]) else np.zeros(0, bool)
    seen = _Rows.of(train[0][mine], train[1][mine])
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    recall = ndcg = hit = 0.0
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        s = torch.from_numpy(np.array(scores(chunk), dtype=np.float32))  # a copy
        s[tuple(map(torch.as_tensor, seen.pairs(chunk)))] = -torch.inf
        kk = min(k, s.shape[1])
        top = torch.topk(s, kk, dim=1, sorted=True).indices
        rows, items = held.pairs(chunk)
        relevant = torch.zeros(s.shape, dtype=torch.bool)
        relevant[torch.as_tensor(rows), torch.as_tensor(items)] = True
        hits = torch.gather(relevant, 1, top).double().numpy()
        count = np.bincount(rows, minlength=len(chunk))  # items are distinct per user
        recall += float((hits.sum(axis=1) / count).sum())
        hit += float(hits.any(axis=1).sum())
        ideal = np.cumsum(discount[:kk])[np.minimum(count, kk) - 1]
        ndcg += float(((hits * discount[:kk]).sum(axis=1) / ideal).sum())
    n = max(len(users), 1)
    return RankMetrics(k, recall / n, ndcg / n, hit / n, len(users))


def popularity_scores(train_items: np.ndarray, n_items: int) -> Scorer:
    """The baseline that recommends the most interacted-with items to everyone."""
    counts = np.bincount(train_items, minlength=n_items).astype(np.float64)
    return lambda users: np.broadcast_to(counts, (len(users), n_items))
