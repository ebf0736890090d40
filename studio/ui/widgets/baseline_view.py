"""The run-versus-TF-IDF-baseline view: a compare button, its progress, and both scores.

:class:`BaselineView` fits the engine's baseline
(:func:`studio.engine.analysis.baseline.compare_with_baseline`) on the shown run's own
training split, off the GUI thread through a :class:`~studio.ui.workers.tasks.TaskRunner`
with progress and a cancel, and shows the run and the baseline side by side: the overall
scores and the per-class F1 difference, the classes where the baseline leads first. The
engine caches each baseline per dataset, split and options, so a second compare is instant
(the status says "cached").
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.workers.tasks import TaskRunner

__all__ = ["BaselineView", "verdict"]

SPLITS = ("test", "valid")
FEATURES = (("words", "words 1-2-grams"), ("char", "characters 1-4-grams"))
_METRICS = (("accuracy", "accuracy"), ("macro-F1", "macro_f1"), ("weighted-F1", "weighted_f1"))


def verdict(run_macro_f1: float, baseline_macro_f1: float) -> str:
    """One line: how far the embedding model is ahead of (or behind) the baseline."""
    points = 100.0 * (run_macro_f1 - baseline_macro_f1)
    if abs(points) < 0.05:
        return "The embedding model and the baseline are level on macro-F1."
    side = "ahead of" if points > 0 else "behind"
    return f"The embedding model is {abs(points):.1f} points {side} the baseline on macro-F1."


def _item(value: Any) -> QTableWidgetItem:
    item = QTableWidgetItem(f"{value:+.3f}" if isinstance(value, _Diff) else _text(value))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if isinstance(value, float):
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class _Diff(float):
    """A difference: shown with its sign."""


def _text(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _fill(table: QTableWidget, rows: list[tuple[Any, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, _item(value))


def _new_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class BaselineView(QWidget):
    """Compares the shown run with the TF-IDF + LinearSVC baseline on the run's split."""

    sig_compared = Signal(object)
    """A comparison is shown (a ``RunComparison``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.baseline_tasks = TaskRunner("baseline_tasks", self)
        self.baseline_tasks.sig_result.connect(self._on_result)
        self.baseline_tasks.sig_error.connect(self._on_error)
        self.baseline_tasks.sig_partial.connect(self._on_progress)
        self.baseline_tasks.sig_cancelled.connect(self._on_cancelled)
        self.baseline_tasks.sig_busy.connect(self._on_busy)
        self.compare_button = QPushButton("Compare with TF-IDF baseline")
        self.compare_button.setToolTip(
            "Fit TF-IDF + LinearSVC on this run's training split and score both on one split"
        )
        self.compare_button.clicked.connect(self.compare)
        self.baseline_features = QComboBox()
        for key, label in FEATURES:
            self.baseline_features.addItem(label, key)
        self.baseline_features.setToolTip("The TF-IDF features the baseline is fitted on")
        self.baseline_split = QComboBox()
        self.baseline_split.setToolTip("Which split the baseline and the model are scored on")
        for split in SPLITS:
            self.baseline_split.addItem(f"{split} split", split)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.baseline_progress = QProgressBar()
        self.baseline_progress.setRange(0, 1000)
        self.baseline_progress.setTextVisible(False)
        self.baseline_status = QLabel("Open a run to compare it with the baseline.")
        self.baseline_status.setWordWrap(True)
        self.baseline_verdict = QLabel()
        self.baseline_verdict.setWordWrap(True)
        self.score_table = _new_table(["metric", "run", "baseline", "run − baseline"])
        self.f1_table = _new_table(["label", "run F1", "baseline F1", "run − baseline"])

        bar = QHBoxLayout()
        bar.addWidget(self.compare_button)
        bar.addWidget(QLabel("features"))
        bar.addWidget(self.baseline_features)
        bar.addWidget(self.baseline_split)
        bar.addWidget(self.baseline_progress, 1)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.baseline_status)
        layout.addWidget(self.baseline_verdict)
        layout.addWidget(self.score_table)
        layout.addWidget(self.f1_table, 1)

        self.comparison: Any = None
        self._run_dir: str | None = None
        self._prepared: Any = None
        self._set_running(False)
        name_after_attributes(self)

    # -- input ---------------------------------------------------------------------------
    def set_run(self, run_dir: str, prepared: Any) -> None:
        """The run (its folder) and its dataset (prepared with the run's settings) to compare."""
        self.clear_run()
        self._run_dir, self._prepared = run_dir, prepared
        has_test = len(prepared.split_indices("test")) > 0
        self.baseline_split.setCurrentIndex(SPLITS.index("test" if has_test else "valid"))
        self.baseline_status.setText("Compare this run with a TF-IDF + LinearSVC baseline.")
        self._set_running(False)

    def clear_run(self) -> None:
        """No run to compare (e.g. live epochs of a run still training): a running compare
        is cancelled and the last result cleared."""
        self.baseline_tasks.cancel()
        self._run_dir = self._prepared = None
        self.comparison = None
        self.score_table.setRowCount(0)
        self.f1_table.setRowCount(0)
        self.baseline_verdict.clear()
        self.baseline_status.setText("Open a saved run to compare it with the baseline.")
        self._set_running(False)

    def has_run(self) -> bool:
        return self._run_dir is not None

    # -- work ----------------------------------------------------------------------------
    @Slot()
    def compare(self) -> None:
        """Fit (or read from the cache) the baseline and score the run, off the GUI thread."""
        run_dir, prepared = self._run_dir, self._prepared
        if run_dir is None or prepared is None:
            return
        features = str(self.baseline_features.currentData())
        split = str(self.baseline_split.currentData())

        def work(job: Any) -> Any:
            from studio.engine.analysis.baseline import BASELINES, compare_with_baseline
            from studio.engine.analysis.inference import load_run
            from studio.engine.data.prepare import cache_key

            run = load_run(run_dir)
            key = cache_key(run.config.data, run.config.tokenizer)
            return compare_with_baseline(
                run, prepared, split, BASELINES[features], dataset_key=key,
                progress=lambda message, fraction: job.partial((message, fraction)),
                cancel=job.cancel,
            )  # fmt: skip

        self.baseline_status.setText(f"Comparing on the {split} split …")
        self.baseline_progress.setValue(0)
        self.baseline_tasks.submit_job(work)

    @Slot()
    def cancel(self) -> None:
        self.baseline_tasks.cancel()

    def shutdown(self) -> None:
        self.baseline_tasks.shutdown()

    # -- reports (GUI thread) ------------------------------------------------------------
    @Slot(object)
    def _on_progress(self, value: Any) -> None:
        message, fraction = value
        self.baseline_status.setText(str(message))
        self.baseline_progress.setValue(int(1000 * float(fraction)))

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self._set_running(busy)

    @Slot()
    def _on_cancelled(self) -> None:
        self.baseline_status.setText("Baseline comparison cancelled.")
        self.baseline_progress.setValue(0)

    @Slot(str, str)
    def _on_error(self, message: str, _details: str) -> None:
        self.baseline_status.setText(f"<b>Baseline comparison failed:</b> {message}")
        self.baseline_progress.setValue(0)

    @Slot(object)
    def _on_result(self, comparison: Any) -> None:
        self.comparison = comparison
        run, base = comparison.run, comparison.baseline
        self.baseline_progress.setValue(1000)
        how = "cached" if base.cached else f"trained in {base.train_seconds:.2f} s"
        self.baseline_status.setText(
            f"{comparison.split} split: {base.n_docs:,} documents; {base.options.name} on "
            f"{base.n_train:,} training documents ({how})"
        )
        self.baseline_verdict.setText(f"<b>{verdict(run.macro_f1, base.macro_f1)}</b>")
        metrics = list(_METRICS)
        if run.micro_f1 is not None and base.micro_f1 is not None:
            metrics.append(("micro-F1", "micro_f1"))
        if base.multi_label:
            metrics[0] = ("subset accuracy", "accuracy")
        _fill(self.score_table, [
            (label, float(getattr(run, a)), float(getattr(base, a)),
             _Diff(getattr(run, a) - getattr(base, a)))
            for label, a in metrics
        ])  # fmt: skip
        _fill(self.f1_table, [
            (name, float(r), float(b), _Diff(d)) for name, r, b, d in comparison.f1_differences()
        ])  # fmt: skip
        self.sig_compared.emit(comparison)

    def _set_running(self, running: bool) -> None:
        idle_with_run = not running and self._run_dir is not None
        self.compare_button.setEnabled(idle_with_run)
        self.baseline_features.setEnabled(not running)
        self.baseline_split.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.baseline_progress.setVisible(running or self.comparison is not None)
