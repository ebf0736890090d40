"""Dataset preparation: read -> split -> vocabulary (train split only) -> flat encoded arrays.

The result is cached on disk, keyed by a hash of the input files' bytes and every setting
that changes the encoding, so reopening a prepared dataset only maps a few ``.npy`` files.
Word ids are *frequency ranks* over the training split (``<pad>``=0, ``<unk>``=1, then the
most frequent token = 2, ...), so any vocabulary size is a cap on those ids
(:func:`~studio.engine.encode.cap_vocab`) and the OOV curve is a cumulative sum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from studio.config import DataConfig, TokenizerConfig
from studio.engine.encode import flatten
from studio.engine.readers import RawDataset, read_dataset
from studio.engine.split import stratified_split
from studio.engine.tokenize import SPECIALS, bpe_ids, train_bpe
from studio.engine.word_encode import encode_words, rank_by_training_frequency
from studio.errors import DatasetError, StudioError

CACHE_VERSION = 1
Progress = Callable[[str, float], None]


class Cancelled(StudioError):
    """Preparation was cancelled by the user."""


@dataclass(frozen=True)
class PreparedDataset:
    """A dataset ready for training; arrays may be read-only memory maps."""

    ids: np.ndarray  # int32, flat token ids (frequency ranks for words)
    offsets: np.ndarray  # int64, n_docs + 1
    targets: np.ndarray  # int64 [n] (single-label) or uint8 [n, n_labels] (multi-label)
    label_names: tuple[str, ...]
    multi_label: bool
    train_idx: np.ndarray
    valid_idx: np.ndarray
    test_idx: np.ndarray
    tokens: tuple[str, ...]  # id -> token, <pad> and <unk> first
    train_counts: np.ndarray  # int64, training-split count of each id
    tokenizer_kind: str
    lowercase: bool
    bpe_json: str | None
    texts_blob: np.ndarray  # uint8, all texts UTF-8 encoded back to back
    text_offsets: np.ndarray  # int64, n_docs + 1
    lines: np.ndarray  # int64, source line of each document
    source: str
    cache_dir: str | None = None

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def text(self, i: int) -> str:
        """The original text of document ``i``."""
        a, b = int(self.text_offsets[i]), int(self.text_offsets[i + 1])
        return bytes(self.texts_blob[a:b]).decode("utf-8")

    def effective_vocab_size(self, vocab_size: int, min_freq: int = 1) -> int:
        """How many ids the model's table keeps (specials included) for these settings."""
        if self.tokenizer_kind == "bpe":
            return len(self.tokens)
        frequent = int(np.count_nonzero(self.train_counts[len(SPECIALS) :] >= min_freq))
        return min(vocab_size, len(SPECIALS) + frequent)

    def label_counts(self, split: str = "train") -> dict[str, int]:
        idx = self.split_indices(split)
        if self.multi_label:
            counts = self.targets[idx].sum(axis=0)
        else:
            counts = np.bincount(self.targets[idx], minlength=len(self.label_names))
        return {name: int(c) for name, c in zip(self.label_names, counts, strict=True)}

    def split_indices(self, split: str) -> np.ndarray:
        return {"train": self.train_idx, "valid": self.valid_idx, "test": self.test_idx}[split]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode())
            with open(f, "rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
        return h.hexdigest()
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def cache_key(data: DataConfig, tok: TokenizerConfig) -> str:
    """Hash of input bytes + every setting that changes the prepared arrays."""
    parts: dict[str, object] = {
        "version": CACHE_VERSION,
        "data": {
            k: v for k, v in data.__dict__.items() if k not in ("path", "valid_path", "test_path")
        },
        "tokenizer": {"kind": tok.kind, "lowercase": tok.lowercase},
    }
    if tok.kind == "bpe":
        parts["tokenizer"] = {**parts["tokenizer"], "vocab_size": tok.vocab_size}  # type: ignore[dict-item]
    for name in ("path", "valid_path", "test_path"):
        value = getattr(data, name)
        if value:
            p = Path(value)
            if not p.exists():
                raise DatasetError("file not found", path=p)
            parts[name] = _file_digest(p)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _read(path: str, data: DataConfig) -> RawDataset:
    return read_dataset(
        path,
        format=data.format,
        text_column=data.text_column,
        label_column=data.label_column,
        label_delimiter=data.label_delimiter,
        encoding=data.encoding,
    )


def _split(raw: RawDataset, data: DataConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    valid_f = 0.0 if data.valid_path else data.valid_fraction
    test_f = 0.0 if data.test_path else data.test_fraction
    strata = np.array([labels[0] if labels else "" for labels in raw.labels], dtype=object)
    _, codes = np.unique(strata.astype(str), return_inverse=True)
    return stratified_split(codes, valid_f, test_f, data.split_seed)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("preparation cancelled")


def prepare_dataset(
    data: DataConfig,
    tok: TokenizerConfig,
    *,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> PreparedDataset:
    """Read, split, tokenize and encode a dataset, using the on-disk cache when it can."""
    report = progress or (lambda _msg, _frac: None)
    if not data.path:
        raise DatasetError("no dataset given (data.path is empty)")
    key = cache_key(data, tok)
    cached = Path(cache_dir) / key if cache_dir else None
    if cached is not None and (cached / "meta.json").exists():
        try:
            report("opening cached dataset", 1.0)
            return load_prepared(cached)
        except (OSError, ValueError, KeyError):
            shutil.rmtree(cached, ignore_errors=True)  # a damaged cache entry is rebuilt

    report("reading", 0.0)
    raws = [_read(data.path, data)]
    train_i, valid_i, test_i = _split(raws[0], data)
    n_main = len(raws[0])
    for extra, name in ((data.valid_path, "valid"), (data.test_path, "test")):
        if not extra:
            continue
        _check_cancel(cancel)
        raw = _read(extra, data)
        idx = np.arange(sum(len(r) for r in raws), sum(len(r) for r in raws) + len(raw))
        if name == "valid":
            valid_i = idx
        else:
            test_i = idx
        raws.append(raw)
    _check_cancel(cancel)

    texts = list(chain.from_iterable(r.texts for r in raws))
    doc_labels = list(chain.from_iterable(r.labels for r in raws))
    lines = np.fromiter(
        chain.from_iterable(r.lines for r in raws), dtype=np.int64, count=len(texts)
    )
    multi_label = any(r.multi_label for r in raws)
    label_names = tuple(sorted({lab for i in train_i for lab in doc_labels[i]}))
    targets = _targets(doc_labels, label_names, multi_label, raws, n_main)

    report("building vocabulary", 0.3)
    bpe_json: str | None = None
    if tok.kind == "bpe":
        bpe = train_bpe([texts[i] for i in train_i], tok.vocab_size, tok.lowercase)
        _check_cancel(cancel)
        report("encoding", 0.6)
        ids, offsets = flatten(bpe_ids(bpe, texts), len(texts))
        bpe_vocab = bpe.get_vocab()
        tokens = tuple(sorted(bpe_vocab, key=bpe_vocab.__getitem__))
        bpe_json = bpe.to_str()
    else:
        seen, ids, offsets = encode_words(texts, tok.lowercase)
        _check_cancel(cancel)
        report("ranking the vocabulary", 0.6)
        ranked, ids, train_counts = rank_by_training_frequency(
            seen, ids, offsets, train_i, len(SPECIALS)
        )
        tokens = SPECIALS + tuple(ranked)
        del seen
    _check_cancel(cancel)
    if tok.kind == "bpe":
        train_counts = _train_counts(ids, offsets, train_i, len(tokens))

    blob, text_offsets = _text_blob(texts)

    prepared = PreparedDataset(
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
    )
    if cached is not None:
        report("saving cache", 0.9)
        _save_prepared(prepared, cached)
    report("ready", 1.0)
    return prepared


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


def _targets(
    doc_labels: list[tuple[str, ...]],
    names: tuple[str, ...],
    multi_label: bool,
    raws: list[RawDataset],
    n_main: int,
) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    n = len(doc_labels)
    out = np.zeros((n, len(names)), dtype=np.uint8) if multi_label else np.zeros(n, dtype=np.int64)
    for i, labels in enumerate(doc_labels):
        for label in labels:
            j = index.get(label)
            if j is None:
                raw, line = _locate(raws, i)
                raise DatasetError(
                    f"label {label!r} does not occur in the training data", path=raw.path, line=line
                )
            if multi_label:
                out[i, j] = 1
            else:
                out[i] = j
    return out


def _locate(raws: list[RawDataset], i: int) -> tuple[RawDataset, int]:
    for raw in raws:
        if i < len(raw):
            return raw, raw.lines[i]
        i -= len(raw)
    raise IndexError(i)


def _train_counts(ids: np.ndarray, offsets: np.ndarray, train_i: np.ndarray, n: int) -> np.ndarray:
    lengths = np.diff(offsets)
    mask = np.zeros(len(lengths), dtype=bool)
    mask[train_i] = True
    return np.bincount(ids[np.repeat(mask, lengths)], minlength=n).astype(np.int64)


_ARRAYS = (
    "ids",
    "offsets",
    "targets",
    "train_idx",
    "valid_idx",
    "test_idx",
    "train_counts",
    "texts_blob",
    "text_offsets",
    "lines",
)


def _save_prepared(p: PreparedDataset, folder: Path) -> None:
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(getattr(p, name)), allow_pickle=False)
        meta = {
            "version": CACHE_VERSION,
            "label_names": list(p.label_names),
            "multi_label": p.multi_label,
            "tokens": list(p.tokens),
            "tokenizer_kind": p.tokenizer_kind,
            "lowercase": p.lowercase,
            "bpe_json": p.bpe_json,
            "source": p.source,
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # the cache is an optimisation; never fatal


def load_prepared(folder: Path) -> PreparedDataset:
    """Open a cached prepared dataset (memory-mapped, never unpickled)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != CACHE_VERSION:
        raise ValueError("cache version mismatch")
    arrays = {
        name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS
    }
    return PreparedDataset(
        **arrays,
        label_names=tuple(meta["label_names"]),
        multi_label=bool(meta["multi_label"]),
        tokens=tuple(meta["tokens"]),
        tokenizer_kind=meta["tokenizer_kind"],
        lowercase=bool(meta["lowercase"]),
        bpe_json=meta["bpe_json"],
        source=meta["source"],
        cache_dir=str(folder),
    )
