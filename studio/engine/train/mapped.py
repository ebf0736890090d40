"""Training data larger than memory: batches read from the memory-mapped encoded arrays.

A split too large to keep on the device (see :func:`split_data`) is read block by block
from the prepared dataset's ``ids.npy`` memory map. A shuffled epoch takes the documents as
runs of neighbours (:data:`RUN_DOCS`) in random order, cuts that sequence into blocks and
shuffles each block, so batches mix documents from all over the file (even a file sorted
by label) while every read is short and sequential. Each block is capped to the
vocabulary, given its hashed bigrams, moved to the device and cut into batches like
:class:`~studio.engine.train.batching.DeviceData`.
The pages of the map a block touched are handed back to the kernel after it is read
(``madvise(MADV_DONTNEED)``): they stay in the page cache but not in this process's
resident memory, and the block's freed temporaries are returned to the system
(:func:`~studio.engine.train.heap.trim_heap`), so a pass over a file of many gigabytes keeps a
bounded footprint. Blocks are encoded on the training thread. A helper thread that encoded
the next block during training was 4% faster on the 10M-document benchmark (17,944 vs
17,238 docs/s) but raised its peak from 2.3 to 2.9 GB: a second block, a second malloc arena.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.engine.data.ids import add_bigrams, append_per_doc, cap_vocab
from studio.engine.data.subwords import gather_rows
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.train.batching import Batch, DeviceData, gather_docs
from studio.engine.train.heap import trim_heap

if TYPE_CHECKING:
    from studio.engine.data.dataset import PreparedDataset

#: Splits with more tokens than this are streamed from the memory map (about 1.5 GB of
#: device memory for ids, bigram ids and the epoch's shuffled copy at 8 bytes each).
RESIDENT_TOKENS = 64_000_000
#: Documents per block (rounded up to whole batches, so only an epoch's last batch is short).
BLOCK_DOCS = 65_536
#: Neighbouring documents read together; a shuffled epoch takes runs in random order.
RUN_DOCS = 512


#: Character n-gram rows of every token id of a prepared dataset (CSR), see
#: :meth:`TextEncoder.subword_rows`; ``None`` when the model has no n-grams.
Subwords = tuple[np.ndarray, np.ndarray] | None


def encode_docs(
    ids: np.ndarray,
    offsets: np.ndarray,
    docs: np.ndarray,
    encoder: TextEncoder,
    subwords: Subwords = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat ids of ``docs`` in order (vocabulary-capped, then hashed bigrams and, with
    ``subwords``, each word's character n-grams, even of words past the vocabulary)."""
    flat, flat_offsets = gather_docs(ids, offsets, docs)
    grams = gather_rows(*subwords, flat, flat_offsets) if subwords is not None else None
    flat = cap_vocab(flat, encoder.vocab_size)
    flat, flat_offsets = add_bigrams(flat, flat_offsets, encoder.vocab_size, encoder.ngram_buckets)
    return append_per_doc(flat, flat_offsets, *grams) if grams else (flat, flat_offsets)


def release(array: np.ndarray, start: int, stop: int) -> None:
    """Drop rows ``start:stop`` of a memory-mapped array from resident memory (not from
    the file or the page cache); a no-op for arrays in memory."""
    base = array.base if isinstance(array, np.memmap) else None
    if not isinstance(base, mmap.mmap) or stop <= start:
        return
    item = array.dtype.itemsize
    first = (array.offset + start * item) // mmap.PAGESIZE * mmap.PAGESIZE
    last = min(len(base), array.offset + stop * item)
    if last > first:
        base.madvise(mmap.MADV_DONTNEED, first, last - first)


