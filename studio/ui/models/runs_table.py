"""The Runs page's table model: one row per run folder, sortable by value, not by text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

if TYPE_CHECKING:
    from studio.engine.runs.layout import RunInfo

__all__ = ["PATH_ROLE", "SORT_ROLE", "RunsTableModel"]

#: Role of the value a column sorts by (numbers as numbers, missing values first).
SORT_ROLE: Final = Qt.ItemDataRole.UserRole + 1
#: Role of a row's run folder (a str).
PATH_ROLE: Final = Qt.ItemDataRole.UserRole + 2


class RunsTableModel(QAbstractTableModel):
    """One row per run: name, started, dataset, vocab, dim, batch, epochs, best validation
    score (accuracy; a recommendation run's recall@k, marked ``R@k``), status."""

    NAME, STARTED, DATASET, VOCAB, DIM, BATCH, EPOCHS, ACCURACY, STATUS = range(9)
    HEADERS: Final = (
        "name",
        "started",
        "dataset",
        "vocab",
        "dim",
        "batch",
        "epochs",
        "best val",
        "status",
    )
    WIDTH_SAMPLES: Final = {
        STARTED: "2000-00-00 00:00",
        DATASET: "a-dataset-name.csv",
        VOCAB: "000,000",
        DIM: "0,000",
        BATCH: "0,000",
        EPOCHS: "epochs",
        ACCURACY: "00.00% R@10",
        STATUS: "early_stopped",
    }
    """A typical text per column, which sizes it (the name column stretches)."""
    _SETTING: Final = {VOCAB: "vocab_size", DIM: "embed_dim", BATCH: "batch_size", EPOCHS: "epochs"}
    _NUMERIC: Final = frozenset({VOCAB, DIM, BATCH, EPOCHS, ACCURACY})

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunInfo] = []

    def runs(self) -> list[RunInfo]:
        """The rows, in model order."""
        return list(self._runs)

    def run_at(self, row: int) -> RunInfo:
        return self._runs[row]

    def row_of(self, path: str) -> int | None:
        """The row of the run at ``path``, if listed."""
        for i, run in enumerate(self._runs):
            if str(run.path) == path:
                return i
        return None

    def set_runs(self, runs: list[RunInfo]) -> bool:
        """Show these runs. Returns True when the rows changed (a reset), False when only
        their contents did (the same paths in the same order: selection and scroll stay)."""
        if [r.path for r in runs] == [r.path for r in self._runs]:
            if runs != self._runs:
                self._runs = list(runs)
                last = self.index(len(runs) - 1, len(self.HEADERS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return False
        self.beginResetModel()
        self._runs = list(runs)
        self.endResetModel()
        return True

    def replace_run(self, row: int, run: RunInfo) -> None:
        self._runs[row] = run
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))

    # -- QAbstractTableModel
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._runs):
            return None
        run, column = self._runs[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(run, column)
        if role == SORT_ROLE:
            return self._sort_key(run, column)
        if role == PATH_ROLE:
            return str(run.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.NAME:
                return str(run.path)
            if column == self.DATASET:
                return run.dataset or None
            if column == self.EPOCHS and run.epochs:
                return f"{run.epochs} epochs completed"
            if column == self.STATUS and run.status == "killed":
                done = f"after epoch {run.epochs}" if run.epochs else "before its first epoch"
                return f"Its process died {done}; Resume continues it from its last checkpoint"
            if column == self.ACCURACY and run.kind == "recs":
                return f"recall@{run.k} of the held-out interactions, best epoch"
            if column == self.ACCURACY and run.val_macro_f1 is not None:
                return f"validation macro F1 {run.val_macro_f1:.4f}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, run: RunInfo, column: int) -> str:
        if column == self.NAME:
            return run.name
        if column == self.STARTED:
            return run.started.replace("T", " ")[:16]
        if column == self.DATASET:
            return Path(run.dataset).name if run.dataset else "–"
        planned = run.settings.get("epochs")
        if column == self.EPOCHS and isinstance(planned, int) and run.epochs != planned:
            return f"{run.epochs} / {planned}"  # completed of planned: early stop, a crash
        if column in self._SETTING:
            value = run.settings.get(self._SETTING[column])
            return (
                f"{value:,}" if isinstance(value, int) else ("–" if value is None else str(value))
            )
        if column == self.ACCURACY:
            score = _score(run)
            if score is None:
                return "–"
            return f"{score:.2%} R@{run.k}" if run.kind == "recs" else f"{score:.2%}"
        return run.status

    def _sort_key(self, run: RunInfo, column: int) -> Any:
        if column in self._SETTING or column == self.ACCURACY:
            value = (
                _score(run) if column == self.ACCURACY else run.settings.get(self._SETTING[column])
            )
            return float(value) if isinstance(value, (int, float)) else float("-inf")
        if column == self.STARTED:
            return run.started
        if column == self.DATASET:
            return Path(run.dataset).name.casefold()
        if column == self.STATUS:
            return run.status
        return run.name.casefold()


def _score(run: RunInfo) -> float | None:
    """The run's best validation score: accuracy, or recall@k for a recommendation run."""
    return run.val_recall if run.kind == "recs" else run.val_accuracy
