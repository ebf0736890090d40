"""A searchable list of classes beside a plot: colour swatch, name and count, each one
checkable to show or hide it. It replaces a legend drawn over the plot, which past a dozen
classes covers the data and cannot be searched."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["ClassList"]


def _swatch(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class ClassList(QWidget):
    """``set_classes(names, colors, counts)``; ``sig_shown`` when the checked set changes."""

    sig_shown = Signal(object)
    """set[int]: the indices of the classes checked (shown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("find a class…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Show only the classes whose name contains this text")
        self.filter.textChanged.connect(self._apply_filter)
        self.classes = QListWidget()
        self.classes.setToolTip("Tick a class to show its points; untick to hide them")
        self.classes.itemChanged.connect(self._on_item_changed)
        self.all_button = QPushButton("All")
        self.all_button.setToolTip("Show every class")
        self.all_button.clicked.connect(lambda: self.set_all(True))
        self.none_button = QPushButton("None")
        self.none_button.setToolTip("Hide every class (then tick the ones to compare)")
        self.none_button.clicked.connect(lambda: self.set_all(False))
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.classes, 1)
        layout.addLayout(buttons)
        self._quiet = False
        name_after_attributes(self)

    def set_classes(
        self, names: Sequence[str], colors: Sequence[QColor], counts: Sequence[int]
    ) -> None:
        """One checked row per class: its colour, ``name (count)``."""
        self._quiet = True
        self.classes.clear()
        for i, (name, color, count) in enumerate(zip(names, colors, counts, strict=True)):
            item = QListWidgetItem(_swatch(color), f"{name}  ({count:,})")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.classes.addItem(item)
        self._quiet = False
        self._apply_filter(self.filter.text())

    def shown(self) -> set[int]:
        """The indices of the checked classes."""
        return {
            int(self.classes.item(r).data(Qt.ItemDataRole.UserRole))
            for r in range(self.classes.count())
            if self.classes.item(r).checkState() == Qt.CheckState.Checked
        }

    def set_all(self, checked: bool) -> None:
        """Check (or uncheck) every class; one ``sig_shown``."""
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self._quiet = True
        for r in range(self.classes.count()):
            self.classes.item(r).setCheckState(state)
        self._quiet = False
        self.sig_shown.emit(self.shown())

    @Slot(str)
    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for r in range(self.classes.count()):
            item = self.classes.item(r)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    @Slot(QListWidgetItem)
    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        if not self._quiet:
            self.sig_shown.emit(self.shown())
