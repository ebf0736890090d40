"""The Runs page's dialogs: a new folder name for a run, and the question before deleting runs.

Both are modal questions to the user and nothing else; the page renames and deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

__all__ = ["ask_new_name", "confirm", "delete_question"]

#: Runs named in the delete question; more are counted ("… and 3 more").
NAMES_SHOWN: Final = 10


def ask_new_name(parent: QWidget, current: str) -> str | None:
    """Ask for a new folder name; None when cancelled or unchanged (stripped)."""
    name, ok = QInputDialog.getText(
        parent, "Rename run", "New folder name:", QLineEdit.EchoMode.Normal, current
    )
    if not ok:
        return None
    name = name.strip()
    return None if name == current else name


def delete_question(names: Sequence[str], to_trash: bool) -> str:
    """``Move 2 runs to the trash?``, a blank line, then the runs' names (the first ten)."""
    n = len(names)
    noun = "run" if n == 1 else "runs"
    if to_trash:
        question = f"Move {n} {noun} to the trash?"
    else:
        question = f"Delete {n} {noun} permanently? There is no trash to move them to."
    shown = list(names[:NAMES_SHOWN])
    if n > NAMES_SHOWN:
        shown.append(f"… and {n - NAMES_SHOWN} more")
    return question + "\n\n" + "\n".join(shown)


def confirm(parent: QWidget, text: str, title: str = "Delete runs") -> bool:
    """Ask a yes/no question (Cancel is the default); text after a blank line is the details."""
    question, _, details = text.partition("\n\n")
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    if details:
        box.setInformativeText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes
