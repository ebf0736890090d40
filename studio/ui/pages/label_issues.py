"""The Label issues page: the likely mislabelled documents of the shown run's dataset, found
by one model per fold with the run's setup (off the GUI thread, with a curve per fold),
ranked by confident learning, and reviewed one by one or in bulk.

Each decision (relabel as suggested, keep the label, exclude the document) is written to
the run's ``label-issues/decisions.json`` as it is made; the dataset is never written to.
*Save corrected dataset…* writes a copy in the same format; *Retrain on corrected* asks the
main window (:attr:`LabelIssuesPage.sig_retrain_requested`) to train the run's setup on a
copy kept in the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.ui.models.label_issues import IssuesFilter, IssuesModel
from studio.ui.widgets.confusion_matrix import ConfusionMatrix
from studio.ui.widgets.empty_state import EmptyState, with_empty_state
from studio.ui.widgets.fold_curves import FoldCurves
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.workers.label_folds import FoldEpoch, FoldsController, FoldsRequest
from studio.ui.workers.payloads import RunFailed
from studio.ui.workers.review_tasks import (
    CopyWritten,
    ReviewRead,
    read_review,
    retrain_copy,
    write_copy,
)
from studio.ui.workers.tasks import TaskRunner

if TYPE_CHECKING:
    from studio.config import StudioConfig
    from studio.engine.analysis.label_review import Findings

__all__ = ["ANY", "DECISION_FILTERS", "LabelIssuesPage"]

ANY = "any"
#: The decision filter's choices: (text, value for ``IssuesFilter.set_decision``).
DECISION_FILTERS = (
    ("every decision", None), ("to review", "open"), ("relabelled", "accept"),
    ("kept", "keep"), ("excluded", "exclude"),
)  # fmt: skip
_ACTIONS = (  # text, shortcut, action, tooltip
    ("Relabel as suggested", "A", "accept", "Give the selected documents the suggested label (A)"),
    ("Keep label", "K", "keep", "The given label is right (K)"),
    ("Exclude", "X", "exclude", "Leave the selected documents out (X)"),
    ("Undecide", "U", None, "Forget the decision about them (U)"),
)


def _combo(tip: str) -> QComboBox:
    box = QComboBox()
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box


class LabelIssuesPage(QWidget):
    """Find, review and act on label issues of the run shown (:meth:`set_run`)."""

    sig_retrain_requested = Signal(object)
    """Train on the corrected copy: a :class:`~studio.ui.workers.review_tasks.RetrainRequest`."""
    sig_running = Signal(bool)
    """The finder started (True) or its thread ended (False)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.review_tasks = TaskRunner("review_tasks", self)
        self.review_tasks.sig_result.connect(self._on_result)
        self.review_tasks.sig_error.connect(self._on_task_error)
        self.finder = FoldsController(self)
        self.finder.sig_running.connect(self._on_running)
        self.model = IssuesModel(self)
        self.proxy = IssuesFilter(self)
        self.proxy.setSourceModel(self.model)
        self.run_dir: str | None = None
        self.config: StudioConfig | None = None
        self.findings: Findings | None = None
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_finder_bar())
        splitter = QSplitter()
        splitter.addWidget(self._build_overview())
        splitter.addWidget(self._build_review())
        splitter.setSizes([420, 880])
        layout.addWidget(splitter, 1)
        layout.addLayout(self._build_output_bar())
        self.empty = EmptyState(
            "No run to review",
            "Train a model or open a run on the Runs page: the label-issue finder trains "
            "its setup once per fold, and lists the documents whose label it doubts.",
        )
        self.stack = with_empty_state(content, self.empty)
        self.content = content
        outer = QVBoxLayout(self)
        outer.addWidget(self.stack)
        name_after_attributes(self)
        self._update_controls()

    # -- construction --------------------------------------------------------------------
    def _build_finder_bar(self) -> QHBoxLayout:
        self.folds = QSpinBox()
        self.folds.setRange(2, 20)
        self.folds.setValue(5)
        self.folds.setPrefix("folds: ")
        self.folds.setToolTip(
            "One model per fold, each predicting only the documents it did not train on"
        )
        self.find_button = QPushButton("Find label issues")
        self.find_button.setToolTip("Train the run's setup once per fold, then rank the issues")
        self.find_button.clicked.connect(self.find_issues)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.finder.stop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        for w in (self.folds, self.find_button, self.stop_button):
            bar.addWidget(w)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.status, 3)
        return bar

    def _build_overview(self) -> QWidget:
        self.curves = FoldCurves()
        self.pairs = ConfusionMatrix(rows="given label", columns="suggested label")
        self.pairs.setToolTip("Flagged documents by given and suggested label: click to filter")
        self.pairs.sig_cell_clicked.connect(self._pair_clicked)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.pairs)
        return split

    def _build_review(self) -> QWidget:
        self.given_filter = _combo("Only documents with this given label")
        self.suggested_filter = _combo("Only documents with this suggested label")
        self.decision_filter = _combo("Only documents with this decision")
        for text, _value in DECISION_FILTERS:
            self.decision_filter.addItem(text)
        self.words_filter = QLineEdit()
        self.words_filter.setPlaceholderText("words in the text")
        self.words_filter.setClearButtonEnabled(True)
        self.words_filter.setToolTip("Only documents whose text holds these words")
        self.clear_filter = QPushButton("Show all")
        self.given_filter.currentIndexChanged.connect(self._pair_chosen)
        self.suggested_filter.currentIndexChanged.connect(self._pair_chosen)
        self.decision_filter.currentIndexChanged.connect(self._decision_chosen)
        self.words_filter.textChanged.connect(self._words_changed)
        self.clear_filter.clicked.connect(self.show_all)
        filters = QHBoxLayout()
        for label, w in (("given", self.given_filter), ("suggested", self.suggested_filter)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        filters.addWidget(self.decision_filter)
        filters.addWidget(self.words_filter, 1)
        filters.addWidget(self.clear_filter)
        self.issues_table = self._build_table()
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setMaximumHeight(120)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Selected:"))
        self.decision_buttons: list[QPushButton] = []
        for text, key, action, tip in _ACTIONS:
            button = QPushButton(text)
            button.setShortcut(key)
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, a=action: self.decide(a))
            self.decision_buttons.append(button)
            actions.addWidget(button)
        self.accept_button, self.keep_button, self.exclude_button, self.undecide_button = (
            self.decision_buttons
        )
        actions.addStretch(1)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.issues_table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(actions)
        return box

    def _build_table(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(IssuesModel.RANK, Qt.SortOrder.AscendingOrder)
        view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.verticalHeader().setVisible(False)
        view.setToolTip("Ctrl+A selects every document shown; A, K, X or U decides for them")
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(IssuesModel.TEXT, QHeaderView.ResizeMode.Stretch)
        view.selectionModel().selectionChanged.connect(self._on_selection)
        return view

    def _build_output_bar(self) -> QHBoxLayout:
        self.summary = QLabel()
        self.save_button = QPushButton("Save corrected dataset…")
        self.save_button.setToolTip(
            "A new file in the dataset's format with the decisions applied; the original "
            "stays as it is"
        )
        self.save_button.clicked.connect(self.save_dialog)
        self.retrain_button = QPushButton("Retrain on corrected")
        self.retrain_button.setToolTip(
            "Train the run's setup on the corrected copy (kept in the run folder), then "
            "compare the two runs on the Runs page"
        )
        self.retrain_button.clicked.connect(self.retrain)
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.save_button)
        bar.addWidget(self.retrain_button)
        return bar

    # -- public --------------------------------------------------------------------------
    def set_run(self, run_dir: str | None) -> None:
        """Review this run's dataset: its saved issues and decisions are read back."""
        self.run_dir = run_dir
        self.config, self.findings = None, None
        self.model.set_issues([], {})
        self.stack.setCurrentWidget(self.empty if run_dir is None else self.content)
        if run_dir is not None:
            self.status.setText("Reading the run's label review…")
            self.review_tasks.submit(lambda: read_review(run_dir))
        self._update_controls()

    def is_running(self) -> bool:
        return self.finder.is_running()

    @Slot()
    def find_issues(self) -> None:
        """Train one model per fold with the run's setup, then rank the issues."""
        if self.config is None or self.run_dir is None or self.finder.is_running():
            return
        folds = self.folds.value()
        worker = self.finder.start(FoldsRequest(self.config, self.run_dir, folds))
        worker.sig_fold.connect(self._on_fold)
        worker.sig_epoch.connect(self._on_epoch)
        worker.sig_progress.connect(self._on_progress)
        worker.sig_finished.connect(self._on_found)
        worker.sig_failed.connect(self._on_failed)
        self.curves.reset(folds)
        self.progress.setValue(0)
        self.status.setText(f"Training {folds} fold models…")

    def decide(self, action: str | None) -> None:
        """Record ``action`` for the selected documents and save every decision at once."""
        shown = sorted(i.row() for i in self.issues_table.selectionModel().selectedRows())
        rows = self.proxy.source_rows(shown)
        if not rows or self.findings is None or self.run_dir is None:
            return
        before = self.proxy.rowCount()
        self.model.decide(rows, action)
        from studio.engine.analysis.label_review import save_decisions

        try:
            save_decisions(self.run_dir, self.findings, self.model.decisions())  # type: ignore[arg-type]
        except OSError as exc:
            self.status.setText(f"<b>The decisions could not be saved:</b> {exc}")
        if len(rows) == 1:  # on to the next document (the decided one may be filtered out)
            self._select_row(shown[0] if self.proxy.rowCount() < before else shown[0] + 1)
        self._update_controls()

    def filter_pair(self, given: str | None, suggested: str | None) -> None:
        """Show only documents labelled ``given`` that the model suggests ``suggested`` for
        (None: any), as a click on the matrix here or on the Evaluation page does."""
        for box, name in ((self.given_filter, given), (self.suggested_filter, suggested)):
            box.blockSignals(True)
            box.setCurrentIndex(max(box.findText(name), 0) if name else 0)
            box.blockSignals(False)
        self._pair_chosen()

    @Slot()
    def show_all(self) -> None:
        self.filter_pair(None, None)
        self.decision_filter.setCurrentIndex(0)
        self.words_filter.clear()

    @Slot()
    def save_dialog(self) -> None:
        if self.findings is None:
            return
        from studio.engine.analysis.label_review import corrected_name

        default = str(corrected_name(self.findings.dataset))
        if Path(self.findings.dataset).is_dir():
            path = QFileDialog.getExistingDirectory(self, "Save corrected dataset in a new folder")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Save corrected dataset", default)
        if path:
            self.save_corrected(path)

    def save_corrected(self, path: str) -> None:
        """Write the corrected copy to ``path`` (off the GUI thread)."""
        config, findings = self.config, self.findings
        if config is None or findings is None:
            return
        decisions = self.model.decisions()
        self.status.setText(f"Saving {path} …")
        self.review_tasks.submit(lambda: write_copy(config, findings, decisions, path))

    @Slot()
    def retrain(self) -> None:
        """Write the corrected copy into the run folder, then ask for a run on it."""
        config, findings, run_dir = self.config, self.findings, self.run_dir
        if config is None or findings is None or run_dir is None:
            return
        decisions = self.model.decisions()
        self.status.setText("Writing the corrected copy…")
        self.review_tasks.submit(lambda: retrain_copy(config, findings, decisions, run_dir))

    def shutdown(self) -> None:
        self.finder.shutdown()
        self.review_tasks.shutdown()

    # -- results -------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: object) -> None:
        if isinstance(result, ReviewRead):
            if result.run_dir != self.run_dir:
                return  # another run was chosen meanwhile
            self.config = result.config
            self._show_findings(result)
            self.status.setText(result.note)
        elif isinstance(result, CopyWritten):
            w = result.written
            self.status.setText(
                f"Saved {w.documents:,} documents ({w.relabelled:,} relabelled, "
                f"{w.excluded:,} excluded) to {w.path}"
            )
            if result.retrain is not None:
                self.sig_retrain_requested.emit(result.retrain)
        self._update_controls()

    @Slot(str, str)
    def _on_task_error(self, message: str, _details: str) -> None:
        self.status.setText(f"<b>{message}</b>")
        self._update_controls()

    def _show_findings(self, review: ReviewRead) -> None:
        self.findings = findings = review.findings
        self.model.set_issues(findings.issues if findings else (), review.decisions)
        names = list(findings.label_names) if findings is not None else []
        for box in (self.given_filter, self.suggested_filter):
            box.blockSignals(True)
            box.clear()
            box.addItems([ANY, *names])
            box.blockSignals(False)
        self.proxy.set_pair(None, None)
        self.pairs.setVisible(review.pairs is not None)
        if review.pairs is not None:
            self.pairs.set_confusion(review.pairs, names)
        else:
            self.pairs.clear()

    @Slot(int, int)
    def _on_fold(self, fold: int, folds: int) -> None:
        self.status.setText(f"Training fold {fold} of {folds}…")

    @Slot(object)
    def _on_epoch(self, e: FoldEpoch) -> None:
        self.curves.add(e.fold, e.epoch, e.val_accuracy)

    @Slot(float)
    def _on_progress(self, share: float) -> None:
        self.progress.setValue(round(share * 1000))

    @Slot(object)
    def _on_found(self, findings: Findings) -> None:
        if self.run_dir is not None:
            run_dir = self.run_dir
            self.review_tasks.submit(lambda: read_review(run_dir))
        self.status.setText(
            f"{len(findings.issues):,} likely label issues among {findings.documents:,} "
            f"documents ({findings.folds} folds, {findings.seconds:.1f} s)"
        )

    @Slot(object)
    def _on_failed(self, failed: RunFailed) -> None:
        self.status.setText(f"<b>The finder stopped:</b> {failed.message}")

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._update_controls()
        self.sig_running.emit(running)

    # -- interaction ---------------------------------------------------------------------
    @Slot(int, int)
    def _pair_clicked(self, given: int, suggested: int) -> None:
        if self.findings is not None:
            names = self.findings.label_names
            self.filter_pair(names[given], names[suggested])

    @Slot()
    def _pair_chosen(self) -> None:
        given = self.given_filter.currentText()
        suggested = self.suggested_filter.currentText()
        self.proxy.set_pair(
            None if given in ("", ANY) else given, None if suggested in ("", ANY) else suggested
        )
        self._update_controls()

    @Slot(int)
    def _decision_chosen(self, index: int) -> None:
        self.proxy.set_decision(DECISION_FILTERS[max(index, 0)][1])
        self._update_controls()

    @Slot(str)
    def _words_changed(self, words: str) -> None:
        self.proxy.set_words(words)
        self._update_controls()

    def _on_selection(self, *_args: object) -> None:
        rows = self.issues_table.selectionModel().selectedRows()
        if len(rows) == 1:
            issue = self.model.issue(self.proxy.mapToSource(rows[0]).row())
            self.detail.setPlainText(
                f"line {issue.line} · given {issue.given} · suggested {issue.suggested} · "
                f"quality {issue.quality:.3g}\n\n{issue.text}"
            )
        else:
            self.detail.setPlainText(f"{len(rows):,} documents selected" if rows else "")
        self._update_controls()

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            self.issues_table.selectionModel().select(self.proxy.index(row, 0), flags)
            self.issues_table.scrollTo(self.proxy.index(row, 0))

    def _update_controls(self) -> None:
        running = self.finder.is_running()
        ready = self.config is not None and self.run_dir is not None
        self.find_button.setEnabled(ready and not running)
        self.folds.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.progress.setVisible(running)
        selected = bool(self.issues_table.selectionModel().selectedRows())
        for button in self.decision_buttons:
            button.setEnabled(selected)
        counts = self.model.counts()
        changes = any(a in ("accept", "exclude") for a in self.model.decisions().values())
        self.save_button.setEnabled(self.findings is not None and changes)
        self.retrain_button.setEnabled(self.findings is not None and changes and not running)
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.summary.setText(
            "" if self.findings is None else
            f"{total:,} flagged ({shown:,} shown) · {counts['accept']:,} relabelled · "
            f"{counts['keep']:,} kept · {counts['exclude']:,} excluded · "
            f"{counts['open']:,} to review"
        )  # fmt: skip
