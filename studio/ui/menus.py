"""The main window's commands: each one's text, key, icon and tip, and the toolbar and menus.

A :class:`Command` names its action ``<name>_action`` and its toolbar button
``<name>_button`` (the window keeps the action under that attribute name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, TypeAlias

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QMessageBox, QToolBar, QWidget

__all__ = [
    "ABOUT",
    "LOAD",
    "OPEN",
    "OPEN_FOLDER",
    "PAUSE",
    "QUIT",
    "SAVE",
    "STOP",
    "TRAIN",
    "TUNE",
    "Command",
    "build_menus",
    "build_toolbar",
    "export_command",
    "icon",
    "make_action",
]

ICONS: Final = Path(__file__).resolve().parents[2] / "icons"

Shortcut: TypeAlias = QKeySequence.StandardKey | Qt.Key | str
MenuItem: TypeAlias = QAction | str | None
"""An action, the title of a submenu to fill later, or a separator (``None``)."""


def icon(name: str) -> QIcon:
    """The icon ``icons/<name>.svg`` (an empty icon when there is none)."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of the window: ``name`` also names its icon, action and button."""

    name: str
    text: str
    tip: str
    shortcut: Shortcut | None = None
    checkable: bool = False


OPEN: Final = Command(
    "open", "&Open dataset…", "Open a CSV, TSV, JSONL, fastText or Parquet file",
    QKeySequence.StandardKey.Open,
)  # fmt: skip
OPEN_FOLDER: Final = Command(
    "open_folder", "Open &folder…", "Open a folder with one subfolder of .txt files per class"
)
TRAIN: Final = Command("train", "&Train", "Start training", "Ctrl+Return")
PAUSE: Final = Command("pause", "&Pause", "Pause or resume", "Ctrl+P", checkable=True)
STOP: Final = Command("stop", "&Stop", "Stop training", Qt.Key.Key_Escape)
TUNE: Final = Command(
    "tune", "T&une…", "Search the training parameters for the best model on this dataset"
)
SAVE: Final = Command(
    "save", "&Save setup…", "Save the setup as a TOML file the CLI reads",
    QKeySequence.StandardKey.Save,
)  # fmt: skip
LOAD: Final = Command("load", "&Load setup…", "Load a setup TOML file")
QUIT: Final = Command("quit", "&Quit", "Quit", QKeySequence.StandardKey.Quit)
ABOUT: Final = Command("about", "&About Embedding Studio", "About")
SHORTCUTS: Final = Command(
    "shortcuts",
    "&Keyboard shortcuts",
    "Every shortcut of the window",
    QKeySequence.StandardKey.HelpContents,
)


def export_command() -> Command:
    """The Export command; its tip lists the engine's formats (the one list of them)."""
    from studio.engine.export.formats import FORMATS  # torch-free

    tip = f"Export the current run as {', '.join(FORMATS[:-1])} or {FORMATS[-1]}"
    return Command("export", "&Export model…", tip, "Ctrl+E")


def make_action(parent: QObject, command: Command, slot: Callable[[], object]) -> QAction:
    """The QAction of ``command``, triggering ``slot``; its tool tip shows the shortcut."""
    action = QAction(icon(command.name), command.text, parent)
    action.setObjectName(f"{command.name}_action")
    if command.shortcut is not None:
        action.setShortcut(QKeySequence(command.shortcut))
        action.setToolTip(f"{command.tip} ({action.shortcut().toString()})")
    else:
        action.setToolTip(command.tip)
    action.setStatusTip(command.tip)
    action.setCheckable(command.checkable)
    action.triggered.connect(slot)
    return action


def build_toolbar(window: QMainWindow, actions: Sequence[QAction | None]) -> QToolBar:
    """The main toolbar (``None`` is a separator); each button is named after its action."""
    bar = QToolBar("Main", window)
    bar.setObjectName("toolbar")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in actions:
        if action is None:
            bar.addSeparator()
            continue
        bar.addAction(action)
        button = bar.widgetForAction(action)
        button.setObjectName(action.objectName().removesuffix("_action") + "_button")
    window.addToolBar(bar)
    return bar


def build_menus(
    menu_bar: QMenuBar, menus: Sequence[tuple[str, Sequence[MenuItem]]]
) -> dict[str, QMenu]:
    """Fill the menu bar, one ``(title, items)`` per menu; returns the submenus by title."""
    submenus: dict[str, QMenu] = {}
    for title, items in menus:
        menu = menu_bar.addMenu(title)
        for item in items:
            if item is None:
                menu.addSeparator()
            elif isinstance(item, str):
                submenus[item] = menu.addMenu(item)
            else:
                menu.addAction(item)
    return submenus


PAUSE_TIP_DISTRIBUTED = (
    "Pause is not available for a run of several processes: its ranks train in step. "
    "Stop it instead; a stopped run keeps what it has learned."
)
DATASET_FILTER = (
    "Datasets (*.csv *.tsv *.tab *.jsonl *.ndjson *.json *.txt *.parquet *.pq);;All files (*)"
)


ABOUT_TEXT = (
    "<h3>Embedding Studio {}</h3><p>Train text classifiers with a learned embedding table, on "
    "CPU, CUDA or MPS, and watch them learn.</p><p>The same engine runs headless as "
    "<code>studio</code> on the command line.</p>"
)


def show_about(parent: QWidget) -> None:
    """Help → About: the version and what the studio is."""
    from studio import __version__

    QMessageBox.about(parent, "About Embedding Studio", ABOUT_TEXT.format(__version__))
