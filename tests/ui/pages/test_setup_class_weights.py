"""The Setup page's "Class weights" combo: none / balanced, a loaded table as "custom"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.config import StudioConfig, load_config, save_config
from studio.ui.pages.setup import SetupPage


@pytest.fixture
def page(setup_page: SetupPage) -> SetupPage:
    return setup_page


def _items(page: SetupPage) -> list[str]:
    return [page.class_weights.itemText(i) for i in range(page.class_weights.count())]


def test_class_weights_default_to_none_and_say_what_they_do(page: SetupPage) -> None:
    assert _items(page) == ["none", "balanced"]
    assert page.config().train.class_weights == "none"
    assert "balanced" in page.class_weights.toolTip()
    assert "unweighted" in page.class_weights.toolTip()
    assert page.class_weights.objectName() == "class_weights"


def test_balanced_round_trips_through_the_saved_toml(
    page: SetupPage, reloaded: Callable[[SetupPage], SetupPage]
) -> None:
    page.class_weights.setCurrentText("balanced")
    assert page.is_valid() and page.config().train.class_weights == "balanced"
    other = reloaded(page)
    assert other.class_weights.currentText() == "balanced"
    assert other.config() == page.config()


def test_a_loaded_table_shows_as_custom_and_saves_back_exactly(
    page: SetupPage, tmp_path: Path
) -> None:
    path = tmp_path / "weights.toml"
    path.write_text('[train]\nclass_weights = { rare = 4.0, "two words" = 0.5 }\n')
    page.load_file(str(path))
    assert page.class_weights.currentText() == "custom"
    assert _items(page) == ["none", "balanced", "custom"]
    tip = page.class_weights.itemData(2, Qt.ItemDataRole.ToolTipRole)
    assert "rare = 4" in tip and "two words = 0.5" in tip
    table = (("rare", 4.0), ("two words", 0.5))
    assert page.config().train.class_weights == table
    saved = tmp_path / "saved.toml"
    save_config(page.config(), saved)
    assert load_config(saved).train.class_weights == table
    # the window's own settings text round-trips too
    assert "two words" in page.config_text()

    page.class_weights.setCurrentText("none")  # leaving custom drops nothing yet...
    assert page.config().train.class_weights == "none"
    page.class_weights.setCurrentText("custom")
    assert page.config().train.class_weights == table
    page.apply_config(StudioConfig())  # ...a config without a table removes the item
    assert _items(page) == ["none", "balanced"]
    assert page.config().train.class_weights == "none"


def test_choosing_a_preset_keeps_the_class_weights(page: SetupPage) -> None:
    page.class_weights.setCurrentText("balanced")
    page.preset.setCurrentText("seed")
    assert page.config().model.preset == "seed"
    assert page.config().train.class_weights == "balanced"
    assert page.class_weights.currentText() == "balanced"
