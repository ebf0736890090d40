"""Preparation in memory: the whole dataset is read, then split, tokenized and encoded.

The fastest way for datasets that fit in memory; :mod:`~studio.engine.data.streamed` does
the same in bounded memory for larger ones.
"""

from __future__ import annotations

import threading
from itertools import chain

import numpy as np

from studio.config import DataConfig, TokenizerConfig
from studio.engine.data.dataset import PreparedDataset, Progress, check_cancel, reader_options
from studio.engine.data.ids import flatten
from studio.engine.data.label_set import choose_labels, label_codes, target_table
from studio.engine.data.readers import RawDataset, read_dataset
from studio.engine.data.split import split_documents
from studio.engine.data.tokenize import SPECIALS, bpe_ids, train_bpe
from studio.engine.data.word_ids import encode_words, rank_by_training_frequency


def _read(path: str, data: DataConfig) -> RawDataset:
    return read_dataset(path, **reader_options(data))


def _split(raw: RawDataset, data: DataConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    strata = np.array([labels[0] if labels else "" for labels in raw.labels], dtype=object)
    _, codes = np.unique(strata.astype(str), return_inverse=True)
    return split_documents(codes, data)


def prepare_in_memory(
    data: DataConfig,
    tok: TokenizerConfig,
    report: Progress,
    cancel: threading.Event | None = None,
) -> PreparedDataset:
    """Read, split, tokenize and encode a dataset, all in memory."""
    report("reading", 0.0)
    raws = [_read(data.path, data)]
    train_i, valid_i, test_i = _split(raws[0], data)
    for extra, name in ((data.valid_path, "valid"), (data.test_path, "test")):
        if not extra:
            continue
        check_cancel(cancel)
        raw = _read(extra, data)
        idx = np.arange(sum(len(r) for r in raws), sum(len(r) for r in raws) + len(raw))
        if name == "valid":
            valid_i = idx
        else:
            test_i = idx
        raws.append(raw)
    check_cancel(cancel)

    texts = list(chain.from_iterable(r.texts for r in raws))
    doc_labels = list(chain.from_iterable(r.labels for r in raws))
    lines = np.fromiter(
        chain.from_iterable(r.lines for r in raws), dtype=np.int64, count=len(texts)
    )
    multi_label = any(r.multi_label for r in raws)
    label_names, targets, warnings = _labels(doc_labels, train_i, multi_label, raws)

    report("building vocabulary", 0.3)
    bpe_json: str | None = None
    if tok.kind == "bpe":
        bpe = train_bpe([texts[i] for i in train_i], tok.vocab_size, tok.lowercase)
        check_cancel(cancel)
        report("encoding", 0.6)
        ids, offsets = flatten(bpe_ids(bpe, texts), len(texts))
        bpe_vocab = bpe.get_vocab()
        tokens = tuple(sorted(bpe_vocab, key=bpe_vocab.__getitem__))
        bpe_json = bpe.to_str()
    else:
        seen, ids, offsets = encode_words(texts, tok.lowercase)
        check_cancel(cancel)
        report("ranking the vocabulary", 0.6)
        ranked, ids, train_counts = rank_by_training_frequency(
            seen, ids, offsets, train_i, len(SPECIALS)
        )
        tokens = SPECIALS + tuple(ranked)
        del seen
    check_cancel(cancel)
    if tok.kind == "bpe":
        train_counts = _train_counts(ids, offsets, train_i, len(tokens))

    blob, text_offsets = _text_blob(texts)

    return PreparedDataset(
        ids=ids,
        offsets=offsets,
        targets=targets,
        label_names=label_names,
        multi_label=multi_label,
        train_idx=train_i,
        valid_idx=valid_i,
        test_idx=test_i,
        tokens=tokens,
        train_counts=train_counts,
        tokenizer_kind=tok.kind,
        lowercase=tok.lowercase,
        bpe_json=bpe_json,
        texts_blob=blob,
        text_offsets=text_offsets,
        lines=lines,
        source=str(data.path),
        warnings=warnings,
    )


def _text_blob(texts: list[str], chunk: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
    """All texts UTF-8 encoded back to back, built chunk by chunk to bound peak memory."""
    text_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    parts: list[bytes] = []
    for start in range(0, len(texts), chunk):
        encoded = [t.encode("utf-8") for t in texts[start : start + chunk]]
        np.cumsum([len(b) for b in encoded], out=text_offsets[start + 1 : start + 1 + len(encoded)])
        text_offsets[start + 1 : start + 1 + len(encoded)] += text_offsets[start]
        parts.append(b"".join(encoded))
    blob = np.empty(int(text_offsets[-1]), dtype=np.uint8)
    pos = 0
    while parts:
        part = parts.pop(0)
        blob[pos : pos + len(part)] = np.frombuffer(part, dtype=np.uint8)
        pos += len(part)
    return blob, text_offsets


def _labels(
    doc_labels: list[tuple[str, ...]],
    train_i: np.ndarray,
    multi_label: bool,
    raws: list[RawDataset],
) -> tuple[tuple[str, ...], np.ndarray, tuple[str, ...]]:
    """The label names, the targets and the warnings (see :mod:`~studio.engine.data.label_set`)."""
    codes, sets = label_codes(doc_labels)
    choice = choose_labels(sets, codes, train_i)
    warnings = choice.warnings(multi_label, lambda i: _locate(raws, i))
    return choice.names, target_table(sets, choice.names, multi_label)[codes], warnings


def _locate(raws: list[RawDataset], i: int) -> tuple[str, int]:
    """The file and source line of document ``i``."""
    for raw in raws:
        if i < len(raw):
            return raw.path, raw.lines[i]
        i -= len(raw)
    raise IndexError(i)


def _train_counts(ids: np.ndarray, offsets: np.ndarray, train_i: np.ndarray, n: int) -> np.ndarray:
    lengths = np.diff(offsets)
    mask = np.zeros(len(lengths), dtype=bool)
    mask[train_i] = True
    return np.bincount(ids[np.repeat(mask, lengths)], minlength=n).astype(np.int64)
