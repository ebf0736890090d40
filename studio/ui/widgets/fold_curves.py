"""Validation accuracy per epoch of each fold model, one curve per fold (the label-issue
finder's live view): each curve is fed with ``setData`` from its own growing buffer."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.widgets.buffers import GrowingBuffer
from studio.ui.widgets.palette import category_colors
from studio.ui.widgets.plot_style import PaletteAwareWidget, light_ticks, live_curve, style_plot

__all__ = ["FoldCurves"]


class FoldCurves(PaletteAwareWidget):
    """``reset(folds)``, then ``add(fold, epoch, accuracy)`` as the folds train."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(self)
        self.plot.setLabel("left", "validation accuracy")
        self.plot.setLabel("bottom", "epoch")
        self.plot.setMenuEnabled(False)
        self.plot.addLegend(offset=(-10, 10))
        light_ticks(self.plot.getPlotItem())
        self._buffers: list[GrowingBuffer] = []
        self._curves: list[pg.PlotDataItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._finish_init()

    def reset(self, folds: int) -> None:
        """One empty curve per fold."""
        item = self.plot.getPlotItem()
        for curve in self._curves:
            item.removeItem(curve)
        self._buffers = [GrowingBuffer(2, 64) for _ in range(folds)]
        self._curves = []
        for k in range(folds):
            curve = self.plot.plot(name=f"fold {k + 1}", symbol="o", symbolSize=5)
            live_curve(curve)
            self._curves.append(curve)
        self._apply_palette()

    def add(self, fold: int, epoch: int, accuracy: float) -> None:
        """Fold ``fold`` (1-based) ended ``epoch`` at this validation accuracy."""
        if not 1 <= fold <= len(self._buffers):
            return
        buffer = self._buffers[fold - 1]
        buffer.append([float(epoch), float(accuracy)])
        view = buffer.view()
        self._curves[fold - 1].setData(view[:, 0], view[:, 1])

    def points(self, fold: int) -> int:
        """How many epochs fold ``fold`` has drawn."""
        return len(self._buffers[fold - 1]) if 1 <= fold <= len(self._buffers) else 0

    def _apply_palette(self) -> None:
        palette = self.palette()
        style_plot(self.plot, palette)
        for curve, colour in zip(
            self._curves, category_colors(len(self._curves), palette), strict=True
        ):
            curve.setPen(pg.mkPen(colour, width=1))
            curve.setSymbolBrush(colour)
            curve.setSymbolPen(colour)
