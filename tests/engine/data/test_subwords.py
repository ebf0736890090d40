"""Character n-grams: fastText's hashing and n-gram scheme, and how documents carry them."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine.data.ids import append_per_doc
from studio.engine.data.subwords import (
    SubwordTable,
    char_ngram_hashes,
    fasttext_hash,
    gather_rows,
)
from studio.engine.data.text_encoder import TextEncoder

WORDS = ["where", "a", "naïve", "日本語テキスト", "😀ok", "résumé", "x" * 20]


def reference_subwords(word: str, minn: int, maxn: int) -> list[int]:
    """A line-by-line port of fastText's ``Dictionary::computeSubwords`` (hashes, in order)."""
    w = ("<" + word + ">").encode("utf-8")
    out: list[int] = []
    for i in range(len(w)):
        if (w[i] & 0xC0) == 0x80:
            continue
        ngram, j, n = b"", i, 1
        while j < len(w) and n <= maxn:
            ngram += w[j : j + 1]
            j += 1
            while j < len(w) and (w[j] & 0xC0) == 0x80:
                ngram += w[j : j + 1]
                j += 1
            if n >= minn and not (n == 1 and (i == 0 or j == len(w))):
                out.append(reference_hash(ngram))
            n += 1
    return out


def reference_hash(data: bytes) -> int:
    """fastText's FNV-1a with ``int8_t`` bytes, in plain integers."""
    h = 2166136261
    for byte in data:
        h = ((h ^ ((byte - 256 if byte > 127 else byte) & 0xFFFFFFFF)) * 16777619) % 2**32
    return h


def test_the_hash_is_fasttexts_on_fixed_strings() -> None:
    # values of fastText's Dictionary::hash (its int8_t cast matters for non-ASCII bytes)
    for text in ("<wh", "whe", "ère", "日本", "😀"):
        assert fasttext_hash(text) == reference_hash(text.encode("utf-8"))
    assert fasttext_hash("<wh") != fasttext_hash("<wH")


@pytest.mark.parametrize(("minn", "maxn"), [(3, 6), (1, 4), (2, 2), (5, 5)])
def test_ngram_hashes_match_fasttexts_scheme(minn: int, maxn: int) -> None:
    hashes, offsets = char_ngram_hashes(WORDS, minn, maxn)
    for i, word in enumerate(WORDS):
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == reference_subwords(word, minn, maxn)


def test_edge_markers_and_short_words() -> None:
    hashes, offsets = char_ngram_hashes(["a", ""], 1, 3)
    # "<a>": a, <a, a>, <a> (the markers alone are not n-grams); the empty word has none
    expected = [fasttext_hash(g) for g in ("<a", "<a>", "a", "a>")]
    assert hashes[offsets[0] : offsets[1]].tolist() == expected
    assert offsets[2] == offsets[1]


def test_table_rows_follow_the_buckets() -> None:
    table = SubwordTable(3, 6, buckets=1000, first_row=50)
    rows, _ = table.rows(["where"])
    assert rows.tolist() == [50 + h % 1000 for h in reference_subwords("where", 3, 6)]
    assert table.of_word("where").tolist() == rows.tolist()


def test_learning_many_words_at_once_gives_each_its_own_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batched hashing (one vectorised call for a whole split's new words) gives every
    word the rows fastText's scheme gives it alone, also when the cache starts again."""
    import studio.engine.data.subwords as subwords

    monkeypatch.setattr(subwords, "CACHE_WORDS", 5)
    table = SubwordTable(2, 4, buckets=997, first_row=7)
    table.learn(WORDS[:3])
    table.learn(["", *WORDS, "where"])  # over the cache's size: it starts again with these
    for word in ["", *WORDS]:
        expected = [7 + h % 997 for h in reference_subwords(word, 2, 4)] if word else []
        assert table.of_word(word).tolist() == expected, word


def test_gather_rows_concatenates_each_documents_words() -> None:
    table_rows = np.array([10, 11, 12, 13, 14], dtype=np.int32)
    table_offsets = np.array([0, 0, 0, 2, 5], dtype=np.int64)  # ids 0, 1: none; 2: 10 11
    ids = np.array([2, 3, 1, 9, 3], dtype=np.int32)  # 9 is past the table: no n-grams
    offsets = np.array([0, 2, 2, 5], dtype=np.int64)  # docs: [2 3], [], [1 9 3]
    rows, row_offsets = gather_rows(table_rows, table_offsets, ids, offsets)
    assert rows.tolist() == [10, 11, 12, 13, 14, 12, 13, 14]
    assert row_offsets.tolist() == [0, 5, 5, 8]


def test_append_per_doc_keeps_each_documents_order() -> None:
    ids = np.array([1, 2, 3], dtype=np.int32)
    offsets = np.array([0, 2, 2, 3], dtype=np.int64)
    extra = np.array([7, 8, 9], dtype=np.int32)
    extra_offsets = np.array([0, 1, 3, 3], dtype=np.int64)
    out, out_offsets = append_per_doc(ids, offsets, extra, extra_offsets)
    assert out.tolist() == [1, 2, 7, 8, 9, 3]
    assert out_offsets.tolist() == [0, 3, 5, 6]


def _encoder(**kw: object) -> TextEncoder:
    tokens = ("<pad>", "<unk>", "the", "cat", "sat")
    return TextEncoder(kind="words", lowercase=True, tokens=tokens, **kw)  # type: ignore[arg-type]


def test_encoder_adds_ngrams_after_words_and_bigrams() -> None:
    enc = _encoder(ngram_buckets=10, char_ngrams=(3, 4), char_buckets=100)
    assert enc.table_rows == 5 + 10 + 100
    ids, offsets = enc.encode(["the cat", "zebra"])
    the, cat = enc.subwords.of_word("the"), enc.subwords.of_word("cat")  # type: ignore[union-attr]
    first = ids[offsets[0] : offsets[1]].tolist()
    assert first[:2] == [2, 3]  # words
    assert 5 <= first[2] < 15  # their bigram
    assert first[3:] == the.tolist() + cat.tolist()
    assert all(15 <= r < 115 for r in first[3:])
    # an unknown word is <unk> for its word row, but keeps its n-grams
    zebra = ids[offsets[1] : offsets[2]].tolist()
    assert zebra[0] == 1 and len(zebra) == 1 + len(reference_subwords("zebra", 3, 4))


def test_word_rows_give_any_word_a_vector() -> None:
    enc = _encoder(char_ngrams=(3, 6), char_buckets=100)
    assert enc.word_rows("cat")[0] == 3  # its own row first
    unseen = enc.word_rows("catz")
    assert len(unseen) == len(reference_subwords("catz", 3, 6)) and 1 not in unseen.tolist()
    assert len(_encoder().word_rows("catz")) == 0  # no n-grams: nothing to compose from


def test_encoder_round_trips_its_ngram_settings() -> None:
    enc = _encoder(char_ngrams=(2, 5), char_buckets=77)
    back = TextEncoder.from_json(enc.to_json())
    assert (back.char_ngrams, back.char_buckets) == ((2, 5), 77)
    assert back.encode(["the zebra"])[0].tolist() == enc.encode(["the zebra"])[0].tolist()
