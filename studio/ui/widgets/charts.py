"""The dataset and prediction charts: labelled bars, a length histogram, OOV coverage."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np  # noqa: TID253  (charts are built after the window is up)
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import PaletteAwareWidget, color, pen, style_plot, vline

__all__ = ["BarChart", "CoverageChart", "HistogramChart"]


class BarChart(PaletteAwareWidget):
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
        name_after_attributes(self)
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
        style_plot(self.plot, pal)
        self.bars.setOpts(pen=None, brush=color("bar", pal, 200))


class HistogramChart(PaletteAwareWidget):
    """A step-mode histogram of tokens per document, drawn up to a high percentile.

    Real data has outliers (one 14,000-token document among 64k of ~60) that would squeeze
    every other bar into the first. When the longest value is over ``OUTLIER_FACTOR`` times
    the ``CLIP_PERCENTILE``, values above that percentile are counted in a note under the
    chart instead of being drawn; a tail without such outliers is drawn whole.
    """

    #: Values above this percentile are left out of the bars (and counted in the note) ...
    CLIP_PERCENTILE: Final = 99.0
    #: ... when the longest value is over this many times that percentile.
    OUTLIER_FACTOR: Final = 3.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts = np.empty(0, dtype=np.int64)
        self._edges = np.empty(0, dtype=np.float64)
        self._clipped = (0, 0.0, 0.0)
        self.plot = pg.PlotWidget(self)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "tokens per document")
        item.setLabel("left", "documents")
        item.showGrid(x=True, y=True, alpha=0.15)
        self.curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        item.addItem(self.curve)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        name_after_attributes(self)
        self._finish_init()

    def set_data(self, values: np.ndarray | Sequence[float], bins: int = 40) -> None:
        """Histogram of the finite ``values`` up to the clip percentile, in ``bins`` bins."""
        arr = np.asarray(values, dtype=np.float64).ravel()
        arr = arr[np.isfinite(arr)]
        self._clipped = (0, 0.0, 0.0)
        self.note.hide()
        if arr.size == 0:
            self._counts = np.empty(0, dtype=np.int64)
            self._edges = np.empty(0, dtype=np.float64)
            self.curve.setData(np.empty(0), np.empty(0))
            return
        limit = float(np.percentile(arr, self.CLIP_PERCENTILE))
        above = arr > limit
        if above.any() and arr.max() > self.OUTLIER_FACTOR * limit:
            self._clipped = (int(above.sum()), limit, float(arr.max()))
            arr = arr[~above]
            n, limit, top = self._clipped
            self.note.setText(
                f"{n:,} longer documents ({100 - self.CLIP_PERCENTILE:g}%: over {limit:,.0f} "
                f"tokens, up to {top:,.0f}) are not drawn"
            )
            self.note.show()
        self._counts, self._edges = np.histogram(arr, bins=bins)
        self.curve.setData(self._edges, self._counts)
        self.plot.getPlotItem().enableAutoRange()

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` as last drawn."""
        return self._counts, self._edges

    def clipped(self) -> tuple[int, float, float]:
        """``(documents not drawn, the longest drawn, the longest of all)``; zeros if none."""
        return self._clipped

    def _apply_palette(self) -> None:
        pal = self.palette()
        style_plot(self.plot, pal)
        self.curve.setPen(pen("hist", pal))
        self.curve.setBrush(color("hist", pal, 90))


class CoverageChart(PaletteAwareWidget):
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
        self.train_curve = pg.PlotDataItem(pen=pen("train_oov", pal), name="train")
        self.valid_curve = pg.PlotDataItem(pen=pen("valid_oov", pal), name="valid")
        item.addItem(self.train_curve)
        item.addItem(self.valid_curve)
        self.marker_line = vline(pal, "marker")
        item.addItem(self.marker_line, ignoreBounds=True)
        self.marker_label = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.marker_label)
        name_after_attributes(self)
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
        style_plot(self.plot, pal)
        self.train_curve.setPen(pen("train_oov", pal))
        self.valid_curve.setPen(pen("valid_oov", pal))
        self.marker_line.setPen(pen("marker", pal, style=Qt.PenStyle.DashLine))
