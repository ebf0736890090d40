"""The projector's map: up to 100k+ points in one scatter item, hover for the token, box or
lasso selection, pinned tokens labelled, and classes shown or hidden without a rebuild.

One :class:`pyqtgraph.ScatterPlotItem` holds every point (per-point brushes share one
symbol atlas, so panning 100k points redraws in ~25 ms here); hiding a class only flips
per-point visibility (``setPointsVisible``). Selections are computed on the coordinates
with numpy, never by asking the scene item by item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

import numpy as np  # noqa: TID253  (the map is built after the window is up)
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QVBoxLayout, QWidget

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.palette import category_colors
from studio.ui.widgets.plot_style import PaletteAwareWidget, style_plot

__all__ = ["ProjectorPlot", "SelectViewBox", "Tool", "points_in_polygon"]

Tool = Literal["pan", "box", "lasso"]
#: Pinned tokens get a text label on the map up to this many (the list shows them all).
MAX_LABELS: Final = 60


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Bool ``[n]``: which of the points ``xy`` ``[n, 2]`` lie inside ``polygon`` ``[k, 2]``
    (even-odd rule, vectorised over the points; a polygon of under 3 corners holds none)."""
    pts = np.asarray(xy, dtype=np.float64)
    poly = np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(len(pts), dtype=bool)
    if len(poly) < 3 or len(pts) == 0:
        return inside
    x, y = pts[:, 0], pts[:, 1]
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    candidates = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    idx = np.nonzero(candidates)[0]
    cx, cy = x[idx], y[idx]
    hit = np.zeros(len(idx), dtype=bool)
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        crosses = (ay > cy) != (by > cy)
        if not crosses.any():
            continue
        at = ax + (cy - ay) * (bx - ax) / np.where(by == ay, 1.0, by - ay)
        hit ^= crosses & (cx < at)
    inside[idx] = hit
    return inside


class SelectViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a box or a lasso (in the ``box`` / ``lasso`` tools)
    and reports the outline in data coordinates; ``pan`` keeps pyqtgraph's own drag."""

    sig_drawn = Signal(object)
    """np.ndarray ``[k, 2]``: the finished outline (the box's four corners, or the lasso)."""

    def __init__(self) -> None:
        super().__init__()
        self.tool: Tool = "pan"
        self._trace: list[QPointF] = []
        self.outline = QGraphicsPathItem()
        outline_pen = QPen(QColor(255, 140, 0))
        outline_pen.setCosmetic(True)
        outline_pen.setWidth(2)
        self.outline.setPen(outline_pen)
        self.outline.setZValue(1e6)
        self.addItem(self.outline, ignoreBounds=True)

    def mouseDragEvent(self, ev: Any, axis: int | None = None) -> None:
        if self.tool == "pan" or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        here = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._trace = [self.mapSceneToView(ev.buttonDownScenePos())]
        self._trace.append(here)
        corners = self._corners()
        path = QPainterPath()
        if corners:
            path.moveTo(corners[0])
            for p in corners[1:]:
                path.lineTo(p)
            path.closeSubpath()
        self.outline.setPath(path)
        if ev.isFinish():
            self.outline.setPath(QPainterPath())
            self.sig_drawn.emit(np.array([(p.x(), p.y()) for p in corners], dtype=np.float64))

    def _corners(self) -> list[QPointF]:
        if self.tool == "lasso" or len(self._trace) < 2:
            return list(self._trace)
        a, b = self._trace[0], self._trace[-1]
        return [a, QPointF(b.x(), a.y()), b, QPointF(a.x(), b.y())]


def _tip(x: float, y: float, data: Any) -> str:
    return str(data)


