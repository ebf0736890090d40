"""The embedding explorer: the vocabulary's vectors, 2-D projections, nearest neighbours.

With character n-grams a word's vector is composed as fastText's ``get_word_vector`` does:
the mean of its own row (when in the vocabulary) and its n-grams' rows
(:meth:`~studio.engine.data.text_encoder.TextEncoder.word_rows`), so any word has one. The
explorer's neighbour search and the word2vec / projector exports use these vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import PAD, SPECIALS
from studio.engine.data.word_vectors import word_vectors
from studio.engine.runs.checkpoint import load_weights
from studio.engine.runs.layout import SNAPSHOTS_DIR, read_json
from studio.errors import RunError, StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun


def embedding_matrix(run: LoadedRun) -> np.ndarray:
    """A float32 copy of the vocabulary's rows ``[vocab_size, dim]`` (no n-gram buckets)."""
    weight = run.model.embedding.weight.detach()[: run.encoder.vocab_size]
    return np.array(weight.float().cpu().numpy(), dtype=np.float32, copy=True)


def vocabulary_vectors(run: LoadedRun) -> np.ndarray:
    """:func:`word_vectors` of a loaded run (its vocabulary, composed when it has n-grams)."""
    return word_vectors(run.model.embedding.weight, run.encoder)


def word_vector(weight: torch.Tensor, encoder: TextEncoder, word: str) -> np.ndarray | None:
    """Any word's float32 vector: the mean of :meth:`TextEncoder.word_rows` (None when it has
    no rows: a word outside the vocabulary of a model without n-grams)."""
    rows = encoder.word_rows(word)
    if len(rows) == 0:
        return None
    picked = weight.detach()[torch.from_numpy(rows.astype(np.int64))].float().mean(dim=0)
    return np.array(picked.cpu().numpy(), dtype=np.float32)


def frequent_token_ids(run: LoadedRun, n: int) -> np.ndarray:
    """Ids ``2 .. n + 1`` (words: the ``n`` most frequent tokens), clipped to the vocabulary."""
    first = len(SPECIALS)
    return np.arange(first, max(first, min(first + max(n, 0), run.encoder.vocab_size)))


@torch.inference_mode()
def token_classes(
    run: LoadedRun, ids: np.ndarray, batch_size: int = 65_536
) -> tuple[np.ndarray, np.ndarray]:
    """The class each token most supports (the model's argmax on the one-token document)
    and that probability: ``(int64 [n], float32 [n])``."""
    model = run.model
    model.eval()
    device = next(model.parameters()).device
    flat = np.asarray(ids, dtype=np.int64).reshape(-1)
    classes = np.zeros(len(flat), dtype=np.int64)
    probs = np.zeros(len(flat), dtype=np.float32)
    for start in range(0, len(flat), batch_size):
        chunk = torch.from_numpy(flat[start : start + batch_size]).to(device)
        offsets = torch.arange(len(chunk), device=device)
        p = model.probabilities(model(chunk, offsets)).float()
        best, arg = p.max(dim=1)
        classes[start : start + len(chunk)] = arg.cpu().numpy()
        probs[start : start + len(chunk)] = best.cpu().numpy()
    return classes, probs


#: A word outside the index -> ``(the word as the model sees it, its vector)``, or None.
Composer = Callable[[str], tuple[str, np.ndarray] | None]


