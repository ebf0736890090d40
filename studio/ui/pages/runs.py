"""The Runs page: every run folder in the runs directory, compared and followed live.

A table lists the runs (sortable, multi-selection); the selected runs' curves are overlaid
on one plot, one colour per run, and the settings that differ between them sit side by
side. Rename, delete (to the trash) and open act on the selection.

All file access happens on one worker thread (:class:`RunsWatcher`): listing the folder,
the cheap change check every second (folder names + ``run.json`` stat), and reading the
selected runs' ``metrics.jsonl`` incrementally (:class:`studio.engine.runs.manage.MetricsTail`).
A run written by another process (the CLI, a job on another machine sharing the folder)
therefore shows up and grows live here like one trained in this window. The GUI thread only
updates the table model and hands buffers to ``setData``; rename and delete, one user action
on a few folders, run on the GUI thread so their errors show at once in ``runsError``.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QHideEvent, QIcon, QPalette, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError
from studio.ui.widgets.buffers import GrowingBuffer
from studio.ui.widgets.plots import _light_ticks, _live_curve, _style_plot

if TYPE_CHECKING:
    import numpy as np

    from studio.engine.runs.layout import RunInfo
    from studio.engine.runs.manage import MetricsTail

__all__ = ["RunsPage", "RunsTableModel", "RunsWatcher"]

log = logging.getLogger(__name__)

#: How often the folder and the selected runs' metrics are checked.
POLL_INTERVAL_MS: Final = 1000
#: Curves are pushed to pyqtgraph at most this often (new data only marks them dirty).
REDRAW_INTERVAL_MS: Final = 100
#: Bytes of one run's metrics.jsonl read in one go; the rest follows in later slices.
READ_SLICE_BYTES: Final = 4 << 20
#: At most this many selected runs are plotted and compared (the first ones, table order).
MAX_COMPARED: Final = 24

SORT_ROLE: Final = Qt.ItemDataRole.UserRole + 1
PATH_ROLE: Final = Qt.ItemDataRole.UserRole + 2

# Metric choices of the combo box: (key, label, y axis label, per step?).
METRICS: Final = (
    ("val_accuracy", "Validation accuracy", "validation accuracy", False),
    ("val_loss", "Validation loss", "validation loss", False),
    ("loss", "Training loss (per step)", "training loss", True),
)
_E_EPOCH, _E_STEP, _E_LOSS, _E_ACC, _E_F1 = range(5)
_S_STEP, _S_LOSS = range(2)
_EPOCH_Y: Final = {"val_accuracy": _E_ACC, "val_loss": _E_LOSS}

# Run colours (light background, dark background): a qualitative set, distinct in both.
_RUN_COLORS: Final = (
    ("#1f6fb4", "#6cb6ff"),
    ("#d62728", "#ff7b72"),
    ("#1e8449", "#56d364"),
    ("#8e44ad", "#d2a8ff"),
    ("#d35400", "#ffa657"),
    ("#148f9f", "#39c5cf"),
    ("#8c564b", "#e0a370"),
    ("#c2185b", "#f778ba"),
    ("#6b6b6b", "#b1bac4"),
    ("#9a9a00", "#e3b341"),
)
# After the colours run out they repeat with these line styles.
_STYLES: Final = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


def _run_color(index: int, palette: QPalette) -> QColor:
    light, dark = _RUN_COLORS[index % len(_RUN_COLORS)]
    is_dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(dark if is_dark else light)


def _run_pen(index: int, palette: QPalette) -> Any:
    style = _STYLES[(index // len(_RUN_COLORS)) % len(_STYLES)]
    return pg.mkPen(_run_color(index, palette), width=1, style=style)


def _swatch(color: QColor, size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


def empty_text(runs_dir: str) -> str:
    """What the page says when a runs folder holds no run."""
    return f"No runs yet in {runs_dir}. Train a model, or copy run folders here."


# --------------------------------------------------------------------------- worker


class RunsWatcher(QObject):
    """Worker on the runs thread: lists the folder and tails the selected runs' metrics.

    Every slot is called through a queued signal from :class:`RunsPage`; nothing here
    touches a widget. Exceptions never escape a slot: they are reported by ``sig_failed``.
    """

    sig_listed = Signal(str, object)
    """``(runs_dir, list[RunInfo])`` with live statuses; emitted when the listing changes."""
    sig_metrics = Signal(str, bool, object)
    """``(run path, fresh, curves dict)``; ``fresh``: drop what was read before for this run."""
    sig_failed = Signal(str)
    """A one-line error (the folder cannot be read)."""
    sig_tick_done = Signal()
    """A periodic check finished (the page sends the next one only then)."""

    _sig_more = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._dir: str | None = None
        self._signature: tuple[Any, ...] | None = None
        self._runs: list[RunInfo] = []
        self._stored_running: list[int] = []  # rows whose run.json says "running"
        self._tails: dict[str, MetricsTail] = {}
        self._fresh: set[str] = set()
        self._more_queued = False
        self._sig_more.connect(self._continue, Qt.ConnectionType.QueuedConnection)

    # -- requests (worker thread)
    @Slot(str)
    def set_dir(self, runs_dir: str) -> None:
        """Watch another folder; lists it at once."""
        self._dir = runs_dir
        self._signature = None
        self._runs = []
        self._stored_running = []
        self._guarded(self._list, True)

    @Slot()
    def refresh(self) -> None:
        """List the folder again even if it looks unchanged."""
        self._guarded(self._list, True)

    @Slot(list)
    def track(self, paths: list[str]) -> None:
        """Follow the metrics of exactly these runs (new ones are read from the start)."""
        self._guarded(self._track, paths)

    @Slot()
    def tick(self) -> None:
        """The periodic check: folder changed? run processes gone? new metrics lines?"""
        try:
            self._guarded(self._list, False)
            self._guarded(self._read_tails)
        finally:
            self.sig_tick_done.emit()

    def _guarded(self, fn: Any, *args: Any) -> None:
        """Run ``fn``; an unexpected error becomes ``sig_failed`` (never escapes a slot)."""
        try:
            fn(*args)
        except Exception as exc:
            log.exception("runs watcher failed")
            self.sig_failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")

    # -- work
    def _track(self, paths: list[str]) -> None:
        wanted = list(dict.fromkeys(paths))
        for path in list(self._tails):
            if path not in wanted:
                del self._tails[path]
                self._fresh.discard(path)
        from studio.engine.runs.layout import METRICS_FILE
        from studio.engine.runs.manage import MetricsTail

        for path in wanted:
            if path not in self._tails:
                self._tails[path] = MetricsTail(Path(path) / METRICS_FILE)
                self._fresh.add(path)
        self._read_tails(only_new=True)

    def _list(self, force: bool) -> None:
        if not self._dir:
            return
        from studio.engine.runs.layout import list_runs
        from studio.engine.runs.manage import run_status, runs_signature

        runs_dir = self._dir
        try:
            signature = runs_signature(runs_dir)
            if not force and signature == self._signature:
                # Unchanged files, but a "running" run's process may have died since.
                changed = False
                for row in self._stored_running:
                    run = self._runs[row]
                    try:
                        live = run_status(run.path)
                    except StudioError:
                        continue
                    if live != run.status:
                        self._runs[row] = dataclasses.replace(run, status=live)
                        changed = True
                if changed:
                    self.sig_listed.emit(runs_dir, list(self._runs))
                return
            runs = list_runs(Path(runs_dir))
        except OSError as exc:
            self.sig_failed.emit(f"{runs_dir}: cannot read the runs folder: {exc.strerror or exc}")
            return
        self._signature = signature
        self._stored_running = [i for i, run in enumerate(runs) if run.status == "running"]
        for row in self._stored_running:
            run = runs[row]
            try:
                runs[row] = dataclasses.replace(run, status=run_status(run.path))
            except StudioError:
                continue  # unreadable since list_runs read it: keep what it said
        self._runs = runs
        self.sig_listed.emit(runs_dir, list(runs))

    def _read_tails(self, only_new: bool = False) -> None:
        from studio.engine.runs.manage import curves

        behind = False
        for path, tail in list(self._tails.items()):
            fresh = path in self._fresh
            if only_new and not fresh:
                continue
            try:
                records = tail.read_new(READ_SLICE_BYTES)
            except Exception as exc:  # never let a bad file stop the others
                log.exception("reading %s failed", tail.path)
                self.sig_failed.emit(f"{tail.path}: cannot read: {exc}")
                continue
            fresh = fresh or tail.restarted
            self._fresh.discard(path)
            if records or fresh:
                self.sig_metrics.emit(path, fresh, curves(records))
            behind = behind or not tail.at_end()
        if behind and not self._more_queued:
            self._more_queued = True
            self._sig_more.emit()  # the next slice after any queued request

    @Slot()
    def _continue(self) -> None:
        self._more_queued = False
        self._guarded(self._read_tails)


def _stop_thread(thread: QThread) -> None:
    """Quit and wait (safety net for a page deleted without :meth:`RunsPage.shutdown`)."""
    try:
        if thread.isRunning():
            thread.quit()
            thread.wait()
    except RuntimeError:  # already deleted
        pass


# --------------------------------------------------------------------------- table model


class RunsTableModel(QAbstractTableModel):
    """One row per run: name, started, dataset, vocab, dim, batch, epochs, best val acc, status."""

    NAME, STARTED, DATASET, VOCAB, DIM, BATCH, EPOCHS, ACCURACY, STATUS = range(9)
    HEADERS: Final = (
        "name",
        "started",
        "dataset",
        "vocab",
        "dim",
        "batch",
        "epochs",
        "best val acc",
        "status",
    )
    _SETTING: Final = {VOCAB: "vocab_size", DIM: "embed_dim", BATCH: "batch_size", EPOCHS: "epochs"}
    _NUMERIC: Final = frozenset({VOCAB, DIM, BATCH, EPOCHS, ACCURACY})

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunInfo] = []

    def runs(self) -> list[RunInfo]:
        """The rows, in model order."""
        return list(self._runs)

    def run_at(self, row: int) -> RunInfo:
        return self._runs[row]

    def row_of(self, path: str) -> int | None:
        """The row of the run at ``path``, if listed."""
        for i, run in enumerate(self._runs):
            if str(run.path) == path:
                return i
        return None

    def set_runs(self, runs: list[RunInfo]) -> bool:
        """Show these runs. Returns True when the rows changed (a reset), False when only
        their contents did (the same paths in the same order: selection and scroll stay)."""
        if [r.path for r in runs] == [r.path for r in self._runs]:
            if runs != self._runs:
                self._runs = list(runs)
                last = self.index(len(runs) - 1, len(self.HEADERS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return False
        self.beginResetModel()
        self._runs = list(runs)
        self.endResetModel()
        return True

    def replace_run(self, row: int, run: RunInfo) -> None:
        self._runs[row] = run
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

    # -- QAbstractTableModel
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._runs):
            return None
        run, column = self._runs[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(run, column)
        if role == SORT_ROLE:
            return self._sort_key(run, column)
        if role == PATH_ROLE:
            return str(run.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.NAME:
                return str(run.path)
            if column == self.DATASET:
                return run.dataset or None
            if column == self.EPOCHS and run.epochs:
                return f"{run.epochs} epochs completed"
            if column == self.ACCURACY and run.val_macro_f1 is not None:
                return f"validation macro F1 {run.val_macro_f1:.4f}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, run: RunInfo, column: int) -> str:
        if column == self.NAME:
            return run.name
        if column == self.STARTED:
            return run.started.replace("T", " ")[:16]
        if column == self.DATASET:
            return Path(run.dataset).name if run.dataset else "–"
        if column in self._SETTING:
            value = run.settings.get(self._SETTING[column])
            return (
                f"{value:,}" if isinstance(value, int) else ("–" if value is None else str(value))
            )
        if column == self.ACCURACY:
            acc = run.val_accuracy
            return f"{acc:.2%}" if isinstance(acc, (int, float)) else "–"
        return run.status

    def _sort_key(self, run: RunInfo, column: int) -> Any:
        if column in self._SETTING or column == self.ACCURACY:
            value = (
                run.val_accuracy
                if column == self.ACCURACY
                else run.settings.get(self._SETTING[column])
            )
            return float(value) if isinstance(value, (int, float)) else float("-inf")
        if column == self.STARTED:
            return run.started
        if column == self.DATASET:
            return Path(run.dataset).name.casefold()
        if column == self.STATUS:
            return run.status
        return run.name.casefold()


# --------------------------------------------------------------------------- the page


@dataclasses.dataclass(eq=False)
class _Series:
    """One selected run on the plot: its data, curve and colour."""

    run: RunInfo
    color: int
    curve: pg.PlotDataItem
    steps: GrowingBuffer = dataclasses.field(default_factory=lambda: GrowingBuffer(2, 1024))
    epochs: GrowingBuffer = dataclasses.field(default_factory=lambda: GrowingBuffer(5, 32))
    dirty: bool = False


def _named(widget: Any, name: str) -> Any:
    widget.setObjectName(name)
    return widget


class RunsPage(QWidget):
    """Lists, compares, renames, deletes and follows the runs of one runs folder."""

    sig_open_run = Signal(str)
    """Open this run folder (the Open button or a double-click on one run)."""

    _sig_set_dir = Signal(str)
    _sig_refresh = Signal()
    _sig_track = Signal(list)
    _sig_tick = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        runs_dir: str | Path | None = None,
        poll_interval_ms: int = POLL_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._runs_dir: str | None = None
        self._listed = False  # the current folder has been listed once
        self._series: dict[str, _Series] = {}
        self._syncing = False
        self._pending_select: list[str] | None = None
        self._tick_pending = False
        self._thread: QThread | None = None
        self._watcher: RunsWatcher | None = None
        self._metric = METRICS[0][0]

        # -- top bar
        self.runsDirLabel = _named(QLabel(), "runsDirLabel")
        self.runsDirLabel.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runsDirLabel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.refreshRunsButton = _named(QPushButton("Refresh"), "refreshRunsButton")
        self.refreshRunsButton.setToolTip("List the runs folder again")
        self.openRunButton = _named(QPushButton("Open"), "openRunButton")
        self.openRunButton.setToolTip("Open the selected run (evaluation, playground)")
        self.renameRunButton = _named(QPushButton("Rename…"), "renameRunButton")
        self.renameRunButton.setToolTip("Rename the selected run's folder")
        self.deleteRunButton = _named(QPushButton("Delete…"), "deleteRunButton")
        self.deleteRunButton.setToolTip("Move the selected runs to the trash")
        top = QHBoxLayout()
        top.addWidget(self.runsDirLabel, 1)
        for button in (
            self.refreshRunsButton,
            self.openRunButton,
            self.renameRunButton,
            self.deleteRunButton,
        ):
            top.addWidget(button)

        self.runsError = _named(QLabel(), "runsError")
        self.runsError.setWordWrap(True)
        self.runsError.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runsError.setVisible(False)

        # -- table (or the empty-state text)
        self.model = RunsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        self.runsTable = _named(QTableView(), "runsTable")
        self.runsTable.setModel(self.proxy)
        self.runsTable.setSortingEnabled(True)
        self.runsTable.sortByColumn(RunsTableModel.STARTED, Qt.SortOrder.DescendingOrder)
        self.runsTable.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runsTable.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runsTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runsTable.setAlternatingRowColors(True)
        self.runsTable.setWordWrap(False)
        rows = self.runsTable.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.runsTable.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(RunsTableModel.NAME, QHeaderView.ResizeMode.Stretch)
        fm = self.fontMetrics()
        for column, sample in (
            (RunsTableModel.STARTED, "2000-00-00 00:00"),
            (RunsTableModel.DATASET, "a-dataset-name.csv"),
            (RunsTableModel.VOCAB, "000,000"),
            (RunsTableModel.DIM, "0,000"),
            (RunsTableModel.BATCH, "0,000"),
            (RunsTableModel.EPOCHS, "epochs"),
            (RunsTableModel.ACCURACY, "best val acc"),
            (RunsTableModel.STATUS, "early_stopped"),
        ):
            header.resizeSection(column, fm.horizontalAdvance(sample) + 24)
        self.runsEmpty = _named(QLabel(), "runsEmpty")
        self.runsEmpty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.runsEmpty.setWordWrap(True)
        self.runsEmpty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runsStack = _named(QStackedWidget(), "runsStack")
        self.runsStack.addWidget(self.runsTable)
        self.runsStack.addWidget(self.runsEmpty)

        # -- plot
        self.runsMetricCombo = _named(QComboBox(), "runsMetricCombo")
        for key, label, _axis, _per_step in METRICS:
            self.runsMetricCombo.addItem(label, key)
        self.compareNote = _named(QLabel(), "runsCompareNote")
        plot_bar = QHBoxLayout()
        plot_bar.addWidget(QLabel("Plot"))
        plot_bar.addWidget(self.runsMetricCombo)
        plot_bar.addWidget(self.compareNote, 1)
        self.runsPlot = _named(pg.PlotWidget(), "runsPlot")
        item = self.runsPlot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        _light_ticks(item)
        item.addLegend(offset=(-10, 10))
        item.setDownsampling(auto=True, mode="peak")  # PlotItem.addItem imposes it on curves
        item.setClipToView(True)
        plot_box = QWidget()
        plot_layout = QVBoxLayout(plot_box)
        plot_layout.setContentsMargins(0, 0, 0, 0)
        plot_layout.addLayout(plot_bar)
        plot_layout.addWidget(self.runsPlot, 1)

        # -- settings that differ
        self.diffTitle = _named(QLabel(), "runsDiffTitle")
        self.runsDiffTable = _named(QTableWidget(), "runsDiffTable")
        self.runsDiffTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runsDiffTable.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        diff_header = self.runsDiffTable.horizontalHeader()
        diff_header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        diff_header.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names differ at the end
        diff_header.setMinimumSectionSize(fm.horizontalAdvance("0.0003") + 16)
        diff_box = QWidget()
        diff_layout = QVBoxLayout(diff_box)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_layout.addWidget(self.diffTitle)
        diff_layout.addWidget(self.runsDiffTable, 1)

        self.bottomSplitter = _named(QSplitter(Qt.Orientation.Horizontal), "runsBottomSplitter")
        self.bottomSplitter.addWidget(plot_box)
        self.bottomSplitter.addWidget(diff_box)
        self.bottomSplitter.setStretchFactor(0, 3)
        self.bottomSplitter.setStretchFactor(1, 2)
        self.bottomSplitter.setChildrenCollapsible(False)
        self.bottomSplitter.setSizes([640, 360])  # proportions; scaled to the real width
        self.splitter = _named(QSplitter(Qt.Orientation.Vertical), "runsSplitter")
        self.splitter.addWidget(self.runsStack)
        self.splitter.addWidget(self.bottomSplitter)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 450])
        self.runsTable.setMinimumHeight(rows.defaultSectionSize() * 4)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.runsError)
        layout.addWidget(self.splitter, 1)

        # -- timers
        self._poll = QTimer(self)
        self._poll.setInterval(max(10, int(poll_interval_ms)))
        self._poll.timeout.connect(self._on_poll)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.redraw)

        # -- wiring
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.refreshRunsButton.clicked.connect(self.refresh)
        self.openRunButton.clicked.connect(self.open_selected)
        self.renameRunButton.clicked.connect(self.rename_selected)
        self.deleteRunButton.clicked.connect(self.delete_selected)
        self.runsTable.doubleClicked.connect(self._on_double_clicked)
        self.runsTable.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.runsMetricCombo.currentIndexChanged.connect(self._on_metric_changed)

        self._apply_metric_axes()
        self._apply_palette()
        self._update_empty_state()
        self._update_buttons()
        self._update_diff([])
        if runs_dir is not None:
            self.set_runs_dir(runs_dir)

    # ------------------------------------------------------------------ public API

    def runs_dir(self) -> str | None:
        """The folder shown (None until set or until the page is first shown)."""
        return self._runs_dir

    @Slot(str)
    def set_runs_dir(self, path: str | Path) -> None:
        """Show the runs of another folder (it need not exist yet)."""
        self._runs_dir = str(path)
        self._listed = False
        self._pending_select = None
        self._show_error("")
        self.runsDirLabel.setText(f"Runs in <b>{html.escape(self._runs_dir)}</b>")
        self.runsDirLabel.setToolTip(self._runs_dir)
        self._syncing = True
        try:
            self.model.set_runs([])
        finally:
            self._syncing = False
        self._sync_selection()
        self._update_empty_state()
        self._ensure_thread()
        self._sig_set_dir.emit(self._runs_dir)

    @Slot()
    def refresh(self) -> None:
        """List the runs folder again (on the watcher thread; the table follows)."""
        if self._runs_dir is None:
            self._use_default_dir()
            return
        self._ensure_thread()
        self._sig_refresh.emit()

    def runs(self) -> list[RunInfo]:
        """Every listed run (model order)."""
        return self.model.runs()

    def selected_runs(self) -> list[RunInfo]:
        """The selected runs, top to bottom as the table shows them."""
        selection = self.runsTable.selectionModel()
        rows = sorted(index.row() for index in selection.selectedRows())
        return [
            self.model.run_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row()) for r in rows
        ]

    def select_runs(self, paths: list[str | Path]) -> None:
        """Select exactly these runs (those that are listed)."""
        rows = {str(run.path): i for i, run in enumerate(self.model.runs())}
        selection = QItemSelection()
        for path in paths:
            row = rows.get(str(path))
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.runsTable.selectionModel().select(selection, flags)

    def curve(self, path: str | Path) -> pg.PlotDataItem | None:
        """The plotted curve of a selected run (None when it is not plotted)."""
        series = self._series.get(str(path))
        return None if series is None else series.curve

    def plot_metric(self) -> str:
        """The plotted metric: "val_accuracy", "val_loss" or "loss"."""
        return self._metric

    def set_plot_metric(self, key: str) -> None:
        """Plot another metric (a key of METRICS)."""
        index = self.runsMetricCombo.findData(key)
        if index < 0:
            raise ValueError(f"unknown metric {key!r}")
        self.runsMetricCombo.setCurrentIndex(index)

    @Slot()
    def open_selected(self) -> None:
        """Emit sig_open_run for the one selected run."""
        runs = self.selected_runs()
        if len(runs) == 1:
            self.sig_open_run.emit(str(runs[0].path))

    @Slot()
    def rename_selected(self) -> None:
        """Ask for a new name for the one selected run and rename its folder."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return
        run = runs[0]
        name, ok = QInputDialog.getText(
            self, "Rename run", "New folder name:", QLineEdit.EchoMode.Normal, run.name
        )
        if not ok:
            return
        name = name.strip()
        if name == run.name:
            return
        from studio.engine.runs.manage import rename_run

        try:
            new_path = rename_run(run.path, name)
        except StudioError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        row = self.model.row_of(str(run.path))
        if row is not None:  # show it at once; the next listing confirms it
            self.model.replace_run(row, dataclasses.replace(run, path=new_path, name=new_path.name))
            self._sync_selection()
        self.refresh()

    @Slot()
    def delete_selected(self) -> None:
        """Ask, then move the selected runs to the trash (or delete them where there is none)."""
        runs = self.selected_runs()
        if not runs:
            return
        from studio.engine.runs.manage import delete_run, trash_available

        n = len(runs)
        noun = "run" if n == 1 else "runs"
        if trash_available():
            question = f"Move {n} {noun} to the trash?"
        else:
            question = f"Delete {n} {noun} permanently? There is no trash to move them to."
        names = [run.name for run in runs[:10]]
        if n > 10:
            names.append(f"… and {n - 10} more")
        if not self._confirm(question + "\n\n" + "\n".join(names)):
            return
        errors = []
        deleted: set[str] = set()
        for run in runs:
            try:
                delete_run(run.path, to_trash=True, runs_dir=self._runs_dir)
            except StudioError as exc:
                errors.append(str(exc))
            else:
                deleted.add(str(run.path))
        self._show_error("\n".join(errors))
        if deleted:
            keep = [path for path in self._selected_paths() if path not in deleted]
            self._apply_listing([r for r in self.model.runs() if str(r.path) not in deleted], keep)
        self.refresh()

    def _confirm(self, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        question, _, details = text.partition("\n\n")
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Delete runs")
        box.setText(question)
        if details:
            box.setInformativeText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    @Slot()
    def shutdown(self) -> None:
        """Stop the timers and the watcher thread (waits for it). Safe to call twice."""
        self._poll.stop()
        self._redraw_timer.stop()
        thread, watcher = self._thread, self._watcher
        self._thread = self._watcher = None
        self._tick_pending = False
        if thread is not None:
            thread.quit()
            thread.wait()
        del watcher  # deleted by thread.finished -> deleteLater, or here once it has stopped

    @Slot()
    def redraw(self) -> None:
        """Push the runs' new data to their curves (the redraw timer calls this)."""
        self._redraw_timer.stop()
        per_step = self._per_step()
        for series in self._series.values():
            if not series.dirty:
                continue
            series.dirty = False
            if per_step:
                x, y = series.steps.column(_S_STEP), series.steps.column(_S_LOSS)
            else:
                x = series.epochs.column(_E_EPOCH)
                y = series.epochs.column(_EPOCH_Y[self._metric])
            series.curve.setData(x, y)

    # ------------------------------------------------------------------ events

    def showEvent(self, event: QShowEvent) -> None:
        """Start following the folder while the page is visible."""
        super().showEvent(event)
        if self._runs_dir is None:
            self._use_default_dir()
        if not self._poll.isActive():
            self._poll.start()
            self._on_poll()

    def hideEvent(self, event: QHideEvent) -> None:
        """No polling while the page is hidden (another tab is up)."""
        super().hideEvent(event)
        self._poll.stop()

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark) in the plot and the error text."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "runsPlot"):
            self._apply_palette()

    # ------------------------------------------------------------------ watcher

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        thread = QThread()
        thread.setObjectName("runsWatcherThread")
        watcher = RunsWatcher()
        watcher.moveToThread(thread)
        self._sig_set_dir.connect(watcher.set_dir)
        self._sig_refresh.connect(watcher.refresh)
        self._sig_track.connect(watcher.track)
        self._sig_tick.connect(watcher.tick)
        watcher.sig_listed.connect(self._on_listed)
        watcher.sig_metrics.connect(self._on_metrics)
        watcher.sig_failed.connect(self._on_failed)
        watcher.sig_tick_done.connect(self._on_tick_done)
        thread.finished.connect(watcher.deleteLater)
        self.destroyed.connect(partial(_stop_thread, thread))
        self._thread, self._watcher = thread, watcher
        thread.start()
        if self._series:
            self._sig_track.emit(list(self._series))

    def _use_default_dir(self) -> None:
        from studio.engine.runs.layout import default_runs_dir

        self.set_runs_dir(default_runs_dir())

    @Slot()
    def _on_poll(self) -> None:
        if self._tick_pending or self._runs_dir is None:
            return
        self._ensure_thread()
        self._tick_pending = True
        self._sig_tick.emit()

    @Slot()
    def _on_tick_done(self) -> None:
        self._tick_pending = False

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_error(message)

    @Slot(str, object)
    def _on_listed(self, runs_dir: str, runs: list[RunInfo]) -> None:
        if runs_dir != self._runs_dir:
            return  # a listing of the folder shown before
        if self.runsError.text().startswith(f"{runs_dir}: cannot read"):
            self._show_error("")
        first = not self._listed
        self._listed = True
        keep = self._pending_select
        self._pending_select = None
        if keep is None and runs and (first or not self.selected_runs()):
            keep = [str(runs[0].path)]  # the newest run, so the plot is not empty
        self._apply_listing(runs, keep)

    @Slot(str, bool, object)
    def _on_metrics(self, path: str, fresh: bool, data: dict[str, dict[str, np.ndarray]]) -> None:
        series = self._series.get(path)
        if series is None:
            return  # deselected meanwhile
        import numpy as np

        if fresh:
            series.steps.clear()
            series.epochs.clear()
        steps, epochs = data["steps"], data["epochs"]
        if len(steps["step"]):
            series.steps.append(np.column_stack([steps["step"], steps["loss"]]))
        if len(epochs["epoch"]):
            series.epochs.append(
                np.column_stack(
                    [
                        epochs["epoch"],
                        epochs["step"],
                        epochs["val_loss"],
                        epochs["val_accuracy"],
                        epochs["val_macro_f1"],
                    ]
                )
            )
        series.dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    # ------------------------------------------------------------------ selection and plot

    def _apply_listing(self, runs: list[RunInfo], keep: list[str] | None = None) -> None:
        """Show ``runs``; keep the selection (or select ``keep``) across a model reset."""
        wanted = self._selected_paths() if keep is None else keep
        self._syncing = True
        try:
            if self.model.set_runs(runs):
                self.select_runs(list(wanted))
            elif keep is not None:
                self.select_runs(list(keep))
        finally:
            self._syncing = False
        self._update_empty_state()
        self._sync_selection()

    def _selected_paths(self) -> list[str]:
        return [str(run.path) for run in self.selected_runs()]

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self._syncing:
            self._sync_selection()

    def _sync_selection(self) -> None:
        """Match the curves, the diff table and the buttons to the selection."""
        selected = self.selected_runs()
        compared = selected[:MAX_COMPARED]
        wanted = {str(run.path): run for run in compared}
        item = self.runsPlot.getPlotItem()
        removed = [path for path in self._series if path not in wanted]
        for path in removed:
            item.removeItem(self._series.pop(path).curve)
        added = False
        used = {series.color for series in self._series.values()}
        for path, run in wanted.items():
            series = self._series.get(path)
            if series is not None:
                series.run = run
                continue
            color = next(i for i in range(len(used) + 1) if i not in used)
            used.add(color)
            curve = pg.PlotDataItem(name=run.name)
            self._style_curve(curve, color)
            item.addItem(curve)
            _live_curve(curve)
            self._series[path] = _Series(run, color, curve)
            added = True
        if added or removed:
            self._ensure_thread()
            self._sig_track.emit(list(self._series))
        if len(selected) > MAX_COMPARED:
            self.compareNote.setText(
                f"comparing the first {MAX_COMPARED} of {len(selected)} selected runs"
            )
        else:
            self.compareNote.setText("")
        self._update_diff(compared)
        self._update_buttons()

    def _style_curve(self, curve: pg.PlotDataItem, color: int) -> None:
        pal = self.palette()
        curve.setPen(_run_pen(color, pal))
        if self._per_step():
            curve.setSymbol(None)
        else:
            curve.setSymbol("o")
            curve.setSymbolSize(5)
            curve.setSymbolPen(None)
            curve.setSymbolBrush(_run_color(color, pal))

    def _per_step(self) -> bool:
        return next(per_step for key, *_, per_step in METRICS if key == self._metric)

    @Slot(int)
    def _on_metric_changed(self, index: int) -> None:
        key = self.runsMetricCombo.itemData(index)
        if key == self._metric or key is None:
            return
        self._metric = str(key)
        self._apply_metric_axes()
        for series in self._series.values():
            self._style_curve(series.curve, series.color)
            series.dirty = True
        self.redraw()
        self.runsPlot.getPlotItem().enableAutoRange()

    def _apply_metric_axes(self) -> None:
        item = self.runsPlot.getPlotItem()
        _key, _label, axis, per_step = next(m for m in METRICS if m[0] == self._metric)
        item.setLabel("left", axis)
        item.setLabel("bottom", "step" if per_step else "epoch")
        if item.legend is not None:  # out of the curves' way: accuracy rises, losses fall
            item.legend.setOffset((-10, -10) if self._metric == "val_accuracy" else (-10, 10))

    def _update_diff(self, runs: list[RunInfo]) -> None:
        table = self.runsDiffTable
        table.clear()
        if not runs:
            self.diffTitle.setText("Select runs to compare their settings.")
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        from studio.engine.runs.manage import differing_settings, settings_table

        if len(runs) == 1:
            rows = settings_table(runs, only_differing=False)
            self.diffTitle.setText("Settings of the selected run")
        else:
            rows = differing_settings(runs)
            self.diffTitle.setText(
                "Settings that differ" if rows else "The selected runs have the same settings."
            )
        table.setColumnCount(len(runs))
        table.setRowCount(len(rows))
        size = self.fontMetrics().height() - 4
        for column, run in enumerate(runs):
            header = QTableWidgetItem(run.name)
            header.setToolTip(str(run.path))
            series = self._series.get(str(run.path))
            if series is not None:
                header.setIcon(_swatch(_run_color(series.color, self.palette()), size))
            table.setHorizontalHeaderItem(column, header)
        table.setVerticalHeaderLabels([key for key, _values in rows])
        for row, (_key, values) in enumerate(rows):
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setToolTip(value)
                table.setItem(row, column, cell)

    def _update_buttons(self) -> None:
        n = len(self.runsTable.selectionModel().selectedRows())
        self.openRunButton.setEnabled(n == 1)
        self.renameRunButton.setEnabled(n == 1)
        self.deleteRunButton.setEnabled(n >= 1)
        self.refreshRunsButton.setEnabled(True)

    def _update_empty_state(self) -> None:
        if self.model.rowCount() > 0:
            self.runsStack.setCurrentWidget(self.runsTable)
            return
        if self._runs_dir is None:
            self.runsEmpty.setText("No runs folder chosen.")
        elif not self._listed:
            self.runsEmpty.setText(f"Reading {self._runs_dir} …")
        else:
            self.runsEmpty.setText(empty_text(self._runs_dir))
        self.runsStack.setCurrentWidget(self.runsEmpty)

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        path = index.data(PATH_ROLE)
        if path:
            self.sig_open_run.emit(str(path))

    def _show_error(self, message: str) -> None:
        self.runsError.setText(message)
        self.runsError.setToolTip(message)
        self.runsError.setVisible(bool(message))

    def _apply_palette(self) -> None:
        pal = self.palette()
        _style_plot(self.runsPlot, pal)
        for series in self._series.values():
            self._style_curve(series.curve, series.color)
        if self._series:
            self._update_diff(self.selected_runs()[:MAX_COMPARED])
        error = self.runsError.palette()
        dark = pal.color(QPalette.ColorRole.Window).lightness() < 128
        red = QColor(255, 120, 110) if dark else QColor(180, 30, 30)
        error.setColor(QPalette.ColorRole.WindowText, red)
        self.runsError.setPalette(error)
