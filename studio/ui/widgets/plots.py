"""Plot widgets: live training curves and the dataset charts (pyqtgraph).

The live curves follow pyqtgraph's ``examples/scrollingPlots.py``: appends only write into
:class:`~studio.ui.widgets.buffers.GrowingBuffer` arrays and mark the plot dirty; a single-shot
33 ms timer (at most 30 redraws a second) hands the buffer views to ``setData`` on the one
``PlotDataItem`` each series owns. Nothing here calls ``plot.clear()``.

Colours come from the widget palette (``Base`` background, ``Text`` axes) and follow
palette changes; ``pg.setConfigOptions`` is never touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np  # noqa: TID253  (plots are built after the window is up)
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFontMetrics, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.buffers import EmaTracker, GrowingBuffer

__all__ = ["BarChart", "CoverageChart", "HistogramChart", "TrainingPlots"]

X_STEPS: Final = "Steps"
X_EPOCHS: Final = "Epochs"
X_WALL: Final = "Wall time"
X_MODES: Final = (X_STEPS, X_EPOCHS, X_WALL)
_X_LABELS: Final = {X_STEPS: "step", X_EPOCHS: "epoch", X_WALL: "wall time (s)"}

REDRAW_INTERVAL_MS: Final = 100  # 10 Hz: smooth enough for a curve, cheap for the trainer
DEFAULT_SMOOTHING: Final = 90  # slider value; EMA alpha = 1 - value / 100 = 0.1

# Series colours: (light background, dark background). Mid-saturation hues that keep
# contrast on both; the dark variants are lighter.
_COLORS: Final = {
    "loss": ("#1f6fb4", "#6cb6ff"),
    "val_loss": ("#d35400", "#ffa94d"),
    "val_acc": ("#1e8449", "#58d68d"),
    "best": ("#8e44ad", "#d7a6ff"),
    "bar": ("#1f6fb4", "#6cb6ff"),
    "hist": ("#1f6fb4", "#6cb6ff"),
    "train_oov": ("#1f6fb4", "#6cb6ff"),
    "valid_oov": ("#d35400", "#ffa94d"),
    "marker": ("#8e44ad", "#d7a6ff"),
}
_RAW_ALPHA: Final = 70  # of 255: the raw step loss is a faint band under the smoothed line

# Column layout of the buffers.
_S_STEP, _S_EPOCH, _S_WALL, _S_LOSS = range(4)
_E_EPOCH, _E_STEP, _E_WALL, _E_LOSS, _E_ACC = range(5)
_STEP_X: Final = {X_STEPS: _S_STEP, X_EPOCHS: _S_EPOCH, X_WALL: _S_WALL}
_EPOCH_X: Final = {X_STEPS: _E_STEP, X_EPOCHS: _E_EPOCH, X_WALL: _E_WALL}


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def _color(name: str, palette: QPalette, alpha: int = 255) -> QColor:
    light, dark = _COLORS[name]
    color = QColor(dark if _is_dark(palette) else light)
    color.setAlpha(alpha)
    return color


def _pen(name: str, palette: QPalette, alpha: int = 255, **kwargs: object) -> QPen:
    pen: QPen = pg.mkPen(_color(name, palette, alpha), width=1, **kwargs)
    return pen


def _style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Background from the palette's Base, axes, labels and legend text from its Text."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    plot.setBackground(base)
    item = plot.getPlotItem()
    for side in ("left", "bottom", "right", "top"):
        axis = item.getAxis(side)
        axis.enableAutoSIPrefix(False)  # no "(x0.001)" on a 0..1 accuracy axis
        axis.setPen(text)
        axis.setTextPen(text)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(text)
        for _sample, label in legend.items:  # setLabelTextColor alone does not re-render
            label.setText(label.text, color=text)
        fill = QColor(base)
        fill.setAlpha(200)
        legend.setBrush(fill)
        edge = QColor(text)
        edge.setAlpha(60)
        legend.setPen(edge)


def style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Give any PlotWidget the palette's colours (light or dark), as the live plots have."""
    _style_plot(plot, palette)


