"""The Runs page: every run folder in the runs directory, compared and followed live.

A sortable table (:class:`~studio.ui.models.runs_table.RunsTableModel`); the selected runs'
curves on one plot and their differing settings side by side (:class:`~studio.ui.widgets.
run_comparison.RunComparison`); rename, delete (to the trash) and open. Recommendation runs
are listed too (recall@k curves); Open sends them to the Recommend page. All file access
happens on one worker thread (:class:`~studio.ui.workers.runs_watcher.RunsWatcher`): the
listing, a change check every second, the selected runs' metrics read incrementally; the
GUI thread updates the table model and hands buffers to ``setData``. Rename and delete run
on the GUI thread, so their errors show at once."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QHideEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.errors import StudioError
from studio.ui.models.runs_table import PATH_ROLE, SORT_ROLE, RunsTableModel
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.palette import error_color
from studio.ui.widgets.run_comparison import RunComparison
from studio.ui.widgets.run_dialogs import ask_new_name, confirm, delete_question
from studio.ui.widgets.table_views import sized_table_view
from studio.ui.workers.run_folders import delete_runs
from studio.ui.workers.runs_watcher import RunsWatcher
from studio.ui.workers.threads import WorkerThread

if TYPE_CHECKING:
    import numpy as np
    import pyqtgraph as pg

    from studio.engine.runs.layout import RunInfo

__all__ = ["RunsPage", "empty_text"]

#: How often the folder and the selected runs' metrics are checked.
POLL_INTERVAL_MS: Final = 1000


def empty_text(runs_dir: str) -> str:
    """What the page says when a runs folder holds no run."""
    return f"No runs yet in {runs_dir}. Train a model, or copy run folders here."


class RunsPage(QWidget):
    """Lists, compares, renames, deletes and follows the runs of one runs folder."""

    sig_open_run = Signal(str)
    """Open this run folder (the Open button or a double-click on one run)."""
    sig_open_recs_run = Signal(str)
    """The same for a recommendation run (the main window sends it to the Recommend page)."""
    sig_resume_run = Signal(str)
    """Continue this killed or stopped single-process run (the Resume button)."""

    _sig_set_dir = Signal(str)
    _sig_refresh = Signal()
    _sig_track = Signal(list)
    _sig_tick = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        runs_dir: str | Path | None = None,
        poll_interval_ms: int = POLL_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._runs_dir: str | None = None
        self._listed = False  # the current folder has been listed once
        self._syncing = False
        self._pending_select: list[str] | None = None
        self._tick_pending = False
        self._watch: WorkerThread[RunsWatcher] | None = None

        self.comparison = RunComparison()
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top_bar())
        layout.addWidget(self._build_error())
        layout.addWidget(self._build_splitter(self._build_table()), 1)

        self._poll = QTimer(self)
        self._poll.setInterval(max(10, int(poll_interval_ms)))
        self._poll.timeout.connect(self._on_poll)
        self._connect()

        self._apply_palette()
        self._update_empty_state()
        self._update_buttons()
        name_after_attributes(self)
        if runs_dir is not None:
            self.set_runs_dir(runs_dir)

    # ------------------------------------------------------------------ layout

    def _build_top_bar(self) -> QHBoxLayout:
        self.runs_dir_label = QLabel()
        self.runs_dir_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runs_dir_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.refresh_runs_button = self._button("Refresh", "List the runs folder again")
        self.open_run_button = self._button(
            "Open", "Open the selected run (evaluation, playground)"
        )
        self.rename_run_button = self._button("Rename…", "Rename the selected run's folder")
        self.delete_run_button = self._button("Delete…", "Move the selected runs to the trash")
        self.resume_run_button = self._button(
            "Resume", "Continue the selected killed or stopped run from its last checkpoint"
        )
        top = QHBoxLayout()
        top.addWidget(self.runs_dir_label, 1)
        for button in (
            self.refresh_runs_button, self.open_run_button, self.resume_run_button,
            self.rename_run_button, self.delete_run_button,
        ):  # fmt: skip
            top.addWidget(button)
        return top

    @staticmethod
    def _button(text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        return button

    def _build_error(self) -> QLabel:
        self.runs_error = QLabel()
        self.runs_error.setWordWrap(True)
        self.runs_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runs_error.setVisible(False)
        return self.runs_error

    def _build_table(self) -> QStackedWidget:
        """The runs table, or the empty-state text in its place."""
        self.model = RunsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        table = self.runs_table = sized_table_view(
            self.proxy, sort_column=RunsTableModel.STARTED, stretch_column=RunsTableModel.NAME,
            width_samples=RunsTableModel.WIDTH_SAMPLES,
        )  # fmt: skip
        self.runs_empty = QLabel()
        self.runs_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.runs_empty.setWordWrap(True)
        self.runs_empty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runs_stack = QStackedWidget()
        self.runs_stack.addWidget(table)
        self.runs_stack.addWidget(self.runs_empty)
        return self.runs_stack

    def _build_splitter(self, table: QWidget) -> QSplitter:
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(table)
        self.splitter.addWidget(self.comparison)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 450])
        return self.splitter

    def _connect(self) -> None:
        self.refresh_runs_button.clicked.connect(self.refresh)
        self.open_run_button.clicked.connect(self.open_selected)
        self.rename_run_button.clicked.connect(self.rename_selected)
        self.delete_run_button.clicked.connect(self.delete_selected)
        self.resume_run_button.clicked.connect(self.resume_selected)
        self.runs_table.doubleClicked.connect(self._on_double_clicked)
        self.runs_table.selectionModel().selectionChanged.connect(self._on_selection_changed)

    # ------------------------------------------------------------------ public API

    def runs_dir(self) -> str | None:
        """The folder shown (None until set or until the page is first shown)."""
        return self._runs_dir

    @Slot(str)
    def set_runs_dir(self, path: str | Path) -> None:
        """Show the runs of another folder (it need not exist yet)."""
        self._runs_dir = str(path)
        self._listed = False
        self._pending_select = None
        self._show_error("")
        self.runs_dir_label.setText(f"Runs in <b>{html.escape(self._runs_dir)}</b>")
        self.runs_dir_label.setToolTip(self._runs_dir)
        self._syncing = True
        try:
            self.model.set_runs([])
        finally:
            self._syncing = False
        self._sync_selection()
        self._update_empty_state()
        self._ensure_watcher()
        self._sig_set_dir.emit(self._runs_dir)

    @Slot()
    def refresh(self) -> None:
        """List the runs folder again (on the watcher thread; the table follows)."""
        if self._runs_dir is None:
            self._use_default_dir()
            return
        self._ensure_watcher()
        self._sig_refresh.emit()

    def runs(self) -> list[RunInfo]:
        """Every listed run (model order)."""
        return self.model.runs()

    def selected_runs(self) -> list[RunInfo]:
        """The selected runs, top to bottom as the table shows them."""
        selection = self.runs_table.selectionModel()
        rows = sorted(index.row() for index in selection.selectedRows())
        return [
            self.model.run_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row()) for r in rows
        ]

    def select_runs(self, paths: list[str | Path]) -> None:
        """Select exactly these runs (those that are listed)."""
        rows = {str(run.path): i for i, run in enumerate(self.model.runs())}
        selection = QItemSelection()
        for path in paths:
            row = rows.get(str(path))
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.runs_table.selectionModel().select(selection, flags)

    def select_when_listed(self, paths: list[str | Path]) -> None:
        """List the folder again, then select exactly ``paths`` (e.g. two runs to compare)."""
        self.refresh()
        self._pending_select = [str(path) for path in paths]

    def curve(self, path: str | Path) -> pg.PlotDataItem | None:
        """The plotted curve of a selected run (None when it is not plotted)."""
        return self.comparison.curve(str(path))

    def plot_metric(self) -> str:
        """The plotted metric: "val_accuracy", "val_loss" or "loss"."""
        return self.comparison.plot_metric()

    def set_plot_metric(self, key: str) -> None:
        """Plot another metric (a key of METRICS)."""
        self.comparison.set_plot_metric(key)

    @Slot()
    def open_selected(self) -> None:
        """Emit sig_open_run for the one selected run."""
        runs = self.selected_runs()
        if len(runs) == 1:
            self._open(runs[0])

    def _open(self, run: RunInfo) -> None:
        (self.sig_open_recs_run if run.kind == "recs" else self.sig_open_run).emit(str(run.path))

    @Slot()
    def resume_selected(self) -> None:
        """Emit sig_resume_run for the one selected run; a run of several processes gets
        the command that continues it instead."""
        from studio.engine.runs.listing import resumable, resume_hint

        runs = self.selected_runs()
        if len(runs) != 1 or not resumable(runs[0]):
            return
        if runs[0].nproc > 1:
            self._show_error(str(resume_hint(runs[0])))
            return
        self._show_error("")
        self.sig_resume_run.emit(str(runs[0].path))

    @Slot()
    def rename_selected(self) -> None:
        """Ask for a new name for the one selected run and rename its folder."""
        runs = self.selected_runs()
        if len(runs) != 1:
            return
        run = runs[0]
        name = ask_new_name(self, run.name)
        if name is None:
            return
        from studio.engine.runs.manage import rename_run

        try:
            new_path = rename_run(run.path, name)
        except StudioError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        row = self.model.row_of(str(run.path))
        if row is not None:  # show it at once; the next listing confirms it
            self.model.replace_run(row, dataclasses.replace(run, path=new_path, name=new_path.name))
            self._sync_selection()
        self.refresh()

    @Slot()
    def delete_selected(self) -> None:
        """Ask, then move the selected runs to the trash (or delete them where there is none)."""
        runs = self.selected_runs()
        if not runs:
            return
        from studio.engine.runs.manage import trash_available

        if not self._confirm(delete_question([run.name for run in runs], trash_available())):
            return
        deleted, errors = delete_runs([run.path for run in runs], self._runs_dir)
        self._show_error("\n".join(errors))
        if deleted:
            keep = [path for path in self._selected_paths() if path not in deleted]
            self._apply_listing([r for r in self.model.runs() if str(r.path) not in deleted], keep)
        self.refresh()

    def _confirm(self, text: str) -> bool:  # tests replace this
        return confirm(self, text)

    @Slot()
    def shutdown(self) -> None:
        """Stop the timers and the watcher thread (waits for it). Safe to call twice."""
        self._poll.stop()
        self.comparison.stop()
        watch, self._watch = self._watch, None
        self._tick_pending = False
        if watch is not None:
            watch.shutdown()

    # ------------------------------------------------------------------ events

    def showEvent(self, event: QShowEvent) -> None:
        """Start following the folder while the page is visible."""
        super().showEvent(event)
        if self._runs_dir is None:
            self._use_default_dir()
        if not self._poll.isActive():
            self._poll.start()
            self._on_poll()

    def hideEvent(self, event: QHideEvent) -> None:
        """No polling while the page is hidden (another tab is up)."""
        super().hideEvent(event)
        self._poll.stop()

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark) in the error text."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "runs_error"):
            self._apply_palette()

    # ------------------------------------------------------------------ watcher

    def _ensure_watcher(self) -> None:
        if self._watch is not None:
            return
        watcher = RunsWatcher()
        self._sig_set_dir.connect(watcher.set_dir)
        self._sig_refresh.connect(watcher.refresh)
        self._sig_track.connect(watcher.track)
        self._sig_tick.connect(watcher.tick)
        watcher.sig_listed.connect(self._on_listed)
        watcher.sig_metrics.connect(self._on_metrics)
        watcher.sig_failed.connect(self._on_failed)
        watcher.sig_tick_done.connect(self._on_tick_done)
        self._watch = WorkerThread(watcher, "runs_watcher_thread", self)
        self._watch.start()
        if self.comparison.tracked():
            self._sig_track.emit(self.comparison.tracked())

    def _use_default_dir(self) -> None:
        from studio.engine.runs.layout import default_runs_dir

        self.set_runs_dir(default_runs_dir())

    @Slot()
    def _on_poll(self) -> None:
        if self._tick_pending or self._runs_dir is None:
            return
        self._ensure_watcher()
        self._tick_pending = True
        self._sig_tick.emit()

    @Slot()
    def _on_tick_done(self) -> None:
        self._tick_pending = False

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_error(message)

    @Slot(str, object)
    def _on_listed(self, runs_dir: str, runs: list[RunInfo]) -> None:
        if runs_dir != self._runs_dir:
            return  # a listing of the folder shown before
        if self.runs_error.text().startswith(f"{runs_dir}: cannot read"):
            self._show_error("")
        first = not self._listed
        self._listed = True
        keep = self._pending_select
        self._pending_select = None
        if keep is None and runs and (first or not self.selected_runs()):
            keep = [str(runs[0].path)]  # the newest run, so the plot is not empty
        self._apply_listing(runs, keep)

    @Slot(str, bool, object)
    def _on_metrics(self, path: str, fresh: bool, data: dict[str, dict[str, np.ndarray]]) -> None:
        self.comparison.add_metrics(path, fresh, data)

    # ------------------------------------------------------------------ selection

    def _apply_listing(self, runs: list[RunInfo], keep: list[str] | None = None) -> None:
        """Show ``runs``; keep the selection (or select ``keep``) across a model reset."""
        wanted = self._selected_paths() if keep is None else keep
        self._syncing = True
        try:
            if self.model.set_runs(runs):
                self.select_runs(list(wanted))
            elif keep is not None:
                self.select_runs(list(keep))
        finally:
            self._syncing = False
        self._update_empty_state()
        self._sync_selection()

    def _selected_paths(self) -> list[str]:
        return [str(run.path) for run in self.selected_runs()]

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self._syncing:
            self._sync_selection()

    def _sync_selection(self) -> None:
        """Match the curves, the diff table and the buttons to the selection."""
        if self.comparison.compare(self.selected_runs()):
            self._ensure_watcher()
            self._sig_track.emit(self.comparison.tracked())
        self._update_buttons()

    def _update_buttons(self) -> None:
        n = len(self.runs_table.selectionModel().selectedRows())
        self.open_run_button.setEnabled(n == 1)
        self.rename_run_button.setEnabled(n == 1)
        self.delete_run_button.setEnabled(n >= 1)
        from studio.engine.runs.listing import resumable

        picked = self.selected_runs() if n == 1 else []
        self.resume_run_button.setEnabled(bool(picked) and resumable(picked[0]))
        self.refresh_runs_button.setEnabled(True)

    def _update_empty_state(self) -> None:
        if self.model.rowCount() > 0:
            self.runs_stack.setCurrentWidget(self.runs_table)
            return
        if self._runs_dir is None:
            self.runs_empty.setText("No runs folder chosen.")
        elif not self._listed:
            self.runs_empty.setText(f"Reading {self._runs_dir} …")
        else:
            self.runs_empty.setText(empty_text(self._runs_dir))
        self.runs_stack.setCurrentWidget(self.runs_empty)

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        row = self.model.row_of(str(index.data(PATH_ROLE)))
        if row is not None:
            self._open(self.model.run_at(row))

    def _show_error(self, message: str) -> None:
        self.runs_error.setText(message)
        self.runs_error.setToolTip(message)
        self.runs_error.setVisible(bool(message))

    def _apply_palette(self) -> None:
        error = self.runs_error.palette()
        error.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.runs_error.setPalette(error)
