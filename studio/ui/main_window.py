"""The main window: wires the pages to the training controller; holds no training logic."""

from __future__ import annotations

import contextlib
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from studio.config import SAMPLE_DATASET, StudioConfig, load_config, load_config_text
from studio.errors import StudioError
from studio.ui.menus import (
    ABOUT,
    DATASET_FILTER,
    LOAD,
    OPEN,
    OPEN_FOLDER,
    PAUSE,
    PAUSE_TIP_DISTRIBUTED,
    QUIT,
    SAVE,
    SHORTCUTS,
    STOP,
    TRAIN,
    TUNE,
    Command,
    MenuItem,
    build_menus,
    build_toolbar,
    export_command,
    icon,
    make_action,
    show_about,
)
from studio.ui.pages.dataset import DatasetPage
from studio.ui.pages.evaluation import EvaluationPage
from studio.ui.pages.explorer import ExplorerPage
from studio.ui.pages.label_issues import LabelIssuesPage
from studio.ui.pages.playground import PlaygroundPage
from studio.ui.pages.recommend import RecommendPage
from studio.ui.pages.runs import RunsPage
from studio.ui.pages.setup import SetupPage
from studio.ui.pages.training import TrainingPage
from studio.ui.pages.tune import TunePage
from studio.ui.widgets.banner import ErrorBanner
from studio.ui.widgets.export_dialog import RunExporter, ask_export_target
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.open_dialogs import ask_dataset_file, ask_dataset_folder
from studio.ui.widgets.recent_menu import RecentMenu
from studio.ui.widgets.shortcuts_dialog import ShortcutsDialog, window_shortcuts
from studio.ui.widgets.status_readout import TrainingReadout
from studio.ui.widgets.tooltips import add_range_tips
from studio.ui.widgets.window_state import restore_window, save_window
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.payloads import EpochDone, RunEnded, RunFailed, RunFinished, StepsBatch
from studio.ui.workers.review_tasks import RetrainRequest
from studio.ui.workers.training import TrainingController

RECENT_MENU = "Open &recent"


