"""The projector's side panels: nearest neighbours of a searched token, the box/lasso
selection (pin it, export it), and the pinned tokens with their neighbours."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["TokenPanels"]

#: The selection list shows at most this many tokens (the export holds all).
SHOWN_SELECTION = 2000


class TokenPanels(QTabWidget):
    """Neighbours, Selection and Pinned tabs; the page connects the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("token…")
        self.search.setToolTip(
            "Nearest neighbours by cosine similarity over the whole vocabulary (not only the "
            "map); a model with character n-grams accepts any word"
        )
        self.neighbours = QListWidget()
        self.pin_button = QPushButton("Pin")
        self.pin_button.setToolTip("Keep this token labelled on the map and its neighbours listed")
        self.selection_list = QListWidget()
        self.selection_label = QLabel("Select with Box or Lasso.")
        self.pin_selection_button = QPushButton("Pin selected")
        self.pin_selection_button.setToolTip("Pin every selected token (labelled on the map)")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the selected tokens with their map position and class")
        self.pinned = QTreeWidget()
        self.pinned.setHeaderLabels(["pinned token / neighbour", "cosine"])
        self.pinned.setColumnWidth(0, 200)
        self.unpin_button = QPushButton("Unpin all")
        self.addTab(_column(_row(self.search, self.pin_button), self.neighbours), "Neighbours")
        self.addTab(
            _column(
                self.selection_label,
                self.selection_list,
                _row(self.pin_selection_button, self.export_button),
            ),
            "Selection",
        )
        self.addTab(_column(self.pinned, _row(self.unpin_button)), "Pinned")
        name_after_attributes(self)

    def show_selection(self, tokens: Sequence[str]) -> None:
        """List the selected tokens (the first SHOWN_SELECTION) and bring the tab up."""
        self.selection_list.clear()
        self.selection_list.addItems(list(tokens[:SHOWN_SELECTION]))
        more = f" (the first {SHOWN_SELECTION:,} listed)" if len(tokens) > SHOWN_SELECTION else ""
        self.selection_label.setText(f"{len(tokens):,} tokens selected{more}")
        self.setCurrentIndex(1)


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w, 1 if isinstance(w, QLineEdit) else 0)
    if not any(isinstance(w, QLineEdit) for w in widgets):
        row.addStretch(1)
    return row


def _column(*parts: QWidget | QHBoxLayout) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part, 1 if isinstance(part, QListWidget | QTreeWidget) else 0)
    return box
