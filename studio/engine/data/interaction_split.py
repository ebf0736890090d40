"""Held-out interactions per user, for recommendation: each user's last interaction (by
timestamp, else by file order), or a random share of each user's items, after an optional
minimum-count filter on users and items. ``"items"`` holds out a seeded share of the items
instead, with every interaction they have: the cold-start test, where only side features
(an item's text) can place an item.

A user with a single interaction keeps it for training (nothing to hold out). No held-out
interaction of a user is also one of that user's training rows: a user who interacted with
an item twice has both rows on the same side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from studio.engine.data.interactions import Interactions
from studio.errors import StudioError

__all__ = ["Holdout", "InteractionSplit", "min_count_filter", "split_interactions"]

Holdout = Literal["last", "random", "items"]


@dataclass(frozen=True)
class InteractionSplit:
    """Row indices into the :class:`Interactions` for training and for scoring."""

    train_idx: np.ndarray  # int64
    test_idx: np.ndarray  # int64
    kept: np.ndarray  # bool [n]: the rows the minimum-count filter kept
    unseen_users: int  # users with held-out rows but no training row
    unseen_items: int  # held-out items that no training row has
    rule: dict[str, object] | None = None  # how it was made: holdout, share, min_count, seed


def min_count_filter(data: Interactions, min_count: int) -> np.ndarray:
    """Rows kept after dropping, repeatedly, users and items with fewer than ``min_count``
    distinct interactions (the k-core); all rows when ``min_count`` is 1 or less."""
    keep = np.ones(len(data), dtype=bool)
    if min_count <= 1:
        return keep
    while True:
        users = np.bincount(data.users[keep], minlength=data.n_users)
        items = np.bincount(data.items[keep], minlength=data.n_items)
        ok = keep & (users[data.users] >= min_count) & (items[data.items] >= min_count)
        if ok.sum() == keep.sum():
            return keep
        keep = ok


def split_interactions(
    data: Interactions,
    holdout: Holdout = "last",
    share: float = 0.2,
    min_count: int = 1,
    seed: int = 0,
) -> InteractionSplit:
    """Per user, hold out the last pair (``"last"``) or a seeded ``share`` of their distinct
    items (``"random"``, at least one, never all); both rows of a repeated pair go together.
    ``"items"``: a seeded ``share`` of the items, all their rows."""
    if holdout not in ("last", "random", "items"):
        raise StudioError(f"holdout must be 'last', 'random' or 'items', got {holdout!r}")
    if not 0.0 < share < 1.0:
        raise StudioError(f"the held-out share must be between 0 and 1, got {share}")
    kept = min_count_filter(data, min_count)
    rows = np.flatnonzero(kept)
    if len(rows) == 0:
        raise StudioError(f"no interactions are left after the minimum count of {min_count}")
    order = np.lexsort(
        (rows, data.times[rows] if data.times is not None else rows, data.users[rows])
    )  # by user, then time (or file order), then file order
    rows = rows[order]
    rng = np.random.default_rng(seed)
    rule: dict[str, object] = {"holdout": holdout, "share": share, "min_count": min_count,
                               "seed": seed}  # fmt: skip
    if holdout == "items":
        present = np.unique(data.items[rows])
        cold = rng.choice(present, size=max(1, round(share * len(present))), replace=False)
        return _split(
            data,
            kept,
            rows[~np.isin(data.items[rows], cold)],
            rows[np.isin(data.items[rows], cold)],
            rule,
        )
    pair = data.users[rows] * np.int64(data.n_items) + data.items[rows]
    held = np.zeros(len(rows), dtype=bool)
    starts = np.flatnonzero(np.r_[True, data.users[rows][1:] != data.users[rows][:-1]])
    for start, end in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        distinct = list(dict.fromkeys(pair[start:end].tolist()))
        if len(distinct) < 2:
            continue
        if holdout == "last":  # the pair of the user's latest row (rows are in time order)
            chosen = {int(pair[end - 1])}
        else:
            n = min(max(1, round(share * len(distinct))), len(distinct) - 1)
            chosen = set(rng.choice(distinct, size=n, replace=False).tolist())
        held[start:end] = np.isin(pair[start:end], list(chosen))
    return _split(data, kept, rows[~held], rows[held], rule)


def _split(
    data: Interactions, kept: np.ndarray, train: np.ndarray, test: np.ndarray,
    rule: dict[str, object],
) -> InteractionSplit:  # fmt: skip
    train, test = np.sort(train), np.sort(test)
    seen_users = np.zeros(data.n_users, dtype=bool)
    seen_users[data.users[train]] = True
    seen_items = np.zeros(data.n_items, dtype=bool)
    seen_items[data.items[train]] = True
    return InteractionSplit(
        train, test, kept, int((~seen_users[np.unique(data.users[test])]).sum()),
        int((~seen_items[np.unique(data.items[test])]).sum()), rule,
    )  # fmt: skip
