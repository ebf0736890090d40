"""The Label issues page's table: one row per flagged document, with the user's decision,
and the filter over it (a class pair, a decision, words in the text).

Rows are ``LabelIssue`` objects from the engine (plain frozen dataclasses); decisions are
``line -> "accept" | "keep" | "exclude"``, the form the review file keeps them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

if TYPE_CHECKING:
    from studio.engine.analysis.label_issues import LabelIssue

__all__ = ["DECISION_TEXT", "SORT_ROLE", "IssuesFilter", "IssuesModel"]

_Index = QModelIndex | QPersistentModelIndex
#: Role of the value a column sorts by.
SORT_ROLE: Final = Qt.ItemDataRole.UserRole + 1
#: How each decision reads in the table.
DECISION_TEXT: Final = {"accept": "relabel", "keep": "keep", "exclude": "exclude"}
_TEXT_CHARS = 200


class IssuesModel(QAbstractTableModel):
    """Flagged documents, most likely wrong first, and what the user decided about each."""

    RANK, LINE, QUALITY, GIVEN, SUGGESTED, DECISION, TEXT = range(7)
    HEADERS: Final = ("#", "line", "quality", "given", "suggested", "decision", "text")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._issues: list[LabelIssue] = []
        self._decisions: dict[int, str] = {}
        self._row_of: dict[int, int] = {}

    def set_issues(self, issues: Iterable[LabelIssue], decisions: Mapping[int, str]) -> None:
        self.beginResetModel()
        self._issues = list(issues)
        self._decisions = dict(decisions)
        self._row_of = {issue.line: row for row, issue in enumerate(self._issues)}
        self.endResetModel()

    def issue(self, row: int) -> LabelIssue:
        return self._issues[row]

    def issues(self) -> list[LabelIssue]:
        return list(self._issues)

    def decisions(self) -> dict[int, str]:
        """Every decision made, by line (the ones about documents no longer listed too)."""
        return dict(self._decisions)

    def decision_of(self, line: int) -> str | None:
        return self._decisions.get(line)

    def decide(self, rows: Iterable[int], action: str | None) -> None:
        """Record ``action`` (None: undecided again) for the documents in ``rows``."""
        rows = sorted(set(rows))
        for row in rows:
            line = self._issues[row].line
            if action is None:
                self._decisions.pop(line, None)
            else:
                self._decisions[line] = action
        if rows:
            top, bottom = self.index(rows[0], self.DECISION), self.index(rows[-1], self.DECISION)
            self.dataChanged.emit(top, bottom, [Qt.ItemDataRole.DisplayRole, SORT_ROLE])

    def counts(self) -> dict[str, int]:
        """Listed documents per decision, and ``"open"`` for the undecided."""
        found = {action: 0 for action in DECISION_TEXT}
        for issue in self._issues:
            action = self._decisions.get(issue.line)
            found[action or "open"] = found.get(action or "open", 0) + 1
        found.setdefault("open", 0)
        return found

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._issues)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def _value(self, row: int, column: int) -> Any:
        issue = self._issues[row]
        if column == self.RANK:
            return row + 1
        if column == self.LINE:
            return issue.line
        if column == self.QUALITY:
            return issue.quality
        if column == self.GIVEN:
            return issue.given
        if column == self.SUGGESTED:
            return issue.suggested
        if column == self.DECISION:
            return DECISION_TEXT.get(self._decisions.get(issue.line, ""), "")
        return issue.text

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == SORT_ROLE:
            return self._value(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            value = self._value(row, column)
            if column == self.QUALITY:  # often tiny: three significant digits, not 0.000
                return f"{value:.3g}"
            if column == self.TEXT:
                text = " ".join(str(value).split())
                return text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 1] + "…"
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            self.RANK, self.LINE, self.QUALITY,
        ):  # fmt: skip
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.TEXT:
            return self._issues[row].text[:2000]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class IssuesFilter(QSortFilterProxyModel):
    """Rows of one class pair (given, suggested: None is any), one decision, and words."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._given: str | None = None
        self._suggested: str | None = None
        self._decision: str | None = None  # an action, "open", or None for any
        self._words = ""

    def set_pair(self, given: str | None, suggested: str | None) -> None:
        self._begin_change()
        self._given, self._suggested = given, suggested
        self._end_change()

    def pair(self) -> tuple[str | None, str | None]:
        return self._given, self._suggested

    def set_decision(self, decision: str | None) -> None:
        self._begin_change()
        self._decision = decision
        self._end_change()

    def set_words(self, words: str) -> None:
        self._begin_change()
        self._words = words.strip().lower()
        self._end_change()

    def _begin_change(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+; invalidateRowsFilter is deprecated
            self.beginFilterChange()

    def _end_change(self) -> None:
        if hasattr(self, "endFilterChange"):
            self.endFilterChange()
        else:
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, IssuesModel):
            return True
        issue = model.issue(source_row)
        if self._given is not None and self._given not in issue.given_labels:
            return False
        if self._suggested is not None and self._suggested not in issue.suggested_labels:
            return False
        if self._decision is not None:
            action = model.decision_of(issue.line) or "open"
            if action != self._decision:
                return False
        return not self._words or self._words in issue.text.lower()

    def source_rows(self, proxy_rows: Iterable[int]) -> list[int]:
        return [self.mapToSource(self.index(row, 0)).row() for row in proxy_rows]
