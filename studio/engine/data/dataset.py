"""A prepared dataset, and its on-disk form: a folder of ``.npy`` files plus ``meta.json``.

Both ways of preparing (:mod:`~studio.engine.data.in_memory` and, for datasets larger than
memory, :mod:`~studio.engine.data.streamed`) write this one layout; :func:`load_prepared`
memory-maps it and never unpickles.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

from studio.config import DataConfig
from studio.engine.atomic import write_folder_atomic
from studio.engine.data.tokenize import SPECIALS
from studio.errors import StudioError

CACHE_VERSION = 1
Progress = Callable[[str, float], None]
"""``(stage, fraction done)``; a stage that starts with :data:`WARNING` is a warning instead."""
WARNING = "warning: "


class Cancelled(StudioError):
    """Preparation was cancelled by the user."""


class ReaderOptions(TypedDict):
    """The keyword arguments every reader entry point takes from a :class:`DataConfig`."""

    format: str
    text_column: str | None
    label_column: str | None
    label_delimiter: str | None
    encoding: str | None


def reader_options(data: DataConfig) -> ReaderOptions:
    """How ``data`` says its files are read: the readers' keyword arguments."""
    return {
        "format": data.format,
        "text_column": data.text_column,
        "label_column": data.label_column,
        "label_delimiter": data.label_delimiter,
        "encoding": data.encoding,
    }


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("preparation cancelled")


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
    warnings: tuple[str, ...] = ()  # what preparation noticed (dropped labels), one line each

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


ARRAYS = (
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


def write_meta(
    folder: Path,
    *,
    label_names: Sequence[str],
    multi_label: bool,
    tokens: Sequence[str],
    tokenizer_kind: str,
    lowercase: bool,
    bpe_json: str | None,
    source: str,
    warnings: Sequence[str] = (),
) -> None:
    """Write ``meta.json``: everything of a prepared dataset that is not an array."""
    meta = {
        "version": CACHE_VERSION,
        "label_names": list(label_names),
        "multi_label": multi_label,
        "tokens": list(tokens),
        "tokenizer_kind": tokenizer_kind,
        "lowercase": lowercase,
        "bpe_json": bpe_json,
        "source": source,
        "warnings": list(warnings),
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def save_prepared(p: PreparedDataset, folder: Path) -> None:
    """Write ``p`` into ``folder`` (through a temporary sibling); a failure only skips the cache."""

    def write(tmp: Path) -> None:
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(getattr(p, name)), allow_pickle=False)
        write_meta(
            tmp,
            label_names=p.label_names,
            multi_label=p.multi_label,
            tokens=p.tokens,
            tokenizer_kind=p.tokenizer_kind,
            lowercase=p.lowercase,
            bpe_json=p.bpe_json,
            source=p.source,
            warnings=p.warnings,
        )

    write_folder_atomic(folder, write)  # the cache is an optimisation: a failure is not fatal


def load_prepared(folder: Path) -> PreparedDataset:
    """Open a cached prepared dataset (memory-mapped, never unpickled)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != CACHE_VERSION:
        raise ValueError("cache version mismatch")
    arrays = {
        name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS
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
        warnings=tuple(meta.get("warnings", ())),
    )
