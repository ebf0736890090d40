"""New text -> model input, exactly as during training (tokenize, cap, add bigrams)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from studio.engine.data.ids import add_bigrams, flatten
from studio.engine.data.tokenize import PAD, UNK, UNK_ID, iter_word_tokens


@dataclass(frozen=True)
class TextEncoder:
    """The vocabulary a model was trained with, and how to apply it to raw text."""

    kind: str
    lowercase: bool
    tokens: tuple[str, ...]
    ngram_buckets: int = 0
    bpe_json: str | None = None
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _bpe: Tokenizer | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tokens[:2] != (PAD, UNK):
            raise ValueError("vocabulary must start with <pad>, <unk>")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})
        bpe = Tokenizer.from_str(self.bpe_json) if self.bpe_json else None
        object.__setattr__(self, "_bpe", bpe)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    @property
    def table_rows(self) -> int:
        """Rows of the embedding table: vocabulary plus n-gram buckets."""
        return len(self.tokens) + self.ngram_buckets

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
        ids, offsets = flatten(self.token_ids(texts), len(texts))
        return add_bigrams(ids, offsets, self.vocab_size, self.ngram_buckets)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lowercase": self.lowercase,
            "ngram_buckets": self.ngram_buckets,
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
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)
