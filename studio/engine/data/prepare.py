"""Dataset preparation: read -> split -> vocabulary (train split only) -> flat encoded arrays.

The result is cached on disk, keyed by a hash of the input files' bytes and every setting
that changes the encoding, so reopening a prepared dataset only maps a few ``.npy`` files.
Word ids are *frequency ranks* over the training split (``<pad>``=0, ``<unk>``=1, then the
most frequent token = 2, ...), so any vocabulary size is a cap on those ids
(:func:`~studio.engine.data.ids.cap_vocab`) and the OOV curve is a cumulative sum.

:func:`prepare_dataset` picks one of two ways, which give identical arrays:
:mod:`~studio.engine.data.in_memory` (all in memory) or, for CSV, TSV, JSON Lines and
fastText files of :data:`STREAM_FROM_BYTES` and more, :mod:`~studio.engine.data.streamed`
(chunks in, ``.npy`` files out, in bounded memory; only beyond
:data:`~studio.engine.data.token_counter.MAX_DISTINCT` distinct tokens do the rarest become
``<unk>``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

from studio.config import DataConfig, TokenizerConfig
from studio.engine.data.dataset import (
    CACHE_VERSION,
    WARNING,
    Cancelled,
    PreparedDataset,
    Progress,
    load_prepared,
    save_prepared,
)
from studio.engine.data.in_memory import prepare_in_memory
from studio.engine.data.readers import STREAM_FORMATS, resolve_format
from studio.engine.data.streamed import prepare_streamed
from studio.errors import DatasetError

__all__ = [
    "STREAM_FROM_BYTES",
    "Cancelled",
    "PreparedDataset",
    "Progress",
    "cache_key",
    "file_digest",
    "load_prepared",
    "prepare_dataset",
    "streams",
]

# In memory, preparation peaks near 6x the file's size (all texts as Python strings, their
# tokens, the ids): 0.53 GB for a 33 MB file, 1.95 GB for 330 MB (tests/bench/bench_large.py,
# 80-token documents). Streamed, it stays near 0.2 GB plus ~0.2 GB per tokenizer process
# whatever the size, and it was no slower at any size measured (33 MB: 3.0 s vs 4.9 s; 330 MB:
# 26 s vs 29 s, 2 cores). Streaming from 64 MiB on keeps every preparation under ~0.6 GB while
# leaving small files (and their plain in-memory arrays) on the simple path.
STREAM_FROM_BYTES = 64 * 2**20


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (of a folder's files and their relative paths, in order)."""
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
            parts[name] = file_digest(p)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def streams(data: DataConfig, *, cache_dir: str | Path | None, stream: bool | None = None) -> bool:
    """Whether :func:`prepare_dataset` streams: ``stream``, or by the rule when it is None.

    The rule: stream when there is a cache folder to write to, every input is a CSV, TSV,
    JSON Lines or fastText file, and together they hold at least STREAM_FROM_BYTES.
    """
    if stream is not None:
        if stream and cache_dir is None:
            raise ValueError("stream=True needs a cache_dir: the streamed arrays are written there")
        return stream
    if cache_dir is None:
        return False
    paths = [Path(p) for p in (data.path, data.valid_path, data.test_path) if p]
    try:
        if any(resolve_format(p, data.format, data.encoding) not in STREAM_FORMATS for p in paths):
            return False
        total = sum(os.path.getsize(p) for p in paths)
    except (DatasetError, OSError):
        return False  # the in-memory path reports the problem, in its usual order
    return total >= STREAM_FROM_BYTES


def prepare_dataset(
    data: DataConfig,
    tok: TokenizerConfig,
    *,
    cache_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    stream: bool | None = None,
) -> PreparedDataset:
    """Read, split, tokenize and encode a dataset, using the on-disk cache when it can.

    ``stream`` True prepares in bounded memory (see :mod:`~studio.engine.data.streamed`;
    needs ``cache_dir``), False in memory, None (default) chooses by :func:`streams`.
    A streamed dataset is returned memory-mapped from the cache folder. Its ``warnings``
    (kept in the cache too) are also reported through ``progress``, once, as stages that
    start with ``WARNING``, just before "ready".
    """
    report = progress or (lambda _msg, _frac: None)
    if not data.path:
        raise DatasetError("no dataset given (data.path is empty)")
    key = cache_key(data, tok)
    cached = Path(cache_dir) / key if cache_dir else None
    if cached is not None and (cached / "meta.json").exists():
        try:
            report("opening cached dataset", 1.0)
            opened = load_prepared(cached)
        except (OSError, ValueError, KeyError):
            shutil.rmtree(cached, ignore_errors=True)  # a damaged cache entry is rebuilt
        else:
            return _warned(opened, report, ready=False)

    if streams(data, cache_dir=cache_dir, stream=stream):
        assert cached is not None  # streams() refuses to stream without a cache folder
        prepare_streamed(data, tok, cached, progress=report, cancel=cancel)
        return _warned(load_prepared(cached), report)
    prepared = prepare_in_memory(data, tok, report, cancel)
    if cached is not None:
        report("saving cache", 0.9)
        save_prepared(prepared, cached)
    return _warned(prepared, report)


def _warned(prepared: PreparedDataset, report: Progress, *, ready: bool = True) -> PreparedDataset:
    """Report ``prepared``'s warnings (then "ready" when ``ready``) and return it."""
    for warning in prepared.warnings:
        report(WARNING + warning, 1.0)
    if ready:
        report("ready", 1.0)
    return prepared