class MainWindow(QMainWindow):
    """Dataset → Setup → Training, with Train/Pause/Stop in the toolbar."""

    sig_training_done = Signal(object)
    """A run ended, after the window went back to idle: ``RunFinished`` or ``RunFailed``."""
    sig_training_update = Signal(object)
    """A throttled progress update from the worker (``StepsBatch``), re-emitted here."""

    def __init__(self, settings: QSettings | None = None, runs_dir: str | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("Embedding Studio")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.settings = settings or QSettings("EmbeddingStudio", "studio")
        self.runs_dir = runs_dir

        self.dataset_page = DatasetPage()
        self.setup_page = SetupPage()
        self.training_page = TrainingPage()
        self.evaluation_page = EvaluationPage()
        self.playground_page = PlaygroundPage()
        self.explorer_page = ExplorerPage()
        self.runs_page = RunsPage()
        self.tune_page = TunePage()
        self.label_issues_page = LabelIssuesPage()
        self.recommend_page = RecommendPage(runs_dir)
        self.tabs = QTabWidget()
        for page, title in (
            (self.dataset_page, "1 · Dataset"), (self.setup_page, "2 · Setup"),
            (self.training_page, "3 · Training"), (self.evaluation_page, "Evaluation"),
            (self.playground_page, "Playground"), (self.explorer_page, "Embeddings"),
            (self.runs_page, "Runs"), (self.tune_page, "Tune"),
            (self.label_issues_page, "Label issues"), (self.recommend_page, "Recommend"),
        ):  # fmt: skip
            self.tabs.addTab(page, title)
        self.playground_page.set_runs_dir(runs_dir)
        if runs_dir:
            self.runs_page.set_runs_dir(runs_dir)
        self.active_run: str | None = None
        self._compare_with: str | None = None  # a run trained on its corrected labels ends
        self.banner = ErrorBanner()
        self.exporter = RunExporter(self)
        self.exporter.sig_exported.connect(self._on_exported)
        self.exporter.sig_failed.connect(partial(self.banner.show_error, title="Export failed"))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.controller = TrainingController(self)
        self._make_actions()
        self.readout = TrainingReadout(self.statusBar())
        self.statusBar().showMessage("Ready")
        self._connect()
        self._last_result: RunEnded | None = None
        self._evaluation_notice = False
        self._devices_requested = False
        name_after_attributes(self)  # before restoring: splitters are keyed by names
        add_range_tips(self)
        self._restore_settings()
        self._update_actions()

    # -- construction ------------------------------------------------------------------
    def _make_actions(self) -> None:
        self.open_action = make_action(self, OPEN, self.open_dialog)
        self.open_folder_action = make_action(self, OPEN_FOLDER, self.open_folder_dialog)
        self.train_action = make_action(self, TRAIN, self.start_training)
        self.pause_action = make_action(self, PAUSE, self.toggle_pause)
        self._pause_tip = self.pause_action.toolTip()
        self.stop_action = make_action(self, STOP, self.stop_training)
        self.tune_action = make_action(
            self, TUNE, lambda: self.tabs.setCurrentWidget(self.tune_page)
        )
        self.save_action = make_action(self, SAVE, self.setup_page.save_dialog)
        self.load_action = make_action(self, LOAD, self.setup_page.load_dialog)
        self.quit_action = make_action(self, QUIT, self.close)
        self.about_action = make_action(self, ABOUT, partial(show_about, self))
        self.shortcuts_action = make_action(self, SHORTCUTS, self.show_shortcuts)
        for i in range(min(self.tabs.count(), 9)):  # Alt+1 .. Alt+9: the first pages
            go = Command(f"page{i + 1}", self.tabs.tabText(i), "Show this page", f"Alt+{i + 1}")
            self.addAction(make_action(self, go, partial(self.tabs.setCurrentIndex, i)))
        self.export_action = make_action(self, export_command(), self.export_dialog)
        self.toolbar = build_toolbar(
            self, [self.open_action, None, self.train_action, self.pause_action, self.stop_action]
        )
        training: list[MenuItem] = [
            self.train_action, self.pause_action, self.stop_action, None, self.tune_action,
        ]  # fmt: skip
        file: list[MenuItem] = [
            self.open_action, self.open_folder_action, RECENT_MENU, None,
            self.load_action, self.save_action, self.export_action, None, self.quit_action,
        ]  # fmt: skip
        menus: list[tuple[str, list[MenuItem]]] = [
            ("&File", file), ("&Training", training),
            ("&Help", [self.shortcuts_action, self.about_action]),
        ]  # fmt: skip
        recent_menu = build_menus(self.menuBar(), menus)[RECENT_MENU]
        self.recent_datasets = RecentMenu(recent_menu, self.settings)
        self.recent_datasets.sig_open.connect(self.open_path)

    def _connect(self) -> None:
        self.dataset_page.sig_loaded.connect(self._on_dataset_loaded)
        self.dataset_page.sig_failed.connect(self._on_dataset_failed)
        self.dataset_page.sig_busy.connect(self._update_actions)
        self.setup_page.sig_validity.connect(self._update_actions)
        self.setup_page.sig_vocab_size.connect(self.dataset_page.set_vocab_size)
        self.controller.sig_running.connect(self._on_running)
        self.runs_page.sig_open_run.connect(self.open_run)
        self.runs_page.sig_resume_run.connect(self.resume_run)
        self.runs_page.sig_open_recs_run.connect(self.open_recs_run)
        self.recommend_page.sig_run_ready.connect(self._on_recs_run_ready)
        self.setup_page.sig_devices_listed.connect(self.recommend_page.set_devices)
        self.tune_page.sig_start_requested.connect(self.start_tuning)
        self.tune_page.sig_running.connect(self._update_actions)
        self.label_issues_page.sig_running.connect(self._update_actions)
        self.recommend_page.sig_running.connect(self._update_actions)
        self.label_issues_page.sig_retrain_requested.connect(self.retrain)
        self.evaluation_page.sig_pair_selected.connect(self.label_issues_page.filter_pair)
        self.tabs.currentChanged.connect(self._on_tab)

    # -- dataset -----------------------------------------------------------------------
    @Slot(str)
    def open_path(self, path: str) -> None:
        self.banner.hide()
        self.tabs.setCurrentWidget(self.dataset_page)
        self.dataset_page.load(path)

    @Slot()
    def open_dialog(self) -> None:
        last = str(self.settings.value("lastDataset", str(SAMPLE_DATASET)))
        if path := ask_dataset_file(self, last, DATASET_FILTER):
            self.open_path(path)

    @Slot()
    def open_folder_dialog(self) -> None:
        if path := ask_dataset_folder(self):
            self.open_path(path)

    @Slot(str)
    def _on_dataset_loaded(self, path: str) -> None:
        page = self.dataset_page
        shape = page.text_shape()  # median tokens per document, share in spaceless scripts
        self.setup_page.set_data(page.data_values(), page.label_count(), page.vocab_found(), shape)
        self.settings.setValue("lastDataset", path)
        self.recent_datasets.add(path)
        self.statusBar().showMessage(f"Loaded {path}", 5000)
        self._update_actions()

    @Slot(str)
    def _on_dataset_failed(self, _message: str) -> None:  # the page shows the message
        self.statusBar().showMessage("The dataset could not be loaded", 5000)
        self._update_actions()

    # -- training ----------------------------------------------------------------------
    def is_busy(self) -> bool:
        """A model trains: a run, a study's trial or the label-issue finder's folds."""
        jobs = (self.controller, self.tune_page, self.label_issues_page, self.recommend_page)
        return any(job.is_running() for job in jobs)

    def can_train(self) -> bool:
        return not self.is_busy() and self.dataset_page.is_ready() and self.setup_page.is_valid()

    @Slot()
    def start_training(self) -> None:
        if not self.can_train():
            return
        try:
            config = self.setup_page.config()
        except StudioError as exc:
            self.banner.show_error(str(exc))
            return
        self.settings.setValue("lastSetup", self.setup_page.config_text())
        self._compare_with = None
        self._train(config)

    @Slot(object)
    def retrain(self, request: RetrainRequest) -> None:
        """Train a reviewed run's setup on its corrected copy; then compare the two runs."""
        if self.is_busy():
            self.statusBar().showMessage("A model is training: retrain when it ends", 5000)
            return
        self._compare_with = request.compare_with
        self._train(request.config)

    @Slot(str)
    def resume_run(self, run_dir: str) -> None:
        """Continue a killed or stopped run in its own folder from its last checkpoint."""
        if self.is_busy():
            self.statusBar().showMessage("A model is training: resume when it ends", 5000)
            return
        try:
            config = load_config(Path(run_dir) / "config.toml")
        except StudioError as exc:
            self.banner.show_error(str(exc))
            return
        self._compare_with = None
        self._train(config, resume_dir=run_dir)

    def _train(self, config: StudioConfig, resume_dir: str | None = None) -> None:
        self.banner.hide()
        selection = self.setup_page.device_selection()
        self.settings.setValue("deviceSelection", selection.key())
        if resume_dir is not None:  # a run resumes in one process, on its own device
            selection = DeviceSelection(config.device.device)
        worker = self.controller.start(config, self.runs_dir, selection, resume_dir)
        page = self.training_page
        page.on_launching(selection.describe(), selection.nproc)
        if selection.distributed:
            self._evaluation_notice = True
            self.evaluation_page.show_notice(
                f"<b>Training on {selection.describe()}</b>: a run of several processes is "
                "evaluated from its saved model when it ends; its evaluation appears here then."
            )
        worker.sig_started.connect(page.on_started)
        for signal, slots in ((worker.sig_update, (page.on_update, self._on_update)),
                              (worker.sig_epoch, (page.on_epoch, self._on_epoch)),
                              (worker.sig_finished, (page.on_finished, self._on_finished)),
                              (worker.sig_failed, (page.on_failed, self._on_failed))):  # fmt: skip
            for slot in slots:  # the page first, then the window
                signal.connect(slot)
        self.tabs.setCurrentWidget(page)
        self.statusBar().showMessage("Training…")

    @Slot()
    def toggle_pause(self) -> None:
        if not self.controller.is_running():
            self.pause_action.setChecked(False)
            return
        if self.controller.is_paused():
            self.controller.resume()
            self.statusBar().showMessage("Training…")
        else:
            self.controller.pause()
            self.statusBar().showMessage("Paused")
        self.pause_action.setChecked(self.controller.is_paused())

    @Slot()
    def stop_training(self) -> None:
        if self.controller.is_running():
            self.controller.stop()
            self.statusBar().showMessage("Stopping…")

    @Slot()
    def start_tuning(self) -> None:
        """Tune from the loaded dataset and the Setup page's config."""
        if not self.can_train() or self.tune_page.is_running():
            self.statusBar().showMessage("Needs a dataset, a valid setup and no run", 5000)
            return
        try:
            config = self.setup_page.config()
        except StudioError as exc:
            self.banner.show_error(str(exc))
            return
        self.banner.hide()
        self.tune_page.start(config, self.runs_dir)
        self.tabs.setCurrentWidget(self.tune_page)

    @Slot(object)
    def _on_update(self, u: StepsBatch) -> None:
        self.sig_training_update.emit(u)
        if u.notice:
            self.statusBar().showMessage(u.notice, 15000)
        self.readout.show(u)

    @Slot(object)
    def _on_epoch(self, e: EpochDone) -> None:
        """Evaluation and pinned neighbours follow the run at each epoch end."""
        if e.predictions is not None:
            self.evaluation_page.show_epoch(e.predictions, e.epoch)
        if e.run_dir:
            self.explorer_page.on_epoch_end(e.run_dir)

    @Slot(str)
    def open_run(self, run_dir: str) -> None:
        """Make a saved run the one the evaluation, playground and explorer show."""
        self.active_run = run_dir
        self.evaluation_page.show_run(run_dir)
        self.playground_page.refresh_runs()
        self.playground_page.select_run(run_dir)
        self.explorer_page.set_run(run_dir)
        self.label_issues_page.set_run(run_dir)
        self.tabs.setCurrentWidget(self.evaluation_page)

    @Slot(str)
    def open_recs_run(self, run_dir: str) -> None:  # the Recommend page answers from it
        self.recommend_page.use_run(run_dir)
        self.tabs.setCurrentWidget(self.recommend_page)

    @Slot(str)
    def _on_recs_run_ready(self, run_dir: str) -> None:  # its items on the Embeddings page
        self.explorer_page.set_run(run_dir, project=self.tabs.currentWidget() is self.explorer_page)

    @Slot()
    def export_dialog(self) -> None:
        if not self.active_run:
            self.statusBar().showMessage("Train a model or open a run first", 5000)
            return
        target = ask_export_target(self, self.active_run)
        if target is not None:
            self.export_run(*target)

    def export_run(self, fmt: str, out: str) -> None:
        if self.active_run:
            self.statusBar().showMessage(f"Exporting {fmt}…")
            self.exporter.export(self.active_run, fmt, out)

    @Slot(str)
    def _on_exported(self, path: str) -> None:
        self.statusBar().showMessage(f"Exported {path}", 10000)

    @Slot(object)
    def _on_finished(self, result: RunFinished) -> None:
        self._last_result = result
        if result.run_dir:
            self.active_run = result.run_dir
            self.playground_page.refresh_runs()
            self.playground_page.select_run(self.active_run)
            self.explorer_page.set_run(
                self.active_run, project=self.tabs.currentWidget() is self.explorer_page
            )
            self.runs_page.refresh()
            self.label_issues_page.set_run(self.active_run)
            if self._compare_with:  # trained on corrected labels: beside the reviewed run
                self.runs_page.select_when_listed([self._compare_with, self.active_run])
                self.tabs.setCurrentWidget(self.runs_page)
            if result.epochs:
                # the saved model: the best epoch's weights when early stopping restored them
                self.evaluation_page.show_run(self.active_run)
                self._evaluation_notice = False
        self._compare_with = None
        self.statusBar().showMessage(f"Training {result.status.replace('_', ' ')}", 10000)

    @Slot(object)
    def _on_failed(self, failed: RunFailed) -> None:
        self._last_result = failed
        self.banner.show_error(failed.message, failed.details)
        self.statusBar().showMessage("Training failed", 10000)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._update_actions()
        if not running:
            self.pause_action.setChecked(False)
            if self._evaluation_notice:
                self._evaluation_notice = False
                self.evaluation_page.clear_notice()
            self.sig_training_done.emit(self._last_result or RunFinished("stopped"))

    @Slot()
    def _update_actions(self) -> None:
        running = self.controller.is_running()
        self.train_action.setEnabled(self.can_train())
        self.pause_action.setEnabled(running and self.controller.can_pause())
        self.pause_action.setToolTip(
            PAUSE_TIP_DISTRIBUTED if self.controller.is_distributed() else self._pause_tip
        )
        self.stop_action.setEnabled(running)
        self.open_action.setEnabled(not running)
        self.load_action.setEnabled(not running)
        self.setup_page.setEnabled(not running)
        self.dataset_page.setEnabled(not running)

    # -- window ------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        restore_window(self.settings, self, self.tabs)
        setup = self.settings.value("lastSetup", "")
        if isinstance(setup, str) and setup:
            with contextlib.suppress(StudioError):  # an outdated saved setup: keep defaults
                self.setup_page.apply_config(load_config_text(setup))
        selection = DeviceSelection.from_key(str(self.settings.value("deviceSelection", "")))
        if selection is not None:
            self.setup_page.set_device_selection(selection)

    def load_initial(self, path: str | None = None) -> None:
        """The dataset to show first: ``path``, the last one used, or the bundled sample."""
        last = str(self.settings.value("lastDataset", ""))
        self.open_path(path or (last if last and Path(last).exists() else str(SAMPLE_DATASET)))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and not self.controller.is_running():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    @Slot()
    def show_shortcuts(self) -> None:  # every shortcut, read from the actions and buttons
        ShortcutsDialog(window_shortcuts(self, self.tabs), self).exec()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_busy():
            answer = QMessageBox.question(
                self, "Training in progress",
                "A model is training. Stop it and quit? The run folder keeps what was saved.",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        save_window(self.settings, self, self.tabs)
        self.settings.setValue("lastSetup", self.setup_page.config_text())
        self.settings.setValue("deviceSelection", self.setup_page.device_selection().key())
        event.accept()

    def shutdown(self) -> None:
        """Stop training and every background thread, waiting for each (idempotent)."""
        self.controller.shutdown()
        self.dataset_page.shutdown()
        for page in (
            self.evaluation_page, self.playground_page, self.explorer_page, self.runs_page,
            self.tune_page, self.label_issues_page, self.recommend_page,
        ):  # fmt: skip
            page.shutdown()
        self.exporter.shutdown()
        self.setup_page.shutdown()

    @Slot(int)
    def _on_tab(self, index: int) -> None:
        """A page that shows stored data brings it up to date when it becomes current."""
        page = self.tabs.widget(index)
        if page is self.explorer_page:
            self.explorer_page.ensure_projection()
        elif page is self.playground_page:
            self.playground_page.ensure_runs_listed()
        elif page is self.runs_page:
            self.runs_page.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._devices_requested:
            self._devices_requested = True
            QTimer.singleShot(0, self.setup_page.refresh_devices)  # loads torch off the GUI thread
