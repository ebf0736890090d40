"""The "Open recent" menu: newest first, once each, limited, and kept in the settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from studio.ui.widgets.recent_menu import RecentMenu


def test_recent_paths_are_newest_first_unique_and_limited(qtbot: QtBot, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    menu = QMenu()
    recent = RecentMenu(menu, settings, limit=3)
    assert recent.paths() == [] and not menu.isEnabled()
    for path in ("a.csv", "b.csv", "a.csv", "c.csv", "d.csv"):
        recent.add(path)
    assert recent.paths() == ["d.csv", "c.csv", "a.csv"]
    assert [a.text() for a in menu.actions()] == ["d.csv", "c.csv", "a.csv"] and menu.isEnabled()
    with qtbot.waitSignal(recent.sig_open) as chosen:
        menu.actions()[1].trigger()
    assert chosen.args == ["c.csv"]
    again = RecentMenu(QMenu(), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.paths() == ["d.csv", "c.csv", "a.csv"]  # kept across sessions


def test_one_remembered_path_reads_back_as_a_list(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("recentDatasets", "only.csv")  # how an INI file holds a one-item list
    assert RecentMenu(QMenu(), settings).paths() == ["only.csv"]
