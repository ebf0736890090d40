"""What a person reaches for: the window remembers its size, splitters and tab; every
shortcut is listed in Help; every setting says what it does and its range; the Setup page
lays out without dead space and its preset reads what the values are."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QGroupBox, QLineEdit, QSplitter
from pytestqt.qtbot import QtBot

from studio.ui.main_window import MainWindow
from studio.ui.pages.setup import SetupPage
from studio.ui.widgets.shortcuts_dialog import window_shortcuts


def _window(qtbot: QtBot, ini: Path, tmp_path: Path) -> MainWindow:
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, runs_dir=str(tmp_path / "runs"))
    qtbot.addWidget(win)
    return win


@pytest.fixture
def setup_page(qtbot: QtBot) -> SetupPage:
    page = SetupPage()
    qtbot.addWidget(page)
    return page


def test_size_splitters_and_last_tab_survive_a_restart(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = tmp_path / "studio.ini"
    first = _window(qtbot, ini, tmp_path)
    first.show()
    first.resize(1111, 777)
    first.tabs.setCurrentWidget(first.explorer_page)
    first.explorer_page.stack.setCurrentIndex(1)  # as with a run shown
    splitter = first.explorer_page.splitter
    splitter.setSizes([150, 500, 450])
    moved = splitter.sizes()
    evaluation_splitter = first.evaluation_page.findChild(QSplitter)
    evaluation_splitter.setSizes([300, 900])
    evaluation_sizes = evaluation_splitter.sizes()
    first.close()
    saved = first.saveGeometry()
    # the offscreen screen is 800×600, so Qt clamps a restored size: check what it is given
    restored: list[QByteArray] = []
    original = MainWindow.restoreGeometry
    monkeypatch.setattr(
        MainWindow, "restoreGeometry", lambda self, g: restored.append(g) or original(self, g)
    )
    second = _window(qtbot, ini, tmp_path)
    second.show()
    assert restored == [saved]
    assert second.tabs.currentWidget() is second.explorer_page
    second.explorer_page.stack.setCurrentIndex(1)
    # the side panes come back as they were; the map takes what the (clamped) width leaves
    sizes = second.explorer_page.splitter.sizes()
    assert (sizes[0], sizes[2]) == (moved[0], moved[2])
    assert second.evaluation_page.findChild(QSplitter).sizes()[0] == evaluation_sizes[0]
    second.close()


def test_help_lists_every_shortcut_and_pages_have_their_own(window: MainWindow) -> None:
    rows = window_shortcuts(window, window.tabs)
    keys = {r[0] for r in rows}
    actions = (window.open_action, window.train_action, window.stop_action, window.quit_action)
    for action in actions:  # (a standard key can be empty on the offscreen platform)
        assert action.shortcut().isEmpty() or action.shortcut().toString() in keys
    assert {"Alt+1", "Alt+8"} <= keys  # one per page
    where = {(r[0], r[2]) for r in rows}
    assert ("B", "Embeddings") in where and ("Ctrl+Shift+P", "Embeddings") in where
    assert len(keys) == len(
        {r[0] for r in rows if r[2] == "everywhere"} | {r[0] for r in rows if r[2] != "everywhere"}
    )
    assert [a for a in window.menuBar().actions() if "Help" in a.text()]
    assert window.shortcuts_action.text() == "&Keyboard shortcuts"


def test_every_setting_says_what_it_does_and_its_range(setup_page: SetupPage) -> None:
    fields = [
        w
        for w in setup_page.findChildren(QAbstractSpinBox)
        + setup_page.findChildren(QComboBox)
        + setup_page.findChildren(QLineEdit)
        if not isinstance(w.parent(), QAbstractSpinBox)  # a spin box's own line edit
    ]
    assert len(fields) >= 15
    silent = [w.objectName() or type(w).__name__ for w in fields if not _tip_of(w)]
    assert silent == []


def test_every_setting_in_the_window_has_a_tip_and_numbers_their_range(
    window: MainWindow,
) -> None:
    from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QSpinBox

    from studio.ui.widgets.tooltips import range_text

    fields = [
        w
        for cls in (QAbstractSpinBox, QComboBox, QLineEdit, QCheckBox)
        for w in window.findChildren(cls)
        if not isinstance(w.parent(), QAbstractSpinBox | QComboBox)
    ]
    assert len(fields) >= 40
    silent = [w.objectName() for w in fields if not _tip_of(w)]
    assert silent == []
    spins = window.findChildren(QSpinBox) + window.findChildren(QDoubleSpinBox)
    unranged = [
        b.objectName()
        for b in spins
        if range_text(b) not in b.toolTip()
        and f"{b.minimum():g} to" not in b.toolTip()
        and " to " not in b.toolTip().split(".")[0]
    ]
    assert unranged == []
    assert "range 0 to 5,000,000" in window.setup_page.vocab_size.toolTip()
    assert "0 = by data" in window.setup_page.batch_size.toolTip()


def _tip_of(widget: QAbstractSpinBox | QComboBox | QLineEdit) -> str:
    w = widget
    while w is not None and not w.toolTip():
        w = w.parentWidget()  # a picker's inner box may carry its owner's tip
    return "" if w is None else w.toolTip()


def test_setup_lays_its_groups_side_by_side(qtbot: QtBot, setup_page: SetupPage) -> None:
    setup_page.resize(1280, 740)
    setup_page.show()
    qtbot.waitExposed(setup_page)
    groups = {g.title(): g for g in setup_page.findChildren(QGroupBox)}
    embedding, tokens, training = groups["Embedding"], groups["Tokens"], groups["Training"]
    assert embedding.y() == tokens.y() == training.y()
    assert embedding.x() < tokens.x() < training.x()
    assert groups["Device"].y() >= embedding.geometry().bottom()
    assert setup_page.minimumSizeHint().width() <= 1280
    # no group is stretched taller than its fields need
    for box in (embedding, tokens):
        assert box.height() <= box.sizeHint().height() + 4


def test_the_preset_reads_what_the_values_are(setup_page: SetupPage) -> None:
    page = setup_page
    assert page.preset.currentText() == "default"
    page.epochs.setValue(page.epochs.value() + 1)
    assert page.preset.currentText() == "custom"
    assert page.config().model.preset == "custom"
    page.epochs.setValue(page.epochs.value() - 1)
    assert page.preset.currentText() == "default"  # every value is the default again
    page.preset.setCurrentText("seed")
    assert page.embed_dim.value() == 128 and page.preset.currentText() == "seed"
    page.preset.setCurrentText("custom")  # a label, not a setting: it snaps back
    assert page.preset.currentText() == "seed"
    page.preset.setCurrentText("default")
    page.seed.setValue(7)  # seed and validation share are not part of a preset
    assert page.preset.currentText() == "default"
    page.apply_config(page.config().with_overrides(tokenizer={"vocab_size": 12_345}))
    assert page.preset.currentText() == "custom"
