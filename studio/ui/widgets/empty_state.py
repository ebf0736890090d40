"""What a page shows before it has anything to show: what to do first, in one sentence."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["EmptyState", "with_empty_state"]


class EmptyState(QWidget):
    """A centred title and a hint (rich text: may name menus and shortcuts)."""

    def __init__(self, title: str, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<h3>{title}</h3>")
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.hint.setMaximumWidth(520)
        for label in (self.title, self.hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.hint, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        name_after_attributes(self)


def with_empty_state(content: QWidget, empty: EmptyState) -> QStackedWidget:
    """A stack showing ``empty`` first; ``setCurrentWidget(content)`` once there is data."""
    stack = QStackedWidget()
    stack.addWidget(empty)
    stack.addWidget(content)
    stack.setCurrentWidget(empty)
    return stack
