"""New text -> model input, exactly as during training (tokenize, cap, bigrams, subwords).

The embedding table's rows are, in order: the vocabulary (``<pad>``, ``<unk>``, then words by
training frequency), ``ngram_buckets`` hashed word bigrams, ``char_buckets`` hashed character
n-grams (:mod:`~studio.engine.data.subwords`). A document's bag is its word ids, then its
bigram ids, then the n-gram ids of each of its words in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from studio.engine.data.ids import add_bigrams, append_per_doc, flatten
from studio.engine.data.subwords import SubwordTable
from studio.engine.data.tokenize import PAD, UNK, UNK_ID, iter_word_tokens


@dataclass(frozen=True)
class TextEncoder:
    """The vocabulary a model was trained with, and how to apply it to raw text."""

    kind: str
    lowercase: bool
    tokens: tuple[str, ...]
    ngram_buckets: int = 0
    bpe_json: str | None = None
    char_ngrams: tuple[int, int] = (0, 0)
    char_buckets: int = 0
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _bpe: Tokenizer | None = field(init=False, repr=False, compare=False)
    _subwords: SubwordTable | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[:2] != (PAD, UNK):
            raise ValueError("vocabulary must start with <pad>, <unk>")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})
        bpe = Tokenizer.from_str(self.bpe_json) if self.bpe_json else None
        object.__setattr__(self, "_bpe", bpe)
        minn, maxn = self.char_ngrams
        table = None
        if minn and self.char_buckets:
            first = len(self.tokens) + self.ngram_buckets
            table = SubwordTable(minn, maxn, self.char_buckets, first)
        object.__setattr__(self, "_subwords", table)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    @property
    def table_rows(self) -> int:
        """Rows of the embedding table: vocabulary, bigram buckets, character n-gram buckets."""
        return len(self.tokens) + self.ngram_buckets + (self.char_buckets if self._subwords else 0)

    @property
    def subwords(self) -> SubwordTable | None:
        """The character n-gram hashing, or None when the model has none."""
        return self._subwords

    def word_rows(self, word: str) -> np.ndarray:
        """The table rows that make ``word``'s vector: its own (if in the vocabulary) and its
        n-grams'. fastText's ``get_word_vector`` is the mean of these rows."""
        own = self._index.get(word)
        rows = [np.asarray([own], dtype=np.int32)] if own is not None and own > UNK_ID else []
        if self._subwords is not None:
            rows.append(self._subwords.of_word(word))
        return np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)

    def subword_rows(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """CSR of the n-gram rows of each word of a full token list (token id -> rows).

        The specials (``<pad>``, ``<unk>``) are not words and get none.
        """
        if self._subwords is None:
            return np.zeros(0, dtype=np.int32), np.zeros(len(words) + 1, dtype=np.int64)
        return self._subwords.rows(["" if i <= UNK_ID else w for i, w in enumerate(words)])

    def tokenize(self, text: str) -> list[str]:
        """The tokens the model sees for ``text`` (before n-grams)."""
        if self._bpe is not None:
            return list(self._bpe.encode(text).tokens)
        return next(iter_word_tokens([text], self.lowercase))

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        if self._bpe is not None:
            return [e.ids for e in self._bpe.encode_batch_fast(list(texts))]
        get = self._index.get
        return [[get(t, UNK_ID) for t in doc] for doc in iter_word_tokens(texts, self.lowercase)]

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flat ids and offsets for a batch of texts, n-grams included."""
        if self._subwords is None:
            ids, offsets = flatten(self.token_ids(texts), len(texts))
            return add_bigrams(ids, offsets, self.vocab_size, self.ngram_buckets)
        docs = list(iter_word_tokens(texts, self.lowercase))
        get = self._index.get
        ids, offsets = flatten(([get(t, UNK_ID) for t in doc] for doc in docs), len(texts))
        ids, offsets = add_bigrams(ids, offsets, self.vocab_size, self.ngram_buckets)
        self._subwords.learn(t for doc in docs for t in doc)
        of_word = self._subwords.of_word
        none = np.zeros(0, dtype=np.int32)
        rows, row_offsets = flatten(
            (np.concatenate([of_word(t) for t in doc]) if doc else none for doc in docs),
            len(texts),
        )
        return append_per_doc(ids, offsets, rows, row_offsets)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lowercase": self.lowercase,
            "ngram_buckets": self.ngram_buckets,
            "char_ngrams": list(self.char_ngrams),
            "char_buckets": self.char_buckets,
            "tokens": list(self.tokens),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], bpe_json: str | None = None) -> TextEncoder:
        return cls(
            kind=str(data["kind"]),
            lowercase=bool(data["lowercase"]),
            tokens=tuple(str(t) for t in data["tokens"]),
            ngram_buckets=int(data.get("ngram_buckets", 0)),
            bpe_json=bpe_json,
            char_ngrams=_pair(data.get("char_ngrams", (0, 0))),
            char_buckets=int(data.get("char_buckets", 0)),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)


def _pair(value: Any) -> tuple[int, int]:
    minn, maxn = (int(v) for v in value)
    return minn, maxn
