"""The main window: wires the pages to the training controller; holds no training logic."""

from __future__ import annotations

import contextlib
import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio import __version__
from studio.config import load_config_text
from studio.errors import StudioError
from studio.ui.pages.dataset import DatasetPage
from studio.ui.pages.evaluation import EvaluationPage
from studio.ui.pages.explorer import ExplorerPage
from studio.ui.pages.playground import PlaygroundPage
from studio.ui.pages.runs import RunsPage
from studio.ui.pages.setup import SetupPage
from studio.ui.pages.training import TrainingPage, format_seconds
from studio.ui.widgets.device_picker import DeviceSelection
from studio.ui.workers.tasks import TaskRunner
from studio.ui.workers.training import TrainingController

ICONS = Path(__file__).resolve().parents[2] / "icons"
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "manpages" / "manpages.tsv"
MAX_RECENT = 8
PAUSE_TIP_DISTRIBUTED = (
    "Pause is not available for a run of several processes: its ranks train in step. "
    "Stop it instead; a stopped run keeps what it has learned."
)
DATASET_FILTER = (
    "Datasets (*.csv *.tsv *.tab *.jsonl *.ndjson *.json *.txt *.parquet *.pq);;All files (*)"
)


def icon(name: str) -> QIcon:
    return QIcon(str(ICONS / f"{name}.svg"))


