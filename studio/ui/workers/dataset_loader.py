"""Loading a dataset for the Dataset page, off the GUI thread.

The work is a plain function, :func:`load_dataset` (columns -> read -> prepare -> statistics),
that reports progress through a callback and checks a :class:`threading.Event` between stages.
:class:`DatasetLoadController` runs it on a :class:`~studio.ui.workers.threads.LatestRunner`
(the newest request wins: each request has an id and a cancel event, and whatever a stale,
cancelled or superseded, request still reports is dropped) and turns its outcome into signals.

Nothing here imports numpy, torch or ``studio.engine`` at module level: the engine is imported
inside the functions that run on the worker thread.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from studio.errors import StudioError
from studio.ui.workers.threads import Job, LatestRunner

if TYPE_CHECKING:
    import numpy as np

    from studio.engine.data.dataset import PreparedDataset
    from studio.engine.data.readers import RawDataset
    from studio.engine.data.sample import ColumnInfo

__all__ = [
    "DatasetLoadController",
    "LoadRequest",
    "LoadedDataset",
    "load_dataset",
]

log = logging.getLogger(__name__)

Report = Callable[[str, int], None]


class LoadCancelled(StudioError):
    """The load was cancelled between two stages."""


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
    median_tokens: float  # of (a sample of) the training documents, as the recipe measures it
    spaceless_share: float  # share of them written in scripts without spaces (Chinese, Thai…)
    auto_char_ngrams: tuple[int, int]  # what tokenizer.char_ngrams = "auto" will train with
    multi_label: bool = False
    warnings: tuple[str, ...] = ()

    def char_ngrams_note(self) -> str:
        """What ``tokenizer.char_ngrams = "auto"`` will train with on this dataset, and why."""
        from studio.config import AUTO_SHORT_TOKENS, AUTO_SPACELESS_NGRAMS

        minn, maxn = self.auto_char_ngrams
        head = "character n-grams (auto): " + (f"{minn}–{maxn}" if minn else "none")
        if minn and self.auto_char_ngrams == AUTO_SPACELESS_NGRAMS:
            return (
                f"{head}, {self.spaceless_share:.0%} of documents are in scripts without spaces"
                " (Chinese, Japanese, Thai…): the words tokenizer sees whole phrases there"
            )
        median = f"median {self.median_tokens:,.1f}".removesuffix(".0") + " tokens"
        if minn:
            return f"{head}, documents are short ({median}, at most {AUTO_SHORT_TOKENS})"
        return f"{head}, documents are long ({median}, over {AUTO_SHORT_TOKENS})"


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
    from studio.engine.data.readers import read_dataset
    from studio.engine.data.sample import inspect_columns

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

    prepared = _prepare(request, raw, report)
    _check(cancel)

    report("computing statistics", _PREPARE_END)
    result = _statistics(request, info, raw, prepared)
    del prepared  # closes the cache's memory maps
    _check(cancel)
    report("ready", 100)
    return result


def _prepare(request: LoadRequest, raw: RawDataset, report: Report) -> PreparedDataset:
    """Tokenize and encode with the default tokenizer, through the cache."""
    from studio.config import DataConfig, TokenizerConfig
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.runs.layout import default_cache_dir

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
    return prepare_dataset(
        data,
        TokenizerConfig(),
        cache_dir=default_cache_dir(),
        progress=prepare_progress,
        cancel=request.cancel,
    )


def _statistics(
    request: LoadRequest, info: ColumnInfo, raw: RawDataset, prepared: PreparedDataset
) -> LoadedDataset:
    """Label counts, document lengths, the OOV curve and what "auto" n-grams will do."""
    import numpy as np

    from studio.engine.data.stats import oov_curve
    from studio.engine.train.recipe import char_ngrams_for, text_facts

    counts = Counter(label for labels in raw.labels for label in labels)
    label_counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    lengths = np.diff(np.asarray(prepared.offsets)).astype(np.int64)
    curve = oov_curve(prepared)
    median, share = text_facts(prepared)
    return LoadedDataset(
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
        median_tokens=median,
        spaceless_share=share,
        auto_char_ngrams=char_ngrams_for(median, share),
        multi_label=raw.multi_label,
        warnings=(*raw.warnings, *prepared.warnings),
    )


# --------------------------------------------------------------------------- Qt side


@dataclass(frozen=True)
class _Progress:
    message: str
    percent: int


def _load_job(job: Job, template: LoadRequest) -> LoadedDataset:
    """Run one load on the runner's thread; progress and columns become partial results."""
    request = dataclasses.replace(template, request_id=job.request_id, cancel=job.cancel)
    last: _Progress | None = None

    def report(message: str, percent: int) -> None:
        nonlocal last
        progress = _Progress(message, percent)
        if progress != last:  # emitted only when message or percent change
            last = progress
            job.partial(progress)

    return load_dataset(request, report, job.partial)


class DatasetLoadController(QObject):
    """Loads datasets on a worker thread of its own; one current request, stale ones
    cancelled and ignored.

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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = LatestRunner("dataset_loader_thread", self)
        self._runner.sig_partial.connect(self._on_partial)
        self._runner.sig_result.connect(self._on_loaded)
        self._runner.sig_error.connect(self._on_failed)
        self._runner.sig_cancelled.connect(self._on_cancelled)
        self._path = ""

    # -- state
    def is_busy(self) -> bool:
        """Whether a request is current (not finished, failed or cancelled)."""
        return self._runner.is_busy()

    def current_id(self) -> int | None:
        """Id of the current request, if any."""
        return self._runner.current_id()

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
        template = LoadRequest(
            request_id=0,  # the runner's id, once submitted
            path=path,
            text_column=text_column,
            label_column=label_column,
            format=format,
            encoding=encoding,
            label_delimiter=label_delimiter,
        )
        self._path = path
        return self._runner.submit_job(lambda job: _load_job(job, template))

    def cancel(self) -> bool:
        """Cancel the current request; True if there was one. Emits sig_cancelled at once."""
        return self._runner.cancel()

    @Slot()
    def shutdown(self) -> None:
        """Cancel without signals, then quit and wait for the thread. Safe to call twice."""
        self._runner.shutdown()

    # -- the current request's reports (GUI thread; the runner dropped stale ones)
    @Slot(object)
    def _on_partial(self, value: object) -> None:
        if isinstance(value, _Progress):
            self.sig_progress.emit(value.message, value.percent)
        else:
            self.sig_columns.emit(value)

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        self.sig_loaded.emit(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        if details:  # not a StudioError: keep the traceback for the log
            log.error("unexpected error while loading %s\n%s", self._path, details)
        self.sig_failed.emit(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self.sig_cancelled.emit()