class ProjectorPlot(PaletteAwareWidget):
    """Points coloured by class; ``sig_selection`` when a box or lasso selects some."""

    sig_selection = Signal(object)
    """np.ndarray of point indices (into the last ``set_points``), sorted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = SelectViewBox()
        self.plot = pg.PlotWidget(self, viewBox=self.view)
        self.plot.setLabel("bottom", "component 1")
        self.plot.setLabel("left", "component 2")
        self.scatter = pg.ScatterPlotItem(
            size=5, pen=None, hoverable=True, tip=_tip, hoverSize=9, antialias=False
        )
        self.highlight = pg.ScatterPlotItem(size=10, brush=None)
        self.pins = pg.ScatterPlotItem(size=11, symbol="star")
        for item in (self.scatter, self.highlight, self.pins):
            self.plot.addItem(item)
        self._labels: list[pg.TextItem] = []
        self.xy = np.zeros((0, 2), dtype=np.float32)
        self.classes = np.zeros(0, dtype=np.int64)
        self.tokens: list[str] = []
        self.visible = np.zeros(0, dtype=bool)
        self.selected = np.zeros(0, dtype=np.int64)
        self.pinned = np.zeros(0, dtype=np.int64)
        self.colors: list[QColor] = []
        self.view.sig_drawn.connect(self._on_drawn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        name_after_attributes(self)
        self._finish_init()

    # -- data --------------------------------------------------------------------------
    def set_points(
        self,
        xy: np.ndarray,
        classes: np.ndarray,
        tokens: Sequence[str],
        n_classes: int,
        keep_view: bool = False,
    ) -> None:
        """Show ``xy`` ``[n, 2]`` coloured by ``classes`` (ints below ``n_classes``)."""
        self.xy = np.asarray(xy, dtype=np.float32)
        self.classes = np.asarray(classes, dtype=np.int64)
        self.tokens = list(tokens)
        self.colors = category_colors(max(n_classes, 1), self.palette())
        if len(self.visible) != len(self.xy):
            self.visible = np.ones(len(self.xy), dtype=bool)
        brushes = [pg.mkBrush(c) for c in self.colors]
        self.scatter.setData(
            x=self.xy[:, 0],
            y=self.xy[:, 1],
            data=self.tokens,
            brush=[brushes[c] for c in self.classes],
        )
        if not self.visible.all():  # new points start visible: skip a second pass over 100k
            self.scatter.setPointsVisible(self.visible)
        self.selected = self.selected[self.selected < len(self.xy)]
        self.pinned = self.pinned[self.pinned < len(self.xy)]
        self._draw_marks()
        if not keep_view:
            self.plot.autoRange()

    def set_visible_classes(self, shown: set[int]) -> None:
        """Show only the points of the classes in ``shown`` (the others stay loaded)."""
        self.visible = np.isin(self.classes, np.fromiter(shown, dtype=np.int64, count=len(shown)))
        self.scatter.setPointsVisible(self.visible)
        self._draw_marks()

    def set_tool(self, tool: Tool) -> None:
        """``pan`` (drag moves the view), ``box`` or ``lasso`` (drag selects)."""
        self.view.tool = tool

    def select(self, indices: np.ndarray) -> None:
        """Mark these points as the selection (rings) and announce it."""
        self.selected = np.unique(np.asarray(indices, dtype=np.int64))
        self._draw_marks()
        self.sig_selection.emit(self.selected)

    def set_pinned(self, indices: np.ndarray) -> None:
        """Star and label these points (the pinned tokens present on the map)."""
        self.pinned = np.unique(np.asarray(indices, dtype=np.int64))
        self._draw_marks()

    def _on_drawn(self, polygon: np.ndarray) -> None:
        inside = points_in_polygon(self.xy, polygon) & self.visible
        self.select(np.nonzero(inside)[0])

    def _draw_marks(self) -> None:
        sel = self.selected[self.visible[self.selected]] if len(self.visible) else self.selected
        if len(sel):
            self.highlight.setData(x=self.xy[sel, 0], y=self.xy[sel, 1])
        else:
            self.highlight.clear()
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        pins = self.pinned
        if len(pins) == 0:
            self.pins.clear()
            return
        self.pins.setData(x=self.xy[pins, 0], y=self.xy[pins, 1])
        text = self.palette().color(self.palette().ColorRole.Text)
        for i in pins[:MAX_LABELS]:
            label = pg.TextItem(self.tokens[i], color=text, anchor=(0, 1))
            label.setPos(float(self.xy[i, 0]), float(self.xy[i, 1]))
            self.plot.addItem(label)
            self._labels.append(label)

    def _apply_palette(self) -> None:
        pal = self.palette()
        style_plot(self.plot, pal)
        ring = pg.mkPen(pal.color(pal.ColorRole.Text), width=1)
        self.highlight.setPen(ring)
        self.pins.setPen(ring)
        self.pins.setBrush(pg.mkBrush(pal.color(pal.ColorRole.Highlight)))
        if len(self.xy):
            self.set_points(self.xy, self.classes, self.tokens, len(self.colors), keep_view=True)
