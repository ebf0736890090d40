"""The playground shows an OOV word with character n-grams as covered, not struck out."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QTextCharFormat, QTextDocument
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig
from studio.ui.pages.playground import PlaygroundPage, dot_underlines, token_html
from tests.conftest import write_topics_csv

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def ngram_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from studio.engine import train_run

    root = tmp_path_factory.mktemp("ngram_run")
    data = write_topics_csv(root / "topics.csv", n=900)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        train={"epochs": 4, "lr": 0.05},
        tokenizer={"ngram_buckets": 0, "char_ngrams": (2, 4), "char_buckets": 400},
        model={"embed_dim": 16, "weighting": "idf"},
    )
    result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
    return Path(str(result.run_dir))


def _formats(document: QTextDocument) -> dict[str, QTextCharFormat]:
    """Each piece of text of the document with its character format."""
    out = {}
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            out[fragment.text().strip()] = fragment.charFormat()
            it += 1
        block = block.next()
    return out


def test_token_html_underlines_covered_words_and_strikes_out_bare_ones(qtbot: QtBot) -> None:
    covered = token_html([("goal", False, 0.5, 6), ("goals", True, 0.2, 7)])
    assert "line-through" not in covered and covered.count("underline") == 1
    assert "its vector is composed of 7 character n-grams" in covered
    goals = covered.split("</span> ")[1]
    assert "rgba(46,157,91," in goals and "gray" not in goals  # coloured: it contributes
    bare = token_html([("zzzqx", True, -0.1, 0)])
    assert "line-through" in bare and "underline" not in bare and "n-grams: read as" in bare
    document = QTextDocument()
    document.setHtml(covered + " " + bare)
    dot_underlines(document)
    formats = _formats(document)
    assert formats["goals"].underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    assert formats["goal"].underlineStyle() == QTextCharFormat.UnderlineStyle.NoUnderline
    assert formats["zzzqx"].fontStrikeOut() and not formats["zzzqx"].fontUnderline()


def test_playground_shows_an_oov_word_as_covered_by_its_ngrams(
    qtbot: QtBot, ngram_run: Path
) -> None:
    page = PlaygroundPage()
    qtbot.addWidget(page)
    assert "underlined" in page.legend.text() and "n-grams" in page.legend.text()
    assert "struck out" in page.legend.text()
    page.set_runs_dir(str(ngram_run.parent))
    page.refresh_runs()
    assert page.current_run() == str(ngram_run)
    qtbot.keyClicks(page.input, "goal coach qwertyuiop")
    qtbot.waitUntil(lambda: page.last_explanation is not None, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: [t.token for t in page.last_explanation.tokens][-1:] == ["qwertyuiop"],
        timeout=TIMEOUT,
    )
    word = page.last_explanation.tokens[-1]
    assert word.oov and word.subwords > 0
    assert "line-through" not in page.tokens.toHtml()
    shown = _formats(page.tokens.document())["qwertyuiop"]
    assert shown.underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    assert not shown.fontStrikeOut()
    assert f"composed of {word.subwords} character n-grams" in shown.toolTip()
    assert "1 out of vocabulary (1 covered by character n-grams)" in page.status.text()
    page.shutdown()
