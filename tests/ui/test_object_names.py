"""One naming style: every widget a page, a plot or the window holds is named as its attribute."""

from __future__ import annotations

import re

from PySide6.QtCore import QObject

from studio.ui.main_window import MainWindow
from studio.ui.widgets.plot_style import PaletteAwareWidget

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _named_attributes(owner: object) -> list[tuple[str, QObject]]:
    return [
        (name, value)
        for name, value in vars(owner).items()
        if not name.startswith("_") and isinstance(value, QObject)
    ]


def test_object_names_are_the_snake_case_attribute_names(window: MainWindow) -> None:
    owners: list[object] = [window, window.banner]
    for page in (
        window.dataset_page, window.setup_page, window.training_page, window.evaluation_page,
        window.playground_page, window.explorer_page, window.runs_page,
    ):  # fmt: skip
        owners.append(page)
        # the plots and charts inside
        owners += [v for _, v in _named_attributes(page) if isinstance(v, PaletteAwareWidget)]
    owners += [window.setup_page.devices, window.runs_page.comparison]
    wrong = []
    for owner in owners:
        for name, value in _named_attributes(owner):
            if value.objectName() != name or not SNAKE.match(name):
                wrong.append(f"{type(owner).__name__}.{name}: {value.objectName()!r}")
    assert not wrong, "\n".join(wrong)
    assert window.objectName() == "main_window"


def test_each_action_and_its_toolbar_button_share_one_name(window: MainWindow) -> None:
    from PySide6.QtWidgets import QToolButton

    for name in ("open", "train", "pause", "stop"):
        action = getattr(window, f"{name}_action")
        assert action.objectName() == f"{name}_action"
        assert window.toolbar.widgetForAction(action) is window.findChild(
            QToolButton, f"{name}_button"
        )
