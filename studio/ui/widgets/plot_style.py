"""How every plot in the window looks: series colours, pens, axes, and the palette-aware base.

Colours come from the widget palette (``Base`` background, ``Text`` axes) and follow
palette changes; light or dark series colours are chosen by
:func:`studio.ui.widgets.palette.is_dark`. ``pg.setConfigOptions`` is never touched.
"""

from __future__ import annotations

from typing import Final

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QWidget

from studio.ui.widgets.palette import is_dark

__all__ = [
    "COLORS",
    "PaletteAwareWidget",
    "color",
    "light_ticks",
    "live_curve",
    "pen",
    "style_plot",
    "vline",
]

# Series colours: (light background, dark background). Mid-saturation hues that keep
# contrast on both; the dark variants are lighter.
COLORS: Final = {
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


def color(name: str, palette: QPalette, alpha: int = 255) -> QColor:
    """The colour of series ``name`` on ``palette`` (its dark variant on a dark palette)."""
    light, dark = COLORS[name]
    result = QColor(dark if is_dark(palette) else light)
    result.setAlpha(alpha)
    return result


def pen(name: str, palette: QPalette, alpha: int = 255, **kwargs: object) -> QPen:
    """A width-1 pen of series ``name`` (wide pens are many times slower to draw)."""
    result: QPen = pg.mkPen(color(name, palette, alpha), width=1, **kwargs)
    return result


def style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
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


def light_ticks(item: pg.PlotItem) -> None:
    """Major and minor ticks only: the third level's grid lines cost most of a live repaint."""
    for side in ("left", "bottom", "right"):
        item.getAxis(side).setStyle(maxTickLevel=1)


def live_curve(curve: pg.PlotDataItem) -> None:
    """Settings for a curve that may hold millions of points (call after ``addItem``).

    With the default ``connect="auto"`` pyqtgraph decides the finite check itself, on the
    (small) downsampled data; a NaN loss then breaks the line instead of corrupting it.
    """
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    curve.setSkipFiniteCheck(True)


def vline(palette: QPalette, name: str) -> pg.InfiniteLine:
    """A hidden dashed vertical marker in series ``name``'s colour, drawn behind the curves."""
    line = pg.InfiniteLine(
        angle=90, movable=False, pen=pen(name, palette, style=Qt.PenStyle.DashLine)
    )
    line.setZValue(-5)
    line.hide()
    return line


class PaletteAwareWidget(QWidget):
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
