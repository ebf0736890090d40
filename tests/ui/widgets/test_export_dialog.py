"""The export dialog offers the engine's formats and asks for a file or a folder as each needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from studio.engine.export.formats import FORMATS
from studio.ui.widgets.export_dialog import ask_export_target


def test_file_formats_ask_for_a_file_and_folders_for_a_new_folder(qtbot, monkeypatch) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    offered: list[list[str]] = []

    def get_item(_p, _t, _l, items, *_a):  # type: ignore[no-untyped-def]
        offered.append(list(items))
        return chosen, True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda _p, _t, default: (default, ""))
    )
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *_a: "/out"))
    chosen = "onnx"
    assert ask_export_target(parent, "/runs/r1") == ("onnx", str(Path("/runs/r1/export-onnx.onnx")))
    chosen = "projector"
    assert ask_export_target(parent, "/runs/r1") == ("projector", str(Path("/out/r1-projector")))
    assert offered[0] == list(FORMATS)


@pytest.mark.parametrize("cancel", ["format", "path"])
def test_cancelling_either_question_exports_nothing(qtbot, monkeypatch, cancel: str) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    monkeypatch.setattr(
        QInputDialog, "getItem", staticmethod(lambda *_a: ("csv", cancel != "format"))
    )
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *_a: ""))
    assert ask_export_target(parent, "/runs/r1") is None
