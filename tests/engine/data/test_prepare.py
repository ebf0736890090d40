"""Split, vocabulary, encoding, n-grams, coverage statistics and the on-disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.config import DataConfig, TokenizerConfig
from studio.engine.data.dataset import WARNING
from studio.engine.data.ids import add_bigrams, cap_vocab, flatten
from studio.engine.data.prepare import prepare_dataset
from studio.engine.data.split import split_documents, stratified_split
from studio.engine.data.stats import length_percentiles, oov_curve, oov_rate
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import PAD, UNK, UNK_ID, word_tokens
from studio.errors import DatasetError


def test_stratified_split_keeps_class_ratios() -> None:
    strata = np.repeat([0, 1, 2], [700, 200, 100])
    train, valid, test = stratified_split(strata, 0.1, 0.1, seed=3)
    assert len(set(train) | set(valid) | set(test)) == 1000
    assert not set(train) & set(valid) and not set(valid) & set(test)
    for part, n in ((valid, 100), (test, 100), (train, 800)):
        ratios = np.bincount(strata[part], minlength=3) / n
        np.testing.assert_allclose(ratios, [0.7, 0.2, 0.1], atol=0.01)


def test_split_is_seeded_and_keeps_a_training_doc_per_class() -> None:
    strata = np.array([0] * 50 + [1])
    a = stratified_split(strata, 0.2, 0.2, seed=1)
    b = stratified_split(strata, 0.2, 0.2, seed=1)
    c = stratified_split(strata, 0.2, 0.2, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    assert 50 in a[0]  # the lone class-1 document trains


def test_word_tokens() -> None:
    assert word_tokens("Don't PANIC, 42!") == ["don", "'", "t", "panic", ",", "42", "!"]
    assert word_tokens("Ünïcode Straße") == ["ünïcode", "straße"]


def test_vocabulary_from_training_split_only(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    valid = tmp_path / "valid.csv"
    train.write_text("text,label\nalpha alpha beta,a\nbeta gamma,b\nalpha,a\ngamma,b\n")
    valid.write_text("text,label\nalpha zeta,a\nomega,b\n")
    p = prepare_dataset(
        DataConfig(path=str(train), valid_path=str(valid), test_fraction=0.0), TokenizerConfig()
    )
    assert p.tokens[:2] == (PAD, UNK)
    assert "zeta" not in p.tokens and "omega" not in p.tokens
    assert p.tokens[2] == "alpha"  # most frequent first
    v0 = int(p.valid_idx[0])
    doc = p.ids[p.offsets[v0] : p.offsets[v0 + 1]].tolist()
    assert doc == [p.tokens.index("alpha"), UNK_ID]
    # OOV: train has none at full size; validation has 2 of 3 tokens unknown
    assert oov_rate(p, 100, "train") == 0.0
    assert oov_rate(p, 100, "valid") == pytest.approx(2 / 3)
    # capping the vocabulary to the two specials + 1 word makes beta/gamma unknown
    assert oov_rate(p, 3, "train") == pytest.approx(4 / 7)


def test_min_freq_and_cap(topics_csv: Path) -> None:
    p = prepare_dataset(DataConfig(path=str(topics_csv)), TokenizerConfig())
    full = len(p.tokens)
    assert p.effective_vocab_size(10**6) == full
    assert p.effective_vocab_size(10) == 10
    rare = int(np.count_nonzero(p.train_counts[2:] < 100))
    assert p.effective_vocab_size(10**6, min_freq=100) == full - rare
    capped = cap_vocab(p.ids, 10)
    assert capped.max() < 10


def test_oov_curve_is_monotone_and_reaches_zero_on_train(topics_csv: Path) -> None:
    p = prepare_dataset(DataConfig(path=str(topics_csv)), TokenizerConfig())
    curve = oov_curve(p)
    assert np.all(np.diff(curve.train) <= 1e-12)
    assert np.all(np.diff(curve.valid) <= 1e-12)
    assert curve.train[-1] == pytest.approx(0.0)
    assert curve.train[0] == pytest.approx(1.0 - p.train_counts[2] / p.train_counts[1:].sum())
    pct = length_percentiles(p)
    assert 5 <= pct[50] <= 25


def test_bigrams_are_appended_per_document() -> None:
    ids, offsets = flatten([[2, 3, 4], [], [5], [6, 7]], 4)
    out, off = add_bigrams(ids, offsets, vocab_size=10, buckets=100)
    docs = [out[off[i] : off[i + 1]].tolist() for i in range(4)]
    assert docs[0][:3] == [2, 3, 4] and len(docs[0]) == 5
    assert docs[1] == [] and docs[2] == [5]
    assert docs[3][:2] == [6, 7] and len(docs[3]) == 3
    assert all(10 <= b < 110 for b in docs[0][3:] + docs[3][2:])
    # the same pair hashes to the same bucket wherever it occurs
    again, _ = add_bigrams(*flatten([[6, 7]], 1), vocab_size=10, buckets=100)
    assert again[2] == docs[3][2]


def test_text_encoder_matches_training_encoding(topics_csv: Path) -> None:
    p = prepare_dataset(DataConfig(path=str(topics_csv)), TokenizerConfig())
    enc = TextEncoder("words", True, p.tokens[:12], ngram_buckets=50)
    text = p.text(0)
    ids, _ = enc.encode([text])
    expect = cap_vocab(p.ids[p.offsets[0] : p.offsets[1]], 12)
    expect, _ = add_bigrams(expect, np.array([0, len(expect)]), 12, 50)
    assert ids.tolist() == expect.tolist()


def test_reopening_comes_from_the_cache_and_is_identical(topics_csv: Path, tmp_path: Path) -> None:
    cache = tmp_path / "c"
    data, tok = DataConfig(path=str(topics_csv)), TokenizerConfig()
    first = prepare_dataset(data, tok, cache_dir=cache)
    assert first.cache_dir is None and len(list(cache.iterdir())) == 1
    second = prepare_dataset(data, tok, cache_dir=cache)
    assert second.cache_dir is not None  # came from the cache
    assert np.array_equal(first.ids, second.ids) and first.tokens == second.tokens
    assert second.text(3) == first.text(3)
    # a changed file or tokenizer setting is a different cache entry
    prepare_dataset(data, TokenizerConfig(lowercase=False), cache_dir=cache)
    assert len(list(cache.iterdir())) == 2


def test_label_missing_from_training_is_named(tmp_path: Path) -> None:
    train = tmp_path / "t.csv"
    valid = tmp_path / "v.csv"
    train.write_text("text,label\na,x\nb,y\n")
    valid.write_text("text,label\na,x\nc,z\n")
    with pytest.raises(DatasetError) as err:
        prepare_dataset(DataConfig(path=str(train), valid_path=str(valid)), TokenizerConfig())
    assert err.value.line == 3 and "'z'" in str(err.value)


# --- labels no training document carries (multi-label: dropped with one warning) ----------


def write_tagged_tsv(
    path: Path, n: int = 60, rare: tuple[str, ...] = ("devel::lang:pike",)
) -> tuple[Path, dict[int, str]]:
    """A multi-label TSV whose ``rare`` tags each sit on one document of the default test
    split, and those documents' indices.

    The split stratifies by the first tag ("a" or "b"), so it puts the same documents in the
    test split whatever the later tags are; each rare tag goes on the next such document.
    """
    first = ["ab"[i % 2] for i in range(n)]
    _, test = split_documents(np.array([f == "b" for f in first], dtype=np.int64), DataConfig())[1:]
    carriers = dict(zip(test.tolist(), rare, strict=False))
    assert len(carriers) == len(rare)
    rows = ["text\ttags"]
    for i in range(n):
        tags = [first[i], "cd"[i % 3 == 0]]
        if i in carriers:
            tags.append(carriers[i])
        rows.append(f"words of document {i} {'xy'[i % 2]}\t{' '.join(tags)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, carriers


def test_tag_only_in_the_test_split_is_dropped_with_one_warning(tmp_path: Path) -> None:
    path, carriers = write_tagged_tsv(tmp_path / "train.tsv")
    seen: list[str] = []
    p = prepare_dataset(
        DataConfig(path=str(path), label_delimiter=" "),
        TokenizerConfig(),
        progress=lambda message, _f: seen.append(message),
    )
    assert p.multi_label and p.label_names == ("a", "b", "c", "d")
    (warning,) = p.warnings
    assert "'devel::lang:pike'" in warning and "1 document" in warning
    assert seen.count(WARNING + warning) == 1 and seen[-1] == "ready"
    (carrier,) = carriers  # in the test split; it keeps its other tags
    assert carrier in p.test_idx
    tags = ["ab"[carrier % 2], "cd"[carrier % 3 == 0]]
    assert p.targets[carrier].tolist() == [int(name in tags) for name in p.label_names]


def test_the_warning_comes_back_with_the_cached_dataset(tmp_path: Path) -> None:
    data = DataConfig(path=str(write_tagged_tsv(tmp_path / "t.tsv")[0]), label_delimiter=" ")
    first = prepare_dataset(data, TokenizerConfig(), cache_dir=tmp_path / "c")
    seen: list[str] = []
    again = prepare_dataset(
        data, TokenizerConfig(), cache_dir=tmp_path / "c", progress=lambda m, _f: seen.append(m)
    )
    assert again.cache_dir is not None and again.warnings == first.warnings != ()
    assert [m for m in seen if m.startswith(WARNING)] == [WARNING + first.warnings[0]]


def test_several_dropped_tags_make_one_warning(tmp_path: Path) -> None:
    rare = ("r1", "r2", "r3")
    path, _ = write_tagged_tsv(tmp_path / "t.tsv", rare=rare)
    p = prepare_dataset(DataConfig(path=str(path), label_delimiter=" "), TokenizerConfig())
    (warning,) = p.warnings
    assert warning.startswith("3 labels dropped") and all(f"'{r}'" in warning for r in rare)
    assert p.label_names == ("a", "b", "c", "d")


def test_a_tag_only_a_validation_file_carries_is_dropped(tmp_path: Path) -> None:
    train = tmp_path / "t.tsv"
    valid = tmp_path / "v.tsv"
    train.write_text("text\ttags\nred apple\ta b\ngreen pear\tb\nred cherry\ta\n")
    valid.write_text("text\ttags\nred plum\ta z\nblue sky\tz\n")
    p = prepare_dataset(
        DataConfig(path=str(train), valid_path=str(valid), label_delimiter=" "), TokenizerConfig()
    )
    assert p.label_names == ("a", "b")
    assert "'z'" in p.warnings[0] and "2 documents" in p.warnings[0]
    # the first keeps 'a'; the second had only 'z': no label left, still a validation doc
    assert p.targets[p.valid_idx].tolist() == [[1, 0], [0, 0]]


def test_a_single_label_class_of_one_document_stays_in_training(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "text,label\n" + "".join(f"doc {i},{'ab'[i % 2]}\n" for i in range(40)) + "one,c\n"
    )
    p = prepare_dataset(DataConfig(path=str(path)), TokenizerConfig())
    assert p.label_names == ("a", "b", "c") and p.warnings == ()
    assert p.label_counts("train")["c"] == 1