class NeighbourIndex:
    """Cosine nearest neighbours over a matrix whose rows are ``tokens``; rows are
    normalised once, so each query is one matrix-vector product. With ``compose``, a word
    outside ``tokens`` is queried by the vector it returns (see :func:`word_index`)."""

    def __init__(
        self, matrix: np.ndarray, tokens: Sequence[str], compose: Composer | None = None
    ) -> None:
        m = np.asarray(matrix, dtype=np.float32)
        if m.ndim != 2 or len(m) != len(tokens):
            raise ValueError(f"matrix {m.shape} does not have one row per token ({len(tokens)})")
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        self.normed = np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)
        self.tokens = tuple(tokens)
        self._index = {t: i for i, t in enumerate(self.tokens)}
        self._pad = self._index.get(PAD)
        self._compose = compose

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def id_of(self, token: str) -> int:
        i = self._index.get(token)
        if i is None:
            raise StudioError(f"{token!r} is not in the vocabulary")
        return i

    def composes(self, token: str) -> bool:
        """Whether ``token`` is outside the index and queried by a composed vector."""
        return token not in self._index and self._compose is not None

    def query(self, token: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` tokens most similar to ``token`` (itself and ``<pad>`` left out)."""
        if token in self._index or self._compose is None:
            return self.query_id(self.id_of(token), k)
        found = self._compose(token)
        if found is None:
            raise StudioError(f"{token!r} is not in the vocabulary and has no character n-grams")
        word, vector = found
        return self.query_vector(vector, k, self._index.get(word))

    def query_id(self, i: int, k: int = 10) -> list[tuple[str, float]]:
        return self._best(self.normed @ self.normed[i], k, i)

    def query_vector(
        self, vector: np.ndarray, k: int = 10, exclude: int | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` tokens most similar to ``vector`` (``exclude`` and ``<pad>`` left out)."""
        v = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(v))
        return self._best(self.normed @ (v / norm if norm > 0 else v), k, exclude)

    def _best(self, sims: np.ndarray, k: int, exclude: int | None) -> list[tuple[str, float]]:
        excluded = {j for j in (exclude, self._pad) if j is not None}
        sims[list(excluded)] = -np.inf
        k = min(k, len(sims) - len(excluded))
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.lexsort((top, -sims[top]))]  # best first, ties by id
        return [(self.tokens[j], float(sims[j])) for j in top]


def neighbours(
    matrix: np.ndarray, tokens: Sequence[str], query: str, k: int = 10
) -> list[tuple[str, float]]:
    """Cosine nearest neighbours of ``query``; build a :class:`NeighbourIndex` to repeat."""
    return NeighbourIndex(matrix, tokens).query(query, k)


def word_index(
    weight: torch.Tensor, encoder: TextEncoder, matrix: np.ndarray | None = None
) -> NeighbourIndex:
    """Neighbours among the vocabulary's :func:`word_vectors` (``matrix`` when already
    computed). With n-grams any word can be queried: it is lower-cased as the encoder does,
    then composed with :func:`word_vector`; without them, only the vocabulary's tokens."""
    vectors = word_vectors(weight, encoder) if matrix is None else matrix
    if encoder.subwords is None:
        return NeighbourIndex(vectors, encoder.tokens)

    def compose(token: str) -> tuple[str, np.ndarray] | None:
        word = token.lower() if encoder.lowercase else token
        vector = word_vector(weight, encoder, word)
        return None if vector is None else (word, vector)

    return NeighbourIndex(vectors, encoder.tokens, compose)


def checkpoint_index(run_dir: str | Path) -> NeighbourIndex:
    """:func:`word_index` over ``checkpoints/last.safetensors`` (a run still training)."""
    run = Path(run_dir)
    encoder = TextEncoder.from_json(read_json(run / "vocab.json"))
    path = run / "checkpoints" / "last.safetensors"
    table = load_weights(path).get("embedding.weight")
    if table is None:
        raise RunError(f"{path}: no embedding.weight")
    return word_index(table, encoder)


def matrix_from_checkpoint(run_dir: str | Path, vocab_size: int) -> np.ndarray:
    """The vocabulary rows of ``checkpoints/last.safetensors`` (a run still training)."""
    path = Path(run_dir) / "checkpoints" / "last.safetensors"
    weights = load_weights(path)
    table = weights.get("embedding.weight")
    if table is None:
        raise RunError(f"{path}: no embedding.weight")
    return np.array(table[:vocab_size].float().numpy(), dtype=np.float32, copy=True)


def epoch_snapshots(run_dir: str | Path) -> tuple[list[int], list[np.ndarray]]:
    """The epochs with a snapshot (ascending) and each one's float32 ``[n, dim]`` vectors of
    token ids ``2 .. n + 1`` (see :mod:`studio.engine.train.snapshots`); empty lists for a
    run written before snapshots existed."""
    folder = Path(run_dir) / SNAPSHOTS_DIR
    epochs: list[int] = []
    frames: list[np.ndarray] = []
    for path in sorted(folder.glob("epoch-*.safetensors")):
        try:
            epoch = int(path.stem.split("-", 1)[1])
        except ValueError:
            continue
        vectors = load_weights(path).get("vectors")
        if vectors is None:
            raise RunError(f"{path}: no vectors")
        epochs.append(epoch)
        frames.append(np.array(vectors.float().numpy(), dtype=np.float32))
    if frames:  # a vocabulary smaller than SNAPSHOT_WORDS gives every frame the same rows
        n = min(len(f) for f in frames)
        frames = [f[:n] for f in frames]
    return epochs, frames