def _light_ticks(item: pg.PlotItem) -> None:
    """Major and minor ticks only: the third level's grid lines cost most of a live repaint."""
    for side in ("left", "bottom", "right"):
        item.getAxis(side).setStyle(maxTickLevel=1)


def _live_curve(curve: pg.PlotDataItem) -> None:
    """Settings for a curve that may hold millions of points (call after ``addItem``).

    With the default ``connect="auto"`` pyqtgraph decides the finite check itself, on the
    (small) downsampled data; a NaN loss then breaks the line instead of corrupting it.
    """
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    curve.setSkipFiniteCheck(True)


def _vline(palette: QPalette, name: str) -> pg.InfiniteLine:
    line = pg.InfiniteLine(
        angle=90, movable=False, pen=_pen(name, palette, style=Qt.PenStyle.DashLine)
    )
    line.setZValue(-5)
    line.hide()
    return line


class _PaletteAware(QWidget):
    """Restyles its plots whenever the palette changes (light/dark switch)."""

    _styled = False  # set once the subclass has built its plots

    def changeEvent(self, event: QEvent) -> None:
        """Re-apply the palette colours on a palette change."""
        if event.type() == QEvent.Type.PaletteChange and self._styled:
            self._apply_palette()
        super().changeEvent(event)

    def _finish_init(self) -> None:
        self._styled = True
        self._apply_palette()

    def _apply_palette(self) -> None:
        """Subclasses restyle their plots here (the base has nothing to restyle)."""


