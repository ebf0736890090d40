"""The live training curves: step loss (raw and smoothed) above, validation per epoch below.

The curves follow pyqtgraph's ``examples/scrollingPlots.py``: appends only write into
:class:`~studio.ui.widgets.buffers.GrowingBuffer` arrays and mark the plot dirty; a
single-shot timer of ``REDRAW_INTERVAL_MS`` (100 ms: at most 10 redraws a second) hands the
buffer views to ``setData`` on the one ``PlotDataItem`` each series owns. Nothing here
calls ``plot.clear()``.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np  # noqa: TID253  (plots are built after the window is up)
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.buffers import EmaTracker
from studio.ui.widgets.metric_tables import EpochCol, StepCol, new_table
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import (
    PaletteAwareWidget,
    color,
    light_ticks,
    live_curve,
    pen,
    style_plot,
    vline,
)

__all__ = [
    "DEFAULT_SMOOTHING",
    "REDRAW_INTERVAL_MS",
    "X_EPOCHS",
    "X_MODES",
    "X_STEPS",
    "X_WALL",
    "TrainingPlots",
]

X_STEPS: Final = "Steps"
X_EPOCHS: Final = "Epochs"
X_WALL: Final = "Wall time"
X_MODES: Final = (X_STEPS, X_EPOCHS, X_WALL)
_X_LABELS: Final = {X_STEPS: "step", X_EPOCHS: "epoch", X_WALL: "wall time (s)"}

REDRAW_INTERVAL_MS: Final = 100  # 10 Hz: smooth enough for a curve, cheap for the trainer
DEFAULT_SMOOTHING: Final = 90  # slider value; EMA alpha = 1 - value / 100 = 0.1
_RAW_ALPHA: Final = 70  # of 255: the raw step loss is a faint band under the smoothed line

_STEP_X: Final = {X_STEPS: StepCol.STEP, X_EPOCHS: StepCol.EPOCH, X_WALL: StepCol.WALL}
_EPOCH_X: Final = {X_STEPS: EpochCol.STEP, X_EPOCHS: EpochCol.EPOCH, X_WALL: EpochCol.WALL}


class TrainingPlots(PaletteAwareWidget):
    """Live training curves: step loss (raw + EMA) above, validation loss/accuracy below.

    Feed it from the GUI thread (queued signals from the worker): :meth:`append_steps`
    takes many rows at once, :meth:`append_epoch` one validation result.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._steps = new_table(StepCol, capacity=4096)
        self._epochs = new_table(EpochCol, capacity=64)
        self._ema = EmaTracker(1.0 - DEFAULT_SMOOTHING / 100.0, capacity=4096)
        self._steps_per_epoch = 0
        self._best: tuple[float, float, float] | None = None  # epoch, step, wall
        self._steps_dirty = False
        self._epochs_dirty = False
        self._alpha_dirty = False
        self._x_mode: str = X_STEPS

        controls = self._build_controls()
        self._build_loss_plot()
        self._build_val_plot()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.val_plot, 2)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)

        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.log_y_check.toggled.connect(self.set_log_y)
        self.x_axis_combo.currentTextChanged.connect(self.set_x_mode)
        self._show_smoothing(self.smoothing_slider.value())
        name_after_attributes(self)
        self._finish_init()

    # -- construction -------------------------------------------------------------------

    def _build_controls(self) -> QHBoxLayout:
        """The smoothing slider, the log-y check box and the x-axis picker, in one row."""
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(DEFAULT_SMOOTHING)
        self.smoothing_slider.setToolTip("EMA smoothing of the step loss (0 = raw)")
        self._smoothing_value = QLabel(self)
        self._smoothing_value.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.00") + 4)
        self.log_y_check = QCheckBox("Log y", self)
        self.log_y_check.setToolTip("Draw the loss on a log scale")
        self.x_axis_combo = QComboBox(self)
        self.x_axis_combo.setToolTip("What the x axis counts: steps, epochs or wall time")
        self.x_axis_combo.addItems(list(X_MODES))

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing", self))
        controls.addWidget(self.smoothing_slider, 1)
        controls.addWidget(self._smoothing_value)
        controls.addSpacing(12)
        controls.addWidget(self.log_y_check)
        controls.addSpacing(12)
        controls.addWidget(QLabel("x axis", self))
        controls.addWidget(self.x_axis_combo)
        return controls

    def _build_loss_plot(self) -> None:
        """Loss per step: the raw values faint, the EMA on top, the best epoch marked."""
        pal = self.palette()
        self.loss_plot = pg.PlotWidget(self)
        loss_item = self.loss_plot.getPlotItem()
        loss_item.setLabel("left", "training loss")
        loss_item.setLabel("bottom", _X_LABELS[X_STEPS])
        loss_item.showGrid(x=True, y=True, alpha=0.15)
        light_ticks(loss_item)
        loss_item.addLegend(offset=(-10, 10))
        # PlotItem.addItem imposes the PlotItem's (context-menu) downsampling on its curves:
        # set it there, or it resets the per-curve setting.
        loss_item.setDownsampling(auto=True, mode="peak")
        loss_item.setClipToView(True)
        self.raw_curve = pg.PlotDataItem(pen=pen("loss", pal, _RAW_ALPHA), name="loss (raw)")
        self.smooth_curve = pg.PlotDataItem(pen=pen("loss", pal), name="loss (smoothed)")
        loss_item.addItem(self.raw_curve)
        loss_item.addItem(self.smooth_curve)
        live_curve(self.raw_curve)
        live_curve(self.smooth_curve)
        self.best_line = vline(pal, "best")
        loss_item.addItem(self.best_line, ignoreBounds=True)

    def _build_val_plot(self) -> None:
        """Validation per epoch; accuracy on a right axis with its own ViewBox."""
        pal = self.palette()
        self.val_plot = pg.PlotWidget(self)
        val_item = self.val_plot.getPlotItem()
        val_item.setLabel("left", "validation loss")
        val_item.setLabel("bottom", _X_LABELS[X_STEPS])
        val_item.showGrid(x=True, y=True, alpha=0.15)
        light_ticks(val_item)
        legend = val_item.addLegend(offset=(-10, 10))
        self.val_loss_curve = pg.PlotDataItem(
            pen=pen("val_loss", pal),
            symbol="o",
            symbolSize=6,
            symbolPen=None,
            symbolBrush=color("val_loss", pal),
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
            pen=pen("val_acc", pal),
            symbol="t",
            symbolSize=7,
            symbolPen=None,
            symbolBrush=color("val_acc", pal),
            name="val accuracy",
        )
        self.acc_view.addItem(self.val_acc_curve)
        legend.addItem(self.val_acc_curve, "val accuracy")
        self.best_val_line = vline(pal, "best")
        val_item.addItem(self.best_val_line, ignoreBounds=True)
        val_item.vb.sigResized.connect(self._sync_acc_view)

    # -- data API -------------------------------------------------------------------------

    @Slot(object)
    def append_steps(self, rows: np.ndarray) -> None:
        """Append step rows ``(step, epoch_float, wall_seconds, loss)``; shape ``(k, 4)``.

        With :meth:`set_steps_per_epoch` known, the epoch column is derived as
        ``step / steps_per_epoch`` (so integer epochs from the caller still plot smoothly).
        """
        arr = np.array(rows, dtype=np.float64, ndmin=2)
        if arr.ndim != 2 or arr.shape[1] != len(StepCol):
            raise ValueError(f"step rows must have shape (k, 4), got {np.shape(rows)}")
        if arr.shape[0] == 0:
            return
        if self._steps_per_epoch > 0:
            arr[:, StepCol.EPOCH] = arr[:, StepCol.STEP] / self._steps_per_epoch
        self._steps.append(arr)
        self._ema.extend(arr[:, StepCol.LOSS])
        self._steps_dirty = True
        self._schedule()

    @Slot(int, int, float, float, float, bool)
    def append_epoch(
        self, epoch: int, step: int, wall: float, val_loss: float, val_acc: float, is_best: bool
    ) -> None:
        """Append one validation result; ``is_best`` moves the best-epoch marker there."""
        row = np.full(len(EpochCol), np.nan)
        row[EpochCol.EPOCH] = epoch
        row[EpochCol.STEP] = step
        row[EpochCol.WALL] = wall
        row[EpochCol.VAL_LOSS] = val_loss
        row[EpochCol.VAL_ACCURACY] = val_acc
        self._epochs.append(row)
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
            data[:, StepCol.EPOCH] = data[:, StepCol.STEP] / self._steps_per_epoch
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
        self._refit_x(self.loss_plot, 0.0, 1.0)
        self._refit_x(self.val_plot, 0.0, 1.0)
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
        return 1.0 - self.smoothing_slider.value() / 100.0

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
        if self.x_axis_combo.currentText() != mode:
            self.x_axis_combo.setCurrentText(mode)  # re-enters through currentTextChanged
            return
        if mode == self._x_mode:
            return
        self._x_mode = mode
        empty = np.empty(0, dtype=np.float64)
        self.raw_curve.setData(empty, empty)  # no pass over 1M points with the old range
        self.smooth_curve.setData(empty, empty)
        for plot, buf, col in (
            (self.loss_plot, self._steps, _STEP_X[mode]),
            (self.val_plot, self._epochs, _EPOCH_X[mode]),
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
        if self.log_y_check.isChecked() != on:
            self.log_y_check.setChecked(on)  # re-enters through toggled
            return
        self.loss_plot.getPlotItem().setLogMode(x=False, y=on)

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
                self._ema.set_alpha(alpha, self._steps.column(StepCol.LOSS))
                self._steps_dirty = True
        if self._steps_dirty:
            self._steps_dirty = False
            x = self._steps.column(_STEP_X[self._x_mode])
            self.raw_curve.setData(x, self._steps.column(StepCol.LOSS))
            self.smooth_curve.setData(x, self._ema.values())
        if self._epochs_dirty:
            self._epochs_dirty = False
            x = self._epochs.column(_EPOCH_X[self._x_mode])
            self.val_loss_curve.setData(x, self._epochs.column(EpochCol.VAL_LOSS))
            self.val_acc_curve.setData(x, self._epochs.column(EpochCol.VAL_ACCURACY))
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
        vb = self.val_plot.getPlotItem().vb
        self.acc_view.setGeometry(vb.sceneBoundingRect())
        self.acc_view.linkedViewChanged(vb, self.acc_view.XAxis)

    def _apply_palette(self) -> None:
        pal = self.palette()
        for plot in (self.loss_plot, self.val_plot):
            style_plot(plot, pal)
        self.raw_curve.setPen(pen("loss", pal, _RAW_ALPHA))
        self.smooth_curve.setPen(pen("loss", pal))
        self.val_loss_curve.setPen(pen("val_loss", pal))
        self.val_loss_curve.setSymbolBrush(color("val_loss", pal))
        self.val_acc_curve.setPen(pen("val_acc", pal))
        self.val_acc_curve.setSymbolBrush(color("val_acc", pal))
        for line in (self.best_line, self.best_val_line):
            line.setPen(pen("best", pal, style=Qt.PenStyle.DashLine))
