"""Screenshots of every page: load a dataset, train a few epochs, grab each tab.

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        python scripts/screenshots.py DATA --size 1280x800 --theme dark --out DIR

Fresh settings (a temporary QSettings file) and a temporary runs folder, so what is shown
is what a new user sees. The README's screenshots come from this script.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from studio.ui.app import make_app
from studio.ui.main_window import MainWindow

PAGES = [
    "dataset", "setup", "training", "evaluation", "playground", "embeddings", "runs", "tune",
    "label-issues",
]  # fmt: skip


def dark_palette() -> QPalette:
    """A dark Fusion palette (window #353535, base #2a2a2a, light text)."""
    pal = QPalette()
    roles = QPalette.ColorRole
    for role, value in (
        (roles.Window, "#353535"), (roles.WindowText, "#e6e6e6"), (roles.Base, "#2a2a2a"),
        (roles.AlternateBase, "#323232"), (roles.Text, "#e6e6e6"), (roles.Button, "#3c3c3c"),
        (roles.ButtonText, "#e6e6e6"), (roles.Highlight, "#2f65ca"),
        (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#2a2a2a"),
        (roles.ToolTipText, "#e6e6e6"), (roles.PlaceholderText, "#9a9a9a"),
        (roles.Link, "#6cb6ff"),
    ):  # fmt: skip
        pal.setColor(role, QColor(value))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return pal


class Tour(QObject):
    def __init__(self, window: MainWindow, out: Path, epochs: int, prefix: str) -> None:
        super().__init__(window)
        self.window, self.out, self.prefix = window, out, prefix
        self.trained = False
        window.setup_page.ensure_epochs(epochs)
        window.dataset_page.sig_loaded.connect(self._loaded)
        window.sig_training_done.connect(self._trained)

    def grab(self, index: int) -> None:
        self.window.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        path = self.out / f"{self.prefix}{index + 1}-{PAGES[index]}.png"
        self.window.grab().save(str(path))
        print(path, flush=True)

    @Slot(str)
    def _loaded(self, _path: str) -> None:
        if not self.trained:
            QTimer.singleShot(300, self._before_training)

    @Slot()
    def _before_training(self) -> None:
        self.grab(0)
        self.grab(1)
        self.window.start_training()

    @Slot()
    def _trained(self) -> None:
        self.trained = True
        QTimer.singleShot(500, self._after_training)

    @Slot()
    def _after_training(self) -> None:
        for i in (2, 3, 4):
            self.grab(i)
        explorer = self.window.explorer_page
        explorer.projection_tasks.sig_result.connect(self._projected)
        self.window.tabs.setCurrentIndex(5)

    @Slot(object)
    def _projected(self, result: object) -> None:
        if isinstance(result, tuple) and result and result[0] == "projection":
            QTimer.singleShot(300, self._rest)
        elif isinstance(result, tuple) and result and result[0] == "frames":
            QTimer.singleShot(300, self._animated)

    @Slot()
    def _rest(self) -> None:
        for i in (5, 6, 7):
            self.grab(i)
        explorer = self.window.explorer_page
        self.window.tabs.setCurrentWidget(explorer)
        explorer.pin_tokens(explorer.points[10:16])  # a few frequent words, labelled
        explorer.animate()

    @Slot()
    def _animated(self) -> None:
        explorer = self.window.explorer_page
        explorer.player.slider.setValue(0)  # the first epoch, aligned onto the last
        QApplication.processEvents()
        path = self.out / f"{self.prefix}6-embeddings-epoch1.png"
        self.window.grab().save(str(path))
        print(path, flush=True)
        page = self.window.label_issues_page
        page.sig_running.connect(self._found)
        self.window.tabs.setCurrentWidget(page)
        page.find_issues()

    @Slot(bool)
    def _found(self, running: bool) -> None:
        if not running:
            QTimer.singleShot(1500, self._reviewed)  # the saved review is read back

    @Slot()
    def _reviewed(self) -> None:
        page = self.window.label_issues_page
        table = page.issues_table
        for row, button in ((0, page.accept_button), (1, page.accept_button),
                            (2, page.keep_button), (3, page.exclude_button)):  # fmt: skip
            table.selectRow(row)
            button.click()
        table.selectRow(4)
        self.grab(self.window.tabs.indexOf(page))
        self.window.close()


def new_window(
    size: str, dark: bool = False
) -> tuple[QApplication, MainWindow, tempfile.TemporaryDirectory[str]]:
    """The app (Fusion style; a dark palette as a dark desktop hands it) and a shown window
    of ``size`` ("WxH") whose settings and runs live in a temporary folder."""
    app = make_app()
    app.setStyle("Fusion")
    if dark:
        app.setPalette(dark_palette())
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "studio.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, runs_dir=str(Path(tmp.name) / "runs"))
    width, height = (int(v) for v in size.split("x"))
    window.resize(width, height)
    window.show()
    return app, window, tmp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app, window, tmp = new_window(args.size, dark=args.theme == "dark")
    tour = Tour(window, args.out, args.epochs, args.prefix)
    window.open_path(args.data)
    code = app.exec()
    del tour
    tmp.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
