"""Save any widget (a plot, a page) as PNG or SVG."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

FILTER = "PNG (*.png);;SVG (*.svg)"


def save_svg(widget: QWidget, path: str) -> None:
    """Render a widget as SVG with Qt's own generator.

    pyqtgraph's SVGExporter cannot parse the path data that Qt 6.11 writes, so plots are
    rendered through QSvgGenerator instead (still vector output).
    """
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(widget.size())
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setTitle("Embedding Studio")
    painter = QPainter(generator)
    try:
        # QWidget's painter overload (QGraphicsView overrides render with another signature)
        QWidget.render(widget, painter, QPoint(0, 0))
    finally:
        painter.end()


def save_widget_image(widget: QWidget, path: str) -> None:
    """``widget`` as SVG when ``path`` ends in .svg, else as PNG."""
    if path.lower().endswith(".svg"):
        save_svg(widget, path)
    else:
        widget.grab().save(path)


def ask_and_save(parent: QWidget, widget: QWidget, title: str, default_name: str) -> None:
    """A save dialog, then :func:`save_widget_image`."""
    path, _ = QFileDialog.getSaveFileName(parent, title, default_name, FILTER)
    if path:
        save_widget_image(widget, path)
