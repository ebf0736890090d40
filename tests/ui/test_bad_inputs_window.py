"""The bad inputs of tests/bad_inputs.py, fed to the window: shown inline, Train disabled,
and the window stays usable (a good dataset loads afterwards)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QLineEdit, QSpinBox, QToolButton

from studio.ui.main_window import MainWindow
from tests.bad_inputs import BAD_INPUTS, BadInput
from tests.conftest import write_topics_csv

LOAD_TIMEOUT = 30_000


def _params() -> list[object]:
    out: list[object] = []
    for case in BAD_INPUTS:
        marks = []
        if case.window is None:
            marks.append(pytest.mark.skip(reason=case.skip_reason or "not reachable"))
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def _train_button(win: MainWindow) -> QToolButton:
    button = win.findChild(QToolButton, "train_button")
    assert button is not None
    return button


def _load_good(win: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_topics_csv(tmp_path / "good_topics.csv", n=300)
    with qtbot.waitSignal(win.dataset_page.sig_loaded, timeout=LOAD_TIMEOUT):
        win.open_path(str(path))
    assert not win.findChild(QLabel, "dataset_error").isVisible()


def _set(win: MainWindow, name: str, value: object) -> None:
    for cls in (QSpinBox, QDoubleSpinBox, QLineEdit):
        widget = win.findChild(cls, name)
        if widget is not None:
            if isinstance(widget, QLineEdit):
                widget.setText(str(value))
            else:
                widget.setValue(value)  # type: ignore[arg-type]
            return
    raise AssertionError(f"no widget named {name}")


def _get(win: MainWindow, name: str) -> object:
    for cls in (QSpinBox, QDoubleSpinBox, QLineEdit):
        widget = win.findChild(cls, name)
        if widget is not None:
            return widget.text() if isinstance(widget, QLineEdit) else widget.value()
    raise AssertionError(f"no widget named {name}")


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_shown_inline(
    case: BadInput, window: MainWindow, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    win = window
    args = case.make(tmp_path)
    train = _train_button(win)
    if case.window == "dataset":
        with qtbot.waitSignal(win.dataset_page.sig_failed, timeout=LOAD_TIMEOUT) as failed:
            win.open_path(args[1])
        error = win.findChild(QLabel, "dataset_error")
        assert error.isVisible()
        assert case.expect in error.text(), error.text()
        assert failed.args[0] == error.text()
        assert "Traceback" not in error.text()
        assert not train.isEnabled()
        _load_good(win, qtbot, tmp_path)
        assert train.isEnabled()
    elif case.window == "setup":
        _load_good(win, qtbot, tmp_path)
        assert train.isEnabled()
        win.tabs.setCurrentWidget(win.setup_page)
        error = win.findChild(QLabel, "error_label")
        saved = {name: _get(win, name) for name in case.setup}
        for name, value in case.setup.items():
            _set(win, name, value)
        assert _get(win, name) == value  # the widget accepts it, so validation must catch it
        assert error.isVisible()
        assert case.expect in error.text(), error.text()
        assert not train.isEnabled()
        for name, value in saved.items():
            _set(win, name, value)
        assert not error.isVisible()
        assert train.isEnabled()
    elif case.window == "config":
        _load_good(win, qtbot, tmp_path)
        config = args[args.index("--config") + 1]
        win.tabs.setCurrentWidget(win.setup_page)
        win.setup_page.load_file(config)
        error = win.findChild(QLabel, "error_label")
        assert error.isVisible()
        assert case.expect in error.text(), error.text()
        assert not train.isEnabled()
        _load_good(win, qtbot, tmp_path)  # a good dataset brings back a valid setup
        assert not error.isVisibleTo(win.setup_page)
        assert train.isEnabled()
    elif case.window == "accept":  # not an error: it loads and can be trained
        with qtbot.waitSignal(win.dataset_page.sig_loaded, timeout=LOAD_TIMEOUT):
            win.open_path(args[1])
        assert not win.findChild(QLabel, "dataset_error").isVisible()
        assert train.isEnabled()
        _load_good(win, qtbot, tmp_path)
        assert train.isEnabled()
    else:  # pragma: no cover - skipped by _params
        raise AssertionError(case.window)
