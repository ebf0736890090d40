"""The Dataset page: pick a dataset, choose its text and label columns, look at it.

Loading (columns -> read -> prepare -> statistics) runs on a worker thread owned by a
:class:`~studio.ui.workers.dataset_loader.DatasetLoadController`; this page only sends requests and
listens. Errors show inline in ``datasetError``; the page never raises for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.config import TokenizerConfig
from studio.ui.models.preview import PreviewModel
from studio.ui.widgets.plots import BarChart, CoverageChart, HistogramChart
from studio.ui.workers.dataset_loader import (
    ColumnInfo,
    DatasetLoadController,
    LoadedDataset,
)

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent

__all__ = ["IMBALANCE_RATIO", "DatasetPage"]

#: The label chart warns when the largest class is more than this many times the smallest.
IMBALANCE_RATIO = 10.0
FILE_FILTER = (
    "Datasets (*.csv *.tsv *.tab *.jsonl *.ndjson *.json *.parquet *.pq *.txt *.ft *.fasttext)"
    ";;All files (*)"
)
_NO_COLUMNS = "no columns"


_W = TypeVar("_W", bound=QWidget)


def _named(widget: _W, name: str) -> _W:
    """The widget, with its objectName set (tests and the main window find widgets by it)."""
    widget.setObjectName(name)
    return widget


def imbalance_warning(counts: dict[str, int], ratio: float = IMBALANCE_RATIO) -> str:
    """A one-line warning when the largest class is over ``ratio`` times the smallest."""
    if len(counts) < 2:
        return ""
    big = max(counts, key=lambda name: counts[name])
    small = min(counts, key=lambda name: counts[name])
    if counts[small] <= 0:
        return f"class {small!r} has no documents"
    factor = counts[big] / counts[small]
    if factor <= ratio:
        return ""
    return (
        f"imbalanced: {big!r} has {factor:.0f}× the documents of {small!r}"
        f" ({counts[big]:,} vs {counts[small]:,})"
    )


def summary_text(result: LoadedDataset) -> str:
    """``4,295 documents · 7 labels · format tsv`` and one line per reader warning."""
    parts = [
        f"{result.n_docs:,} documents",
        f"{len(result.label_counts):,} labels",
        f"format {result.format}",
    ]
    if result.multi_label:
        parts.append("multi-label")
    lines = [" · ".join(parts)]
    lines += [f"⚠ {warning}" for warning in result.warnings]
    return "\n".join(lines)


class DatasetPage(QWidget):
    """Choose a dataset file or folder and preview its documents, labels and vocabulary."""

    sig_loaded = Signal(str)
    """A dataset loaded without error: its path."""
    sig_failed = Signal(str)
    """Loading failed: the one-line message shown in ``datasetError``."""
    sig_cancelled = Signal()
    """The user (or :meth:`cancel`) stopped a load."""
    sig_busy = Signal(bool)
    """True when a load starts, False when it ends (loaded, failed or cancelled)."""
    sig_progress = Signal(str, int)
    """``(stage, percent)`` of the running load, for a status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loaded: LoadedDataset | None = None
        self._path = ""  # path of the latest request
        self._columns_path: str | None = None  # path the pickers were filled for
        self._busy = False
        self._vocab_size = TokenizerConfig().vocab_size

        self._controller = DatasetLoadController(self)
        self._controller.sig_columns.connect(self._on_columns)
        self._controller.sig_progress.connect(self._on_progress)
        self._controller.sig_loaded.connect(self._on_loaded)
        self._controller.sig_failed.connect(self._on_failed)
        self._controller.sig_cancelled.connect(self._on_cancelled)
        # The page may be deleted without shutdown(): stop the thread before the children go.
        self.destroyed.connect(self._controller.shutdown)

        self._build()
        self._apply_error_palette()
        self.oovChart.set_marker(self._vocab_size)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.datasetPath = _named(QLineEdit(), "datasetPath")
        self.datasetPath.setPlaceholderText(
            "CSV, TSV, JSON Lines, fastText or Parquet file, or a folder of class folders"
        )
        self.datasetPath.setClearButtonEnabled(True)
        self.datasetPath.setToolTip("Path of the dataset; press Enter to load it")
        self.datasetPath.returnPressed.connect(self._on_return_pressed)

        self.browseButton = _named(QToolButton(), "browseButton")
        self.browseButton.setText("File…")
        self.browseButton.setToolTip("Choose a dataset file")
        self.browseButton.clicked.connect(self._browse_file)
        self.browseFolderButton = _named(QToolButton(), "browseFolderButton")
        self.browseFolderButton.setText("Folder…")
        self.browseFolderButton.setToolTip(
            "Choose a folder holding one subfolder of .txt files per class"
        )
        self.browseFolderButton.clicked.connect(self._browse_folder)

        self.textColumn = self._column_combo("textColumn", "Column holding the documents' text")
        self.textColumn.currentIndexChanged.connect(self._on_text_column_changed)
        self.labelColumn = self._column_combo("labelColumn", "Column holding the labels")
        self.labelColumn.currentIndexChanged.connect(self._on_label_column_changed)

        path_label = QLabel("&Dataset")
        path_label.setBuddy(self.datasetPath)
        text_label = QLabel("&Text")
        text_label.setBuddy(self.textColumn)
        label_label = QLabel("&Label")
        label_label.setBuddy(self.labelColumn)

        top = QHBoxLayout()
        top.addWidget(path_label)
        top.addWidget(self.datasetPath, 1)
        top.addWidget(self.browseButton)
        top.addWidget(self.browseFolderButton)
        top.addSpacing(12)
        top.addWidget(text_label)
        top.addWidget(self.textColumn)
        top.addWidget(label_label)
        top.addWidget(self.labelColumn)

        self.loadProgress = _named(QProgressBar(), "loadProgress")
        self.loadProgress.setRange(0, 100)
        self.loadProgress.setTextVisible(True)
        self.loadProgress.setVisible(False)
        self.cancelLoadButton = _named(QPushButton("Cancel"), "cancelLoadButton")
        self.cancelLoadButton.setToolTip("Stop loading this dataset")
        self.cancelLoadButton.setVisible(False)
        self.cancelLoadButton.clicked.connect(self.cancel)

        self.datasetSummary = _named(QLabel(), "datasetSummary")
        self.datasetSummary.setWordWrap(True)
        self.datasetSummary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.datasetSummary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        status = QHBoxLayout()
        status.addWidget(self.datasetSummary, 1)
        status.addWidget(self.loadProgress, 1)
        status.addWidget(self.cancelLoadButton)

        self.datasetError = _named(QLabel(), "datasetError")
        self.datasetError.setWordWrap(True)
        self.datasetError.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.datasetError.setVisible(False)

        self._preview = PreviewModel(parent=self)
        self.previewTable = _named(QTableView(), "previewTable")
        self.previewTable.setModel(self._preview)
        self.previewTable.setWordWrap(False)
        self.previewTable.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.previewTable.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.previewTable.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.previewTable.setAlternatingRowColors(True)
        rows = self.previewTable.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: 1M rows are cheap
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        columns = self.previewTable.horizontalHeader()
        columns.setSectionResizeMode(PreviewModel.NUMBER, QHeaderView.ResizeMode.Interactive)
        columns.setSectionResizeMode(PreviewModel.TEXT, QHeaderView.ResizeMode.Stretch)
        columns.setSectionResizeMode(PreviewModel.LABEL, QHeaderView.ResizeMode.Interactive)
        digits = self.fontMetrics().horizontalAdvance("0,000,000") + 16
        columns.resizeSection(PreviewModel.NUMBER, digits)
        columns.resizeSection(PreviewModel.LABEL, 150)

        self.labelChart = BarChart()
        self.labelChart.setObjectName("labelChart")
        self.lengthChart = HistogramChart()
        self.lengthChart.setObjectName("lengthChart")
        self.oovChart = CoverageChart()
        self.oovChart.setObjectName("oovChart")
        charts = _named(QWidget(), "datasetCharts")
        chart_layout = QVBoxLayout(charts)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        for title, chart in (
            ("Documents per label", self.labelChart),
            ("Tokens per document", self.lengthChart),
            ("Out-of-vocabulary tokens by vocabulary size", self.oovChart),
        ):
            heading = QLabel(title)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            chart_layout.addWidget(heading)
            chart_layout.addWidget(chart, 1)

        self.splitter = _named(QSplitter(Qt.Orientation.Horizontal), "datasetSplitter")
        self.splitter.addWidget(self.previewTable)
        self.splitter.addWidget(charts)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(status)
        layout.addWidget(self.datasetError)
        layout.addWidget(self.splitter, 1)
        self._set_columns(None)

    def _column_combo(self, name: str, tip: str) -> QComboBox:
        combo = _named(QComboBox(), name)
        combo.setToolTip(tip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMinimumContentsLength(10)
        return combo

    def _apply_error_palette(self) -> None:
        """Red text that reads on this palette's window colour (light or dark)."""
        palette = self.datasetError.palette()
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        red = QColor(255, 120, 110) if dark else QColor(180, 30, 30)
        palette.setColor(QPalette.ColorRole.WindowText, red)
        self.datasetError.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        """Keep the error colour readable when the palette changes."""
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._apply_error_palette()

    # ------------------------------------------------------------------ public API
    @Slot(str)
    def load(self, path: str) -> None:
        """Load the dataset at ``path``, detecting its format and columns."""
        self._request(path, None, None, new_path=True)

    @Slot()
    def cancel(self) -> None:
        """Stop the current load, if any (its late results are ignored)."""
        self._controller.cancel()

    def is_ready(self) -> bool:
        """A dataset is loaded without error and no load is running."""
        return self._loaded is not None and not self._busy

    def data_values(self) -> dict[str, Any]:
        """``path``, ``text_column`` and ``label_column`` of the dataset, for a DataConfig.

        The columns are the ones the dataset was loaded with (None for fastText files and
        folders, which have none).
        """
        if self._loaded is not None:
            return {
                "path": self._loaded.path,
                "text_column": self._loaded.text_column,
                "label_column": self._loaded.label_column,
            }
        enabled = self.textColumn.isEnabled()
        return {
            "path": self._path or self.datasetPath.text().strip(),
            "text_column": (self.textColumn.currentText() or None) if enabled else None,
            "label_column": (self.labelColumn.currentText() or None) if enabled else None,
        }

    @property
    def loaded(self) -> LoadedDataset | None:
        """The loaded dataset's documents and statistics; None unless a load succeeded."""
        return self._loaded

    @Slot(int)
    def set_vocab_size(self, n: int) -> None:
        """Move the OOV chart's marker to a vocabulary size (works before any data)."""
        self._vocab_size = int(n)
        self.oovChart.set_marker(self._vocab_size)

    @Slot()
    def shutdown(self) -> None:
        """Cancel any load and stop the loader thread (the main window's closeEvent calls it)."""
        self.cancel()
        self._controller.shutdown()

    # ------------------------------------------------------------------ requests
    def _request(
        self, path: str, text_column: str | None, label_column: str | None, *, new_path: bool
    ) -> None:
        path = path.strip()
        if self.datasetPath.text().strip() != path:
            self.datasetPath.setText(path)
        self._loaded = None
        if not path:
            self._controller.cancel()
            self._path = ""
            self._set_columns(None)
            self._columns_path = None
            self._fail("no dataset given: type a path or choose a file or folder")
            return
        self._path = str(Path(path).expanduser())
        if new_path:
            self._set_columns(None)
            self._columns_path = None
        self._controller.start(self._path, text_column=text_column, label_column=label_column)
        self.datasetError.setVisible(False)
        self.loadProgress.setValue(0)
        self.loadProgress.setFormat("starting… %p%")
        self.datasetSummary.setVisible(False)
        self.loadProgress.setVisible(True)
        self.cancelLoadButton.setVisible(True)
        self._set_busy(True)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.sig_busy.emit(busy)

    def _end_loading(self) -> None:
        self.loadProgress.setVisible(False)
        self.cancelLoadButton.setVisible(False)
        self.datasetSummary.setVisible(bool(self.datasetSummary.text()))

    def _clear_view(self) -> None:
        import numpy as np

        self._preview.set_dataset(None)
        self.labelChart.set_data([], [])
        self.labelChart.set_warning("")
        self.lengthChart.set_data(np.zeros(0, dtype=np.int64))
        self.oovChart.set_curve(np.zeros(0), np.zeros(0), np.zeros(0))
        self.datasetSummary.clear()

    def _fail(self, message: str) -> None:
        self._loaded = None
        self._clear_view()
        self._end_loading()
        self.datasetError.setText(message)
        self.datasetError.setToolTip(message)
        self.datasetError.setVisible(True)
        self._set_busy(False)
        self.sig_failed.emit(message)

    def _set_columns(
        self, info: ColumnInfo | None, text: str | None = None, label: str | None = None
    ) -> None:
        """Fill both pickers (without re-loading); disabled when there are no columns."""
        names = list(info.columns) if info is not None else []
        for combo, chosen in ((self.textColumn, text), (self.labelColumn, label)):
            combo.blockSignals(True)
            try:
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(names.index(chosen) if chosen in names else -1)
                combo.setEnabled(bool(names))
                combo.setPlaceholderText(_NO_COLUMNS if info is not None and not names else "")
            finally:
                combo.blockSignals(False)

    # ------------------------------------------------------------------ UI slots
    @Slot()
    def _on_return_pressed(self) -> None:
        self.load(self.datasetPath.text())

    @Slot()
    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a dataset file", self._start_dir(), FILE_FILTER
        )
        if path:
            self.load(path)

    @Slot()
    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Choose a folder of class folders", self._start_dir()
        )
        if path:
            self.load(path)

    def _start_dir(self) -> str:
        current = Path(self._path or self.datasetPath.text().strip() or Path.home()).expanduser()
        return str(current if current.is_dir() else current.parent)

    @Slot(int)
    def _on_text_column_changed(self, index: int) -> None:
        if index < 0 or not self._path:
            return
        text = self.textColumn.itemText(index)
        label = self.labelColumn.currentText() or None
        self._request(self._path, text, None if label == text else label, new_path=False)

    @Slot(int)
    def _on_label_column_changed(self, index: int) -> None:
        if index < 0 or not self._path:
            return
        label = self.labelColumn.itemText(index)
        text = self.textColumn.currentText() or None
        self._request(self._path, None if text == label else text, label, new_path=False)

    # ------------------------------------------------------------------ loader slots
    @Slot(object)
    def _on_columns(self, info: ColumnInfo) -> None:
        if info.path == self._columns_path:
            return  # same file: the pickers already hold the user's choice
        self._set_columns(info, info.text_column, info.label_column)
        self._columns_path = info.path

    @Slot(str, int)
    def _on_progress(self, message: str, percent: int) -> None:
        self.loadProgress.setValue(percent)
        self.loadProgress.setFormat(f"{message}… %p%")
        self.sig_progress.emit(message, percent)

    @Slot(object)
    def _on_loaded(self, result: LoadedDataset) -> None:
        self._loaded = result
        info = ColumnInfo(result.path, result.format, result.columns)
        self._set_columns(info, result.text_column, result.label_column)
        self._columns_path = result.path
        self._preview.set_dataset(result.raw)
        labels = list(result.label_counts)
        self.labelChart.set_data(labels, [float(result.label_counts[name]) for name in labels])
        self.labelChart.set_warning(imbalance_warning(result.label_counts))
        self.lengthChart.set_data(result.lengths)
        self.oovChart.set_curve(result.oov_sizes, result.oov_train, result.oov_valid)
        self.oovChart.set_marker(self._vocab_size)
        self.datasetSummary.setText(summary_text(result))
        self.datasetError.setVisible(False)
        self._end_loading()
        self._set_busy(False)
        self.sig_loaded.emit(result.path)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._fail(message)

    @Slot()
    def _on_cancelled(self) -> None:
        self._loaded = None
        self._clear_view()
        self.datasetSummary.setText("loading cancelled")
        self._end_loading()
        self._set_busy(False)
        self.sig_cancelled.emit()
