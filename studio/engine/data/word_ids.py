"""Fast word tokenization + id assignment for large datasets, in bounded memory.

Texts are processed in chunks. Each chunk is joined into one string, punctuation is padded
with spaces by a single regex pass, and ``str.split`` cuts the tokens: the same tokens as
``\\w+|[^\\w\\s]`` at about 3x the speed of per-document ``findall``. Each chunk gets
*provisional* ids (first-seen order) in a worker process; only the chunk's distinct tokens and
an int32 array travel back. The caller turns provisional ids into frequency ranks with one
``numpy`` take.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import sys
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from multiprocessing.pool import AsyncResult, Pool

import numpy as np

_SEP = "\x1e"  # record separator: whitespace to the regex, a boundary for us
_PUNCT = re.compile(r"([^\w\s])")
CHUNK = 50_000
PARALLEL_FROM = 200_000  # documents; below this, worker start-up costs more than it saves


def _split_docs(texts: Sequence[str], lowercase: bool) -> list[list[str]]:
    big = _SEP.join(texts)
    if big.count(_SEP) != len(texts) - 1:  # a text holds the separator itself
        return [_PUNCT.sub(r" \1 ", t.lower() if lowercase else t).split() for t in texts]
    if lowercase:
        big = big.lower()
    return [part.split() for part in _PUNCT.sub(r" \1 ", big).split(_SEP)]


def tokenize_chunk(
    job: tuple[Sequence[str], bool],
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(distinct tokens in first-seen order, provisional ids, tokens per document)``."""
    texts, lowercase = job
    docs = _split_docs(texts, lowercase)
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    local: dict[str, int] = {}
    add = local.setdefault
    ids = np.fromiter(
        (add(t, len(local)) for doc in docs for t in doc), dtype=np.int32, count=int(lengths.sum())
    )
    return list(local), ids, lengths


@contextlib.contextmanager
def _spawn_pool(workers: int) -> Iterator[Pool]:
    """A spawned pool whose workers never re-import the caller's ``__main__``.

    Spawned children normally re-run the parent's main script (or module) so that pickled
    references to it resolve; a user's script without an ``if __name__ == "__main__"`` guard
    would then start pools recursively. The workers need nothing from ``__main__`` (their
    function lives in this module), so its identity is hidden while they start.
    """
    main = sys.modules.get("__main__")
    saved: dict[str, object] = {
        k: main.__dict__[k] for k in ("__spec__", "__file__") if main and k in main.__dict__
    }
    try:
        if main is not None:
            main.__dict__["__spec__"] = None
            main.__dict__.pop("__file__", None)
        pool = multiprocessing.get_context("spawn").Pool(workers)
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)
    with pool:
        yield pool


def _jobs(texts: Sequence[str], lowercase: bool) -> Iterator[tuple[Sequence[str], bool]]:
    for start in range(0, len(texts), CHUNK):
        yield texts[start : start + CHUNK], lowercase


def encode_words(
    texts: Sequence[str], lowercase: bool = True, workers: int | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All texts -> ``(provisional vocabulary, int32 ids, int64 offsets)``.

    ``workers`` defaults to the CPU count (at most 8) for large inputs and 1 for small ones.
    Worker processes are spawned, never forked, so this is safe from a GUI's threads.
    """
    if workers is None:
        workers = min(os.cpu_count() or 1, 8) if len(texts) >= PARALLEL_FROM else 1
    vocab: dict[str, int] = {}
    add = vocab.setdefault
    id_parts: list[np.ndarray] = []
    length_parts: list[np.ndarray] = []

    def merge(result: tuple[list[str], np.ndarray, np.ndarray]) -> None:
        local_tokens, local_ids, lengths = result
        remap = np.fromiter(
            (add(t, len(vocab)) for t in local_tokens), dtype=np.int32, count=len(local_tokens)
        )
        id_parts.append(remap[local_ids])
        length_parts.append(lengths)

    if workers <= 1:
        for job in _jobs(texts, lowercase):
            merge(tokenize_chunk(job))
    else:
        with _spawn_pool(workers) as pool:
            for result in pool.imap(tokenize_chunk, _jobs(texts, lowercase)):
                merge(result)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    return list(vocab), ids, offsets


def rank_by_training_frequency(
    vocab: list[str], ids: np.ndarray, offsets: np.ndarray, train_docs: np.ndarray, specials: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Re-number ids as frequency ranks over the training split (ties by token).

    Returns ``(ranked tokens without the specials, ids renumbered in place, train counts by
    new id)``. Tokens that never occur in a training document become ``<unk>`` (id 1).
    """
    lengths = np.diff(offsets)
    held_out = np.ones(len(lengths), dtype=bool)
    held_out[train_docs] = False
    # all counts minus the (smaller) held-out part: no copy of the training ids
    counts = np.bincount(ids, minlength=len(vocab))
    counts -= np.bincount(ids[np.repeat(held_out, lengths)], minlength=len(vocab))
    order = frequency_order(counts, vocab)
    rank = np.full(len(vocab), 1, dtype=np.int32)  # unseen in training -> <unk>
    rank[order] = np.arange(specials, specials + len(order), dtype=np.int32)
    np.take(rank, ids, out=ids)
    train_counts = np.zeros(specials + len(order), dtype=np.int64)
    train_counts[specials:] = counts[order]
    return [vocab[i] for i in order], ids, train_counts


def frequency_order(counts: np.ndarray, vocab: Sequence[str]) -> np.ndarray:
    """Indices of the tokens whose count is above 0, most frequent first, ties by token."""
    by_token = np.asarray(sorted(np.flatnonzero(counts).tolist(), key=vocab.__getitem__))
    by_token = by_token.astype(np.int64, copy=False)
    return by_token[np.argsort(-counts[by_token], kind="stable")]


def tokenize_stream(
    jobs: Iterable[tuple[Sequence[str], bool]], workers: int
) -> Generator[tuple[list[str], np.ndarray, np.ndarray], None, None]:
    """:func:`tokenize_chunk` of each job, in order, in ``workers`` spawned processes.

    ``Pool.imap`` would read all of ``jobs`` ahead; here at most ``2 * workers`` chunks are in
    flight, so memory stays bounded however many chunks a file has. Close the generator (or
    exhaust it) to stop the workers.
    """
    if workers <= 1:
        yield from map(tokenize_chunk, jobs)
        return
    with _spawn_pool(workers) as pool:
        pending: deque[AsyncResult[tuple[list[str], np.ndarray, np.ndarray]]] = deque()
        for job in jobs:
            pending.append(pool.apply_async(tokenize_chunk, (job,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
