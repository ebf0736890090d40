"""Help → Keyboard shortcuts: every shortcut the window has, read from its actions and
buttons (so the list cannot drift from what the keys do)."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ShortcutsDialog", "window_shortcuts"]


def _page_of(widget: QWidget, pages: dict[QWidget | None, str]) -> str:
    w: QWidget | None = widget
    while w is not None:
        if w in pages:
            return pages[w]
        w = w.parentWidget()
    return "everywhere"


def window_shortcuts(window: QWidget, tabs: QTabWidget) -> list[tuple[str, str, str]]:
    """``(keys, what it does, where)`` for every action and button with a shortcut; where
    is the tab a button is on, or "everywhere"."""
    pages = {tabs.widget(i): tabs.tabText(i) for i in range(tabs.count())}
    rows: list[tuple[str, str, str]] = []
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            what = action.text().replace("&", "").rstrip("…") or action.toolTip()
            rows.append((key.toString(QKeySequence.SequenceFormat.NativeText), what, "everywhere"))
    for button in window.findChildren(QAbstractButton):
        key = button.shortcut()
        if not key.isEmpty():
            what = button.toolTip().split(" (")[0] or button.text().replace("&", "")
            rows.append(
                (
                    key.toString(QKeySequence.SequenceFormat.NativeText),
                    what,
                    _page_of(button, pages),
                )
            )
    return sorted(set(rows), key=lambda r: (r[2] != "everywhere", r[2], r[0]))


class ShortcutsDialog(QDialog):
    """A table of :func:`window_shortcuts`."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["keys", "does", "where"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.verticalHeader().setVisible(False)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 480)