class ErrorBanner(QWidget):
    """An inline error with a Details… button (never a modal that blocks the window)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.label = QLabel(objectName="errorText", wordWrap=True)
        self.details_button = QPushButton("Details…", objectName="errorDetailsButton")
        self.close_button = QPushButton("Dismiss", objectName="errorDismissButton")
        self.details = ""
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.close_button)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#errorBanner { background: palette(alternate-base); border-radius: 4px; }"
        )
        self.details_button.clicked.connect(self._show_details)
        self.close_button.clicked.connect(self.hide)
        self.hide()

    def show_error(self, message: str, details: str = "") -> None:
        self.label.setText(f"<b>Training failed:</b> {html.escape(message)}")
        self.details = details
        self.details_button.setVisible(bool(details))
        self.show()

    @Slot()
    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Error details", self.label.text(), parent=self)
        box.setDetailedText(self.details)
        box.open()


class MainWindow(QMainWindow):
    """Dataset → Setup → Training, with Train/Pause/Stop in the toolbar."""

    sig_training_done = Signal(dict)
    """A run ended (finished, stopped or failed), after the window went back to idle."""
    sig_training_update = Signal(dict)
    """A throttled progress update from the worker, re-emitted on the GUI thread."""

    def __init__(self, settings: QSettings | None = None, runs_dir: str | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
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
        self.tabs = QTabWidget(objectName="pages")
        self.tabs.addTab(self.dataset_page, "1 · Dataset")
        self.tabs.addTab(self.setup_page, "2 · Setup")
        self.tabs.addTab(self.training_page, "3 · Training")
        self.tabs.addTab(self.evaluation_page, "Evaluation")
        self.tabs.addTab(self.playground_page, "Playground")
        self.tabs.addTab(self.explorer_page, "Embeddings")
        self.tabs.addTab(self.runs_page, "Runs")
        self.export_tasks = TaskRunner("exportTasks", self)
        self.export_tasks.sig_result.connect(self._on_exported)
        self.export_tasks.sig_error.connect(self._on_export_failed)
        self.playground_page.set_runs_dir(runs_dir)
        if runs_dir:
            self.runs_page.set_runs_dir(runs_dir)
        self.active_run: str | None = None
        self.banner = ErrorBanner()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.controller = TrainingController(self)
        self._make_actions()
        self._make_status_bar()
        self._connect()
        self._last_result: dict[str, Any] | None = None
        self._evaluation_notice = False
        self._restore_settings()
        self._update_actions()

    # -- construction ------------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(text: str, name: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
            a = QAction(icon(name) if (ICONS / f"{name}.svg").exists() else QIcon(), text, self)
            a.setObjectName(f"{name}Action")
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.setToolTip(f"{tip or text} ({a.shortcut().toString()})" if shortcut else tip or text)
            a.setStatusTip(tip or text)
            a.triggered.connect(slot)
            return a

        self.open_action = action(
            "&Open dataset…",
            "open",
            self.open_dialog,
            QKeySequence.StandardKey.Open,
            "Open a CSV, TSV, JSONL, fastText or Parquet file",
        )
        self.open_folder_action = action(
            "Open &folder…",
            "openFolder",
            self.open_folder_dialog,
            None,
            "Open a folder with one subfolder of .txt files per class",
        )
        self.train_action = action(
            "&Train", "train", self.start_training, "Ctrl+Return", "Start training"
        )
        self.pause_action = action(
            "&Pause", "pause", self.toggle_pause, "Ctrl+P", "Pause or resume"
        )
        self.pause_action.setCheckable(True)
        self._pause_tip = self.pause_action.toolTip()
        self.stop_action = action(
            "&Stop", "stop", self.stop_training, Qt.Key.Key_Escape, "Stop training"
        )
        self.save_action = action(
            "&Save setup…",
            "save",
            self.setup_page._save_dialog,
            QKeySequence.StandardKey.Save,
            "Save the setup as a TOML file the CLI reads",
        )
        self.load_action = action(
            "&Load setup…", "load", self.setup_page._load_dialog, None, "Load a setup TOML file"
        )
        self.quit_action = action(
            "&Quit", "quit", self.close, QKeySequence.StandardKey.Quit, "Quit"
        )
        self.about_action = action("&About Embedding Studio", "about", self.about, None, "About")
        self.export_action = action(
            "&Export model…",
            "export",
            self.export_dialog,
            "Ctrl+E",
            "Export the current run: ONNX, TorchScript, word2vec, …",
        )

        bar = QToolBar("Main", objectName="mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addAction(self.open_action)
        bar.addSeparator()
        bar.addAction(self.train_action)
        bar.addAction(self.pause_action)
        bar.addAction(self.stop_action)
        self.addToolBar(bar)
        for a, name in (
            (self.train_action, "trainButton"),
            (self.pause_action, "pauseButton"),
            (self.stop_action, "stopButton"),
            (self.open_action, "openButton"),
        ):
            bar.widgetForAction(a).setObjectName(name)  # fmt: skip

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.triggered.connect(self._open_recent)
        file_menu.addSeparator()
        file_menu.addAction(self.load_action)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = menu.addMenu("&Training")
        for a in (self.train_action, self.pause_action, self.stop_action):
            train_menu.addAction(a)
        menu.addMenu("&Help").addAction(self.about_action)

    def _make_status_bar(self) -> None:
        self.speed_label = QLabel(objectName="speedLabel")
        self.time_label = QLabel(objectName="timeLabel")
        self.gpu_label = QLabel(objectName="gpuMemoryLabel")
        for w in (self.gpu_label, self.speed_label, self.time_label):
            self.statusBar().addPermanentWidget(w)
        self.statusBar().showMessage("Ready")

    def _connect(self) -> None:
        self.dataset_page.sig_loaded.connect(self._on_dataset_loaded)
        self.dataset_page.sig_failed.connect(self._on_dataset_failed)
        self.dataset_page.sig_busy.connect(self._update_actions)
        self.setup_page.sig_validity.connect(self._update_actions)
        self.setup_page.sig_vocab_size.connect(self.dataset_page.set_vocab_size)
        self.controller.sig_running.connect(self._on_running)
        self.runs_page.sig_open_run.connect(self.open_run)
        self.tabs.currentChanged.connect(self._on_tab)

    # -- dataset -----------------------------------------------------------------------
    @Slot(str)
    def open_path(self, path: str) -> None:
        self.banner.hide()
        self.tabs.setCurrentWidget(self.dataset_page)
        self.dataset_page.load(path)

    @Slot()
    def open_dialog(self) -> None:
        start = str(Path(self.settings.value("lastDataset", str(SAMPLE))).parent)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open dataset", start,
            DATASET_FILTER,
        )  # fmt: skip
        if path:
            self.open_path(path)

    @Slot()
    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of class subfolders")
        if path:
            self.open_path(path)

    @Slot(str)
    def _on_dataset_loaded(self, path: str) -> None:
        values = self.dataset_page.data_values()
        loaded = getattr(self.dataset_page, "loaded", None)
        n_labels = len(getattr(loaded, "label_counts", {}) or {}) or 2
        sizes = getattr(loaded, "oov_sizes", None)
        vocab_found = int(sizes[-1]) if sizes is not None and len(sizes) else None
        self.setup_page.set_data(values, n_labels, vocab_found)
        self.settings.setValue("lastDataset", path)
        self._add_recent(path)
        self.statusBar().showMessage(f"Loaded {path}", 5000)
        self._update_actions()

    @Slot(str)
    def _on_dataset_failed(self, message: str) -> None:
        self.statusBar().showMessage("The dataset could not be loaded", 5000)
        self._update_actions()

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self._recent() if p != path]
        recent.insert(0, path)
        self.settings.setValue("recentDatasets", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _recent(self) -> list[str]:
        value = self.settings.value("recentDatasets", [])
        if isinstance(value, str):
            return [value]
        return [str(v) for v in (value or [])]

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            self.recent_menu.addAction(path).setData(path)
        self.recent_menu.setEnabled(bool(self._recent()))

    @Slot(QAction)
    def _open_recent(self, action: QAction) -> None:
        self.open_path(str(action.data()))

    # -- training ----------------------------------------------------------------------
    def can_train(self) -> bool:
        return (
            not self.controller.is_running()
            and self.dataset_page.is_ready()
            and self.setup_page.is_valid()
        )

    @Slot()
    def start_training(self) -> None:
        if not self.can_train():
            return
        try:
            config = self.setup_page.config()
        except StudioError as exc:
            self.banner.show_error(str(exc))
            return
        self.banner.hide()
        selection = self.setup_page.devices.selection()
        self.settings.setValue("lastSetup", self.setup_page.config_text())
        self.settings.setValue("deviceSelection", selection.key())
        worker = self.controller.start(config, self.runs_dir, selection)
        page = self.training_page
        page.on_launching(selection.describe(), selection.nproc)
        if selection.distributed:
            self._evaluation_notice = True
            self.evaluation_page.show_notice(
                f"<b>Training on {selection.describe()}</b>: a run of several processes is "
                "evaluated from its saved model when it ends; its evaluation appears here then."
            )
        worker.sig_started.connect(page.on_started)
        worker.sig_update.connect(page.on_update)
        worker.sig_update.connect(self._on_update)
        worker.sig_epoch.connect(page.on_epoch)
        worker.sig_epoch.connect(self._on_epoch)
        worker.sig_finished.connect(page.on_finished)
        worker.sig_finished.connect(self._on_finished)
        worker.sig_failed.connect(page.on_failed)
        worker.sig_failed.connect(self._on_failed)
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

    @Slot(dict)
    def _on_update(self, u: dict[str, Any]) -> None:
        self.sig_training_update.emit(u)
        if u.get("notice"):
            self.statusBar().showMessage(str(u["notice"]), 15000)
        if "docs_per_second" in u:
            self.speed_label.setText(f"{u['docs_per_second']:,.0f} docs/s")
            self.time_label.setText(
                f"elapsed {format_seconds(u['elapsed'])} · ETA {format_seconds(u['eta'])}"
            )
        if u.get("gpu_memory") is not None:
            self.gpu_label.setText(f"GPU memory {u['gpu_memory'] / 2**20:,.0f} MiB")

    @Slot(dict)
    def _on_epoch(self, e: dict[str, Any]) -> None:
        """Evaluation and pinned neighbours follow the run at each epoch end."""
        predictions, prepared = e.get("predictions"), e.get("prepared")
        if predictions is not None and prepared is not None:
            from studio.engine.analysis.report import predictions_from_arrays

            self.evaluation_page.set_predictions(
                predictions_from_arrays(**predictions), prepared.text, f"epoch {e['epoch']}"
            )
        if e.get("run_dir"):
            self.explorer_page.on_epoch_end(str(e["run_dir"]))

    @Slot(str)
    def open_run(self, run_dir: str) -> None:
        """Make a saved run the one the evaluation, playground and explorer show."""
        self.active_run = run_dir
        self.evaluation_page.show_run(run_dir)
        self.playground_page.refresh_runs()
        self.playground_page.select_run(run_dir)
        self.explorer_page.set_run(run_dir)
        self.tabs.setCurrentWidget(self.evaluation_page)

    @Slot()
    def export_dialog(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        if not self.active_run:
            self.statusBar().showMessage("Train a model or open a run first", 5000)
            return
        formats = ["onnx", "torchscript", "word2vec", "projector", "tensorboard", "csv"]
        fmt, ok = QInputDialog.getItem(self, "Export", "Format", formats, 0, False)
        if not ok:
            return
        suffix = {"onnx": ".onnx", "torchscript": ".pt", "word2vec": ".vec"}.get(fmt, "")
        default = str(Path(self.active_run) / f"export-{fmt}{suffix}")
        if suffix:
            out, _ = QFileDialog.getSaveFileName(self, f"Export {fmt}", default)
        else:
            out = QFileDialog.getExistingDirectory(self, f"Export {fmt} into a new folder…")
            out = str(Path(out) / f"{Path(self.active_run).name}-{fmt}") if out else ""
        if out:
            self.export_run(fmt, out)

    def export_run(self, fmt: str, out: str) -> None:
        run = self.active_run
        if not run:
            return

        def work() -> str:
            from studio.engine.export.formats_all import export_run

            return str(export_run(run, fmt, out))

        self.statusBar().showMessage(f"Exporting {fmt}…")
        self.export_tasks.submit(work)

    @Slot(object)
    def _on_exported(self, path: object) -> None:
        self.statusBar().showMessage(f"Exported {path}", 10000)

    @Slot(str, str)
    def _on_export_failed(self, message: str, details: str) -> None:
        self.banner.show_error(f"export failed: {message}", details)

    @Slot(dict)
    def _on_finished(self, result: dict[str, Any]) -> None:
        self._last_result = result
        if result.get("run_dir"):
            self.active_run = str(result["run_dir"])
            self.playground_page.refresh_runs()
            self.playground_page.select_run(self.active_run)
            self.explorer_page.set_run(
                self.active_run, project=self.tabs.currentWidget() is self.explorer_page
            )
            self.runs_page.refresh()
            if result.get("epochs"):
                # the saved model: the best epoch's weights when early stopping restored them
                self.evaluation_page.show_run(self.active_run)
                self._evaluation_notice = False
        self.statusBar().showMessage(f"Training {result['status'].replace('_', ' ')}", 10000)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._last_result = {"status": "failed", "message": message}
        self.banner.show_error(message, details)
        self.statusBar().showMessage("Training failed", 10000)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._update_actions()
        if not running:
            self.pause_action.setChecked(False)
            if self._evaluation_notice:
                self._evaluation_notice = False
                self.evaluation_page.clear_notice()
            self.sig_training_done.emit(self._last_result or {"status": "stopped"})

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
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 800)
        setup = self.settings.value("lastSetup", "")
        if isinstance(setup, str) and setup:
            with contextlib.suppress(StudioError):  # an outdated saved setup: keep defaults
                self.setup_page.apply_config(load_config_text(setup))
        selection = DeviceSelection.from_key(str(self.settings.value("deviceSelection", "")))
        if selection is not None:
            self.setup_page.devices.set_selection(selection)
        self._fill_recent_menu()

    def load_initial(self, path: str | None = None) -> None:
        """The dataset to show first: ``path``, the last one used, or the bundled sample."""
        last = self.settings.value("lastDataset", "")
        candidate = path or (str(last) if last and Path(str(last)).exists() else str(SAMPLE))
        self.open_path(candidate)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and not self.controller.is_running():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0].toLocalFile())
            event.acceptProposedAction()

    @Slot()
    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Embedding Studio",
            f"<h3>Embedding Studio {__version__}</h3>"
            "<p>Train text classifiers with a learned embedding table, on CPU, CUDA or MPS, "
            "and watch them learn.</p><p>The same engine runs headless as <code>studio</code> "
            "on the command line.</p>",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.is_running():
            answer = QMessageBox.question(
                self, "Training in progress",
                "A model is training. Stop it and quit? The run folder keeps what was saved.",
            )  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("lastSetup", self.setup_page.config_text())
        self.settings.setValue("deviceSelection", self.setup_page.devices.selection().key())
        event.accept()

    def shutdown(self) -> None:
        """Stop training and every background thread, waiting for each (idempotent)."""
        self.controller.shutdown()
        self.dataset_page.shutdown()
        for page in (
            self.evaluation_page,
            self.playground_page,
            self.explorer_page,
            self.runs_page,
        ):
            page.shutdown()
        self.export_tasks.shutdown()
        self.setup_page.devices.shutdown()

    @Slot(int)
    def _on_tab(self, index: int) -> None:
        page = self.tabs.widget(index)
        if (
            page is self.explorer_page
            and self.explorer_page.run_dir
            and not self.explorer_page.points
        ):
            self.explorer_page.project()
        elif page is self.playground_page and self.playground_page.run_combo.count() == 0:
            self.playground_page.refresh_runs()
        elif page is self.runs_page:
            self.runs_page.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not getattr(self, "_devices_requested", False):
            self._devices_requested = True
            QTimer.singleShot(0, self.setup_page.devices.refresh)  # loads torch off the GUI thread
