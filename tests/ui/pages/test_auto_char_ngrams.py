"""What "auto" character n-grams will do, on the Dataset page's summary and in the Setup
page's estimate: 2-5 for short documents, 1-3 for spaceless scripts, none for long text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.config import StudioConfig
from studio.ui.main_window import MainWindow
from studio.ui.pages.dataset import DatasetPage
from studio.ui.pages.setup import SetupPage, estimate
from tests.text_samples import write_spaceless_csv, write_words_csv

TIMEOUT = 60_000  # ms


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[DatasetPage]:
    widget = DatasetPage()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _summary(qtbot: QtBot, page: DatasetPage, path: Path) -> str:
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT):
        page.load(str(path))
    return page.dataset_summary.text()


def test_short_documents_get_two_to_five_grams(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    summary = _summary(qtbot, page, write_words_csv(tmp_path / "short.csv", tokens=12))
    assert summary.splitlines()[0] == "200 documents · 2 labels · format csv"
    assert (
        "character n-grams (auto): 2–5, documents are short (median 12 tokens, at most 32)"
        in summary.splitlines()
    )
    loaded = page.loaded
    assert loaded is not None and loaded.auto_char_ngrams == (2, 5)
    assert page.text_shape() == (12.0, 0.0)


def test_long_documents_get_none(qtbot: QtBot, page: DatasetPage, tmp_path: Path) -> None:
    summary = _summary(qtbot, page, write_words_csv(tmp_path / "long.csv", tokens=64))
    assert (
        "character n-grams (auto): none, documents are long (median 64 tokens, over 32)"
        in summary.splitlines()
    )
    assert page.text_shape() == (64.0, 0.0)


def test_spaceless_scripts_get_one_to_three_grams(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    summary = _summary(qtbot, page, write_spaceless_csv(tmp_path / "spaceless.csv"))
    assert summary.splitlines()[1] == (
        "character n-grams (auto): 1–3, 100% of documents are in scripts without spaces"
        " (Chinese, Japanese, Thai…): the words tokenizer sees whole phrases there"
    )
    shape, loaded = page.text_shape(), page.loaded
    assert shape is not None and shape[1] == 1.0
    assert loaded is not None and loaded.auto_char_ngrams == (1, 3)


def test_no_text_shape_before_a_load(page: DatasetPage) -> None:
    assert page.text_shape() is None


def _parameters(setup: SetupPage) -> int:
    match = re.search(r"<b>([\d,]+)</b> parameters", setup.estimate_label.text())
    assert match, setup.estimate_label.text()
    return int(match.group(1).replace(",", ""))


def test_the_setup_estimate_counts_the_rows_auto_adds(qtbot: QtBot) -> None:
    setup = SetupPage()
    qtbot.addWidget(setup)
    try:
        config = setup.config()
        assert config.tokenizer.char_ngrams == "auto"
        rows = config.tokenizer.char_buckets * config.model.embed_dim
        values = {"path": "data.csv", "text_column": None, "label_column": None}
        setup.set_data(values, 2, 500)
        unknown = _parameters(setup)  # no shape: the engine's 64 tokens, so no n-grams
        setup.set_data(values, 2, 500, (64.0, 0.0))
        assert _parameters(setup) == unknown
        setup.set_data(values, 2, 500, (12.0, 0.0))
        assert _parameters(setup) == unknown + rows
        setup.set_data(values, 2, 500, (64.0, 0.9))  # long, but in a spaceless script
        assert _parameters(setup) == unknown + rows
        setup.tokenizer.setCurrentText("bpe")  # BPE pieces get none
        assert _parameters(setup) == unknown
    finally:
        setup.shutdown()


def test_estimate_resolves_auto_like_training() -> None:
    config = StudioConfig()
    fixed = config.with_overrides(tokenizer={"char_ngrams": (2, 5)})
    short = estimate(config, 2, 500, text_shape=(12.0, 0.0))
    assert short == estimate(fixed, 2, 500, text_shape=(12.0, 0.0))
    assert estimate(config, 2, 500) == estimate(
        config.with_overrides(tokenizer={"char_ngrams": (0, 0)}), 2, 500
    )


def test_the_window_passes_the_loaded_texts_shape_to_the_estimate(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    setup = window.setup_page
    config = setup.config()
    before = _parameters(setup)
    with qtbot.waitSignal(window.dataset_page.sig_loaded, timeout=TIMEOUT):
        window.open_path(str(write_words_csv(tmp_path / "short.csv", tokens=12)))
    vocab = window.dataset_page.vocab_found()
    assert vocab is not None
    expected = estimate(config, 2, vocab, text_shape=(12.0, 0.0))["parameters"]
    assert _parameters(setup) == expected
    dim, tok = config.model.embed_dim, config.tokenizer
    assert _parameters(setup) - before == (tok.char_buckets - (tok.vocab_size - vocab)) * dim
