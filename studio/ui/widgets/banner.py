"""An inline error banner for the window: a message and a Details… button, never a modal."""

from __future__ import annotations

import html

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["ErrorBanner"]


class ErrorBanner(QWidget):
    """An inline error with a Details… button (never a modal that blocks the window)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.details_button = QPushButton("Details…")
        self.close_button = QPushButton("Dismiss")
        self.details = ""
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.close_button)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "ErrorBanner { background: palette(alternate-base); border-radius: 4px; }"
        )
        self.details_button.clicked.connect(self._show_details)
        self.close_button.clicked.connect(self.hide)
        name_after_attributes(self)
        self.hide()

    def show_error(
        self, message: str, details: str = "", *, title: str = "Training failed"
    ) -> None:
        """Show ``title: message`` (a Details… button opens ``details`` when there are any)."""
        self.label.setText(f"<b>{html.escape(title)}:</b> {html.escape(message)}")
        self.details = details
        self.details_button.setVisible(bool(details))
        self.show()

    @Slot()
    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Error details", self.label.text(), parent=self)
        box.setDetailedText(self.details)
        box.open()
