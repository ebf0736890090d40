"""A lazy table model over a dataset's texts and labels, for the Dataset page's preview.

The model reads ``texts[i]`` and ``labels[i]`` only when the view asks for row ``i``, so a
million documents cost no more than a screenful of them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

__all__ = ["FULL_TEXT_ROLE", "PreviewModel", "PreviewSource"]

#: Characters of text shown in a cell before it is elided.
DISPLAY_CHARS = 200
#: Characters of text shown in a tooltip (wrapped); FULL_TEXT_ROLE always has all of it.
TOOLTIP_CHARS = 4000
TOOLTIP_WIDTH = 100
#: Role that returns a document's whole, unaltered text.
FULL_TEXT_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex
#: What ``lines[i]`` counts, by format (folders number files: no tooltip).
_LINE_UNITS = {"parquet": "row", "folder": ""}


class PreviewSource(Protocol):
    """What the model needs: a RawDataset or anything shaped like one."""

    @property
    def texts(self) -> Sequence[str]: ...

    @property
    def labels(self) -> Sequence[tuple[str, ...]]: ...


def _one_line(text: str, limit: int) -> str:
    """The text on one line (whitespace runs collapsed), elided to ``limit`` characters."""
    head = " ".join(text[: limit * 2].split())
    if len(head) > limit or len(text) > limit * 2:
        return head[: limit - 1].rstrip() + "…"
    return head


def _tooltip(text: str) -> str:
    """The text wrapped for a tooltip, cut after TOOLTIP_CHARS characters."""
    shown = text[:TOOLTIP_CHARS]
    wrapped = "\n".join(
        textwrap.fill(paragraph, TOOLTIP_WIDTH) if paragraph else ""
        for paragraph in shown.split("\n")
    )
    if len(text) > TOOLTIP_CHARS:
        wrapped += f"\n… ({len(text) - TOOLTIP_CHARS:,} more characters)"
    return wrapped


class PreviewModel(QAbstractTableModel):
    """Columns ``#`` (1-based document number), ``text`` and ``label`` (``labels``)."""

    NUMBER, TEXT, LABEL = range(3)

    def __init__(self, dataset: PreviewSource | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._data: PreviewSource | None = dataset

    def set_dataset(self, dataset: PreviewSource | None) -> None:
        """Show another dataset (None empties the table)."""
        self.beginResetModel()
        self._data = dataset
        self.endResetModel()

    def dataset(self) -> PreviewSource | None:
        """The dataset shown, if any."""
        return self._data

    def _multi_label(self) -> bool:
        return bool(getattr(self._data, "multi_label", False))

    # -- QAbstractTableModel
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of documents (0 under a valid parent: this is a flat table)."""
        if parent.isValid() or self._data is None:
            return 0
        return len(self._data.texts)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Three columns: number, text, labels."""
        return 0 if parent.isValid() else 3

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles; rows have no header (the ``#`` column numbers them)."""
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            label = "labels" if self._multi_label() else "label"
            return ("#", "text", label)[section] if 0 <= section < 3 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and section == self.NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cells, read from the dataset on demand."""
        if self._data is None or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not 0 <= row < len(self._data.texts):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NUMBER:
                return f"{row + 1:,}"
            if column == self.TEXT:
                return _one_line(self._data.texts[row], DISPLAY_CHARS)
            if column == self.LABEL:
                return ", ".join(self._data.labels[row])
        elif role == Qt.ItemDataRole.ToolTipRole:
            if column == self.TEXT:
                return _tooltip(self._data.texts[row])
            if column == self.NUMBER:
                lines = getattr(self._data, "lines", None)
                unit = _LINE_UNITS.get(getattr(self._data, "format", ""), "line")
                if lines is not None and unit:
                    return f"document {row + 1:,}: {unit} {lines[row]:,} of the file"
            if column == self.LABEL:
                return "\n".join(self._data.labels[row])
        elif role == FULL_TEXT_ROLE and column == self.TEXT:
            return self._data.texts[row]
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == self.NUMBER:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
