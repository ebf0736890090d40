"""The Runs page's comparison: the selected runs' curves on one plot and their settings.

One colour per run (a qualitative set with a light and a dark variant; after ten runs the
colours repeat with dashed, then dotted lines). New metrics only mark a run's curve dirty;
curves are pushed to pyqtgraph at most every ``REDRAW_INTERVAL_MS``. Next to the plot, a
table shows the settings that differ between the runs (all of them for one run).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.buffers import GrowingBuffer
from studio.ui.widgets.metric_tables import EpochCol, RunStepCol, new_table, stack_columns
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.palette import is_dark
from studio.ui.widgets.plot_style import light_ticks, live_curve, style_plot

if TYPE_CHECKING:
    import numpy as np

    from studio.engine.runs.layout import RunInfo

__all__ = ["MAX_COMPARED", "METRICS", "REDRAW_INTERVAL_MS", "RunComparison"]

#: Curves are pushed to pyqtgraph at most this often (new data only marks them dirty).
REDRAW_INTERVAL_MS: Final = 100
#: At most this many selected runs are plotted and compared (the first ones, table order).
MAX_COMPARED: Final = 24

# Metric choices of the combo box: (key, label, y axis label, per step?).
METRICS: Final = (
    ("val_accuracy", "Validation accuracy", "validation accuracy", False),
    ("val_loss", "Validation loss", "validation loss", False),
    ("loss", "Training loss (per step)", "training loss", True),
    ("val_recall", "Held-out recall@k (recommendation runs)", "recall@k", False),
)
_EPOCH_Y: Final = {
    "val_accuracy": EpochCol.VAL_ACCURACY, "val_loss": EpochCol.VAL_LOSS,
    "val_recall": EpochCol.VAL_RECALL,
}  # fmt: skip

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
    return QColor(dark if is_dark(palette) else light)


def _run_pen(index: int, palette: QPalette) -> Any:
    style = _STYLES[(index // len(_RUN_COLORS)) % len(_STYLES)]
    return pg.mkPen(_run_color(index, palette), width=1, style=style)


def _swatch(color: QColor, size: int) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


@dataclasses.dataclass(eq=False)
class _Series:
    """One compared run on the plot: its data, curve and colour."""

    run: RunInfo
    color: int
    curve: pg.PlotDataItem
    steps: GrowingBuffer = dataclasses.field(default_factory=lambda: new_table(RunStepCol, 1024))
    epochs: GrowingBuffer = dataclasses.field(default_factory=lambda: new_table(EpochCol, 32))
    dirty: bool = False


class RunComparison(QWidget):
    """``metric_combo`` and ``plot`` (the curves), ``diff_table`` (the settings),
    side by side in ``splitter``. Fed by the Runs page: :meth:`compare` with the
    selected runs, :meth:`add_metrics` with what the watcher read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[str, _Series] = {}
        self._compared: list[RunInfo] = []
        self._metric = METRICS[0][0]
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_plot())
        self.splitter.addWidget(self._build_diff())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([640, 360])  # proportions; scaled to the real width
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        self.metric_combo.currentIndexChanged.connect(self._on_metric_changed)
        self._apply_metric_axes()
        self._apply_palette()
        self._update_diff([])
        name_after_attributes(self)

    def _build_plot(self) -> QWidget:
        self.metric_combo = QComboBox()
        self.metric_combo.setToolTip("Which curve of the selected runs to overlay")
        for key, label, _axis, _per_step in METRICS:
            self.metric_combo.addItem(label, key)
        self.compare_note = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Plot"))
        bar.addWidget(self.metric_combo)
        bar.addWidget(self.compare_note, 1)
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        light_ticks(item)
        item.addLegend(offset=(-10, 10))
        item.setDownsampling(auto=True, mode="peak")  # PlotItem.addItem imposes it on curves
        item.setClipToView(True)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        return box

    def _build_diff(self) -> QWidget:
        self.diff_title = QLabel()
        self.diff_table = QTableWidget()
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.diff_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # names differ at the end
        header.setMinimumSectionSize(self.fontMetrics().horizontalAdvance("0.0003") + 16)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.diff_title)
        layout.addWidget(self.diff_table, 1)
        return box

    # ------------------------------------------------------------------ public API

    def compare(self, selected: list[RunInfo]) -> bool:
        """Compare the first :data:`MAX_COMPARED` of these runs; True when the set of
        plotted runs changed (the caller then follows :meth:`tracked`)."""
        compared = self._compared = selected[:MAX_COMPARED]
        wanted = {str(run.path): run for run in compared}
        item = self.plot.getPlotItem()
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
            live_curve(curve)
            self._series[path] = _Series(run, color, curve)
            added = True
        if len(selected) > MAX_COMPARED:
            note = f"comparing the first {MAX_COMPARED} of {len(selected)} selected runs"
        else:
            note = ""
        self.compare_note.setText(note)
        self._update_diff(compared)
        self._follow_kind(compared)
        return added or bool(removed)

    def _follow_kind(self, runs: list[RunInfo]) -> None:
        """Recommendation runs alone plot recall@k; text runs alone do not."""
        kinds = {run.kind for run in runs}
        if kinds == {"recs"} and self._metric in ("val_accuracy", "val_loss"):
            self.set_plot_metric("val_recall")
        elif kinds == {"text"} and self._metric == "val_recall":
            self.set_plot_metric("val_accuracy")

    def tracked(self) -> list[str]:
        """The folders of the plotted runs, whose metrics the watcher should follow."""
        return list(self._series)

    def add_metrics(self, path: str, fresh: bool, data: dict[str, dict[str, np.ndarray]]) -> None:
        """New metrics of a plotted run (``fresh``: replace what it had); redrawn soon."""
        series = self._series.get(path)
        if series is None:
            return  # no longer compared
        if fresh:
            series.steps.clear()
            series.epochs.clear()
        steps, epochs = data["steps"], data["epochs"]
        if len(steps["step"]):
            series.steps.append(stack_columns(RunStepCol, steps))
        if len(epochs["epoch"]):
            series.epochs.append(stack_columns(EpochCol, epochs))
        series.dirty = True
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def curve(self, path: str) -> pg.PlotDataItem | None:
        """The curve of a plotted run (None when it is not plotted)."""
        series = self._series.get(path)
        return None if series is None else series.curve

    def plot_metric(self) -> str:
        """The plotted metric: "val_accuracy", "val_loss", "loss" or "val_recall"."""
        return self._metric

    def set_plot_metric(self, key: str) -> None:
        """Plot another metric (a key of METRICS)."""
        index = self.metric_combo.findData(key)
        if index < 0:
            raise ValueError(f"unknown metric {key!r}")
        self.metric_combo.setCurrentIndex(index)

    def stop(self) -> None:
        """No more redraws (the page is shutting down)."""
        self._redraw_timer.stop()

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
                x = series.steps.column(RunStepCol.STEP)
                y = series.steps.column(RunStepCol.LOSS)
            else:
                x = series.epochs.column(EpochCol.EPOCH)
                y = series.epochs.column(_EPOCH_Y[self._metric])
            series.curve.setData(x, y)

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark) in the plot, the curves and the swatches."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_redraw_timer"):
            self._apply_palette()

    # ------------------------------------------------------------------ internals

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
        key = self.metric_combo.itemData(index)
        if key == self._metric or key is None:
            return
        self._metric = str(key)
        self._apply_metric_axes()
        for series in self._series.values():
            self._style_curve(series.curve, series.color)
            series.dirty = True
        self.redraw()
        self.plot.getPlotItem().enableAutoRange()

    def _apply_metric_axes(self) -> None:
        item = self.plot.getPlotItem()
        _key, _label, axis, per_step = next(m for m in METRICS if m[0] == self._metric)
        item.setLabel("left", axis)
        item.setLabel("bottom", "step" if per_step else "epoch")
        if item.legend is not None:  # out of the curves' way: accuracy rises, losses fall
            rising = self._metric in ("val_accuracy", "val_recall")
            item.legend.setOffset((-10, -10) if rising else (-10, 10))

    def _update_diff(self, runs: list[RunInfo]) -> None:
        table = self.diff_table
        table.clear()
        if not runs:
            self.diff_title.setText("Select runs to compare their settings.")
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        from studio.engine.runs.compare import differing_settings, settings_table

        if len(runs) == 1:
            rows = settings_table(runs, only_differing=False)
            self.diff_title.setText("Settings of the selected run")
        else:
            rows = differing_settings(runs)
            self.diff_title.setText(
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

    def _apply_palette(self) -> None:
        style_plot(self.plot, self.palette())
        for series in self._series.values():
            self._style_curve(series.curve, series.color)
        if self._series:
            self._update_diff(self._compared)
