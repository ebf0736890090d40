"""What the widget palette says: dark or light (one rule for the whole window), and its error red.

The rule: a palette is dark when its ``Window`` colour is dark (lightness below 128), as
Qt's own light/dark detection reads it. Plots, run colours and error text all ask
:func:`is_dark`, so they switch together.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QColor, QPalette

__all__ = ["DARK_BELOW", "category_colors", "error_color", "is_dark"]

#: A ``Window`` colour with a lightness below this makes the palette dark.
DARK_BELOW: Final = 128

_ERROR_LIGHT: Final = (180, 30, 30)  # on a light window
_ERROR_DARK: Final = (255, 120, 110)  # on a dark window


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` is a dark one (its window colour is dark)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < DARK_BELOW


def error_color(palette: QPalette) -> QColor:
    """A red for error text that reads on ``palette``'s window colour."""
    return QColor(*(_ERROR_DARK if is_dark(palette) else _ERROR_LIGHT))


def category_colors(n: int, palette: QPalette) -> list[QColor]:
    """``n`` class colours from a Glasbey palette (colorcet), built so that neighbouring
    entries stay apart even past 50 classes: category10's first ten, then maximally
    distinct hues; lighter ones on a dark window. Past 256 classes the colours repeat."""
    import colorcet

    name = "glasbey_light" if is_dark(palette) else "glasbey_category10"
    hexes = colorcet.palette[name]
    return [QColor(hexes[i % len(hexes)]) for i in range(max(n, 0))]
