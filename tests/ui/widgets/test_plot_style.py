"""Plot styling: one public name per helper, and any PlotWidget takes the palette's colours."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

import studio.ui.widgets.plot_style as plot_style
from studio.ui.widgets.plot_style import style_plot


def test_each_helper_has_one_public_name() -> None:
    for name in ("style_plot", "light_ticks", "live_curve", "vline", "pen", "color"):
        assert name in plot_style.__all__ and callable(getattr(plot_style, name))
        assert not hasattr(plot_style, f"_{name}")  # no private twin, no alias


def test_style_plot_gives_any_plot_the_palette_colours(qtbot: QtBot) -> None:
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.addLegend()
    plot.plot([0, 1], [0, 1], name="curve")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#101820"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e8e8e8"))
    style_plot(plot, palette)
    assert plot.backgroundBrush().color() == QColor("#101820")
    item = plot.getPlotItem()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        assert axis.textPen().color() == QColor("#e8e8e8")
        assert not axis.autoSIPrefix
    assert item.legend.opts["labelTextColor"] == QColor("#e8e8e8")
