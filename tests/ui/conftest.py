"""Window fixtures: isolated QSettings, runs directory and a small dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from studio.ui.main_window import MainWindow
from tests.conftest import write_topics_csv


@pytest.fixture(autouse=True)
def no_unexpected_questions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A question the test did not answer fails it instead of waiting forever offscreen
    (closing a window whose run ignored STOP would ask "Training in progress"); a test
    that expects a question patches ``QMessageBox.question`` itself. Set up before qtbot,
    so the windows qtbot closes at teardown are still watched."""
    asked: list[str] = []

    def question(parent: object, title: str, text: str, *args: object) -> object:
        asked.append(f"{title}: {text}")
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    yield
    if asked:
        pytest.fail(f"unanswered question(s): {asked}", pytrace=False)


def make_window(qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    """A shown window whose settings and runs live in ``tmp_path`` (a second one made
    with the same ``tmp_path`` is the same user opening the app again)."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, runs_dir=str(tmp_path / "runs"))
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    return win


@pytest.fixture
def window(qtbot, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = make_window(qtbot, tmp_path)
    yield win
    win.shutdown()


@pytest.fixture
def loaded(window: MainWindow, qtbot, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    """The window with a small three-class CSV loaded and fast settings."""
    path = write_topics_csv(tmp_path / "topics.csv", n=600)
    with qtbot.waitSignal(window.dataset_page.sig_loaded, timeout=30_000):
        window.open_path(str(path))
    window.setup_page.findChild(object, "ngram_buckets").setValue(0)
    return window
