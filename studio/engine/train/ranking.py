"""Top-k ranking metrics for recommendation, over the users with held-out interactions.

For each such user every item is scored, the items of their training rows are left out,
and the ``k`` best are compared with the held-out items ``T``: recall@k = hits / |T|,
hit-rate@k = 1 when any held-out item is among them, NDCG@k = DCG / ideal DCG with binary
relevance (gain 1 / log2(rank + 1)). Each metric is the mean over users.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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


def _by_user(users: np.ndarray, items: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(users, kind="stable")
    u, it = users[order], items[order]
    cuts = np.flatnonzero(np.r_[True, u[1:] != u[:-1], True])
    return {int(u[a]): np.unique(it[a:b]) for a, b in itertools.pairwise(cuts)}


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
    held = _by_user(*test)
    seen = _by_user(*train)
    users = np.array(sorted(held), dtype=np.int64)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    recall = ndcg = hit = 0.0
    for start in range(0, len(users), batch):
        chunk = users[start : start + batch]
        s = np.array(scores(chunk), dtype=np.float64, copy=True)
        for row, user in enumerate(chunk):
            own = seen.get(int(user))
            if own is not None:
                s[row, own] = -np.inf
        kk = min(k, s.shape[1])
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, 1), 1), 1)
        for row, user in enumerate(chunk):
            relevant = held[int(user)]
            hits = np.isin(top[row], relevant)
            recall += hits.sum() / len(relevant)
            hit += float(hits.any())
            ideal = discount[: min(len(relevant), kk)].sum()
            ndcg += float((hits * discount[:kk]).sum() / ideal)
    n = max(len(users), 1)
    return RankMetrics(k, recall / n, ndcg / n, hit / n, len(users))


def popularity_scores(train_items: np.ndarray, n_items: int) -> Scorer:
    """The baseline that recommends the most interacted-with items to everyone."""
    counts = np.bincount(train_items, minlength=n_items).astype(np.float64)
    return lambda users: np.broadcast_to(counts, (len(users), n_items))
