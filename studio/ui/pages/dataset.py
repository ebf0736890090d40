"""The Dataset page: pick a dataset, choose its text and label columns, look at it.

Loading (columns -> read -> prepare -> statistics) runs on a worker thread owned by a
:class:`~studio.ui.workers.dataset_loader.DatasetLoadController`; this page only sends requests and
listens. Errors show inline in ``dataset_error``; the page never raises for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
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
from studio.ui.widgets.charts import BarChart, CoverageChart, HistogramChart
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.palette import error_color
from studio.ui.workers.dataset_loader import DatasetLoadController, LoadedDataset

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent

    from studio.engine.data.sample import ColumnInfo

__all__ = ["IMBALANCE_HINT", "IMBALANCE_RATIO", "DatasetPage"]

#: The label chart warns when the largest class is more than this many times the smallest.
IMBALANCE_RATIO = 10.0
#: Where the warning points: the setting that weighs rare classes up (train.class_weights).
IMBALANCE_HINT = "Setup → Class weights: balanced"
FILE_FILTER = (
    "Datasets (*.csv *.tsv *.tab *.jsonl *.ndjson *.json *.parquet *.pq *.txt *.ft *.fasttext)"
    ";;All files (*)"
)
_NO_COLUMNS = "no columns"


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
        f" ({counts[big]:,} vs {counts[small]:,}); consider {IMBALANCE_HINT}"
    )


def summary_text(result: LoadedDataset) -> str:
    """``4,295 documents · 7 labels · format tsv``, auto n-grams, one line per reader warning."""
    parts = [
        f"{result.n_docs:,} documents",
        f"{len(result.label_counts):,} labels",
        f"format {result.format}",
    ]
    if result.multi_label:
        parts.append("multi-label")
    lines = [" · ".join(parts), result.char_ngrams_note()]
    lines += [f"⚠ {warning}" for warning in result.warnings]
    return "\n".join(lines)


class DatasetPage(QWidget):
    """Choose a dataset file or folder and preview its documents, labels and vocabulary."""

    sig_loaded = Signal(str)
    """A dataset loaded without error: its path."""
    sig_failed = Signal(str)
    """Loading failed: the one-line message shown in ``dataset_error``."""
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
        name_after_attributes(self)
        self._apply_error_palette()
        self.oov_chart.set_marker(self._vocab_size)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_preview())
        self.splitter.addWidget(self._build_charts())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.dataset_error = QLabel()
        self.dataset_error.setWordWrap(True)
        self.dataset_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dataset_error.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(self._build_path_row())
        layout.addLayout(self._build_status_row())
        layout.addWidget(self.dataset_error)
        layout.addWidget(self.splitter, 1)
        self._set_columns(None)

    def _build_path_row(self) -> QHBoxLayout:
        """The path field, the File… and Folder… buttons and the two column pickers."""
        self.dataset_path = QLineEdit()
        self.dataset_path.setPlaceholderText(
            "CSV, TSV, JSON Lines, fastText or Parquet file, or a folder of class folders"
        )
        self.dataset_path.setClearButtonEnabled(True)
        self.dataset_path.setToolTip("Path of the dataset; press Enter to load it")
        self.dataset_path.returnPressed.connect(self._on_return_pressed)

        self.browse_button = QToolButton()
        self.browse_button.setText("File…")
        self.browse_button.setToolTip("Choose a dataset file")
        self.browse_button.clicked.connect(self._browse_file)
        self.browse_folder_button = QToolButton()
        self.browse_folder_button.setText("Folder…")
        self.browse_folder_button.setToolTip(
            "Choose a folder holding one subfolder of .txt files per class"
        )
        self.browse_folder_button.clicked.connect(self._browse_folder)

        self.text_column = self._column_combo("Column holding the documents' text")
        self.text_column.currentIndexChanged.connect(self._on_text_column_changed)
        self.label_column = self._column_combo("Column holding the labels")
        self.label_column.currentIndexChanged.connect(self._on_label_column_changed)

        row = QHBoxLayout()
        row.addWidget(self._buddy_label("&Dataset", self.dataset_path))
        row.addWidget(self.dataset_path, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.browse_folder_button)
        row.addSpacing(12)
        row.addWidget(self._buddy_label("&Text", self.text_column))
        row.addWidget(self.text_column)
        row.addWidget(self._buddy_label("&Label", self.label_column))
        row.addWidget(self.label_column)
        return row

    @staticmethod
    def _buddy_label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _build_status_row(self) -> QHBoxLayout:
        """The summary line, replaced by a progress bar and Cancel while a load runs."""
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 100)
        self.load_progress.setTextVisible(True)
        self.load_progress.setVisible(False)
        self.cancel_load_button = QPushButton("Cancel")
        self.cancel_load_button.setToolTip("Stop loading this dataset")
        self.cancel_load_button.setVisible(False)
        self.cancel_load_button.clicked.connect(self.cancel)

        self.dataset_summary = QLabel()
        self.dataset_summary.setWordWrap(True)
        self.dataset_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dataset_summary.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

        row = QHBoxLayout()
        row.addWidget(self.dataset_summary, 1)
        row.addWidget(self.load_progress, 1)
        row.addWidget(self.cancel_load_button)
        return row

    def _build_preview(self) -> QTableView:
        """The documents table: uniform rows, so a million of them stay cheap."""
        self._preview = PreviewModel(parent=self)
        self.preview_table = QTableView()
        self.preview_table.setModel(self._preview)
        self.preview_table.setWordWrap(False)
        self.preview_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.preview_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.setAlternatingRowColors(True)
        rows = self.preview_table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: 1M rows are cheap
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        columns = self.preview_table.horizontalHeader()
        columns.setSectionResizeMode(PreviewModel.NUMBER, QHeaderView.ResizeMode.Interactive)
        columns.setSectionResizeMode(PreviewModel.TEXT, QHeaderView.ResizeMode.Stretch)
        columns.setSectionResizeMode(PreviewModel.LABEL, QHeaderView.ResizeMode.Interactive)
        digits = self.fontMetrics().horizontalAdvance("0,000,000") + 16
        columns.resizeSection(PreviewModel.NUMBER, digits)
        columns.resizeSection(PreviewModel.LABEL, 150)
        return self.preview_table

    def _build_charts(self) -> QWidget:
        """Documents per label, tokens per document and OOV by vocabulary size, stacked."""
        self.label_chart = BarChart()
        self.length_chart = HistogramChart()
        self.oov_chart = CoverageChart()
        charts = QWidget()
        chart_layout = QVBoxLayout(charts)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        for title, chart in (
            ("Documents per label", self.label_chart),
            ("Tokens per document", self.length_chart),
            ("Out-of-vocabulary tokens by vocabulary size", self.oov_chart),
        ):
            heading = QLabel(title)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            chart_layout.addWidget(heading)
            chart_layout.addWidget(chart, 1)
        return charts

    def _column_combo(self, tip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tip)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMinimumContentsLength(10)
        return combo

    def _apply_error_palette(self) -> None:
        """Red text that reads on this palette's window colour (light or dark)."""
        palette = self.dataset_error.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.dataset_error.setPalette(palette)

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
        enabled = self.text_column.isEnabled()
        return {
            "path": self._path or self.dataset_path.text().strip(),
            "text_column": (self.text_column.currentText() or None) if enabled else None,
            "label_column": (self.label_column.currentText() or None) if enabled else None,
        }

    @property
    def loaded(self) -> LoadedDataset | None:
        """The loaded dataset's documents and statistics; None unless a load succeeded."""
        return self._loaded

    def label_count(self) -> int:
        """Classes of the loaded dataset (2, a binary task, before any load)."""
        counts = self._loaded.label_counts if self._loaded is not None else {}
        return len(counts) or 2

    def vocab_found(self) -> int | None:
        """Distinct training tokens of the loaded dataset; None before a load."""
        sizes = self._loaded.oov_sizes if self._loaded is not None else None
        return int(sizes[-1]) if sizes is not None and len(sizes) else None

    def text_shape(self) -> tuple[float, float] | None:
        """``(median tokens per document, share in spaceless scripts)``; None before a load."""
        return (d.median_tokens, d.spaceless_share) if (d := self._loaded) is not None else None

    @Slot(int)
    def set_vocab_size(self, n: int) -> None:
        """Move the OOV chart's marker to a vocabulary size (works before any data)."""
        self._vocab_size = int(n)
        self.oov_chart.set_marker(self._vocab_size)

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
        if self.dataset_path.text().strip() != path:
            self.dataset_path.setText(path)
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
        self.dataset_error.setVisible(False)
        self.load_progress.setValue(0)
        self.load_progress.setFormat("starting… %p%")
        self.dataset_summary.setVisible(False)
        self.load_progress.setVisible(True)
        self.cancel_load_button.setVisible(True)
        self._set_busy(True)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.sig_busy.emit(busy)

    def _end_loading(self) -> None:
        self.load_progress.setVisible(False)
        self.cancel_load_button.setVisible(False)
        self.dataset_summary.setVisible(bool(self.dataset_summary.text()))

    def _clear_view(self) -> None:
        import numpy as np

        self._preview.set_dataset(None)
        self.label_chart.set_data([], [])
        self.label_chart.set_warning("")
        self.length_chart.set_data(np.zeros(0, dtype=np.int64))
        self.oov_chart.set_curve(np.zeros(0), np.zeros(0), np.zeros(0))
        self.dataset_summary.clear()

    def _fail(self, message: str) -> None:
        self._loaded = None
        self._clear_view()
        self._end_loading()
        self.dataset_error.setText(message)
        self.dataset_error.setToolTip(message)
        self.dataset_error.setVisible(True)
        self._set_busy(False)
        self.sig_failed.emit(message)

    def _set_columns(
        self, info: ColumnInfo | None, text: str | None = None, label: str | None = None
    ) -> None:
        """Fill both pickers (without re-loading); disabled when there are no columns."""
        names = list(info.columns) if info is not None else []
        for combo, chosen in ((self.text_column, text), (self.label_column, label)):
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
        self.load(self.dataset_path.text())

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
        current = Path(self._path or self.dataset_path.text().strip() or Path.home()).expanduser()
        return str(current if current.is_dir() else current.parent)

    @Slot(int)
    def _on_text_column_changed(self, index: int) -> None:
        if index < 0 or not self._path:
            return
        text = self.text_column.itemText(index)
        label = self.label_column.currentText() or None
        self._request(self._path, text, None if label == text else label, new_path=False)

    @Slot(int)
    def _on_label_column_changed(self, index: int) -> None:
        if index < 0 or not self._path:
            return
        label = self.label_column.itemText(index)
        text = self.text_column.currentText() or None
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
        self.load_progress.setValue(percent)
        self.load_progress.setFormat(f"{message}… %p%")
        self.sig_progress.emit(message, percent)

    @Slot(object)
    def _on_loaded(self, result: LoadedDataset) -> None:
        self._loaded = result
        from studio.engine.data.sample import ColumnInfo  # torch-free

        info = ColumnInfo(result.path, result.format, result.columns)
        self._set_columns(info, result.text_column, result.label_column)
        self._columns_path = result.path
        self._preview.set_dataset(result.raw)
        labels = list(result.label_counts)
        self.label_chart.set_data(labels, [float(result.label_counts[name]) for name in labels])
        self.label_chart.set_warning(imbalance_warning(result.label_counts))
        self.length_chart.set_data(result.lengths)
        self.oov_chart.set_curve(result.oov_sizes, result.oov_train, result.oov_valid)
        self.oov_chart.set_marker(self._vocab_size)
        self.dataset_summary.setText(summary_text(result))
        self.dataset_error.setVisible(False)
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
        self.dataset_summary.setText("loading cancelled")
        self._end_loading()
        self._set_busy(False)
        self.sig_cancelled.emit()
