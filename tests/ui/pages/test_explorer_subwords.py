"""The explorer's neighbour search with character n-grams: any word, composed from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig
from studio.ui.pages.explorer import NEIGHBOURS, ExplorerPage
from tests.conftest import write_topics_csv

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from studio.engine import train_run

    root = tmp_path_factory.mktemp("explorer-subwords")
    data = DataConfig(path=str(write_topics_csv(root / "topics.csv", n=400)))
    setups: dict[str, dict[str, Any]] = {
        "ngrams": {"ngram_buckets": 0, "char_ngrams": (2, 4), "char_buckets": 500},
        "plain": {"ngram_buckets": 0, "char_ngrams": (0, 0)},
    }
    out = {}
    for name, tokenizer in setups.items():
        config = StudioConfig(data=data).with_overrides(
            train={"epochs": 2}, tokenizer=tokenizer, model={"embed_dim": 8}
        )
        result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
        out[name] = Path(str(result.run_dir))
    return out


def _children(page: ExplorerPage) -> int:
    item = page.pinned.topLevelItem(0)
    assert item is not None
    return item.childCount()


def test_a_word_outside_the_vocabulary_gets_neighbours_from_its_ngrams(
    qtbot: QtBot, run_dirs: dict[str, Path]
) -> None:
    page = ExplorerPage()
    qtbot.addWidget(page)
    page.set_run(str(run_dirs["ngrams"]), project=False)
    page.search.setText("goalz")  # not a word of the data
    qtbot.waitUntil(lambda: page.neighbours.count() == NEIGHBOURS, timeout=TIMEOUT)
    assert "composed from its character n-grams" in page.status.text()
    page.search.setText("goal")  # in the vocabulary: no note
    qtbot.waitUntil(lambda: "“goal”" in page.status.text(), timeout=TIMEOUT)
    assert "composed" not in page.status.text()
    assert all(page.neighbours.item(i).text().split()[-1] != "goal" for i in range(NEIGHBOURS))
    page.search.setText("goalz")
    page.pin_current()
    qtbot.waitUntil(lambda: page.pinned.topLevelItemCount() == 1, timeout=TIMEOUT)
    assert _children(page) == NEIGHBOURS
    page.pinned.clear()
    page.on_epoch_end(str(run_dirs["ngrams"]))  # as during training: the latest checkpoint
    qtbot.waitUntil(lambda: page.pinned.topLevelItemCount() == 1, timeout=TIMEOUT)
    assert _children(page) == NEIGHBOURS
    page.shutdown()


def test_without_ngrams_an_unknown_word_is_not_in_the_vocabulary(
    qtbot: QtBot, run_dirs: dict[str, Path]
) -> None:
    page = ExplorerPage()
    qtbot.addWidget(page)
    page.set_run(str(run_dirs["plain"]), project=False)
    page.search.setText("goalz")
    qtbot.waitUntil(lambda: "not in the vocabulary" in page.status.text(), timeout=TIMEOUT)
    assert page.status.text() == "<b>Error:</b> &#x27;goalz&#x27; is not in the vocabulary"
    assert page.neighbours.count() == 0
    page.shutdown()
