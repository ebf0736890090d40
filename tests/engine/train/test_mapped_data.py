"""Splits too large for the device: batches read block by block from the memory map."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import SAMPLE_DATA, StudioConfig, TokenizerConfig
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.train import mapped as mapped_data
from studio.engine.train.batching import DeviceData
from studio.engine.train.build import build_encoder
from studio.engine.train.loop import fit
from studio.engine.train.mapped import MappedData, encode_docs, release, split_data

DATA = SAMPLE_DATA
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedDataset:
    cache = tmp_path_factory.mktemp("cache")
    prepare_dataset(DATA, TokenizerConfig(), cache_dir=cache)
    return prepare_dataset(DATA, TokenizerConfig(), cache_dir=cache)  # opened from the cache


def _encoder(p: PreparedDataset) -> TextEncoder:
    return build_encoder(p, StudioConfig(data=DATA))


def _streamed(p: PreparedDataset) -> MappedData:
    """The training split read from the map in blocks of 300 documents."""
    docs = np.asarray(p.train_idx)
    return MappedData(p.ids, p.offsets, p.targets, docs, _encoder(p), CPU, 300)


def _docs_of(batches: list, data: MappedData) -> list[tuple[int, ...]]:
    """Each document of the batches as its tuple of ids (to compare orders and sets)."""
    out = []
    for b in batches:
        ids, offsets = b.ids.tolist(), [*b.offsets.tolist(), b.n_tokens]
        out += [tuple(ids[offsets[i] : offsets[i + 1]]) for i in range(b.n_docs)]
    return out


def test_the_cache_is_memory_mapped_and_in_order_batches_match_the_resident_ones(
    prepared: PreparedDataset,
) -> None:
    assert isinstance(prepared.ids, np.memmap)
    docs = np.asarray(prepared.train_idx)
    enc = _encoder(prepared)
    streamed = MappedData(prepared.ids, prepared.offsets, prepared.targets, docs, enc, CPU, 300)
    resident = DeviceData(*encode_docs(prepared.ids, prepared.offsets, docs, enc),
                          np.asarray(prepared.targets[docs]), CPU)  # fmt: skip
    a, b = list(streamed.batches(64)), list(resident.batches(64))
    assert [x.n_docs for x in a] == [x.n_docs for x in b]
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x.ids, y.ids) and torch.equal(x.offsets, y.offsets)
        assert torch.equal(x.targets, y.targets)


def test_a_shuffled_epoch_visits_every_document_once_in_whole_batches(
    prepared: PreparedDataset,
) -> None:
    docs = np.asarray(prepared.train_idx)
    data = _streamed(prepared)
    rng = np.random.default_rng(0)
    first = list(data.batches(64, rng))
    second = list(data.batches(64, rng))
    sizes = [b.n_docs for b in first]
    assert len(first) == -(-len(docs) // 64)
    assert all(s == 64 for s in sizes[:-1])  # only the epoch's last batch is short
    in_order = _docs_of(list(data.batches(64)), data)
    assert sorted(_docs_of(first, data)) == sorted(in_order)
    assert _docs_of(first, data) != in_order  # shuffled...
    assert _docs_of(first, data) != _docs_of(second, data)  # ...differently each epoch


def test_ranks_take_disjoint_slices_of_the_same_streamed_batches(
    prepared: PreparedDataset,
) -> None:
    data = _streamed(prepared)
    parts = [list(data.batches(64, np.random.default_rng(7), r, 2)) for r in (0, 1)]
    for b0, b1 in zip(*parts, strict=True):
        assert torch.equal(b0.ids, b1.ids)  # the same global batch on both ranks
        assert torch.equal(torch.cat([b0.part_targets, b1.part_targets]), b0.targets)
        assert b0.part_counts == b1.part_counts and sum(b0.part_counts) == b0.n_docs


def test_only_splits_over_the_budget_are_streamed(
    prepared: PreparedDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    enc = _encoder(prepared)
    docs = np.asarray(prepared.train_idx)
    args = (prepared, docs, enc, CPU)
    assert isinstance(split_data(*args), DeviceData)
    monkeypatch.setattr(mapped_data, "RESIDENT_TOKENS", 1000)
    assert isinstance(split_data(*args), MappedData)


def test_training_from_the_memory_map_learns_like_training_from_the_device(
    prepared: PreparedDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = StudioConfig(data=DATA).with_overrides(train={"epochs": 3})
    resident = fit(config, prepared=prepared)
    monkeypatch.setattr(mapped_data, "RESIDENT_TOKENS", 0)
    monkeypatch.setattr(mapped_data, "BLOCK_DOCS", 500)
    monkeypatch.setattr(mapped_data, "RUN_DOCS", 8)  # the bundled file is sorted by section
    streamed = fit(config, prepared=prepared)
    assert streamed.steps == resident.steps
    assert streamed.val_accuracy > 0.8
    assert abs(streamed.val_accuracy - resident.val_accuracy) < 0.03


def _rss_pages() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1])


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_released_pages_leave_resident_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    np.save(path, np.ones(64 * 2**20 // 4, dtype=np.int32))  # 64 MiB
    array = np.load(path, mmap_mode="r")
    before = _rss_pages()
    assert int(array[::1024].sum()) == len(array) // 1024  # touch every page
    touched = _rss_pages() - before
    release(array, 0, len(array))
    left = _rss_pages() - before
    page_mib = 2**20 // mmap.PAGESIZE
    assert touched > 48 * page_mib  # the map became resident...
    assert left < 4 * page_mib  # ...and was handed back


def test_streamed_blocks_carry_the_character_ngrams_of_the_resident_split(
    prepared: PreparedDataset,
) -> None:
    config = StudioConfig(data=DATA).with_overrides(
        tokenizer={"char_ngrams": (3, 5), "char_buckets": 1000}
    )
    enc = build_encoder(prepared, config)
    subwords = enc.subword_rows(prepared.tokens)
    docs = np.asarray(prepared.train_idx)
    streamed = MappedData(
        prepared.ids, prepared.offsets, prepared.targets, docs, enc, CPU, 300, subwords
    )
    flat = encode_docs(prepared.ids, prepared.offsets, docs, enc, subwords)
    resident = DeviceData(*flat, np.asarray(prepared.targets[docs]), CPU)
    a, b = list(streamed.batches(64)), list(resident.batches(64))
    assert int(a[0].ids.max()) >= enc.vocab_size + enc.ngram_buckets  # n-gram rows are there
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x.ids, y.ids) and torch.equal(x.offsets, y.offsets)
