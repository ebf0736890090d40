"""The recommendation runs of the runs directory, side by side: a table of their settings
and final metrics, and a plot with one recall@k curve per selected run (each fed whole with
``setData``). Double-clicking a run, or :meth:`RecsRunsPanel.use_selected`, emits its folder
so the page answers neighbour and recommendation queries from it.

The page passes in what :func:`studio.engine.analysis.recommend.list_recs_runs` read off
the GUI thread; this widget never reads files itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.palette import category_colors
from studio.ui.widgets.plot_style import style_plot

__all__ = ["COLUMNS", "RecsRunsPanel"]

#: header, and how a run's summary gives the cell
COLUMNS: Final = (
    "run", "loss", "tower", "dim", "epochs", "recall@k", "NDCG@k", "popularity", "ALS", "train s",
)  # fmt: skip


def _cells(run: Any) -> list[str]:
    s, last = run.settings, (run.recall[-1] if run.recall else float("nan"))
    ndcg = run.ndcg[-1] if run.ndcg else float("nan")
    als = next((v for name, v in run.baselines.items() if name.startswith("implicit")), None)
    return [
        run.path.name, str(s.get("loss", "bpr")), str(s.get("tower", "dot")),
        str(s.get("dim", "")), str(len(run.recall)),
        f"{last:.4f}", f"{ndcg:.4f}", f"{run.baselines.get('popularity', float('nan')):.4f}",
        "–" if als is None else f"{als:.4f}", f"{run.seconds:.1f}",
    ]  # fmt: skip


class RecsRunsPanel(QWidget):
    sig_use_run = Signal(str)
    """Answer queries from this run folder."""
    sig_refresh = Signal()
    """The list should be read again (the page reads it off the GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: list[Any] = []
        self._curves: dict[Path, pg.PlotDataItem] = {}
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._plot_selected)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "recall@k")
        self.plot.addLegend(offset=(-10, -30))  # bottom right: recall curves rise
        style_plot(self.plot, self.palette())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the runs directory again")
        self.refresh_button.clicked.connect(self.sig_refresh)
        self.use_button = QPushButton("Use for queries")
        self.use_button.setToolTip("Answer 'Similar to' and 'Recommend for' from this run")
        self.use_button.clicked.connect(self.use_selected)
        bar = QHBoxLayout()
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.use_button)
        bar.addStretch(1)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setSizes([700, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

    def set_runs(self, runs: list[Any]) -> None:
        """Show ``runs`` (``RecRunSummary`` objects, newest first), keeping the selection."""
        keep = {r.path for r in self.selected_runs()}
        self._runs = list(runs)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._runs))
        for row, run in enumerate(self._runs):
            for col, text in enumerate(_cells(run)):
                self.table.setItem(row, col, QTableWidgetItem(text))
            if run.path in keep:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self._plot_selected()

    def runs(self) -> list[Any]:
        return list(self._runs)

    def selected_runs(self) -> list[Any]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._runs[r] for r in rows if r < len(self._runs)]

    def select_run(self, path: str | Path) -> None:
        """Select the run in ``path`` (when listed) alone."""
        for row, run in enumerate(self._runs):
            if run.path == Path(path):
                self.table.selectRow(row)

    def curve(self, path: str | Path) -> pg.PlotDataItem | None:
        return self._curves.get(Path(path))

    @Slot()
    def use_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            self.sig_use_run.emit(str(runs[0].path))

    @Slot()
    def _plot_selected(self) -> None:
        chosen = {r.path: r for r in self.selected_runs()}
        for path in list(self._curves):
            if path not in chosen:
                self.plot.removeItem(self._curves.pop(path))
        colours = category_colors(max(len(chosen), 1), self.palette())
        for index, (path, run) in enumerate(chosen.items()):
            curve = self._curves.get(path)
            if curve is None:
                curve = self.plot.plot(name=path.name, pen=pg.mkPen(colours[index], width=2))
                self._curves[path] = curve
            curve.setData(list(range(1, len(run.recall) + 1)), run.recall)
        self.use_button.setEnabled(len(chosen) == 1)
