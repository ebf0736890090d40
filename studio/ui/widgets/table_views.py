"""Table views the pages share: sortable rows, several selectable, read-only, columns sized
to their typical text and one stretching."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

__all__ = ["sized_table_view"]


def sized_table_view(
    proxy: QSortFilterProxyModel, *, sort_column: int, stretch_column: int,
    width_samples: Mapping[int, str],
) -> QTableView:  # fmt: skip
    """A view over ``proxy`` sorted by ``sort_column`` (descending); each column in
    ``width_samples`` as wide as its sample text, ``stretch_column`` taking the rest."""
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.sortByColumn(sort_column, Qt.SortOrder.DescendingOrder)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    metrics = table.fontMetrics()
    rows = table.verticalHeader()
    rows.setVisible(False)
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(metrics.height() + 8)
    table.setMinimumHeight(rows.defaultSectionSize() * 4)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    for column, sample in width_samples.items():
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
    return table
