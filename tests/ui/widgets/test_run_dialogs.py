"""The Runs page's dialogs: the delete question names the runs; a rename answer is cleaned."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from studio.ui.widgets.run_dialogs import ask_new_name, delete_question


def test_delete_question_names_the_first_ten_runs() -> None:
    one = delete_question(["dim16"], to_trash=True)
    assert one == "Move 1 run to the trash?\n\ndim16"
    names = [f"run{i}" for i in range(12)]
    many = delete_question(names, to_trash=False)
    question, _, listed = many.partition("\n\n")
    assert question == "Delete 12 runs permanently? There is no trash to move them to."
    assert listed.splitlines() == [*names[:10], "… and 2 more"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(("  new name ", True), "new name"), (("dim16", True), None), (("x", False), None)],
)
def test_ask_new_name_strips_and_ignores_unchanged_or_cancelled(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    answer: tuple[str, bool],
    expected: str | None,
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: answer))
    assert ask_new_name(parent, "dim16") == expected
