"""Asking for a dataset to open: a file, or a folder of class folders."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

__all__ = ["ask_dataset_file", "ask_dataset_folder"]


def ask_dataset_file(parent: QWidget, last: str, file_filter: str) -> str:
    """A dataset file chosen in the folder of ``last`` (the one opened before); "" if none."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open dataset", str(Path(last).parent), file_filter
    )
    return path


def ask_dataset_folder(parent: QWidget) -> str:
    """A folder of class subfolders; "" when cancelled."""
    return QFileDialog.getExistingDirectory(parent, "Open a folder of class subfolders")
