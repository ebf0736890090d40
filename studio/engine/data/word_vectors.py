"""Word vectors from an embedding table: a token's own row, composed with its character
n-grams' rows when the encoder has them (fastText's ``get_word_vector``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from studio.engine.data.text_encoder import TextEncoder


def word_vectors(
    weight: torch.Tensor, encoder: TextEncoder, count: int | None = None
) -> np.ndarray:
    """``[count, dim]`` float32 (``count`` defaults to the whole vocabulary): the vectors of
    token ids ``0 .. count - 1``, each composed with its n-grams' rows when the encoder has
    them; otherwise, and for ``<pad>`` and ``<unk>``, the token's own row."""
    n = encoder.vocab_size if count is None else max(0, min(count, encoder.vocab_size))
    with torch.no_grad():
        table = weight.detach()
        own = table[:n].float()
        if encoder.subwords is None:
            return np.array(own.cpu().numpy(), dtype=np.float32, copy=True)
        rows, offsets = encoder.subword_rows(encoder.tokens[:n])
        sums = F.embedding_bag(
            torch.from_numpy(rows.astype(np.int64)).to(table.device),
            table,
            torch.from_numpy(offsets[:-1]).to(table.device),
            mode="sum",
        ).float()  # a token without n-grams (the specials) sums to 0
        counts = torch.from_numpy(np.diff(offsets)).to(own).unsqueeze(1)
        return np.array(((own + sums) / (1.0 + counts)).cpu().numpy(), dtype=np.float32)
