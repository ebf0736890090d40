"""Loading a dataset for the Dataset page, off the GUI thread.

The work is a plain function, :func:`load_dataset` (columns -> read -> prepare -> statistics),
that reports progress through a callback and checks a :class:`threading.Event` between stages.
:class:`DatasetLoader` is the QObject worker that runs it on a QThread and turns its outcome
into signals; :class:`DatasetLoadController` owns that thread, tags every request with an id
and drops whatever a stale (cancelled or superseded) request still reports.

Nothing here imports numpy, torch or ``studio.engine`` at module level: the engine is imported
inside the functions that run on the worker thread.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from studio.errors import DatasetError, StudioError

if TYPE_CHECKING:
    import numpy as np

    from studio.engine.data.readers import RawDataset

__all__ = [
    "ColumnInfo",
    "DatasetLoadController",
    "DatasetLoader",
    "LoadRequest",
    "LoadedDataset",
    "inspect_columns",
    "list_columns",
    "load_dataset",
]

log = logging.getLogger(__name__)

#: Bytes read from the start of a text file to list its columns.
HEAD_BYTES = 1 << 20
#: Rows (CSV/TSV/Parquet) or objects (JSON Lines) sampled to list and detect columns.
SAMPLE_ROWS = 1000
#: Formats without named columns: the column pickers are disabled for them.
NO_COLUMNS = ("fasttext", "folder")

Report = Callable[[str, int], None]


class LoadCancelled(StudioError):
    """The load was cancelled between two stages."""


@dataclass(frozen=True)
class ColumnInfo:
    """The columns a dataset offers and the ones the readers would pick by themselves."""

    path: str
    format: str
    columns: tuple[str, ...]
    text_column: str | None = None
    label_column: str | None = None


@dataclass(frozen=True)
class LoadRequest:
    """One load: which file and which columns (None = detect). ``cancel`` stops it."""

    request_id: int
    path: str
    text_column: str | None = None
    label_column: str | None = None
    format: str = "auto"
    encoding: str | None = None
    label_delimiter: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


@dataclass(frozen=True)
class LoadedDataset:
    """Everything the Dataset page shows about a loaded dataset."""

    path: str
    format: str
    columns: tuple[str, ...]
    text_column: str | None
    label_column: str | None
    raw: RawDataset
    label_counts: dict[str, int]
    lengths: np.ndarray  # tokens per document (words tokenizer, all splits)
    oov_sizes: np.ndarray
    oov_train: np.ndarray
    oov_valid: np.ndarray
    n_docs: int
    vocab_types: int  # distinct training tokens, specials included
    multi_label: bool = False
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- columns


def _head_text(path: Path, encoding: str | None) -> tuple[str, bool]:
    """Return the decoded first ``HEAD_BYTES`` of a file and whether the file is longer."""
    from studio.engine.data.readers._text import _codec_name, read_bytes

    data = read_bytes(path, HEAD_BYTES + 1)
    truncated = len(data) > HEAD_BYTES
    data = data[:HEAD_BYTES]
    codec = "utf-8" if encoding is None else _codec_name(encoding, path)
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    text = decoder.decode(data, final=not truncated)
    return text.removeprefix("\ufeff"), truncated


def _table_sample(text: str, truncated: bool, tsv: bool) -> tuple[list[str], list[list[str]]]:
    """Header and sample rows of CSV/TSV text (the last row is dropped if it may be cut)."""
    from studio.engine.data.readers._csv import _raise_field_limit, sniff_delimiter

    delimiter = "\t" if tsv else (sniff_delimiter(text) or ",")
    _raise_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) > SAMPLE_ROWS + 1:
                break
    except csv.Error:
        truncated = True  # keep what parsed cleanly; the full read reports the real error
    if truncated and len(rows) > 1:
        rows.pop()
    if not rows:
        return [], []
    return [name.strip() for name in rows[0]], rows[1 : SAMPLE_ROWS + 1]


def _jsonl_sample(text: str, truncated: bool) -> tuple[list[str], list[list[str]]]:
    """Keys and sample rows of the first JSON Lines objects."""
    from studio.engine.data.readers._jsonl import _cell

    lines = [line for line in text.split("\n") if line.strip()]
    if truncated and lines:
        lines.pop()
    objects: list[dict[str, Any]] = []
    for line in lines[:SAMPLE_ROWS]:
        try:
            value = json.loads(line)
        except ValueError:
            break  # the full read names the bad line
        if not isinstance(value, dict):
            break
        objects.append(value)
    names = list(dict.fromkeys(key for obj in objects for key in obj))
    return names, [[_cell(obj.get(name)) for name in names] for obj in objects]


def _parquet_sample(path: Path) -> tuple[list[str], list[list[str]]]:
    """Schema names and the first rows of a Parquet file."""
    from studio.engine.data.readers._parquet import _cell

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs the 'pyarrow' package", path=path) from None
    try:
        parquet = pq.ParquetFile(path)
        names = [str(name) for name in parquet.schema_arrow.names]
        batch = next(parquet.iter_batches(batch_size=SAMPLE_ROWS), None)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DatasetError(f"not a readable Parquet file ({detail})", path=path) from None
    if batch is None:
        return names, []
    columns = batch.to_pydict()
    rows = [[_cell(value) for value in values] for values in zip(*columns.values(), strict=True)]
    return names, rows


def inspect_columns(
    path: str | Path, format: str = "auto", encoding: str | None = None
) -> ColumnInfo:
    """List a dataset's columns cheaply and guess its text and label columns.

    Reads only the start of the file (the header of CSV/TSV, the keys of the first
    ``SAMPLE_ROWS`` JSON objects, the Parquet schema). fastText files and folders have no
    columns. Raises DatasetError when the file cannot be opened or its format not told.
    """
    from studio.engine.data.readers import FORMATS, detect_columns, detect_format
    from studio.engine.data.readers._text import read_bytes

    path = Path(path)
    fmt = format.strip().lower()
    if fmt != "auto" and fmt not in FORMATS:
        raise DatasetError(f"unknown format {format!r}", path=path)
    if fmt == "auto":
        fmt = detect_format(path, encoding=encoding)
    if fmt in NO_COLUMNS or path.is_dir():
        return ColumnInfo(str(path), fmt, ())
    if fmt == "parquet":
        if read_bytes(path, 4) != b"PAR1":
            raise DatasetError("not a Parquet file (it does not start with 'PAR1')", path=path)
        names, rows = _parquet_sample(path)
    else:
        text, truncated = _head_text(path, encoding)
        if fmt == "jsonl":
            names, rows = _jsonl_sample(text, truncated)
        else:
            names, rows = _table_sample(text, truncated, tsv=fmt == "tsv")
    text_column: str | None = None
    label_column: str | None = None
    with contextlib.suppress(DatasetError):  # no guess: the full read reports why
        text_column, label_column = detect_columns(names, rows, path=path)
    return ColumnInfo(str(path), fmt, tuple(names), text_column, label_column)


def list_columns(path: str | Path, format: str = "auto", encoding: str | None = None) -> list[str]:
    """The column names of a dataset file; empty for fastText files and folders."""
    return list(inspect_columns(path, format, encoding).columns)


# --------------------------------------------------------------------------- the work

# Share of the progress bar each stage ends at.
_COLUMNS_END, _READ_END, _PREPARE_END = 5, 30, 92


def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise LoadCancelled("loading cancelled")


def load_dataset(
    request: LoadRequest,
    report: Report,
    on_columns: Callable[[ColumnInfo], None] | None = None,
) -> LoadedDataset:
    """Columns -> read -> prepare (words tokenizer, cached) -> statistics.

    ``report(message, percent)`` is called from the calling thread; ``on_columns`` gets the
    column listing as soon as it is known (before the whole file is read). Raises
    LoadCancelled or ``studio.engine.data.prepare.Cancelled`` once ``request.cancel`` is set, and
    StudioError for bad input.
    """
    import numpy as np

    from studio.config import DataConfig, TokenizerConfig
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.data.readers import read_dataset
    from studio.engine.data.stats import oov_curve
    from studio.engine.runs.layout import default_cache_dir

    cancel = request.cancel
    _check(cancel)
    report("reading columns", 0)
    info = inspect_columns(request.path, request.format, request.encoding)
    if on_columns is not None:
        on_columns(info)
    _check(cancel)

    report("reading file", _COLUMNS_END)
    raw = read_dataset(
        request.path,
        format=info.format,
        text_column=request.text_column if info.columns else None,
        label_column=request.label_column if info.columns else None,
        label_delimiter=request.label_delimiter,
        encoding=request.encoding,
    )
    _check(cancel)  # read_dataset cannot be interrupted: a cancelled result is dropped here

    span = _PREPARE_END - _READ_END

    def prepare_progress(message: str, fraction: float) -> None:
        report(message, _READ_END + round(span * min(max(fraction, 0.0), 1.0)))

    # Built like the window builds its DataConfig (format "auto", explicit columns), so the
    # cache entry made here is the one training opens.
    data = DataConfig(
        path=request.path,
        format=request.format,  # type: ignore[arg-type]
        text_column=raw.text_column,
        label_column=raw.label_column,
        label_delimiter=request.label_delimiter,
        encoding=request.encoding,
    )
    prepared = prepare_dataset(
        data,
        TokenizerConfig(),
        cache_dir=default_cache_dir(),
        progress=prepare_progress,
        cancel=cancel,
    )
    _check(cancel)

    report("computing statistics", _PREPARE_END)
    counts = Counter(label for labels in raw.labels for label in labels)
    label_counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    lengths = np.diff(np.asarray(prepared.offsets)).astype(np.int64)
    curve = oov_curve(prepared)
    result = LoadedDataset(
        path=request.path,
        format=raw.format,
        columns=info.columns,
        text_column=raw.text_column,
        label_column=raw.label_column,
        raw=raw,
        label_counts=label_counts,
        lengths=lengths,
        oov_sizes=np.array(curve.sizes),
        oov_train=np.array(curve.train),
        oov_valid=np.array(curve.valid),
        n_docs=len(raw),
        vocab_types=len(prepared.tokens),
        multi_label=raw.multi_label,
        warnings=tuple(raw.warnings),
    )
    del prepared  # closes the cache's memory maps
    _check(cancel)
    report("ready", 100)
    return result


# --------------------------------------------------------------------------- Qt side


class DatasetLoader(QObject):
    """Worker living on the loader thread; every signal carries the request id first."""

    sig_columns = Signal(int, object)
    """The dataset's columns are known: ``(request_id, ColumnInfo)``."""
    sig_progress = Signal(int, str, int)
    """``(request_id, message, percent)``, emitted only when message or percent change."""
    sig_loaded = Signal(int, object)
    """``(request_id, LoadedDataset)``."""
    sig_failed = Signal(int, str)
    """``(request_id, one-line message)``."""
    sig_cancelled = Signal(int)
    """The request stopped because its cancel event was set."""

    @Slot(object)
    def run(self, request: LoadRequest) -> None:
        """Run one request to its end; never lets an exception escape."""
        from studio.engine.data.prepare import Cancelled

        rid = request.request_id
        last: tuple[str, int] | None = None

        def report(message: str, percent: int) -> None:
            nonlocal last
            if (message, percent) != last and not request.cancel.is_set():
                last = (message, percent)
                self.sig_progress.emit(rid, message, percent)

        def columns(info: ColumnInfo) -> None:
            self.sig_columns.emit(rid, info)

        try:
            result = load_dataset(request, report, columns)
        except (LoadCancelled, Cancelled):
            self.sig_cancelled.emit(rid)
        except StudioError as exc:
            self.sig_failed.emit(rid, str(exc))
        except Exception as exc:
            log.exception("unexpected error while loading %s", request.path)
            self.sig_failed.emit(rid, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            if request.cancel.is_set():
                self.sig_cancelled.emit(rid)
            else:
                self.sig_loaded.emit(rid, result)


class DatasetLoadController(QObject):
    """Owns the loader thread; one current request, stale ones cancelled and ignored.

    The thread starts with the first request and runs until :meth:`shutdown`. A new request
    cancels the running one; since reading a file cannot be interrupted, the old request
    finishes its current stage in the background and whatever it reports is dropped.
    """

    sig_columns = Signal(object)
    """ColumnInfo of the current request."""
    sig_progress = Signal(str, int)
    """``(message, percent)`` of the current request."""
    sig_loaded = Signal(object)
    """LoadedDataset of the current request."""
    sig_failed = Signal(str)
    """One-line error of the current request."""
    sig_cancelled = Signal()
    """The current request was cancelled (emitted at once by :meth:`cancel`)."""

    _sig_run = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: DatasetLoader | None = None
        self._next_id = 0
        self._current: LoadRequest | None = None

    # -- state
    def is_busy(self) -> bool:
        """Whether a request is current (not finished, failed or cancelled)."""
        return self._current is not None

    def current_id(self) -> int | None:
        """Id of the current request, if any."""
        return None if self._current is None else self._current.request_id

    # -- requests
    def start(
        self,
        path: str,
        *,
        text_column: str | None = None,
        label_column: str | None = None,
        format: str = "auto",
        encoding: str | None = None,
        label_delimiter: str | None = None,
    ) -> int:
        """Queue a load (cancelling the current one) and return its request id."""
        if self._current is not None:
            self._current.cancel.set()
        self._next_id += 1
        request = LoadRequest(
            request_id=self._next_id,
            path=path,
            text_column=text_column,
            label_column=label_column,
            format=format,
            encoding=encoding,
            label_delimiter=label_delimiter,
        )
        self._current = request
        self._ensure_thread()
        self._sig_run.emit(request)
        return request.request_id

    def cancel(self) -> bool:
        """Cancel the current request; True if there was one. Emits sig_cancelled at once."""
        if self._current is None:
            return False
        self._current.cancel.set()
        self._current = None
        self.sig_cancelled.emit()
        return True

    @Slot()
    def shutdown(self) -> None:
        """Cancel without signals, then quit and wait for the thread. Safe to call twice."""
        if self._current is not None:
            self._current.cancel.set()
            self._current = None
        # Keep the worker referenced until the thread is done: dropping the last Python
        # reference would delete it here, from the GUI thread, while it may still be running.
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()
            thread.wait()
        del worker

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        thread = QThread(self)
        thread.setObjectName("datasetLoaderThread")
        worker = DatasetLoader()
        worker.moveToThread(thread)
        self._sig_run.connect(worker.run)
        worker.sig_columns.connect(self._on_columns)
        worker.sig_progress.connect(self._on_progress)
        worker.sig_loaded.connect(self._on_loaded)
        worker.sig_failed.connect(self._on_failed)
        worker.sig_cancelled.connect(self._on_cancelled)
        thread.finished.connect(worker.deleteLater)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._thread, self._worker = thread, worker
        thread.start()

    # -- worker reports (GUI thread); anything from a stale request is dropped
    def _is_current(self, request_id: int) -> bool:
        return self._current is not None and self._current.request_id == request_id

    @Slot(int, object)
    def _on_columns(self, request_id: int, info: object) -> None:
        if self._is_current(request_id):
            self.sig_columns.emit(info)

    @Slot(int, str, int)
    def _on_progress(self, request_id: int, message: str, percent: int) -> None:
        if self._is_current(request_id):
            self.sig_progress.emit(message, percent)

    @Slot(int, object)
    def _on_loaded(self, request_id: int, result: object) -> None:
        if self._is_current(request_id):
            self._current = None
            self.sig_loaded.emit(result)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if self._is_current(request_id):
            self._current = None
            self.sig_failed.emit(message)

    @Slot(int)
    def _on_cancelled(self, request_id: int) -> None:
        if self._is_current(request_id):  # only if cancelled behind our back
            self._current = None
            self.sig_cancelled.emit()
