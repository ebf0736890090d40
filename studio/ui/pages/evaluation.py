"""The Evaluation page: confusion matrix, per-class scores, examples behind each cell, and
the shown run side by side with the TF-IDF baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.baseline_view import BaselineView
from studio.ui.widgets.confusion_matrix import ConfusionMatrix
from studio.ui.widgets.image_export import ask_and_save, save_widget_image
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.workers.tasks import TaskRunner

_Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """A read-only table of rows (tuples); numbers sort numerically through UserRole."""

    def __init__(self, headers: list[str], parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple[Any, ...]] = []

    def set_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(value, float):
                return f"{value:.3f}"
            text = str(value)
            return text if len(text) <= 160 else text[:157] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, str) and len(value) > 60:
            return value[:2000]
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


def _table(model: RowsModel) -> QTableView:
    """A sortable view over ``model``; the view owns its sort proxy (Qt parent)."""
    view = QTableView()
    proxy = QSortFilterProxyModel(view)
    proxy.setSourceModel(model)
    proxy.setSortRole(Qt.ItemDataRole.UserRole)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class EvaluationPage(QWidget):
    """Shows the latest evaluation; fed by the main window (epoch ends, reopened runs)."""

    sig_cell_selected = Signal(int, int)
    """A confusion-matrix cell was clicked: (true label index, predicted label index)."""
    sig_pair_selected = Signal(str, str)
    """The same click by names: (true label, predicted label)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation_tasks = TaskRunner("evaluation_tasks", self)
        self.evaluation_tasks.sig_result.connect(self._on_result)
        self.evaluation_tasks.sig_error.connect(self._on_error)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setText(
            "Train a model, or open a run from the Runs page, to see how good it is."
        )
        self.matrix = ConfusionMatrix()
        self.matrix.sig_cell_clicked.connect(self._cell_clicked)
        self.matrix.save_button.clicked.connect(self._save_dialog)
        self.plot, self.image, self.normalize = (
            self.matrix.plot,
            self.matrix.image,
            self.matrix.normalize,
        )

        self.class_model = RowsModel(["#", "label", "precision", "recall", "F1", "support"], self)
        self.class_table = _table(self.class_model)
        self.class_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # by "#", as the axes
        self.example_model = RowsModel(["text", "true", "predicted", "confidence"], self)
        self.example_table = _table(self.example_model)
        self.wrong_model = RowsModel(["text", "true", "predicted", "confidence"], self)
        self.wrong_table = _table(self.wrong_model)
        for view in (self.example_table, self.wrong_table):
            view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            view.horizontalHeader().setStretchLastSection(False)
        self.examples_title = QLabel("Click a cell of the matrix to list its examples.")
        self.confusions_model = RowsModel(["true", "predicted", "documents", "share of true"], self)
        self.confusions_table = _table(self.confusions_model)
        self.confusions_table.setToolTip(
            "The largest mistakes; double-click a row for its examples"
        )
        self.confusions_table.doubleClicked.connect(self._confusion_chosen)
        self.confusions_table.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # largest first

        tabs = QTabWidget()
        tabs.addTab(self.class_table, "Per class")
        examples = QWidget()
        ex_layout = QVBoxLayout(examples)
        ex_layout.setContentsMargins(0, 0, 0, 0)
        ex_layout.addWidget(self.examples_title)
        ex_layout.addWidget(self.example_table)
        tabs.addTab(examples, "Cell examples")
        tabs.addTab(self.confusions_table, "Top confusions")
        tabs.addTab(self.wrong_table, "Most confidently wrong")
        self.baseline_view = BaselineView()
        tabs.addTab(self.baseline_view, "TF-IDF baseline")
        self.detail_tabs = tabs

        splitter = QSplitter()
        splitter.addWidget(self.matrix)
        splitter.addWidget(tabs)
        splitter.setSizes([600, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

        self.report: Any = None
        self.predictions: Any = None
        self._text_of: Callable[[int], str] = str
        self._stage = ""
        self._notice_saved: str | None = None
        self._title = ""
        self._matrix_dirty = False  # a report arrived while the page was hidden
        name_after_attributes(self)

    # -- input ---------------------------------------------------------------------------
    def set_predictions(self, predictions: Any, text_of: Callable[[int], str], title: str) -> None:
        """Show a ``SplitPredictions`` of a model not saved yet (an epoch end); the baseline
        compare waits for a saved run (:meth:`show_run`)."""
        self.baseline_view.clear_run()
        self._show_predictions(predictions, text_of, title)

    def show_epoch(self, p: Any, epoch: int) -> None:
        """Show a training epoch's ``EpochPredictions`` (validation split, model unsaved)."""
        from studio.engine.analysis.report import predictions_from_arrays

        predictions = predictions_from_arrays(
            p.probs, p.y_true, p.doc_ids, p.label_names, p.multi_label
        )
        self.set_predictions(predictions, p.prepared.text, f"epoch {epoch}")

    def _show_predictions(
        self, predictions: Any, text_of: Callable[[int], str], title: str
    ) -> None:
        self.predictions = predictions
        self._text_of = text_of
        self._title = title

        def work() -> Any:
            from studio.engine.analysis.report import confidently_wrong, evaluation_report

            report = evaluation_report(predictions)
            wrong = confidently_wrong(predictions, k=100)
            return (
                "report",
                report,
                [(text_of(e.doc_id), e.true, e.predicted, e.confidence) for e in wrong],
            )

        self.evaluation_tasks.submit(work)

    def show_run(self, run_dir: str) -> None:
        """Evaluate a saved run on its validation split (off the GUI thread)."""
        self._notice_saved = None
        self.summary.setText(f"Evaluating {run_dir} …")
        self.baseline_view.clear_run()

        def work() -> Any:
            from studio.engine.analysis.inference import load_run
            from studio.engine.analysis.report import predict_split
            from studio.engine.data.prepare import prepare_dataset
            from studio.engine.runs.layout import default_cache_dir

            run = load_run(run_dir)
            prepared = prepare_dataset(
                run.config.data, run.config.tokenizer, cache_dir=default_cache_dir()
            )
            return ("predictions", predict_split(run, prepared, "valid"), prepared, run_dir)

        self.evaluation_tasks.submit(work)

    def show_notice(self, text: str) -> None:
        """A line in place of the summary, e.g. while a run that reports no live evaluation
        trains; :meth:`clear_notice` brings the previous summary back."""
        if self._notice_saved is None:
            self._notice_saved = self.summary.text()
        self.summary.setText(text)

    def clear_notice(self) -> None:
        """Put back the summary the notice replaced (if nothing newer was shown since)."""
        if self._notice_saved is not None:
            self.summary.setText(self._notice_saved)
            self._notice_saved = None

    # -- results -------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: Any) -> None:
        kind = result[0]
        if kind == "predictions":
            _, predictions, prepared, run_dir = result
            self._show_predictions(predictions, prepared.text, f"saved model of {run_dir}")
            self.baseline_view.set_run(run_dir, prepared)
        elif kind == "report":
            _, self.report, wrong_rows = result
            self._show_report(wrong_rows)
        elif kind == "cell":
            _, title, rows = result
            self.examples_title.setText(title)
            self.example_model.set_rows(rows)
            self.detail_tabs.setCurrentIndex(1)

    @Slot(str, str)
    def _on_error(self, message: str, _details: str) -> None:
        self._notice_saved = None
        self.summary.setText(f"<b>Evaluation failed:</b> {message}")

    def _show_report(self, wrong_rows: list[tuple[Any, ...]]) -> None:
        r = self.report
        self._notice_saved = None
        self.summary.setText(
            f"<b>{self._title}</b>: {r.n_docs:,} validation documents · accuracy "
            f"<b>{r.accuracy:.2%}</b> · macro-F1 <b>{r.macro_f1:.3f}</b> · weighted-F1 "
            f"<b>{r.weighted_f1:.3f}</b>"
        )
        self.class_model.set_rows(
            [(i + 1, c.name, c.precision, c.recall, c.f1, c.support)
             for i, c in enumerate(r.per_class)]
        )  # fmt: skip
        self.wrong_model.set_rows(wrong_rows)
        # the matrix is the costly part (tens of ms on the GUI thread): while training, each
        # epoch's report lands here with the page hidden; draw the last one when it is shown
        self._matrix_dirty = not self.isVisible()
        if not self._matrix_dirty:
            self._draw_matrix()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._matrix_dirty:
            self._matrix_dirty = False
            self._draw_matrix()

    def _draw_matrix(self) -> None:
        r = self.report
        if r is None or r.confusion is None:
            self.matrix.clear()
            self.confusions_model.set_rows([])
            return
        from studio.engine.analysis.report import top_confusions

        names = [c.name for c in r.per_class]
        self.matrix.set_confusion(r.confusion, names)
        self.confusions_model.set_rows(
            [(names[t], names[p], n, share) for t, p, n, share in top_confusions(r.confusion, 30)]
        )

    @Slot(QModelIndex)
    def _confusion_chosen(self, index: QModelIndex) -> None:
        row = index.model().index(index.row(), 0)
        true_name = index.model().data(row)
        pred_name = index.model().data(index.model().index(index.row(), 1))
        names = [c.name for c in self.report.per_class] if self.report is not None else []
        if true_name in names and pred_name in names:
            self.show_cell(names.index(true_name), names.index(pred_name))

    @Slot(int, int)
    def _cell_clicked(self, true_index: int, pred_index: int) -> None:
        self.sig_cell_selected.emit(true_index, pred_index)
        if self.report is not None:
            names = [c.name for c in self.report.per_class]
            self.sig_pair_selected.emit(names[true_index], names[pred_index])
        self.show_cell(true_index, pred_index)

    def show_cell(self, true_index: int, pred_index: int) -> None:
        """List the validation examples of one confusion-matrix cell."""
        predictions, text_of = self.predictions, self._text_of
        if predictions is None:
            return
        names = predictions.label_names

        def work() -> Any:
            from studio.engine.analysis.report import cell_examples

            examples = cell_examples(predictions, true_index, pred_index)
            rows = [(text_of(e.doc_id), e.true, e.predicted, e.confidence) for e in examples]
            title = (
                f"{len(rows):,} documents labelled <b>{names[true_index]}</b>, "
                f"predicted <b>{names[pred_index]}</b>"
            )
            return ("cell", title, rows)

        self.evaluation_tasks.submit(work)

    # -- export --------------------------------------------------------------------------
    def save_image(self, path: str) -> None:
        """The confusion matrix as PNG (or SVG when ``path`` ends in .svg)."""
        save_widget_image(self.plot, path)

    @Slot()
    def _save_dialog(self) -> None:
        ask_and_save(self, self.plot, "Save confusion matrix", "confusion.png")

    def shutdown(self) -> None:
        self.evaluation_tasks.shutdown()
        self.baseline_view.shutdown()
