"""Start the window: ``studio`` / ``studio --open PATH`` / ``studio --screenshot FILE``."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from studio.ui.main_window import MainWindow
from studio.ui.menus import icon


def make_app() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Embedding Studio")
    app.setOrganizationName("EmbeddingStudio")
    app.setWindowIcon(icon("app"))
    return app


def run_app(
    path: str | None = None, screenshot: str | None = None, report_startup: bool = False
) -> int:
    """Show the window and run the event loop; returns the exit code."""
    t0 = time.perf_counter()
    app = make_app()
    window = MainWindow()
    window.show()
    if report_startup:
        QTimer.singleShot(0, lambda: print(f"shown {time.perf_counter() - t0:.3f}", flush=True))
    window.load_initial(path)
    director = ScreenshotDirector(window, screenshot) if screenshot else None
    code = app.exec()
    del director
    return code


class ScreenshotDirector(QObject):
    """Loads the dataset, trains, saves a PNG of the window mid-training, then quits.

    A QObject living in the GUI thread, so its slots run there (queued), not in the worker.
    """

    def __init__(self, window: MainWindow, path: str, after_epochs: int = 3) -> None:
        super().__init__(window)
        self.window, self.path, self.after = window, path, after_epochs
        self.epochs = 0
        self.shot = False
        window.resize(1280, 800)
        window.setup_page.ensure_epochs(after_epochs + 3)
        window.dataset_page.sig_loaded.connect(self._loaded)
        window.sig_training_done.connect(window.close)

    @Slot(str)
    def _loaded(self, _path: str) -> None:
        if self.window.controller.is_running() or self.shot:
            return
        QTimer.singleShot(0, self._start)

    @Slot()
    def _start(self) -> None:
        self.window.start_training()
        worker = self.window.controller.worker
        if worker is not None:
            worker.sig_epoch.connect(self._epoch)

    @Slot(object)
    def _epoch(self, _e: object) -> None:
        self.epochs += 1
        if self.epochs == self.after and not self.shot:
            self.shot = True
            QTimer.singleShot(200, self._grab)

    @Slot()
    def _grab(self) -> None:
        self.window.grab().save(self.path)
        print(self.path, flush=True)
        self.window.controller.stop()
