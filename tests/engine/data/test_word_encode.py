"""The fast chunked word encoder gives exactly the regex tokenizer's tokens."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine.data import word_ids as word_encode
from studio.engine.data.tokenize import word_tokens
from studio.engine.data.word_ids import encode_words, rank_by_training_frequency

TEXTS = [
    "Don't PANIC, 42!",
    "multi\nline\ttext — with dashes…",
    "Ünïcode Straße İstanbul",
    "",
    "sep\x1einside a text",
    "snake_case and x+y=z",
] * 7


@pytest.mark.parametrize("workers", [1, 2])
def test_same_tokens_as_the_regex_tokenizer(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setattr(word_encode, "CHUNK", 5)  # many chunks, merged across workers
    vocab, ids, offsets = encode_words(TEXTS, lowercase=True, workers=workers)
    for i, text in enumerate(TEXTS):
        got = [vocab[j] for j in ids[offsets[i] : offsets[i + 1]]]
        assert got == word_tokens(text), text


def test_ranks_follow_training_frequency() -> None:
    texts = ["b a a", "c", "a b", "zzz only in validation"]
    vocab, ids, offsets = encode_words(texts)
    ranked, ids, counts = rank_by_training_frequency(vocab, ids, offsets, np.array([0, 1, 2]), 2)
    assert ranked == ["a", "b", "c"]  # a:3, b:2, c:1
    assert counts.tolist() == [0, 0, 3, 2, 1]
    assert ids[offsets[3] : offsets[4]].tolist() == [1, 1, 1, 1]  # unseen in training: <unk>
