"""Flat id arrays: one int32 array of token ids for all documents, plus int64 offsets.

Document ``i`` is ``ids[offsets[i]:offsets[i + 1]]``. This is the layout
``nn.EmbeddingBag`` takes directly, so batches are slices, never padded matrices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from studio.engine.data.tokenize import UNK_ID

_HASH_MUL = np.int64(116_049_371)  # fastText's n-gram hash multiplier


def flatten(
    id_lists: Iterable[Sequence[int] | np.ndarray], n_docs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-document id lists into ``(ids, offsets)``."""
    lengths = np.empty(n_docs, dtype=np.int64)
    chunks: list[np.ndarray] = []
    for i, doc in enumerate(id_lists):
        lengths[i] = len(doc)
        chunks.append(np.asarray(doc, dtype=np.int32))
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
    return ids.astype(np.int32, copy=False), offsets


def cap_vocab(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Map every id at or above ``vocab_size`` to ``<unk>`` (ids are frequency ranks)."""
    return np.where(ids >= vocab_size, np.int32(UNK_ID), ids).astype(np.int32, copy=False)


def add_bigrams(
    ids: np.ndarray, offsets: np.ndarray, vocab_size: int, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """Append hashed word bigrams to each document (fastText's bigram trick).

    The bigram of ids ``(a, b)`` gets id ``vocab_size + hash(a, b) % buckets``, i.e. one
    of ``buckets`` extra rows of the embedding table. Each document's unigrams come first,
    then its bigrams. Fully vectorised: no Python loop over documents.
    """
    if buckets <= 0 or len(ids) < 2:
        return ids, offsets
    lengths = np.diff(offsets)
    n_pairs = np.maximum(lengths - 1, 0)
    # a pair starts at position p when p + 1 is still in the same document
    pair_ok = np.ones(len(ids) - 1, dtype=bool)
    ends = offsets[1:-1] - 1
    pair_ok[ends[(ends >= 0) & (ends < len(ids) - 1)]] = False
    left = ids[:-1][pair_ok].astype(np.int64)
    right = ids[1:][pair_ok].astype(np.int64)
    bigram = (vocab_size + ((left * _HASH_MUL) ^ right) % buckets).astype(np.int32)

    extra_before = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(n_pairs, out=extra_before[1:])
    new_offsets = offsets + extra_before
    out = np.empty(len(ids) + len(bigram), dtype=np.int32)
    doc_of_token = np.repeat(np.arange(len(lengths)), lengths)
    out[np.arange(len(ids)) + extra_before[:-1][doc_of_token]] = ids
    pair_pos = np.flatnonzero(pair_ok)
    doc_of_pair = doc_of_token[pair_pos]
    dest = new_offsets[doc_of_pair] + lengths[doc_of_pair] + (pair_pos - offsets[doc_of_pair])
    out[dest] = bigram
    return out, new_offsets


def append_per_doc(
    ids: np.ndarray, offsets: np.ndarray, extra: np.ndarray, extra_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each document's ids followed by its ``extra`` ids (both CSR over the same documents)."""
    if len(extra) == 0:
        return ids, offsets
    lengths = np.diff(offsets)
    extra_lengths = np.diff(extra_offsets)
    new_offsets = offsets + extra_offsets
    out = np.empty(len(ids) + len(extra), dtype=np.int32)
    doc_of_id = np.repeat(np.arange(len(lengths)), lengths)
    out[np.arange(len(ids)) + extra_offsets[:-1][doc_of_id]] = ids
    doc_of_extra = np.repeat(np.arange(len(lengths)), extra_lengths)
    out[np.arange(len(extra)) + offsets[1:][doc_of_extra]] = extra
    return out, new_offsets
