"""Fixtures shared by the page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from studio.ui.pages.setup import SetupPage


@pytest.fixture
def setup_page(qtbot: QtBot) -> Iterator[SetupPage]:
    """A fresh Setup page, shut down after the test."""
    widget = SetupPage()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()