class MappedData:
    """One split read from the prepared memory maps, a block at a time."""

    def __init__(
        self,
        ids: np.ndarray,
        offsets: np.ndarray,
        targets: np.ndarray,
        docs: np.ndarray,
        encoder: TextEncoder,
        device: torch.device,
        block_docs: int | None = None,
        subwords: Subwords = None,
    ) -> None:
        self.ids, self.offsets, self.all_targets = ids, offsets, targets
        self.docs = np.asarray(docs, dtype=np.int64)
        self.encoder = encoder
        self.subwords = subwords
        self.device = device
        self.block_docs = block_docs or BLOCK_DOCS
        self.n_docs = len(self.docs)
        self.targets = torch.from_numpy(np.asarray(targets[self.docs])).to(device)

    def _block(self, docs: np.ndarray) -> DeviceData:
        """Documents ``docs`` (in that order) as a device-resident block."""
        ids, offsets = encode_docs(self.ids, self.offsets, docs, self.encoder, self.subwords)
        release(self.ids, 0, len(self.ids))  # the block's runs come from all over the map
        return DeviceData(ids, offsets, np.asarray(self.all_targets[docs]), self.device)

    def batches(
        self,
        batch_size: int,
        rng: np.random.Generator | None = None,
        rank: int = 0,
        world: int = 1,
    ) -> Iterator[Batch]:
        """Like :meth:`DeviceData.batches`: in order, or block-shuffled when ``rng`` is given."""
        size = -(-self.block_docs // batch_size) * batch_size  # whole batches per block
        docs = self.docs if rng is None else self._run_shuffled(rng)
        for start in range(0, self.n_docs, size):
            block = docs[start : start + size]
            if rng is not None:
                block = rng.permutation(block)
            # the block is in shuffled order already: cut it in order
            yield from self._block(block).batches(batch_size, None, rank, world)
            trim_heap()

    def _run_shuffled(self, rng: np.random.Generator) -> np.ndarray:
        """The split's documents as runs of RUN_DOCS neighbours, the runs in random order.

        A block is then made of many runs from all over the file, so a file sorted by
        label still gives mixed batches, while each run is one short sequential read.
        """
        run = RUN_DOCS
        n_runs = -(-self.n_docs // run)
        index = (rng.permutation(n_runs)[:, None] * run + np.arange(run)).ravel()
        return self.docs[index[index < self.n_docs]]


def split_data(
    p: PreparedDataset,
    docs: np.ndarray,
    encoder: TextEncoder,
    device: torch.device,
    subwords: Subwords = None,
    held_out: bool = False,
) -> DeviceData | MappedData:
    """Documents ``docs`` of ``p`` on the device if they fit the budget, else streamed.

    A ``held_out`` split of a model with character n-grams is encoded from its text, as new
    text is: its words unseen in training are ``<unk>`` in the prepared ids, but their
    n-grams still count.
    """
    docs = np.asarray(docs, dtype=np.int64)
    tokens = int((p.offsets[docs + 1] - p.offsets[docs]).sum()) if len(docs) else 0
    if tokens <= RESIDENT_TOKENS:
        if held_out and encoder.subwords is not None:
            flat, flat_offsets = encode_texts(p, encoder, docs)
        else:
            flat, flat_offsets = encode_docs(p.ids, p.offsets, docs, encoder, subwords)
        return DeviceData(flat, flat_offsets, np.asarray(p.targets[docs]), device)
    return MappedData(p.ids, p.offsets, p.targets, docs, encoder, device, subwords=subwords)


def encode_texts(
    p: PreparedDataset, encoder: TextEncoder, docs: np.ndarray, chunk: int = 20_000
) -> tuple[np.ndarray, np.ndarray]:
    """Documents ``docs`` encoded from their text by ``encoder``, exactly as new text is."""
    id_parts: list[np.ndarray] = []
    offset_parts = [np.zeros(1, dtype=np.int64)]
    for start in range(0, len(docs), chunk):
        ids, offsets = encoder.encode([p.text(int(i)) for i in docs[start : start + chunk]])
        id_parts.append(ids)
        offset_parts.append(offsets[1:] + offset_parts[-1][-1])
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    return ids, np.concatenate(offset_parts)
