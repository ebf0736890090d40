"""Folder of class subfolders, each holding one ``.txt`` file per document."""

from __future__ import annotations

from pathlib import Path

from studio.errors import DatasetError

from ._common import finish
from ._text import read_text
from ._types import RawDataset


def _visible(entry: Path) -> bool:
    return not entry.name.startswith(".")


def _listdir(folder: Path) -> list[Path]:
    try:
        return sorted((entry for entry in folder.iterdir() if _visible(entry)), key=_name)
    except OSError as exc:
        raise DatasetError(f"cannot list the folder ({exc.strerror or exc})", path=folder) from None


def _name(entry: Path) -> str:
    return entry.name


def class_files(path: Path) -> list[tuple[Path, list[Path]]]:
    """The class subfolders of ``path`` (sorted by name) and the ``.txt`` files in each, in
    the order :func:`read_folder` numbers the documents (from 1)."""
    classes = [entry for entry in _listdir(path) if entry.is_dir()]
    if not classes:
        raise DatasetError(
            "no class subfolders found (expected one subfolder of .txt files per class)",
            path=path,
        )
    found: list[tuple[Path, list[Path]]] = []
    for folder in classes:
        files = [
            entry
            for entry in _listdir(folder)
            if entry.suffix.lower() == ".txt" and entry.is_file()
        ]
        if not files:
            raise DatasetError("class folder holds no .txt files", path=folder)
        found.append((folder, files))
    return found


def read_folder(path: Path, encoding: str | None) -> RawDataset:
    """Read a folder: label = subfolder name, one document per ``.txt`` file inside it."""
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    names: list[str] = []
    for folder, files in class_files(path):
        label = (folder.name.strip(),)
        for file in files:
            texts.append(read_text(file, encoding))
            labels.append(label)
            lines.append(len(texts))
            names.append(f"{folder.name}/{file.name}")
    return finish(path, "folder", texts, labels, lines, where=names.__getitem__)
