"""What the Embeddings page maps: a text run's words or a recommendation run's items.

:func:`load_space` reads a run folder of either kind into one interface: the vectors,
the points in rank order (words by frequency, items by how often they were had in
training), a class per point for colour, and a cosine :class:`NeighbourIndex`.

- Words are coloured by the label each one most supports on its own (the model's argmax
  on the one-token document), as before.
- Items are coloured by popularity tier: the most popular items that together hold half
  the training interactions (head), those holding the next 30% (torso), and the rest
  (tail), so the map shows whether the table separates niche items from popular ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import numpy as np

from studio.engine.analysis.embeddings import NeighbourIndex

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun
    from studio.engine.analysis.recommend import RecRun

__all__ = [
    "ITEM_TIERS", "ItemSpace", "TextSpace", "VectorSpace", "item_space", "load_space",
]  # fmt: skip

#: Item popularity tiers: (label, cumulative share of training interactions it ends at).
ITEM_TIERS: Final = (
    ("head: half of all interactions", 0.5),
    ("torso: the next 30%", 0.8),
    ("tail: the last 20%", 1.0),
)


class VectorSpace(Protocol):
    """The points of one run the Embeddings page can project and search."""

    kind: str  # "words" or "items"
    index: NeighbourIndex
    description: str  # what the map shows, for the page's status line

    @property
    def limit(self) -> int:
        """How many points can be mapped."""
        ...

    def ranked(self, n: int) -> np.ndarray:
        """Row ids of the ``n`` highest-ranked points (most frequent / popular first)."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def names(self, ids: np.ndarray) -> list[str]: ...

    def classes(self, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """A class index per point and the class labels, for colour."""
        ...


@dataclass
class TextSpace:
    """A text run's vocabulary (composed from n-grams when the run has them)."""

    run: LoadedRun
    matrix: np.ndarray
    index: NeighbourIndex
    kind: str = "words"
    description: str = (
        "most frequent tokens, coloured by the label each one most supports on its own"
    )

    @property
    def limit(self) -> int:
        return max(0, self.run.encoder.vocab_size - 2)

    def ranked(self, n: int) -> np.ndarray:
        from studio.engine.analysis.embeddings import frequent_token_ids

        return frequent_token_ids(self.run, n)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.matrix[ids]

    def names(self, ids: np.ndarray) -> list[str]:
        return [self.run.encoder.tokens[i] for i in ids]

    def classes(self, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
        from studio.engine.analysis.embeddings import token_classes

        return token_classes(self.run, ids)[0], list(self.run.labels)


@dataclass
class ItemSpace:
    """A recommendation run's item table; row ``r`` is the ``r``-th most popular item."""

    run: RecRun
    order: np.ndarray  # item ids, most had in training first
    matrix: np.ndarray  # float32 [n_items, dim], rows in ``order``
    tier: np.ndarray  # per rank: the ITEM_TIERS index
    index: NeighbourIndex
    kind: str = "items"
    description: str = "most popular items, coloured by popularity tier"

    @property
    def limit(self) -> int:
        return len(self.order)

    def ranked(self, n: int) -> np.ndarray:
        return np.arange(min(max(n, 0), len(self.order)))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.matrix[ids]

    def names(self, ids: np.ndarray) -> list[str]:
        return [self.index.tokens[i] for i in ids]

    def classes(self, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
        return self.tier[ids], [label for label, _ in ITEM_TIERS]


def item_space(run: RecRun) -> ItemSpace:
    counts = np.bincount(run.train_items, minlength=len(run.item_names))
    order = np.lexsort((np.arange(len(counts)), -counts))  # popular first, ties by id
    share = np.cumsum(counts[order]) / max(1, int(counts.sum()))
    ends = np.array([end for _, end in ITEM_TIERS])
    before = np.concatenate([[0.0], share[:-1]])  # an item's tier: where its share starts
    tier = np.minimum(np.searchsorted(ends, before, side="right"), len(ends) - 1)
    items = run.tables.items[1:].detach().float().cpu().numpy()[order]
    index = NeighbourIndex(items, [run.item_names[i] for i in order])
    return ItemSpace(run, order, items, tier.astype(np.int64), index)


def load_space(run_dir: str | Path) -> VectorSpace:
    """The run at ``run_dir`` as a :class:`VectorSpace` (items for a recommendation run)."""
    from studio.engine.analysis.recommend import RECS_FILE, load_recs_run

    if (Path(run_dir) / RECS_FILE).is_file():
        return item_space(load_recs_run(run_dir))
    from studio.engine.analysis.embeddings import vocabulary_vectors, word_index
    from studio.engine.analysis.inference import load_run

    run = load_run(run_dir)
    matrix = vocabulary_vectors(run)  # with n-grams: composed, as fastText's
    return TextSpace(run, matrix, word_index(run.model.embedding.weight, run.encoder, matrix))
