"""The Dataset page: loading on a worker thread, pickers, errors, cancel, preview, charts."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from studio.engine.data.readers import RawDataset
from studio.ui.models.preview import DISPLAY_CHARS, FULL_TEXT_ROLE, PreviewModel
from studio.ui.pages.dataset import DatasetPage, imbalance_warning
from studio.ui.workers.dataset_loader import inspect_columns, list_columns

TIMEOUT = 60_000  # ms; generous for slow CI machines


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[DatasetPage]:
    widget = DatasetPage()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    yield widget
    widget.shutdown()


def _load(qtbot: QtBot, page: DatasetPage, path: Path | str) -> str:
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT) as blocker:
        page.load(str(path))
    return str(blocker.args[0])


def _write_big_csv(path: Path, n: int = 300_000) -> Path:
    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for i in range(n):
            fh.write(f"{' '.join(rng.choices(words, k=12))},{'ab'[i % 2]}\n")
    return path


def _write_two_label_csv(path: Path) -> Path:
    rng = random.Random(2)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label,topic\n")
        for i in range(300):
            words = " ".join(rng.choice(["red", "green", "blue", "cat", "dog"]) for _ in range(8))
            fh.write(f"{words},{'xyz'[i % 3]},{'pq'[i % 2]}\n")
    return path


def test_loads_the_bundled_dataset(qtbot: QtBot, page: DatasetPage, sample_path: Path) -> None:
    busy: list[bool] = []
    page.sig_busy.connect(busy.append)
    assert not page.is_ready()

    assert _load(qtbot, page, sample_path) == str(sample_path)

    assert busy == [True, False]
    assert page.is_ready()
    assert [page.textColumn.itemText(i) for i in range(page.textColumn.count())] == [
        "page",
        "section",
        "text",
    ]
    assert page.textColumn.currentText() == "text"
    assert page.labelColumn.currentText() == "section"
    assert page.textColumn.isEnabled() and page.labelColumn.isEnabled()
    assert page.previewTable.model().rowCount() == 4295
    summary = page.datasetSummary.text()
    assert "4,295 documents" in summary and "7 labels" in summary and "format tsv" in summary
    assert page.data_values() == {
        "path": str(sample_path),
        "text_column": "text",
        "label_column": "section",
    }
    assert page.loadProgress.isHidden() and page.cancelLoadButton.isHidden()
    assert page.datasetError.isHidden()

    assert len(page.labelChart.labels()) == 7
    assert sum(page.labelChart.values()) == 4295
    assert page.labelChart.warning_label.isHidden()  # 1000 vs 302: not imbalanced
    counts, _edges = page.lengthChart.histogram()
    assert counts.sum() == 4295
    at_marker = page.oovChart.marker_values()
    assert at_marker is not None and 0.0 <= at_marker[0] < 0.5
    loaded = page.loaded
    assert loaded is not None and loaded.n_docs == 4295 and len(loaded.lengths) == 4295


def test_enter_in_the_path_field_loads(qtbot: QtBot, page: DatasetPage, topics_csv: Path) -> None:
    qtbot.keyClicks(page.datasetPath, str(topics_csv))
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT) as blocker:
        qtbot.keyClick(page.datasetPath, Qt.Key.Key_Return)
    assert blocker.args == [str(topics_csv)]
    assert page.previewTable.model().rowCount() == 1200
    assert page.data_values()["text_column"] == "text"
    assert page.data_values()["label_column"] == "label"
    assert "3 labels" in page.datasetSummary.text()


def test_a_bad_file_shows_an_inline_error(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path, topics_csv: Path
) -> None:
    _load(qtbot, page, topics_csv)
    bad = tmp_path / "ragged.csv"
    bad.write_text("text,label\nhello there,a\nbye now,b\none,two,three\n", encoding="utf-8")

    with qtbot.waitSignal(page.sig_failed, timeout=TIMEOUT) as blocker:
        page.load(str(bad))

    message = blocker.args[0]
    assert "line 4" in message and "expected 2 fields" in message
    assert not page.datasetError.isHidden()
    assert page.datasetError.text() == message
    assert not page.is_ready()
    assert page.previewTable.model().rowCount() == 0  # the previous preview is cleared
    assert page.labelChart.labels() == []
    assert page.loadProgress.isHidden()
    # the header was fine, so the pickers still offer its columns
    assert page.labelColumn.currentText() == "label"

    # the page stays usable
    _load(qtbot, page, topics_csv)
    assert page.datasetError.isHidden() and page.is_ready()


def test_missing_file_and_empty_path(qtbot: QtBot, page: DatasetPage, tmp_path: Path) -> None:
    with qtbot.waitSignal(page.sig_failed, timeout=TIMEOUT) as blocker:
        page.load(str(tmp_path / "nope.csv"))
    assert "file not found" in blocker.args[0]
    with qtbot.waitSignal(page.sig_failed, timeout=TIMEOUT) as blocker:
        page.load("   ")
    assert "no dataset given" in blocker.args[0]
    assert not page.is_ready()


def test_unexpected_errors_are_shown_not_swallowed(
    qtbot: QtBot, page: DatasetPage, topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.engine.data.stats

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(studio.engine.data.stats, "oov_curve", boom)
    with qtbot.waitSignal(page.sig_failed, timeout=TIMEOUT) as blocker:
        page.load(str(topics_csv))
    assert blocker.args == ["unexpected error: RuntimeError: boom"]
    assert page.datasetError.text() == "unexpected error: RuntimeError: boom"
    assert not page.is_ready()


def test_choosing_another_label_column_reloads(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    path = _write_two_label_csv(tmp_path / "two.csv")
    _load(qtbot, page, path)
    assert page.labelColumn.currentText() == "label"
    assert sorted(page.labelChart.labels()) == ["x", "y", "z"]

    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT):
        page.labelColumn.setCurrentText("topic")

    assert page.data_values() == {"path": str(path), "text_column": "text", "label_column": "topic"}
    assert sorted(page.labelChart.labels()) == ["p", "q"]
    assert page.labelColumn.currentText() == "topic"
    assert "2 labels" in page.datasetSummary.text()

    # picking the text column as the label lets the text column be detected again
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT):
        page.textColumn.setCurrentText("label")
    assert page.data_values()["text_column"] == "label"
    assert page.data_values()["label_column"] == "topic"


def test_cancel_discards_the_running_load(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path, topics_csv: Path
) -> None:
    big = _write_big_csv(tmp_path / "big.csv")
    loaded: list[str] = []
    page.sig_loaded.connect(loaded.append)

    with qtbot.waitSignal(
        page.sig_progress, timeout=TIMEOUT, check_params_cb=lambda msg, _pct: msg == "reading file"
    ):
        page.load(str(big))
    assert not page.loadProgress.isHidden() and not page.cancelLoadButton.isHidden()

    with qtbot.waitSignals([page.sig_cancelled, page.sig_busy], timeout=TIMEOUT):
        qtbot.mouseClick(page.cancelLoadButton, Qt.MouseButton.LeftButton)
    assert not page.is_ready()
    assert page.loadProgress.isHidden() and page.cancelLoadButton.isHidden()
    assert page.previewTable.model().rowCount() == 0

    # the worker finishes reading the big file in the background; its result is dropped
    # and the next request runs after it
    assert _load(qtbot, page, topics_csv) == str(topics_csv)
    assert loaded == [str(topics_csv)]
    assert page.previewTable.model().rowCount() == 1200


def test_a_new_load_supersedes_the_running_one(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path, topics_csv: Path
) -> None:
    big = _write_big_csv(tmp_path / "big.csv", n=100_000)
    loaded: list[str] = []
    busy: list[bool] = []
    page.sig_loaded.connect(loaded.append)
    page.sig_busy.connect(busy.append)
    page.load(str(big))
    _load(qtbot, page, topics_csv)
    assert loaded == [str(topics_csv)]
    assert busy == [True, False]
    assert page.previewTable.model().rowCount() == 1200
    assert page.datasetPath.text() == str(topics_csv)


def test_set_vocab_size_moves_the_marker(
    qtbot: QtBot, page: DatasetPage, sample_path: Path
) -> None:
    page.set_vocab_size(500)  # before any data
    assert page.oovChart.marker_line.value() == pytest.approx(math.log10(500))
    assert page.oovChart.marker_values() is None

    _load(qtbot, page, sample_path)
    small = page.oovChart.marker_values()
    page.set_vocab_size(5000)
    large = page.oovChart.marker_values()
    assert page.oovChart.marker_line.value() == pytest.approx(math.log10(5000))
    assert small is not None and large is not None
    assert large[0] < small[0]


def test_formats_without_columns_disable_the_pickers(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    path = tmp_path / "train.txt"
    path.write_text(
        "".join(f"__label__{'ab'[i % 2]} some words number {i}\n" for i in range(40)),
        encoding="utf-8",
    )
    _load(qtbot, page, path)
    assert not page.textColumn.isEnabled() and not page.labelColumn.isEnabled()
    assert page.textColumn.count() == 0
    assert page.data_values() == {"path": str(path), "text_column": None, "label_column": None}
    assert "format fasttext" in page.datasetSummary.text()


def test_imbalance_warning_on_the_label_chart(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    path = tmp_path / "skewed.csv"
    rows = [f"common words here {i},big" for i in range(220)] + [
        f"rare words here {i},small" for i in range(20)
    ]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _load(qtbot, page, path)
    assert not page.labelChart.warning_label.isHidden()
    assert "11×" in page.labelChart.warning_label.text()
    assert imbalance_warning({"a": 10, "b": 100}) == ""


def test_deleting_a_loading_page_waits_for_its_thread(qtbot: QtBot, tmp_path: Path) -> None:
    big = _write_big_csv(tmp_path / "big.csv", n=100_000)
    widget = DatasetPage()
    with qtbot.waitSignal(widget.sig_progress, timeout=TIMEOUT):
        widget.load(str(big))
    shiboken6.delete(widget)  # no shutdown(): the page stops its thread on destruction


def test_list_columns(tmp_path: Path, sample_path: Path) -> None:
    assert list_columns(sample_path) == ["page", "section", "text"]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        '{"id": 1, "body": "hello there", "y": "a"}\n{"id": 2, "body": "bye", "y": "b", "z": 1}\n',
        encoding="utf-8",
    )
    info = inspect_columns(jsonl)
    assert info.columns == ("id", "body", "y", "z")
    assert (info.text_column, info.label_column) == ("body", "y")
    (tmp_path / "folder" / "a").mkdir(parents=True)
    assert list_columns(tmp_path / "folder") == []


def test_preview_model_is_lazy_over_a_million_rows(qtbot: QtBot) -> None:
    n = 1_000_000
    long_text = "word " * 100
    raw = RawDataset(
        texts=[long_text] * n,
        labels=[("a", "b")] * n,
        lines=list(range(2, n + 2)),
        path="mem",
        format="csv",
        multi_label=True,
    )
    model = PreviewModel()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.set_dataset(raw)
    view.show()
    qtbot.waitExposed(view)

    assert model.rowCount() == n and view.model().rowCount() == n
    assert model.headerData(2, Qt.Orientation.Horizontal) == "labels"
    last = model.index(n - 1, 1)
    shown = model.data(last)
    assert len(shown) <= DISPLAY_CHARS and shown.endswith("…")
    assert model.data(last, FULL_TEXT_ROLE) == long_text
    assert "word" in model.data(last, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(n - 1, 0)) == "1,000,000"
    assert model.data(model.index(0, 2)) == "a, b"
    assert "line 2" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)

    model.set_dataset(None)
    assert model.rowCount() == 0
    assert model.columnCount() == 3
