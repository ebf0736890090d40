"""The Setup page's character n-gram, n-gram bucket, pooling and weighting settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.config import StudioConfig, load_config, save_config
from studio.ui.pages.setup import SetupPage


@pytest.fixture
def page(setup_page: SetupPage) -> SetupPage:
    return setup_page


def _other(qtbot: QtBot) -> SetupPage:
    widget = SetupPage()
    qtbot.addWidget(widget)
    return widget


def test_defaults_are_the_configs_and_the_widgets_are_named(page: SetupPage) -> None:
    config, default = page.config(), StudioConfig()
    assert config.tokenizer.char_ngrams == default.tokenizer.char_ngrams == "auto"
    assert page.char_ngrams.auto.isChecked() and not page.char_ngrams.minn.isEnabled()
    page.char_ngrams.auto.setChecked(False)
    assert config.tokenizer.char_buckets == default.tokenizer.char_buckets
    assert (config.model.pooling, config.model.weighting) == ("mean", "none")
    assert page.char_ngrams.minn.text() == "off" and not page.char_ngrams.maxn.isEnabled()
    for name in ("char_ngrams", "char_buckets", "pooling", "weighting"):
        assert getattr(page, name).objectName() == name
    assert page.char_ngrams.minn.objectName() == "minn"
    assert page.char_ngrams.auto.objectName() == "auto"
    assert page.char_ngrams.maxn.objectName() == "maxn"
    assert "n-gram" in page.char_ngrams.minn.toolTip() and "idf" in page.weighting.toolTip()


def test_the_settings_round_trip_through_config_and_toml(
    qtbot: QtBot, page: SetupPage, tmp_path: Path
) -> None:
    page.char_ngrams.auto.setChecked(False)
    page.char_ngrams.minn.setValue(3)
    page.char_ngrams.maxn.setValue(5)
    page.char_buckets.setValue(123_456)
    page.pooling.setCurrentText("sum")
    page.weighting.setCurrentText("idf")
    assert page.is_valid()
    config = page.config()
    assert config.tokenizer.char_ngrams == (3, 5) and config.tokenizer.char_buckets == 123_456
    assert (config.model.pooling, config.model.weighting) == ("sum", "idf")
    applied = _other(qtbot)
    applied.apply_config(config)
    assert applied.config() == config
    path = tmp_path / "setup.toml"
    save_config(config, path)
    assert load_config(path).tokenizer.char_ngrams == (3, 5)
    loaded = _other(qtbot)
    loaded.load_file(str(path))
    assert loaded.char_ngrams.value() == (3, 5) and loaded.char_buckets.value() == 123_456
    assert loaded.weighting.currentText() == "idf" and loaded.pooling.currentText() == "sum"
    assert loaded.config() == config
    for other in (applied, loaded):
        other.shutdown()


def test_bpe_turns_the_ngram_settings_off_and_words_brings_them_back(page: SetupPage) -> None:
    page.char_ngrams.set_value((2, 4))
    page.tokenizer.setCurrentText("bpe")
    assert not page.char_ngrams.isEnabled() and not page.char_buckets.isEnabled()
    assert page.is_valid()  # the config rejects n-grams with BPE: the page sends them off
    assert page.config().tokenizer.char_ngrams == (0, 0)
    page.tokenizer.setCurrentText("words")
    assert page.char_ngrams.isEnabled() and page.char_buckets.isEnabled()
    assert page.config().tokenizer.char_ngrams == (2, 4)


def test_max_pooling_turns_the_weighting_off_and_mean_brings_it_back(page: SetupPage) -> None:
    page.weighting.setCurrentText("idf")
    page.pooling.setCurrentText("max")
    assert not page.weighting.isEnabled() and page.is_valid()
    assert page.config().model.weighting == "none"
    page.pooling.setCurrentText("mean")
    assert page.weighting.isEnabled() and page.config().model.weighting == "idf"


def test_a_disabled_page_still_gives_its_settings(page: SetupPage) -> None:
    # the main window disables the whole page while a run trains and saves config_text()
    page.char_ngrams.set_value((3, 6))
    page.weighting.setCurrentText("idf")
    page.setEnabled(False)
    config = page.config()
    assert config.tokenizer.char_ngrams == (3, 6) and config.model.weighting == "idf"


def test_the_range_never_crosses_and_off_keeps_the_maximum(page: SetupPage) -> None:
    minn, maxn = page.char_ngrams.minn, page.char_ngrams.maxn
    page.char_ngrams.auto.setChecked(False)
    minn.setValue(3)
    assert maxn.isEnabled() and page.char_ngrams.value() == (3, 6)
    minn.setValue(9)
    assert page.char_ngrams.value() == (9, 9)
    maxn.setValue(2)
    assert page.char_ngrams.value() == (2, 2)
    assert page.is_valid()
    minn.setValue(0)
    assert page.char_ngrams.value() == (0, 0) and not maxn.isEnabled() and maxn.value() == 2
    page.char_ngrams.set_value((0, 0))  # off from a config leaves the shown maximum alone
    assert maxn.value() == 2


def test_the_new_settings_belong_to_the_preset(page: SetupPage) -> None:
    assert page.preset.currentText() == "default"
    page.char_ngrams.auto.setChecked(False)
    assert page.preset.currentText() == "custom"
    page.weighting.setCurrentText("idf")
    page.preset.setCurrentText("default")
    config = page.config()
    assert config.tokenizer.char_ngrams == "auto" and config.model.weighting == "none"
    page.pooling.setCurrentText("sum")
    assert page.preset.currentText() == "custom"


def test_auto_leaves_the_choice_to_the_recipe_and_survives_bpe(page: SetupPage) -> None:
    page.char_ngrams.set_value((2, 4))
    assert not page.char_ngrams.auto.isChecked() and page.char_ngrams.minn.isEnabled()
    page.char_ngrams.auto.setChecked(True)
    assert page.config().tokenizer.char_ngrams == "auto"
    assert not page.char_ngrams.minn.isEnabled() and not page.char_ngrams.maxn.isEnabled()
    page.tokenizer.setCurrentText("bpe")  # auto gives BPE none by itself: it stays auto
    assert page.is_valid() and page.config().tokenizer.char_ngrams == "auto"
