"""Fuzz the word tokenizer, the batch word encoder and TextEncoder with arbitrary text."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import SPECIALS, UNK_ID, word_tokens
from studio.engine.data.word_ids import encode_words

# Any Unicode text: control characters, combining marks, odd whitespace, U+001E (the
# encoder's internal separator), case changes that alter length (e.g. 'İ'), emoji...
ANY_TEXT = st.text()
TRICKY = st.text(
    alphabet=st.sampled_from(list("aİß \t\n\r\x00\x1c\x1d\x1e\x1f\x85\xa0\u2028.,'!é\u0301"))
)
TEXTS = st.lists(st.one_of(ANY_TEXT, TRICKY), max_size=8)

ENCODER = TextEncoder(
    kind="words",
    lowercase=True,
    tokens=SPECIALS + tuple(word_tokens("the ball goal team code bread cheese , . ! ' é")),
    ngram_buckets=16,
)


@settings(max_examples=100, deadline=None)
@given(ANY_TEXT, st.booleans())
def test_word_tokens_returns_a_list_of_nonempty_strings(text: str, lowercase: bool) -> None:
    tokens = word_tokens(text, lowercase)
    assert isinstance(tokens, list)
    assert all(isinstance(t, str) and t and not t.isspace() for t in tokens)


@settings(max_examples=100, deadline=None)
@given(TEXTS, st.booleans())
def test_encode_words_agrees_with_word_tokens(texts: list[str], lowercase: bool) -> None:
    vocab, ids, offsets = encode_words(texts, lowercase, workers=1)
    assert isinstance(vocab, list)
    assert isinstance(ids, np.ndarray) and isinstance(offsets, np.ndarray)
    assert len(offsets) == len(texts) + 1 and offsets[0] == 0
    assert int(offsets[-1]) == len(ids)
    for i, text in enumerate(texts):
        doc = [vocab[j] for j in ids[offsets[i] : offsets[i + 1]]]
        assert doc == word_tokens(text, lowercase), repr(text)


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_text_encoder_encodes_anything(texts: list[str]) -> None:
    ids, offsets = ENCODER.encode(texts)
    assert isinstance(ids, np.ndarray) and isinstance(offsets, np.ndarray)
    assert len(offsets) == len(texts) + 1
    assert int(offsets[-1]) == len(ids)
    if len(ids):
        assert int(ids.min()) >= UNK_ID and int(ids.max()) < ENCODER.table_rows
    for text in texts:
        assert isinstance(ENCODER.tokenize(text), list)
        unigrams = ENCODER.token_ids([text])[0]
        assert len(unigrams) == len(word_tokens(text))
