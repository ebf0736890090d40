"""Item side features in training: each item's vector is its own row plus the mean of its
text's word rows, ``items[i] + mean(words[w] for w in text(i))``.

The word table is trained by the same row-wise Adagrad as the text classifier's table
(:meth:`~studio.engine.train.table_optim.RowwiseAdagrad.apply` with mean pooling): the
gradient of an item's vector in a step is also its text bag's gradient. Words shared by
items carry what was learnt about one to the others, so an item never had in training is
placed by its text alone (cold start). The table starts at zero: training begins from the
id-only model. ``<unk>`` is left out of the bags (a row every item would share).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import UNK_ID
from studio.engine.train.table_optim import RowwiseAdagrad, pool

__all__ = ["ItemText"]


class ItemText:
    """The text bags of the item table's rows (row ``i + 1`` is item ``i``; row 0, the
    item table's ``<pad>``, has an empty bag)."""

    def __init__(
        self, encoder: TextEncoder, texts: Sequence[str], dim: int, lr: float, device: str
    ) -> None:
        ids, offsets = encoder.encode(list(texts))
        ids = np.asarray(ids, dtype=np.int64)
        bounds = np.asarray(offsets)[: len(texts)]  # each text's start (a last total dropped)
        doc = np.repeat(np.arange(len(texts)), np.diff(np.r_[bounds, len(ids)]))
        keep = ids != UNK_ID
        ids, doc = ids[keep], doc[keep]
        lengths = np.bincount(doc, minlength=len(texts))
        self.encoder = encoder
        self.flat = torch.as_tensor(ids, device=device)
        self.starts = torch.as_tensor(np.r_[0, 0, np.cumsum(lengths)], device=device)
        self.words = torch.zeros(encoder.table_rows, dim, device=device)
        self.opt = RowwiseAdagrad(self.words, lr, "mean")
        # a step looks up the bags of its rows, then updates the same rows: gathered once
        self._last: tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]] | None = None

    def bags(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat word ids and offsets of the bags of item rows ``rows``."""
        if self._last is not None and self._last[0] is rows:
            return self._last[1]
        start = self.starts[rows]
        lengths = self.starts[rows + 1] - start
        offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        at = torch.repeat_interleave(start - offsets, lengths, output_size=total)
        at += torch.arange(total, device=rows.device)
        self._last = (rows, (self.flat[at], offsets))
        return self._last[1]

    def vectors(self, rows: torch.Tensor) -> torch.Tensor:
        """The mean word vector of each row's text (zeros for an empty text)."""
        ids, offsets = self.bags(rows)
        return pool(self.words, ids, offsets, "mean", may_pad=False)

    def apply(self, rows: torch.Tensor, grad: torch.Tensor) -> None:
        """One row-wise Adagrad step of the words of ``rows``' texts, ``grad`` being the
        gradient of each row's item vector."""
        ids, offsets = self.bags(rows)
        self.opt.apply(ids, offsets, grad, may_pad=False)

    @torch.no_grad()
    def matrix(self, batch: int = 65_536) -> torch.Tensor:
        """Every item row's text vector ``[n_items + 1, dim]`` (row 0 zero)."""
        n = len(self.starts) - 1
        rows = torch.arange(n, device=self.words.device)
        return torch.cat([self.vectors(rows[i : i + batch]) for i in range(0, n, batch)])
