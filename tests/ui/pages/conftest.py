"""Fixtures shared by the page tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig, load_config, save_config
from studio.ui.pages.setup import SetupPage
from tests.conftest import write_topics_csv


@pytest.fixture
def setup_page(qtbot: QtBot) -> Iterator[SetupPage]:
    """A fresh Setup page, shut down after the test."""
    widget = SetupPage()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def reloaded(qtbot: QtBot, tmp_path: Path) -> Iterator[Callable[[SetupPage], SetupPage]]:
    """Save a page's config as TOML (checking the file reads back equal) and load it into a
    second, fresh Setup page, which is returned and shut down after the test."""
    pages: list[SetupPage] = []

    def reload(page: SetupPage) -> SetupPage:
        path = tmp_path / f"setup-{len(pages)}.toml"
        save_config(page.config(), path)
        assert load_config(path) == page.config()
        other = SetupPage()
        qtbot.addWidget(other)
        other.load_file(str(path))
        pages.append(other)
        return other

    yield reload
    for other in pages:
        other.shutdown()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-epoch run on 900 topic documents (words only), shared by the pages."""
    from studio.engine import train_run

    root = tmp_path_factory.mktemp("trained")
    data = write_topics_csv(root / "topics.csv", n=900)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        train={"epochs": 4, "lr": 0.05}, tokenizer={"ngram_buckets": 0, "char_ngrams": (0, 0)}
    )
    result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
    return Path(str(result.run_dir))