class TrainingPlots(_PaletteAware):
    """Live training curves: step loss (raw + EMA) above, validation loss/accuracy below.

    Feed it from the GUI thread (queued signals from the worker): :meth:`append_steps`
    takes many rows at once, :meth:`append_epoch` one validation result.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pal = self.palette()

        self._steps = GrowingBuffer(4, capacity=4096)  # step, epoch, wall, loss
        self._epochs = GrowingBuffer(5, capacity=64)  # epoch, step, wall, val_loss, val_acc
        self._ema = EmaTracker(1.0 - DEFAULT_SMOOTHING / 100.0, capacity=4096)
        self._steps_per_epoch = 0
        self._best: tuple[float, float, float] | None = None  # epoch, step, wall
        self._steps_dirty = False
        self._epochs_dirty = False
        self._alpha_dirty = False
        self._x_mode: str = X_STEPS

        # Controls.
        self.smoothingSlider = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothingSlider.setObjectName("smoothingSlider")
        self.smoothingSlider.setRange(0, 99)
        self.smoothingSlider.setValue(DEFAULT_SMOOTHING)
        self.smoothingSlider.setToolTip("EMA smoothing of the step loss (0 = raw)")
        self._smoothing_value = QLabel(self)
        self._smoothing_value.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.00") + 4)
        self.logYCheck = QCheckBox("Log y", self)
        self.logYCheck.setObjectName("logYCheck")
        self.xAxisCombo = QComboBox(self)
        self.xAxisCombo.setObjectName("xAxisCombo")
        self.xAxisCombo.addItems(list(X_MODES))

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing", self))
        controls.addWidget(self.smoothingSlider, 1)
        controls.addWidget(self._smoothing_value)
        controls.addSpacing(12)
        controls.addWidget(self.logYCheck)
        controls.addSpacing(12)
        controls.addWidget(QLabel("x axis", self))
        controls.addWidget(self.xAxisCombo)

        # Loss per step.
        self.lossPlot = pg.PlotWidget(self)
        self.lossPlot.setObjectName("lossPlot")
        loss_item = self.lossPlot.getPlotItem()
        loss_item.setLabel("left", "training loss")
        loss_item.setLabel("bottom", _X_LABELS[X_STEPS])
        loss_item.showGrid(x=True, y=True, alpha=0.15)
        _light_ticks(loss_item)
        loss_item.addLegend(offset=(-10, 10))
        # PlotItem.addItem imposes the PlotItem's (context-menu) downsampling on its curves:
        # set it there, or it resets the per-curve setting.
        loss_item.setDownsampling(auto=True, mode="peak")
        loss_item.setClipToView(True)
        self.raw_curve = pg.PlotDataItem(pen=_pen("loss", pal, _RAW_ALPHA), name="loss (raw)")
        self.smooth_curve = pg.PlotDataItem(pen=_pen("loss", pal), name="loss (smoothed)")
        loss_item.addItem(self.raw_curve)
        loss_item.addItem(self.smooth_curve)
        _live_curve(self.raw_curve)
        _live_curve(self.smooth_curve)
        self.best_line = _vline(pal, "best")
        loss_item.addItem(self.best_line, ignoreBounds=True)

        # Validation per epoch; accuracy on a right axis with its own ViewBox.
        self.valPlot = pg.PlotWidget(self)
        self.valPlot.setObjectName("valPlot")
        val_item = self.valPlot.getPlotItem()
        val_item.setLabel("left", "validation loss")
        val_item.setLabel("bottom", _X_LABELS[X_STEPS])
        val_item.showGrid(x=True, y=True, alpha=0.15)
        _light_ticks(val_item)
        legend = val_item.addLegend(offset=(-10, 10))
        self.val_loss_curve = pg.PlotDataItem(
            pen=_pen("val_loss", pal),
            symbol="o",
            symbolSize=6,
            symbolPen=None,
            symbolBrush=_color("val_loss", pal),
            name="val loss",
        )
        val_item.addItem(self.val_loss_curve)
        self.acc_view = pg.ViewBox()
        val_item.showAxis("right")
        val_item.setLabel("right", "validation accuracy")
        val_item.scene().addItem(self.acc_view)
        val_item.getAxis("right").linkToView(self.acc_view)
        self.acc_view.setXLink(val_item.vb)
        self.val_acc_curve = pg.PlotDataItem(
            pen=_pen("val_acc", pal),
            symbol="t",
            symbolSize=7,
            symbolPen=None,
            symbolBrush=_color("val_acc", pal),
            name="val accuracy",
        )
        self.acc_view.addItem(self.val_acc_curve)
        legend.addItem(self.val_acc_curve, "val accuracy")
        self.best_val_line = _vline(pal, "best")
        val_item.addItem(self.best_val_line, ignoreBounds=True)
        val_item.vb.sigResized.connect(self._sync_acc_view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.lossPlot, 3)
        layout.addWidget(self.valPlot, 2)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)

        self.smoothingSlider.valueChanged.connect(self._on_smoothing)
        self.logYCheck.toggled.connect(self.set_log_y)
        self.xAxisCombo.currentTextChanged.connect(self.set_x_mode)
        self._show_smoothing(self.smoothingSlider.value())
        self._finish_init()

    # -- data API -------------------------------------------------------------------------

    @Slot(object)
    def append_steps(self, rows: np.ndarray) -> None:
        """Append step rows ``(step, epoch_float, wall_seconds, loss)``; shape ``(k, 4)``.

        With :meth:`set_steps_per_epoch` known, the epoch column is derived as
        ``step / steps_per_epoch`` (so integer epochs from the caller still plot smoothly).
        """
        arr = np.array(rows, dtype=np.float64, ndmin=2)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(f"step rows must have shape (k, 4), got {np.shape(rows)}")
        if arr.shape[0] == 0:
            return
        if self._steps_per_epoch > 0:
            arr[:, _S_EPOCH] = arr[:, _S_STEP] / self._steps_per_epoch
        self._steps.append(arr)
        self._ema.extend(arr[:, _S_LOSS])
        self._steps_dirty = True
        self._schedule()

    @Slot(int, int, float, float, float, bool)
    def append_epoch(
        self, epoch: int, step: int, wall: float, val_loss: float, val_acc: float, is_best: bool
    ) -> None:
        """Append one validation result; ``is_best`` moves the best-epoch marker there."""
        self._epochs.append([float(epoch), float(step), wall, val_loss, val_acc])
        if is_best:
            self._best = (float(epoch), float(step), float(wall))
        self._epochs_dirty = True
        self._schedule()

    @Slot(int)
    def set_steps_per_epoch(self, n: int) -> None:
        """Steps in one epoch: the "Epochs" x axis then shows ``step / n``."""
        self._steps_per_epoch = max(0, int(n))
        if self._steps_per_epoch and len(self._steps):
            data = self._steps.view()
            data[:, _S_EPOCH] = data[:, _S_STEP] / self._steps_per_epoch
            self._steps_dirty = True
            self._schedule()

    @Slot()
    def reset(self) -> None:
        """Forget all data (new run); keeps smoothing, x axis, log y and steps per epoch."""
        self._timer.stop()
        self._steps.clear()
        self._epochs.clear()
        self._ema.clear()
        self._best = None
        self._steps_dirty = self._epochs_dirty = self._alpha_dirty = False
        empty = np.empty(0, dtype=np.float64)
        for curve in (self.raw_curve, self.smooth_curve, self.val_loss_curve, self.val_acc_curve):
            curve.setData(empty, empty)
        self.best_line.hide()
        self.best_val_line.hide()
        self._refit_x(self.lossPlot, 0.0, 1.0)
        self._refit_x(self.valPlot, 0.0, 1.0)
        self.acc_view.enableAutoRange()

    @staticmethod
    def _refit_x(plot: pg.PlotWidget, lo: float, hi: float) -> None:
        """Jump the x range to the data's extent, then let auto-range take over.

        Auto-downsampling picks its factor from the *current* view range, and auto-range
        reads the downsampled data: after a reset or an x-axis switch, a stale range (a
        million steps wide for 50 new points) would thin the curve to nothing and leave the
        range stuck. Setting it first makes the first paint right.
        """
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            lo, hi = (lo - 0.5, lo + 0.5) if math.isfinite(lo) else (0.0, 1.0)
        plot.getPlotItem().vb.setXRange(lo, hi)
        plot.enableAutoRange()

    # -- view settings --------------------------------------------------------------------

    def x_mode(self) -> str:
        """The current x axis: "Steps", "Epochs" or "Wall time"."""
        return self._x_mode

    def smoothing_alpha(self) -> float:
        """The EMA alpha the slider asks for (1 = no smoothing)."""
        return 1.0 - self.smoothingSlider.value() / 100.0

    def step_count(self) -> int:
        """Number of step rows received since the last reset."""
        return len(self._steps)

    def epoch_count(self) -> int:
        """Number of validation results received since the last reset."""
        return len(self._epochs)

    @Slot(str)
    def set_x_mode(self, mode: str) -> None:
        """Switch every curve to step, epoch or wall-time x values."""
        if mode not in X_MODES:
            raise ValueError(f"unknown x axis {mode!r}; expected one of {X_MODES}")
        if self.xAxisCombo.currentText() != mode:
            self.xAxisCombo.setCurrentText(mode)  # re-enters through currentTextChanged
            return
        if mode == self._x_mode:
            return
        self._x_mode = mode
        empty = np.empty(0, dtype=np.float64)
        self.raw_curve.setData(empty, empty)  # no pass over 1M points with the old range
        self.smooth_curve.setData(empty, empty)
        for plot, buf, col in (
            (self.lossPlot, self._steps, _STEP_X[mode]),
            (self.valPlot, self._epochs, _EPOCH_X[mode]),
        ):
            plot.getPlotItem().setLabel("bottom", _X_LABELS[mode])
            x = buf.column(col)
            x = x[np.isfinite(x)]
            if len(x):
                self._refit_x(plot, float(x.min()), float(x.max()))
            else:
                self._refit_x(plot, 0.0, 1.0)
        self._steps_dirty = self._epochs_dirty = True
        self.redraw()

    @Slot(bool)
    def set_log_y(self, on: bool) -> None:
        """Log scale for the loss axis."""
        if self.logYCheck.isChecked() != on:
            self.logYCheck.setChecked(on)  # re-enters through toggled
            return
        self.lossPlot.getPlotItem().setLogMode(x=False, y=on)

    @Slot(int)
    def _on_smoothing(self, value: int) -> None:
        self._show_smoothing(value)
        self._alpha_dirty = True  # recomputed once, at the next redraw
        self._schedule()

    def _show_smoothing(self, value: int) -> None:
        self._smoothing_value.setText(f"{value / 100:.2f}")

    # -- redraw ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def is_dirty(self) -> bool:
        """Whether data arrived that is not drawn yet."""
        return self._steps_dirty or self._epochs_dirty or self._alpha_dirty

    @Slot()
    def redraw(self) -> None:
        """Push dirty buffers to their curves (the timer calls this; tests may too)."""
        self._timer.stop()
        if self._alpha_dirty:
            self._alpha_dirty = False
            alpha = self.smoothing_alpha()
            if alpha != self._ema.alpha:
                self._ema.set_alpha(alpha, self._steps.column(_S_LOSS))
                self._steps_dirty = True
        if self._steps_dirty:
            self._steps_dirty = False
            x = self._steps.column(_STEP_X[self._x_mode])
            self.raw_curve.setData(x, self._steps.column(_S_LOSS))
            self.smooth_curve.setData(x, self._ema.values())
        if self._epochs_dirty:
            self._epochs_dirty = False
            x = self._epochs.column(_EPOCH_X[self._x_mode])
            self.val_loss_curve.setData(x, self._epochs.column(_E_LOSS))
            self.val_acc_curve.setData(x, self._epochs.column(_E_ACC))
            self._place_best()

    def _place_best(self) -> None:
        if self._best is None:
            self.best_line.hide()
            self.best_val_line.hide()
            return
        epoch, step, wall = self._best
        pos = {X_STEPS: step, X_EPOCHS: epoch, X_WALL: wall}[self._x_mode]
        for line in (self.best_line, self.best_val_line):
            line.setValue(pos)
            line.show()

    @Slot(object)
    def _sync_acc_view(self, _vb: object = None) -> None:
        vb = self.valPlot.getPlotItem().vb
        self.acc_view.setGeometry(vb.sceneBoundingRect())
        self.acc_view.linkedViewChanged(vb, self.acc_view.XAxis)

    def _apply_palette(self) -> None:
        pal = self.palette()
        for plot in (self.lossPlot, self.valPlot):
            _style_plot(plot, pal)
        self.raw_curve.setPen(_pen("loss", pal, _RAW_ALPHA))
        self.smooth_curve.setPen(_pen("loss", pal))
        self.val_loss_curve.setPen(_pen("val_loss", pal))
        self.val_loss_curve.setSymbolBrush(_color("val_loss", pal))
        self.val_acc_curve.setPen(_pen("val_acc", pal))
        self.val_acc_curve.setSymbolBrush(_color("val_acc", pal))
        for line in (self.best_line, self.best_val_line):
            line.setPen(_pen("best", pal, style=Qt.PenStyle.DashLine))


class BarChart(_PaletteAware):
    """Horizontal bars, one per label (labels on the left axis, first label on top)."""

    #: At most this many labels on the first tick level; the rest appear when they fit.
    MAJOR_LABELS: Final = 10
    MAX_LABEL_CHARS: Final = 28

    def __init__(self, parent: QWidget | None = None, value_label: str = "documents") -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._values: list[float] = []
        self.plot = pg.PlotWidget(self)
        item = self.plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.invertY(True)
        item.showGrid(x=True, alpha=0.15)
        item.setLabel("bottom", value_label)
        # draw a lower tick level (more labels) while the text fills up to 95% of the axis
        item.getAxis("left").setStyle(textFillLimits=[(0, 0.95)])
        self.bars = pg.BarGraphItem(x0=0.0, y=np.empty(0), height=0.8, width=np.empty(0))
        item.addItem(self.bars)
        self.warning_label = QLabel(self)
        self.warning_label.setWordWrap(True)
        self.warning_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.warning_label)
        self._finish_init()

    def set_data(self, labels: Sequence[str], values: Sequence[float]) -> None:
        """Show ``values[i]`` as the bar of ``labels[i]``."""
        if len(labels) != len(values):
            raise ValueError(f"{len(labels)} labels but {len(values)} values")
        self._labels = [str(s) for s in labels]
        self._values = [float(v) for v in values]
        n = len(self._values)
        self.bars.setOpts(
            x0=0.0, y=np.arange(n, dtype=np.float64), height=0.8, width=np.asarray(self._values)
        )
        axis = self.plot.getPlotItem().getAxis("left")
        levels = self._tick_levels()
        axis.setTicks(levels)
        deepest = max(2, len(levels) - 1)  # pyqtgraph draws 3 levels unless told otherwise
        axis.setStyle(maxTickLevel=deepest, maxTextLevel=deepest)
        # room for the longest label now (the axis would only widen after a first paint)
        metrics = QFontMetrics(self.plot.font())
        widest = max((metrics.horizontalAdvance(self._short(i)) for i in range(n)), default=0)
        axis.setWidth(widest + 16)
        self.plot.getPlotItem().enableAutoRange()

    def _tick_levels(self) -> list[list[tuple[float, str]]]:
        """Every k-th label first, then halving strides: pyqtgraph drops levels that crowd."""
        n = len(self._labels)
        stride = max(1, math.ceil(n / self.MAJOR_LABELS))
        levels: list[list[tuple[float, str]]] = []
        shown: set[int] = set()
        while True:
            level = [(float(i), self._short(i)) for i in range(0, n, stride) if i not in shown]
            shown.update(range(0, n, stride))
            levels.append(level)
            if stride == 1:
                return levels
            stride = max(1, stride // 2)

    def _short(self, i: int) -> str:
        text = self._labels[i]
        limit = self.MAX_LABEL_CHARS
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def labels(self) -> list[str]:
        """The labels last set."""
        return list(self._labels)

    def values(self) -> list[float]:
        """The values last set."""
        return list(self._values)

    def set_warning(self, text: str) -> None:
        """Show an imbalance note under the chart; an empty text hides it."""
        self.warning_label.setText(text)
        self.warning_label.setVisible(bool(text))

    def _apply_palette(self) -> None:
        pal = self.palette()
        _style_plot(self.plot, pal)
        self.bars.setOpts(pen=None, brush=_color("bar", pal, 200))


class HistogramChart(_PaletteAware):
    """A step-mode histogram of tokens per document."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.empty(0, dtype=np.int64)
        self._edges = np.empty(0, dtype=np.float64)
        self.plot = pg.PlotWidget(self)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "tokens per document")
        item.setLabel("left", "documents")
        item.showGrid(x=True, y=True, alpha=0.15)
        self.curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        item.addItem(self.curve)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._finish_init()

    def set_data(self, values: np.ndarray | Sequence[float], bins: int = 40) -> None:
        """Histogram of the finite ``values`` in ``bins`` bins."""
        arr = np.asarray(values, dtype=np.float64).ravel()
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            self._counts = np.empty(0, dtype=np.int64)
            self._edges = np.empty(0, dtype=np.float64)
            self.curve.setData(np.empty(0), np.empty(0))
            return
        self._counts, self._edges = np.histogram(arr, bins=bins)
        self.curve.setData(self._edges, self._counts)
        self.plot.getPlotItem().enableAutoRange()

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` as last drawn."""
        return self._counts, self._edges

    def _apply_palette(self) -> None:
        pal = self.palette()
        _style_plot(self.plot, pal)
        self.curve.setPen(_pen("hist", pal))
        self.curve.setBrush(_color("hist", pal, 90))


class CoverageChart(_PaletteAware):
    """OOV rate against vocabulary size (log x), with a marker at the chosen size.

    OOV rates are fractions (0..1); they are drawn and labelled as percentages.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sizes = np.empty(0, dtype=np.float64)
        self._train = np.empty(0, dtype=np.float64)
        self._valid: np.ndarray | None = None
        self._marker: int | None = None
        self._at_marker: tuple[float, float | None] | None = None
        self.plot = pg.PlotWidget(self)
        item = self.plot.getPlotItem()
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "vocabulary size")
        item.setLabel("left", "OOV tokens (%)")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.addLegend(offset=(-10, 10))
        pal = self.palette()
        self.train_curve = pg.PlotDataItem(pen=_pen("train_oov", pal), name="train")
        self.valid_curve = pg.PlotDataItem(pen=_pen("valid_oov", pal), name="valid")
        item.addItem(self.train_curve)
        item.addItem(self.valid_curve)
        self.marker_line = _vline(pal, "marker")
        item.addItem(self.marker_line, ignoreBounds=True)
        self.marker_label = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.marker_label)
        self._finish_init()

    def set_curve(
        self,
        sizes: np.ndarray | Sequence[float],
        train_oov: np.ndarray | Sequence[float],
        valid_oov: np.ndarray | Sequence[float] | None = None,
    ) -> None:
        """OOV rates (fractions) of the train and (optional) valid split per vocabulary size."""
        s = np.asarray(sizes, dtype=np.float64).ravel()
        t = np.asarray(train_oov, dtype=np.float64).ravel()
        v = None if valid_oov is None else np.asarray(valid_oov, dtype=np.float64).ravel()
        if t.shape != s.shape or (v is not None and v.shape != s.shape):
            raise ValueError("sizes, train_oov and valid_oov must have the same length")
        keep = s > 0  # log x
        order = np.argsort(s[keep], kind="stable")
        self._sizes = s[keep][order]
        self._train = t[keep][order]
        self._valid = None if v is None else v[keep][order]
        self.train_curve.setData(self._sizes, self._train * 100.0)
        if self._valid is None:
            self.valid_curve.setData(np.empty(0), np.empty(0))
        else:
            self.valid_curve.setData(self._sizes, self._valid * 100.0)
        self.plot.getPlotItem().enableAutoRange()
        self._update_marker()

    @Slot(int)
    def set_marker(self, vocab_size: int) -> None:
        """Move the marker to ``vocab_size`` and show the OOV rates there."""
        self._marker = int(vocab_size)
        self._update_marker()

    def marker_values(self) -> tuple[float, float | None] | None:
        """``(train, valid)`` OOV fractions at the marker (``None`` when not known)."""
        return self._at_marker

    def _update_marker(self) -> None:
        n = self._marker
        if n is None or n <= 0:
            self.marker_line.hide()
            self.marker_label.clear()
            self._at_marker = None
            return
        self.marker_line.setValue(math.log10(n))  # the view is in log10 units on x
        self.marker_line.show()
        if self._sizes.size == 0:
            self._at_marker = None
            self.marker_label.setText(f"OOV at {n:,}: –")
            return
        logs = np.log10(self._sizes)
        where = math.log10(n)
        train = float(np.interp(where, logs, self._train))
        valid = None if self._valid is None else float(np.interp(where, logs, self._valid))
        self._at_marker = (train, valid)
        text = f"OOV at {n:,}: train {train * 100:.1f}%"
        if valid is not None:
            text += f", valid {valid * 100:.1f}%"
        self.marker_label.setText(text)

    def _apply_palette(self) -> None:
        pal = self.palette()
        _style_plot(self.plot, pal)
        self.train_curve.setPen(_pen("train_oov", pal))
        self.valid_curve.setPen(_pen("valid_oov", pal))
        self.marker_line.setPen(_pen("marker", pal, style=Qt.PenStyle.DashLine))
