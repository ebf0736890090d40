"""The confusion matrix: a heatmap that stays readable past 50 classes.

Up to :data:`NAMED_UP_TO` classes the axes carry the names (and counts sit in the cells up
to 15); past that the columns are numbered, the rows keep a name every few rows, and
hovering a cell says what it is in full. Past :data:`NORMALISE_PAST` classes the colours
show row shares by default (the largest classes would otherwise be the only bright cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np  # noqa: TID253  (built after the window is up)
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import PaletteAwareWidget, style_plot

__all__ = ["NAMED_UP_TO", "NORMALISE_PAST", "ConfusionImage", "ConfusionMatrix"]

#: Past this many classes the matrix opens row-normalised.
NORMALISE_PAST: Final = 20
#: Up to this many classes the bottom axis shows names; past it, column numbers.
NAMED_UP_TO: Final = 20


class ConfusionImage(pg.ImageItem):
    """The heatmap; clicking a cell emits its (true, predicted) indices, hovering names it."""

    sig_cell_clicked = Signal(int, int)
    sig_cell_hovered = Signal(int, int)

    def _cell(self, ev: Any) -> tuple[int, int] | None:
        image = self.image
        if image is None:
            return None
        pos = ev.pos()
        col, row = int(pos.x()), int(pos.y())
        if 0 <= row < image.shape[1] and 0 <= col < image.shape[0]:
            return row, col
        return None

    def mouseClickEvent(self, ev: Any) -> None:
        cell = self._cell(ev)
        if cell is not None:
            ev.accept()
            self.sig_cell_clicked.emit(*cell)

    def hoverEvent(self, ev: Any) -> None:
        if ev.isExit():
            self.setToolTip("")
            return
        cell = self._cell(ev)
        if cell is not None:
            self.sig_cell_hovered.emit(*cell)


class ConfusionMatrix(PaletteAwareWidget):
    """``set_confusion(counts, names)``; ``sig_cell_clicked(true, predicted)``."""

    sig_cell_clicked = Signal(int, int)

    def __init__(
        self, parent: QWidget | None = None, *, rows: str = "true label",
        columns: str = "predicted label",
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self._columns = columns
        self.normalize = QCheckBox("Row-normalised")
        self.normalize.setToolTip(
            "Colour each true class's row by shares (recall on the diagonal), so small "
            f"classes read as well as large ones; on by default past {NORMALISE_PAST} classes"
        )
        self.normalize.toggled.connect(self._on_user_toggle)
        self.save_button = QPushButton("Save image…")
        self.save_button.setToolTip("Save the matrix as PNG or SVG")
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(True)
        self.plot.invertY(True)
        self.plot.setLabel("left", rows)
        self.plot.setLabel("bottom", columns)
        # draw row names while they fill up to 95% of the axis (pyqtgraph's default stops
        # at a fraction of that, leaving most rows of a 58-class matrix unnamed)
        self.plot.getAxis("left").setStyle(textFillLimits=[(0, 0.95)])
        self.image = ConfusionImage()
        self.image.sig_cell_clicked.connect(self.sig_cell_clicked)
        self.image.sig_cell_hovered.connect(self._on_hover)
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self._cell_text: list[pg.TextItem] = []
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self._names: list[str] = []
        self._user_choice: bool | None = None  # the box as the user set it, if they did
        self._quiet = False
        bar = QHBoxLayout()
        bar.addWidget(self.normalize)
        bar.addStretch(1)
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        name_after_attributes(self)
        self._finish_init()

    def set_confusion(self, counts: np.ndarray, names: Sequence[str]) -> None:
        """Draw ``counts[true, predicted]``; past NORMALISE_PAST classes row-normalised
        unless the user has set the box."""
        self._counts = np.asarray(counts, dtype=np.int64)
        self._names = list(names)
        wanted = (
            len(self._names) > NORMALISE_PAST if self._user_choice is None else self._user_choice
        )
        self._quiet = True
        self.normalize.setChecked(wanted)
        self._quiet = False
        self.redraw()

    def clear(self) -> None:
        """No matrix."""
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self.image.clear()

    def values(self) -> np.ndarray:
        """What the colours show: counts, or each row's shares."""
        m = self._counts.astype(np.float64)
        if self.normalize.isChecked():
            sums = m.sum(axis=1, keepdims=True)
            m = np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)
        return m

    @Slot(bool)
    def _on_user_toggle(self, checked: bool) -> None:
        if not self._quiet:
            self._user_choice = checked
            self.redraw()

    @Slot()
    def redraw(self) -> None:
        """Draw the matrix as the box says."""
        n = len(self._names)
        if n == 0 or self._counts.size == 0:
            self.image.clear()
            return
        m = self.values()
        self.image.setImage(m.T, autoLevels=False, levels=(0.0, max(float(m.max()), 1e-9)))
        step = max(1, n // 25)  # a name every few rows past 25 classes
        left = [(i + 0.5, self._names[i][:24]) for i in range(0, n, step)]
        if n <= NAMED_UP_TO:
            width = max(3, 60 // n)
            bottom = [(i + 0.5, _short(self._names[i], width)) for i in range(n)]
        else:  # numbers, as in the per-class table's "#"; hover names a cell in full
            left = [(i + 0.5, f"{i + 1} {self._names[i][:20]}") for i in range(0, n, step)]
            bottom = [(i + 0.5, str(i + 1)) for i in range(0, n, -(-n // 25))]
        self.plot.getAxis("bottom").setTicks([bottom])
        axis = self.plot.getAxis("left")
        axis.setTicks([left])
        metrics = QFontMetrics(self.plot.font())
        axis.setWidth(max(metrics.horizontalAdvance(text) for _, text in left) + 28)
        self.plot.setLabel("bottom", self._columns + (" (#)" if n > NAMED_UP_TO else ""))
        self._draw_cell_text(m)
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def _draw_cell_text(self, m: np.ndarray) -> None:
        for item in self._cell_text:
            self.plot.removeItem(item)
        self._cell_text = []
        n = len(m)
        if n > 15:
            return
        for t in range(n):
            for p in range(n):
                value = m[t, p]
                text = f"{value:.2f}" if self.normalize.isChecked() else f"{int(value)}"
                dark = value < 0.6 * m.max()
                item = pg.TextItem(text, color="w" if dark else "k", anchor=(0.5, 0.5))
                item.setPos(p + 0.5, t + 0.5)
                self.plot.addItem(item)
                self._cell_text.append(item)

    def cell_text(self, true_index: int, pred_index: int) -> str:
        """What a cell holds, in words (its tooltip)."""
        count = int(self._counts[true_index, pred_index])
        total = int(self._counts[true_index].sum())
        share = f" ({count / total:.1%} of {self._names[true_index]})" if total else ""
        return (
            f"true: {true_index + 1} {self._names[true_index]}\n"
            f"predicted: {pred_index + 1} {self._names[pred_index]}\n"
            f"{count:,} documents{share}"
        )

    @Slot(int, int)
    def _on_hover(self, true_index: int, pred_index: int) -> None:
        self.image.setToolTip(self.cell_text(true_index, pred_index))

    def _apply_palette(self) -> None:
        style_plot(self.plot, self.palette())


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
