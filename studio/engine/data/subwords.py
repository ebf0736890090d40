"""Hashed character n-grams of words: fastText's subwords, computed for many words at once.

A word ``w`` is wrapped as ``<w>`` and every run of ``minn`` to ``maxn`` characters of it
(not ``<`` or ``>`` alone) is hashed with fastText's 32-bit FNV-1a (each UTF-8 byte taken
as a *signed* char, as ``Dictionary::hash`` does) into one of ``buckets`` rows. The ids are
the ones fastText computes (``Dictionary::computeSubwords``) and come in its order: by start
character, then by length. Hashing is vectorised over all characters of all words (no Python
loop per n-gram), so the subwords of a 100k-word vocabulary take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

FNV_OFFSET = np.uint32(2_166_136_261)
FNV_PRIME = np.uint32(16_777_619)
BOW, EOW = "<", ">"
#: Words whose rows :class:`SubwordTable` keeps before it starts again.
CACHE_WORDS = 200_000


def _utf8_bytes(code_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each code point's UTF-8 bytes as a ``(n, 4)`` uint8 matrix and its byte count."""
    cp = code_points.astype(np.uint32)
    n_bytes = np.where(cp < 0x80, 1, np.where(cp < 0x800, 2, np.where(cp < 0x10000, 3, 4)))
    out = np.zeros((len(cp), 4), dtype=np.uint32)
    one, two, three, four = (n_bytes == k for k in (1, 2, 3, 4))
    out[one, 0] = cp[one]
    out[two, 0] = 0xC0 | (cp[two] >> 6)
    out[two, 1] = 0x80 | (cp[two] & 0x3F)
    out[three, 0] = 0xE0 | (cp[three] >> 12)
    out[three, 1] = 0x80 | ((cp[three] >> 6) & 0x3F)
    out[three, 2] = 0x80 | (cp[three] & 0x3F)
    out[four, 0] = 0xF0 | (cp[four] >> 18)
    out[four, 1] = 0x80 | ((cp[four] >> 12) & 0x3F)
    out[four, 2] = 0x80 | ((cp[four] >> 6) & 0x3F)
    out[four, 3] = 0x80 | (cp[four] & 0x3F)
    return out.astype(np.uint8), n_bytes


def char_ngram_hashes(words: Sequence[str], minn: int, maxn: int) -> tuple[np.ndarray, np.ndarray]:
    """The FNV-1a hashes of every word's character n-grams: ``(uint32 hashes, int64 offsets)``.

    Word ``i``'s hashes are ``hashes[offsets[i]:offsets[i + 1]]``, in fastText's order; the
    empty word has none.
    """
    offsets = np.zeros(len(words) + 1, dtype=np.int64)
    if not words or minn < 1 or maxn < minn:
        return np.zeros(0, dtype=np.uint32), offsets
    wrapped = "".join(BOW + w + EOW for w in words)
    cps = np.frombuffer(wrapped.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter((len(w) + 2 for w in words), dtype=np.int64, count=len(words))
    word_end = np.repeat(np.cumsum(lengths), lengths)  # one past each char's word
    word_start = word_end - np.repeat(lengths, lengths)
    raw, n_bytes = _utf8_bytes(cps)
    signed = raw.astype(np.int8).astype(np.int32).astype(np.uint32)  # int8_t(c), as fastText
    positions = np.arange(len(cps), dtype=np.int64)
    h = np.full(len(cps), FNV_OFFSET, dtype=np.uint32)
    starts: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    found: list[np.ndarray] = []
    alive = np.repeat(lengths > 2, lengths)  # the empty word has no n-grams
    with np.errstate(over="ignore"):
        for n in range(1, maxn + 1):
            last = positions + n - 1  # the n-gram's last character
            alive &= last < word_end
            idx = np.flatnonzero(alive)
            if len(idx) == 0:
                break
            ch = last[idx]
            hv = h[idx]
            for k in range(4):
                more = n_bytes[ch] > k
                hv = np.where(more, (hv ^ signed[ch, k]) * FNV_PRIME, hv)
            h[idx] = hv
            if n >= minn:
                edge = (idx == word_start[idx]) | (ch == word_end[idx] - 1)
                keep = ~edge if n == 1 else np.ones(len(idx), dtype=bool)
                starts.append(idx[keep])
                sizes.append(np.full(int(keep.sum()), n, dtype=np.int64))
                found.append(hv[keep])
    start = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
    size = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
    hashes = np.concatenate(found) if found else np.zeros(0, dtype=np.uint32)
    order = np.lexsort((size, start))
    word_of = np.searchsorted(np.cumsum(lengths), start[order], side="right")
    np.cumsum(np.bincount(word_of, minlength=len(words)), out=offsets[1:])
    return hashes[order], offsets


def fasttext_hash(text: str) -> int:
    """fastText's ``Dictionary::hash`` of one string (the reference for tests and exports)."""
    h = 2_166_136_261
    for byte in text.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16_777_619) & 0xFFFFFFFF
    return h


class SubwordTable:
    """Words -> table rows of their n-grams: ``first_row + hash % buckets``, cached per word."""

    def __init__(self, minn: int, maxn: int, buckets: int, first_row: int) -> None:
        self.minn, self.maxn, self.buckets, self.first_row = minn, maxn, buckets, first_row
        self._cache: dict[str, np.ndarray] = {}

    def rows(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(int32 rows, int64 offsets)`` of the n-grams of each word, CSR like :mod:`ids`."""
        hashes, offsets = char_ngram_hashes(words, self.minn, self.maxn)
        rows = (self.first_row + hashes.astype(np.int64) % self.buckets).astype(np.int32)
        return rows, offsets

    def of_word(self, word: str) -> np.ndarray:
        """The rows of one word's n-grams (memoised: text is full of repeated words)."""
        hit = self._cache.get(word)
        if hit is None:
            self.learn([word])
            hit = self._cache[word]
        return hit

    def learn(self, words: Iterable[str]) -> None:
        """Hash the n-grams of every word of ``words`` not seen yet, in one vectorised call.

        One call per word costs numpy's fixed overhead each time (0.3 ms a word, measured:
        5 s for the 8,600 new words of a 1,500-document validation split); one call for all
        of them takes milliseconds.
        """
        unique = list(dict.fromkeys(words))
        new = [w for w in unique if w not in self._cache]
        if not new:
            return
        if len(self._cache) + len(new) > CACHE_WORDS:  # start again, keeping these words
            self._cache.clear()
            new = unique
        rows, offsets = self.rows(new)
        for word, lo, hi in zip(new, offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
            self._cache[word] = rows[lo:hi]


def gather_rows(
    table_rows: np.ndarray, table_offsets: np.ndarray, ids: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per document, the concatenated n-gram rows of its tokens (CSR ``table`` by token id).

    ``ids`` may hold ids past the table (tokens with no string, e.g. ``<unk>``): they add none.
    """
    known = ids < len(table_offsets) - 1
    safe = np.where(known, ids, 0).astype(np.int64)
    counts = np.where(known, table_offsets[safe + 1] - table_offsets[safe], 0)
    starts = table_offsets[safe]
    total = int(counts.sum())
    run_start = np.repeat(starts - np.cumsum(counts) + counts, counts)
    rows = table_rows[run_start + np.arange(total)] if total else table_rows[:0]
    cumulative = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=cumulative[1:])
    per_doc = cumulative[offsets[1:]] - cumulative[offsets[:-1]]
    doc_offsets = np.zeros(len(per_doc) + 1, dtype=np.int64)
    np.cumsum(per_doc, out=doc_offsets[1:])
    return rows.astype(np.int32, copy=False), doc_offsets
