"""A fresh window, before any data or run: each page says what to do first."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from studio.ui.main_window import MainWindow


def test_each_page_says_what_to_do_first(window: MainWindow, qtbot: QtBot) -> None:
    assert "Train" in window.training_page.result.text()
    assert "Train a model" in window.evaluation_page.summary.text()
    explorer = window.explorer_page
    assert explorer.stack.currentWidget() is explorer.empty
    assert "Train a model" in explorer.empty.hint.text() and "Runs" in explorer.empty.hint.text()
    window.tabs.setCurrentWidget(window.playground_page)
    qtbot.waitUntil(lambda: "train one first" in window.playground_page.status.text())
    window.tabs.setCurrentWidget(window.runs_page)
    qtbot.waitUntil(lambda: "No runs yet" in window.runs_page.runs_empty.text())
    assert window.runs_page.runs_empty.isVisible()
    # the dataset page before a file: the path field says what it takes
    assert "CSV" in window.dataset_page.dataset_path.placeholderText()
