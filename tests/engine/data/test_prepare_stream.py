"""Streamed preparation gives the in-memory arrays, in bounded memory, with the same errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from studio.config import SAMPLE_DATA, DataConfig, TokenizerConfig
from studio.engine.data import prepare
from studio.engine.data import streamed as prepare_stream
from studio.engine.data.dataset import ARRAYS, Cancelled, PreparedDataset, load_prepared
from studio.engine.data.prepare import prepare_dataset, streams
from studio.engine.data.streamed import prepare_streamed
from studio.engine.data.token_counter import TokenCounter
from studio.engine.data.tokenize import UNK_ID
from studio.errors import DatasetError
from tests.bad_inputs import ERRORS, QUIET
from tests.conftest import write_topics_csv
from tests.engine.data.test_prepare import write_tagged_tsv

FIELDS = (
    "tokens",
    "label_names",
    "multi_label",
    "tokenizer_kind",
    "lowercase",
    "bpe_json",
    "warnings",
)
WORDS = TokenizerConfig()


def assert_identical(memory: PreparedDataset, streamed: PreparedDataset) -> None:
    for name in ARRAYS:
        a, b = getattr(memory, name), getattr(streamed, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(a, b), name
    for name in FIELDS:
        assert getattr(memory, name) == getattr(streamed, name), name


def both(
    data: DataConfig, tok: TokenizerConfig, folder: Path, **options: int
) -> tuple[PreparedDataset, PreparedDataset]:
    """``(in memory, streamed)``; small chunks by default so that a file makes several."""
    memory = prepare_dataset(data, tok)
    prepare_streamed(data, tok, folder, **{"workers": 1, "chunk_docs": 7, **options})
    return memory, load_prepared(folder)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# --- identical arrays ----------------------------------------------------------------------


def test_bundled_dataset_two_workers(tmp_path: Path) -> None:
    data = SAMPLE_DATA
    memory, streamed = both(data, WORDS, tmp_path / "s", workers=2, chunk_docs=500)
    assert streamed.n_docs == memory.n_docs > 4 * 500  # several chunks, over two workers
    assert_identical(memory, streamed)
    assert streamed.text(17) == memory.text(17)


def test_multi_label_jsonl(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    words = "red green blue cyan mauve teal plum gold".split()
    rows = []
    for i in range(60):
        labels = sorted({str(x) for x in rng.choice(words[:4], rng.integers(1, 4))})
        text = " ".join(rng.choice(words, rng.integers(0, 9)))
        rows.append(json.dumps({"id": i, "body": text, "tags": labels if i % 3 else labels[0]}))
    data = DataConfig(path=str(write_lines(tmp_path / "d.jsonl", rows)), label_column="tags")
    memory, streamed = both(data, WORDS, tmp_path / "s")
    assert streamed.multi_label and streamed.targets.dtype == np.uint8
    assert_identical(memory, streamed)


def test_fasttext_file(tmp_path: Path) -> None:
    topics = write_topics_csv(tmp_path / "t.csv", n=90).read_text().splitlines()[1:]
    lines = [f"__label__{row.rsplit(',', 1)[1]} {row.rsplit(',', 1)[0]}" for row in topics]
    lines[5] = "__label__sport __label__food  Both, at once!"
    data = DataConfig(path=str(write_lines(tmp_path / "d.txt", lines)))
    memory, streamed = both(data, TokenizerConfig(lowercase=False), tmp_path / "s")
    assert_identical(memory, streamed)


def test_csv_with_quoted_multiline_fields(tmp_path: Path) -> None:
    rows = ["label;text"]
    for i in range(40):
        text = (
            f'"line one {i}\r\nline ""two"" {i % 7}\n\nend; of {i % 3}"' if i % 4 else f"flat {i}"
        )
        rows.append(f"{'ab'[i % 2]};{text}")
    data = DataConfig(path=str(write_lines(tmp_path / "d.csv", rows)))
    memory, streamed = both(data, WORDS, tmp_path / "s")
    assert "\n" in streamed.text(1)
    assert_identical(memory, streamed)


def test_valid_and_test_files(tmp_path: Path) -> None:
    train = write_topics_csv(tmp_path / "train.csv", n=100, seed=1)
    valid = write_topics_csv(tmp_path / "valid.csv", n=30, seed=2)
    test = write_topics_csv(tmp_path / "test.csv", n=20, seed=3)
    data = DataConfig(path=str(train), valid_path=str(valid), test_path=str(test))
    memory, streamed = both(data, WORDS, tmp_path / "s")
    assert streamed.valid_idx.tolist() == list(range(100, 130))
    assert_identical(memory, streamed)


def test_bpe(tmp_path: Path) -> None:
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=300)))
    memory, streamed = both(data, TokenizerConfig(kind="bpe", vocab_size=300), tmp_path / "s")
    assert streamed.bpe_json is not None
    assert_identical(memory, streamed)


def test_tags_no_training_document_carries_are_dropped_alike(tmp_path: Path) -> None:
    path, _ = write_tagged_tsv(tmp_path / "train.tsv", rare=("devel::lang:pike", "r2"))
    data = DataConfig(path=str(path), label_delimiter=" ")
    memory, streamed = both(data, WORDS, tmp_path / "s", chunk_docs=5)
    assert_identical(memory, streamed)
    assert "'devel::lang:pike'" in streamed.warnings[0] and "'r2'" in streamed.warnings[0]

    valid = write_lines(tmp_path / "v.tsv", ["text\ttags", "red plum\ta zz", "blue sky\tzz"])
    data = DataConfig(path=str(path), valid_path=str(valid), label_delimiter=" ")
    memory, streamed = both(data, WORDS, tmp_path / "s2", chunk_docs=5)
    assert_identical(memory, streamed)
    assert "'zz' (2 documents)" in streamed.warnings[0]


def test_label_missing_from_training_is_named(tmp_path: Path) -> None:
    train = write_lines(tmp_path / "t.csv", ["text,label", "a,x", "b,y", "c,x"])
    valid = write_lines(tmp_path / "v.csv", ["text,label", "a,x", "c,z", "d,w"])
    data = DataConfig(path=str(train), valid_path=str(valid))
    with pytest.raises(DatasetError) as memory:
        prepare_dataset(data, WORDS)
    with pytest.raises(DatasetError) as streamed:
        prepare_streamed(data, WORDS, tmp_path / "c" / "s", chunk_docs=1)
    assert str(streamed.value) == str(memory.value)
    assert (streamed.value.path, streamed.value.line) == (str(valid), 3)
    assert list((tmp_path / "c").iterdir()) == []


# --- bounded vocabulary ----------------------------------------------------------------------


def test_token_counter_prunes_the_rarest() -> None:
    counter = TokenCounter(max_distinct=4)
    counter.add(["a", "b", "c"], np.array([5, 1, 1]))
    counter.add(["a", "d", "e"], np.array([5, 1, 1]))  # 5 distinct > 4: the count-1 tokens go
    assert counter.counts == {"a": 10}
    assert counter.min_count == 2 and counter.prunings == 1
    counter.add(["b"], np.array([1]))
    assert counter.index() == {"a": 0, "b": 1}


def test_pruning_turns_rare_tokens_into_unk(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    common = "the a of and to in is".split()  # Zipf-like: 'the' most frequent
    rows = ["text,label"]
    for i in range(300):
        words = [common[min(int(k), 6)] for k in rng.zipf(1.6, 8) - 1]
        rows.append(f"{' '.join(words)} rare{i}x rare{i}y,{'ab'[i % 2]}")
    data = DataConfig(path=str(write_lines(tmp_path / "d.csv", rows)))
    memory, streamed = both(data, WORDS, tmp_path / "s", chunk_docs=10, max_distinct=12)

    kept = set(streamed.tokens)
    assert set(common) <= kept  # frequent tokens survive pruning
    lost = set(memory.tokens) - kept
    assert len(lost) > 400 and all(t.startswith("rare") for t in lost)
    # the kept tokens keep the in-memory order and exact training counts
    assert streamed.tokens[2:] == tuple(t for t in memory.tokens[2:] if t in kept)
    memory_count = dict(zip(memory.tokens, memory.train_counts.tolist(), strict=True))
    for token, count in zip(streamed.tokens[2:], streamed.train_counts[2:].tolist(), strict=True):
        assert count == memory_count[token]
    assert streamed.train_counts[UNK_ID] == sum(memory_count[t] for t in lost)
    # every document reads the same, with the pruned tokens as <unk>
    assert np.array_equal(streamed.offsets, memory.offsets)
    to_stream = {t: i for i, t in enumerate(streamed.tokens)}
    expect = [to_stream.get(memory.tokens[i], UNK_ID) for i in memory.ids.tolist()]
    assert streamed.ids.tolist() == expect


# --- bad inputs, cancelling -----------------------------------------------------------------

_OPTIONS = {"--text-col": "text_column", "--label-col": "label_column"}


def _data_of(args: list[str]) -> DataConfig | None:
    """The DataConfig of a bad-input case that feeds one CSV/TSV/JSONL/fastText file."""
    command, path, quiet, rest = args[0], Path(args[1]), args[2:5], args[5:]
    assert (command, quiet) == ("train", QUIET)
    if path.suffix not in (".csv", ".tsv", ".jsonl", ".txt") or not path.is_file():
        return None
    options = dict(zip(rest[::2], rest[1::2], strict=True))
    if not set(options) <= set(_OPTIONS):
        return None  # a setting, not a data problem
    return DataConfig(path=str(path), **{_OPTIONS[k]: v for k, v in options.items()})


def test_every_bad_file_gives_the_same_error_streamed(tmp_path: Path) -> None:
    """The bad-input cases that are a CSV, TSV, JSON Lines or fastText file (the others are
    settings, folders or Parquet, which are never streamed)."""
    checked = []
    for case in ERRORS:
        folder = tmp_path / case.name
        folder.mkdir()
        data = _data_of(case.make(folder))
        if data is None:
            continue
        with pytest.raises(DatasetError) as memory:
            prepare_dataset(data, WORDS)
        cache = folder / "cache-streamed"
        with pytest.raises(DatasetError) as streamed:
            prepare_dataset(data, WORDS, cache_dir=cache, stream=True)
        assert str(streamed.value) == str(memory.value), case.name
        assert case.expect in str(streamed.value), case.name
        assert not cache.exists() or list(cache.iterdir()) == [], case.name
        checked.append(case.name)
    assert len(checked) >= 10, checked


@pytest.mark.parametrize("stage", ["reading", "building vocabulary", "encoding"])
def test_cancel_leaves_no_cache_folder(stage: str, tmp_path: Path) -> None:
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=200)))
    cancel = threading.Event()
    seen: list[str] = []

    def progress(message: str, _fraction: float) -> None:
        seen.append(message)
        if message == stage:
            cancel.set()

    cache = tmp_path / "cache"
    with pytest.raises(Cancelled):
        prepare_streamed(
            data, WORDS, cache / "entry", progress=progress, cancel=cancel, chunk_docs=20
        )
    assert stage in seen and list(cache.iterdir()) == []


def test_progress_runs_forward_to_the_end(tmp_path: Path) -> None:
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=200)))
    steps: list[tuple[str, float]] = []
    prepare_dataset(
        data, WORDS, cache_dir=tmp_path / "c", stream=True, progress=lambda *s: steps.append(s)
    )
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions)
    assert steps[0] == ("reading", 0.0) and steps[-1] == ("ready", 1.0)
    assert {"reading", "building vocabulary", "encoding"} <= {m for m, _ in steps}


# --- choosing the path ---------------------------------------------------------------------


def test_auto_rule_streams_large_text_files_only(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    csv_path = write_topics_csv(tmp_path / "t.csv", n=200)
    data = DataConfig(path=str(csv_path))
    size = csv_path.stat().st_size
    monkeypatch.setattr(prepare, "STREAM_FROM_BYTES", size)
    assert streams(data, cache_dir=tmp_path)
    assert not streams(data, cache_dir=None)  # nowhere to write the arrays
    assert not streams(data, cache_dir=tmp_path, stream=False)
    monkeypatch.setattr(prepare, "STREAM_FROM_BYTES", size + 1)
    assert not streams(data, cache_dir=tmp_path)
    assert streams(data, cache_dir=tmp_path, stream=True)
    with pytest.raises(ValueError, match="cache_dir"):
        streams(data, cache_dir=None, stream=True)

    folder = tmp_path / "classes"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        (folder / label / "1.txt").write_text("x " * size)
    monkeypatch.setattr(prepare, "STREAM_FROM_BYTES", 1)
    assert not streams(DataConfig(path=str(folder)), cache_dir=tmp_path)  # folders: in memory


def test_auto_rule_decides_what_prepare_dataset_does(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=200)))
    calls: list[Path] = []
    real = prepare.prepare_streamed

    def spy(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        calls.append(args[2])
        real(*args, **kwargs)

    monkeypatch.setattr(prepare, "prepare_streamed", spy)
    monkeypatch.setattr(prepare_stream, "CHUNK_DOCS", 16)
    monkeypatch.setattr(prepare, "STREAM_FROM_BYTES", 1 << 30)
    small = prepare_dataset(data, WORDS, cache_dir=tmp_path / "small")
    assert calls == [] and small.cache_dir is None  # prepared in memory, then cached
    monkeypatch.setattr(prepare, "STREAM_FROM_BYTES", 1)
    large = prepare_dataset(data, WORDS, cache_dir=tmp_path / "large")
    assert large.cache_dir == str(calls[0])  # streamed (in chunks of 16) into the cache
    assert isinstance(large.ids, np.memmap)
    assert_identical(small, large)
