"""Counting distinct tokens in bounded memory, pruning the rarest as fastText does.

fastText's ``Dictionary::add`` raises a minimum count and drops every word below it whenever
the table grows past 75 % of its size; :class:`TokenCounter` does the same past
``max_distinct`` tokens (down to 75 % of it, so pruning is rare). What is lost: a token that
is rarer than the minimum count *between two prunings* is forgotten and, unless it comes
back often enough later, becomes ``<unk>``. Frequent tokens are never dropped, and the
counts that rank the vocabulary are recounted exactly afterwards, so only the rare tail of
the vocabulary changes. With fewer distinct tokens than ``max_distinct`` nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_DISTINCT = 4_000_000  # ~0.5 GB of Python strings and ints at ~120 bytes per entry
_KEEP = 0.75


class TokenCounter:
    """Approximate counts of at most ``max_distinct`` distinct tokens."""

    def __init__(self, max_distinct: int = MAX_DISTINCT) -> None:
        if max_distinct < 1:
            raise ValueError("max_distinct must be at least 1")
        self.max_distinct = max_distinct
        self.counts: dict[str, int] = {}
        self.min_count = 1  # tokens below this were dropped at the latest pruning
        self.prunings = 0

    def add(self, tokens: Sequence[str], counts: np.ndarray) -> None:
        """Add ``counts[i]`` occurrences of each ``tokens[i]``, then prune if needed."""
        table = self.counts
        get = table.get
        for token, n in zip(tokens, counts.tolist(), strict=True):
            table[token] = get(token, 0) + n
        if len(table) > self.max_distinct:
            self._prune()

    def _prune(self) -> None:
        keep = int(self.max_distinct * _KEEP)
        while len(self.counts) > keep:
            self.min_count += 1
            self.counts = {t: n for t, n in self.counts.items() if n >= self.min_count}
        self.prunings += 1

    def index(self) -> dict[str, int]:
        """Number the kept tokens 0, 1, ... in first-kept order (the counts are given up)."""
        table = self.counts
        for i, token in enumerate(table):
            table[token] = i
        self.counts = {}
        return table
