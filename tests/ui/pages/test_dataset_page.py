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
    assert [page.text_column.itemText(i) for i in range(page.text_column.count())] == [
        "page",
        "section",
        "text",
    ]
    assert page.text_column.currentText() == "text"
    assert page.label_column.currentText() == "section"
    assert page.text_column.isEnabled() and page.label_column.isEnabled()
    assert page.preview_table.model().rowCount() == 4295
    summary = page.dataset_summary.text()
    assert "4,295 documents" in summary and "7 labels" in summary and "format tsv" in summary
    assert page.data_values() == {
        "path": str(sample_path),
        "text_column": "text",
        "label_column": "section",
    }
    assert page.load_progress.isHidden() and page.cancel_load_button.isHidden()
    assert page.dataset_error.isHidden()

    assert len(page.label_chart.labels()) == 7
    assert sum(page.label_chart.values()) == 4295
    assert page.label_chart.warning_label.isHidden()  # 1000 vs 302: not imbalanced
    counts, _edges = page.length_chart.histogram()
    assert counts.sum() + page.length_chart.clipped()[0] == 4295
    at_marker = page.oov_chart.marker_values()
    assert at_marker is not None and 0.0 <= at_marker[0] < 0.5
    loaded = page.loaded
    assert loaded is not None and loaded.n_docs == 4295 and len(loaded.lengths) == 4295


def test_enter_in_the_path_field_loads(qtbot: QtBot, page: DatasetPage, topics_csv: Path) -> None:
    qtbot.keyClicks(page.dataset_path, str(topics_csv))
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT) as blocker:
        qtbot.keyClick(page.dataset_path, Qt.Key.Key_Return)
    assert blocker.args == [str(topics_csv)]
    assert page.preview_table.model().rowCount() == 1200
    assert page.data_values()["text_column"] == "text"
    assert page.data_values()["label_column"] == "label"
    assert "3 labels" in page.dataset_summary.text()


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
    assert not page.dataset_error.isHidden()
    assert page.dataset_error.text() == message
    assert not page.is_ready()
    assert page.preview_table.model().rowCount() == 0  # the previous preview is cleared
    assert page.label_chart.labels() == []
    assert page.load_progress.isHidden()
    # the header was fine, so the pickers still offer its columns
    assert page.label_column.currentText() == "label"

    # the page stays usable
    _load(qtbot, page, topics_csv)
    assert page.dataset_error.isHidden() and page.is_ready()


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
    assert page.dataset_error.text() == "unexpected error: RuntimeError: boom"
    assert not page.is_ready()


def test_choosing_another_label_column_reloads(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    path = _write_two_label_csv(tmp_path / "two.csv")
    _load(qtbot, page, path)
    assert page.label_column.currentText() == "label"
    assert sorted(page.label_chart.labels()) == ["x", "y", "z"]

    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT):
        page.label_column.setCurrentText("topic")

    assert page.data_values() == {"path": str(path), "text_column": "text", "label_column": "topic"}
    assert sorted(page.label_chart.labels()) == ["p", "q"]
    assert page.label_column.currentText() == "topic"
    assert "2 labels" in page.dataset_summary.text()

    # picking the text column as the label lets the text column be detected again
    with qtbot.waitSignal(page.sig_loaded, timeout=TIMEOUT):
        page.text_column.setCurrentText("label")
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
    assert not page.load_progress.isHidden() and not page.cancel_load_button.isHidden()

    with qtbot.waitSignals([page.sig_cancelled, page.sig_busy], timeout=TIMEOUT):
        qtbot.mouseClick(page.cancel_load_button, Qt.MouseButton.LeftButton)
    assert not page.is_ready()
    assert page.load_progress.isHidden() and page.cancel_load_button.isHidden()
    assert page.preview_table.model().rowCount() == 0

    # the worker finishes reading the big file in the background; its result is dropped
    # and the next request runs after it
    assert _load(qtbot, page, topics_csv) == str(topics_csv)
    assert loaded == [str(topics_csv)]
    assert page.preview_table.model().rowCount() == 1200


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
    assert page.preview_table.model().rowCount() == 1200
    assert page.dataset_path.text() == str(topics_csv)


def test_set_vocab_size_moves_the_marker(
    qtbot: QtBot, page: DatasetPage, sample_path: Path
) -> None:
    page.set_vocab_size(500)  # before any data
    assert page.oov_chart.marker_line.value() == pytest.approx(math.log10(500))
    assert page.oov_chart.marker_values() is None

    _load(qtbot, page, sample_path)
    small = page.oov_chart.marker_values()
    page.set_vocab_size(5000)
    large = page.oov_chart.marker_values()
    assert page.oov_chart.marker_line.value() == pytest.approx(math.log10(5000))
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
    assert not page.text_column.isEnabled() and not page.label_column.isEnabled()
    assert page.text_column.count() == 0
    assert page.data_values() == {"path": str(path), "text_column": None, "label_column": None}
    assert "format fasttext" in page.dataset_summary.text()


def test_imbalance_warning_on_the_label_chart(
    qtbot: QtBot, page: DatasetPage, tmp_path: Path
) -> None:
    path = tmp_path / "skewed.csv"
    rows = [f"common words here {i},big" for i in range(220)] + [
        f"rare words here {i},small" for i in range(20)
    ]
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _load(qtbot, page, path)
    assert not page.label_chart.warning_label.isHidden()
    assert "11×" in page.label_chart.warning_label.text()
    assert imbalance_warning({"a": 10, "b": 100}) == ""


def test_deleting_a_loading_page_waits_for_its_thread(qtbot: QtBot, tmp_path: Path) -> None:
    big = _write_big_csv(tmp_path / "big.csv", n=100_000)
    widget = DatasetPage()
    with qtbot.waitSignal(widget.sig_progress, timeout=TIMEOUT):
        widget.load(str(big))
    shiboken6.delete(widget)  # no shutdown(): the page stops its thread on destruction


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


def test_the_imbalance_warning_points_to_the_class_weights_setting() -> None:
    text = imbalance_warning({"a": 5, "b": 100})
    assert "20×" in text and text.endswith("consider Setup → Class weights: balanced")
    assert imbalance_warning({"a": 0, "b": 100}) == "class 'a' has no documents"
