"""One rule for "is the palette dark": plots and error text switch together."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

from studio.ui.pages.dataset import DatasetPage
from studio.ui.widgets.palette import error_color, is_dark
from studio.ui.widgets.plot_style import COLORS
from studio.ui.widgets.training_plots import TrainingPlots


def _palette(window: str, base: str) -> QPalette:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor(window))
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    return palette


def test_a_palette_is_dark_when_its_window_is_dark() -> None:
    assert is_dark(_palette(window="#202020", base="#ffffff"))
    assert not is_dark(_palette(window="#f0f0f0", base="#202020"))
    assert error_color(_palette("#202020", "#202020")).lightness() > 128  # light red on dark
    assert error_color(_palette("#f0f0f0", "#f0f0f0")).lightness() < 128


# A dark window with a light base, and the reverse: the plots read Base and the error text
# read Window before, so the two disagreed on exactly these palettes.
@pytest.mark.parametrize(("window", "base"), [("#202020", "#ffffff"), ("#f0f0f0", "#202020")])
def test_plots_and_error_text_ask_the_same_question(qtbot: QtBot, window: str, base: str) -> None:
    palette = _palette(window, base)
    dark = is_dark(palette)
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    page = DatasetPage()
    qtbot.addWidget(page)
    try:
        plots.setPalette(palette)
        page.setPalette(palette)
        light_loss, dark_loss = COLORS["loss"]
        expected = QColor(dark_loss if dark else light_loss)
        assert plots.smooth_curve.opts["pen"].color().name() == expected.name()
        error = page.dataset_error.palette().color(QPalette.ColorRole.WindowText)
        assert error == error_color(palette)
        assert (error.lightness() > 128) == dark
    finally:
        page.shutdown()
