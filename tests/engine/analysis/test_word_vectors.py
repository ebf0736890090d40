"""Word vectors composed from character n-grams (fastText's ``get_word_vector``) and the
neighbour search over them: any word with n-grams, only the vocabulary without."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.engine.analysis.embeddings import (
    NeighbourIndex,
    checkpoint_index,
    word_index,
    word_vector,
    word_vectors,
)
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.runs.checkpoint import save_weights
from studio.errors import StudioError

TOKENS = ("<pad>", "<unk>", "cat", "cats", "dog", "car", "cart")


def _encoder(char_ngrams: tuple[int, int] = (2, 3), buckets: int = 40) -> TextEncoder:
    return TextEncoder(
        "words", True, TOKENS, ngram_buckets=5, char_ngrams=char_ngrams, char_buckets=buckets
    )


def _table(encoder: TextEncoder, seed: int = 0) -> torch.Tensor:
    table = torch.randn(encoder.table_rows, 6, generator=torch.Generator().manual_seed(seed))
    table[0] = 0.0
    return table


def test_word_vectors_are_the_mean_of_the_word_and_its_ngrams() -> None:
    encoder = _encoder()
    table = _table(encoder)
    vectors = word_vectors(table, encoder)
    assert vectors.shape == (len(TOKENS), 6) and vectors.dtype == np.float32
    first = encoder.vocab_size + encoder.ngram_buckets
    for i, token in enumerate(TOKENS[2:], start=2):
        rows = encoder.word_rows(token)
        assert rows[0] == i and (rows[1:] >= first).all() and len(rows) > 1
        np.testing.assert_allclose(vectors[i], table[rows].mean(dim=0).numpy(), atol=1e-6)
        one = word_vector(table, encoder, token)
        assert one is not None
        np.testing.assert_allclose(vectors[i], one, atol=1e-6)
    np.testing.assert_array_equal(vectors[:2], table[:2].numpy())  # specials: their own rows
    # a word outside the vocabulary: the mean of its n-gram rows only
    rows = encoder.word_rows("carts")
    assert (rows >= first).all()
    oov = word_vector(table, encoder, "carts")
    assert oov is not None
    np.testing.assert_allclose(oov, table[rows].mean(dim=0).numpy(), atol=1e-6)


def test_without_ngrams_vectors_are_the_rows_and_oov_words_have_none() -> None:
    encoder = TextEncoder("words", True, TOKENS, ngram_buckets=5)
    table = _table(encoder)
    np.testing.assert_array_equal(word_vectors(table, encoder), table[: len(TOKENS)].numpy())
    assert word_vector(table, encoder, "carts") is None
    index = word_index(table, encoder)
    assert not index.composes("carts")
    with pytest.raises(StudioError, match=r"^'carts' is not in the vocabulary$"):
        index.query("carts")


def test_the_index_accepts_any_word_with_ngrams() -> None:
    encoder = _encoder()
    table = _table(encoder)
    index = word_index(table, encoder)
    vectors = word_vectors(table, encoder)
    assert index.query("cat", 3) == NeighbourIndex(vectors, TOKENS).query("cat", 3)
    assert not index.composes("cat") and index.composes("carts")
    got = index.query("carts", 10)
    names = [t for t, _ in got]
    assert len(names) == len(TOKENS) - 1 and "<pad>" not in names  # nothing else left out
    v = word_vector(table, encoder, "carts")
    assert v is not None
    for name, score in got:
        row = vectors[TOKENS.index(name)]
        cosine = float(row @ v / np.linalg.norm(row) / np.linalg.norm(v))
        assert score == pytest.approx(cosine, abs=1e-5)
    # the word is lower-cased as the encoder does; "Cat" is "cat", which is left out
    upper = index.query("Cat", 3)
    assert "cat" not in [t for t, _ in upper]
    lower = index.query("cat", 3)  # the same neighbours; scores to float rounding (the
    # two queries may take different matrix kernels: they differed by 6e-8 on AVX-512)
    assert [t for t, _ in upper] == [t for t, _ in lower]
    assert [s for _, s in upper] == pytest.approx([s for _, s in lower], abs=1e-6)


def test_a_word_too_short_for_any_ngram_is_refused() -> None:
    encoder = _encoder(char_ngrams=(4, 5))
    index = word_index(_table(encoder), encoder)
    with pytest.raises(StudioError, match="'x' is not in the vocabulary and has no character"):
        index.query("x")  # "<x>" has 3 characters: no 4-gram


def test_misspelt_words_find_their_words_when_ngrams_carry_them() -> None:
    """Rows that are only n-gram rows (own rows zero): neighbours follow the spelling."""
    encoder = _encoder(char_ngrams=(3, 3), buckets=10_007)
    table = _table(encoder, seed=3)
    table[: encoder.vocab_size] = 0.0
    index = word_index(table, encoder)
    assert index.query("carr", 1)[0][0] == "car"
    assert index.query("dogg", 1)[0][0] == "dog"


def test_checkpoint_index_composes_from_the_latest_checkpoint(tmp_path: Path) -> None:
    encoder = _encoder()
    table = _table(encoder, seed=5)
    (tmp_path / "vocab.json").write_text(json.dumps(encoder.to_json()), encoding="utf-8")
    (tmp_path / "checkpoints").mkdir()
    save_weights(tmp_path / "checkpoints" / "last.safetensors", {"embedding.weight": table})
    index = checkpoint_index(tmp_path)
    assert index.query("carts", 4) == word_index(table, encoder).query("carts", 4)
    assert index.query("cat", 4) == word_index(table, encoder).query("cat", 4)
