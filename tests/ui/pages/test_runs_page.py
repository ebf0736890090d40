"""The Runs page: listing, comparing, renaming, deleting and following runs (pytest-qt)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QInputDialog, QLabel, QTableView, QTableWidget
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig
from studio.ui.models.runs_table import RunsTableModel
from studio.ui.pages.runs import RunsPage, empty_text
from tests.conftest import write_topics_csv

SETTINGS = {
    "vocab_size": 20000,
    "embed_dim": 64,
    "batch_size": 32,
    "epochs": 3,
    "lr": 0.001,
    "optimizer": "adamw",
    "preset": "bag",
    "ngram_buckets": 0,
    "tokenizer": "words",
}


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def epoch_line(epoch: int, acc: float) -> str:
    return _line(
        {
            "type": "epoch",
            "epoch": epoch,
            "step": epoch * 10,
            "val_loss": 1.0 - acc,
            "val_accuracy": acc,
            "val_macro_f1": acc - 0.05,
        }
    )


def write_run(
    runs: Path,
    name: str,
    *,
    status: str = "finished",
    pid: int | None = 999_999_999,
    started: str = "2024-01-01T10:00:00",
    epochs: int = 3,
    **settings: Any,
) -> Path:
    """A run folder by hand, as another process (the CLI, a remote job) would leave it."""
    run = runs / name
    run.mkdir(parents=True)
    meta: dict[str, Any] = {
        "format": 1,
        "status": status,
        "pid": pid,
        "started": started,
        "dataset": "/data/topics.csv",
        "settings": {**SETTINGS, **settings},
    }
    if status != "running":
        meta["summary"] = {"epochs": epochs, "val_accuracy": 0.5 + 0.1 * epochs}
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    lines = [_line({"type": "start", "total_steps": epochs * 10, "epochs": epochs})]
    for e in range(1, epochs + 1):
        lines += [_line({"type": "step", "step": s, "loss": 2.0 / s}) for s in range(1, 11)]
        lines.append(epoch_line(e, 0.5 + 0.1 * e))
    (run / "metrics.jsonl").write_text("".join(lines), encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two real runs (embedding size 16 and 32), trained once for the module."""
    from studio.engine import train_run

    base = tmp_path_factory.mktemp("trained")
    csv = write_topics_csv(base / "topics.csv", n=400)
    runs = []
    for dim in (16, 32):
        config = StudioConfig(data=DataConfig(path=str(csv))).with_overrides(
            train={"epochs": 2}, tokenizer={"ngram_buckets": 0}, model={"embed_dim": dim}
        )
        result = train_run(config, runs_dir=base / f"runs{dim}", cache_dir=base / "cache")
        assert result.run_dir is not None
        runs.append(Path(result.run_dir))
    return runs


@pytest.fixture
def runs_dir(tmp_path: Path, trained_runs: list[Path]) -> Path:
    """The two real runs, renamed dim16/dim32, plus one hand-written run."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for run, name in zip(trained_runs, ("dim16", "dim32"), strict=True):
        shutil.copytree(run, runs / name)
    write_run(runs, "synthetic", started="2000-01-01T00:00:00", embed_dim=128)
    return runs


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[RunsPage]:
    widget = RunsPage(poll_interval_ms=50)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    yield widget
    widget.shutdown()


def points(page: RunsPage, run: Path) -> int:
    curve = page.curve(run)
    assert curve is not None, f"{run.name} is not plotted"
    return 0 if curve.yData is None else len(curve.yData)


def listed(page: RunsPage, qtbot: QtBot, runs: Path, n: int) -> None:
    page.set_runs_dir(runs)
    qtbot.waitUntil(lambda: page.model.rowCount() == n, timeout=5000)


def cell(page: RunsPage, name: str, column: int) -> str:
    row = next(i for i, run in enumerate(page.runs()) if run.name == name)
    return str(page.model.index(row, column).data())


def diff_rows(table: QTableWidget) -> dict[str, list[str]]:
    return {
        table.verticalHeaderItem(r).text(): [
            table.item(r, c).text() for c in range(table.columnCount())
        ]
        for r in range(table.rowCount())
    }


# -- listing and comparing ----------------------------------------------------------------


def test_lists_runs_and_overlays_the_selected_ones(
    page: RunsPage, qtbot: QtBot, runs_dir: Path
) -> None:
    listed(page, qtbot, runs_dir, 3)
    table = page.findChild(QTableView, "runs_table")
    assert table is page.runs_table and table.isSortingEnabled()
    assert table.selectionMode() == QTableView.SelectionMode.ExtendedSelection
    assert {run.name for run in page.runs()} == {"dim16", "dim32", "synthetic"}
    assert cell(page, "dim16", RunsTableModel.DIM) == "16"
    assert cell(page, "dim32", RunsTableModel.DIM) == "32"
    assert cell(page, "dim16", RunsTableModel.EPOCHS) == "2"
    assert cell(page, "dim16", RunsTableModel.STATUS) == "finished"
    assert cell(page, "dim16", RunsTableModel.DATASET) == "topics.csv"
    assert cell(page, "dim16", RunsTableModel.ACCURACY).endswith("%")
    assert cell(page, "synthetic", RunsTableModel.ACCURACY) == "80.00%"

    # newest first; the synthetic run (year 2000) is the last row
    def column(col: int) -> list[str]:
        return [page.proxy.index(r, col).data() for r in range(page.proxy.rowCount())]

    assert column(RunsTableModel.NAME)[-1] == "synthetic"
    table.sortByColumn(RunsTableModel.DIM, Qt.SortOrder.AscendingOrder)  # numbers, not text
    assert column(RunsTableModel.DIM) == ["16", "32", "128"]
    table.sortByColumn(RunsTableModel.STARTED, Qt.SortOrder.DescendingOrder)

    dim16, dim32 = runs_dir / "dim16", runs_dir / "dim32"
    page.select_runs([dim16, dim32])
    assert {run.name for run in page.selected_runs()} == {"dim16", "dim32"}
    qtbot.waitUntil(lambda: points(page, dim16) == 2 and points(page, dim32) == 2, timeout=5000)
    assert page.curve(runs_dir / "synthetic") is None
    legend = page.comparison.plot.getPlotItem().legend
    assert sorted(label.text for _sample, label in legend.items) == ["dim16", "dim32"]
    pens = {page.curve(run).opts["pen"].color().name() for run in (dim16, dim32)}
    assert len(pens) == 2  # distinct colours

    diff = page.findChild(QTableWidget, "diff_table")
    rows = diff_rows(diff)
    assert list(rows) == ["embed_dim"]
    names = [diff.horizontalHeaderItem(c).text() for c in range(diff.columnCount())]
    assert dict(zip(names, rows["embed_dim"], strict=True)) == {"dim16": "16", "dim32": "32"}

    # training loss per step: one point per step of each run
    records = [json.loads(line) for line in (dim16 / "metrics.jsonl").read_text().splitlines()]
    steps16 = sum(1 for record in records if record["type"] == "step")
    assert steps16 > 2
    page.set_plot_metric("loss")
    assert page.comparison.metric_combo.currentData() == "loss"
    assert points(page, dim16) == steps16
    assert page.comparison.plot.getPlotItem().getAxis("bottom").labelText == "step"
    page.set_plot_metric("val_loss")
    assert points(page, dim16) == 2

    # one run: its settings, all of them
    page.select_runs([runs_dir / "synthetic"])
    qtbot.waitUntil(lambda: points(page, runs_dir / "synthetic") == 3, timeout=5000)
    assert page.curve(dim16) is None and len(legend.items) == 1
    rows = diff_rows(diff)
    assert rows["embed_dim"] == ["128"] and rows["dataset"] == ["topics.csv"]


def test_mouse_selection_extends_with_ctrl(page: RunsPage, qtbot: QtBot, runs_dir: Path) -> None:
    listed(page, qtbot, runs_dir, 3)
    page.show()
    qtbot.waitExposed(page)
    view = page.runs_table
    for row, modifier in (
        (0, Qt.KeyboardModifier.NoModifier),
        (2, Qt.KeyboardModifier.ControlModifier),
    ):
        rect = view.visualRect(page.proxy.index(row, RunsTableModel.NAME))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert len(page.selected_runs()) == 2
    assert page.delete_run_button.isEnabled() and not page.open_run_button.isEnabled()
    assert page.comparison.diff_table.columnCount() == 2


def test_empty_folder_says_so(page: RunsPage, qtbot: QtBot, tmp_path: Path) -> None:
    page.show()
    empty = tmp_path / "nothing-here"
    page.set_runs_dir(empty)
    label = page.findChild(QLabel, "runs_empty")
    qtbot.waitUntil(lambda: label.text() == empty_text(str(empty)), timeout=5000)
    assert label.text() == f"No runs yet in {empty}. Train a model, or copy run folders here."
    assert page.runs_stack.currentWidget() is label and label.isVisible()
    assert not page.open_run_button.isEnabled() and not page.delete_run_button.isEnabled()
    # a run appears: the table replaces the text
    write_run(empty, "first")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    assert page.runs_stack.currentWidget() is page.runs_table


# -- actions ------------------------------------------------------------------------------


def test_open_emits_the_run_path(page: RunsPage, qtbot: QtBot, runs_dir: Path) -> None:
    listed(page, qtbot, runs_dir, 3)
    page.show()
    qtbot.waitExposed(page)
    page.select_runs([runs_dir / "dim32"])
    assert page.open_run_button.isEnabled()
    with qtbot.waitSignal(page.sig_open_run, timeout=1000) as blocker:
        qtbot.mouseClick(page.open_run_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [str(runs_dir / "dim32")]

    row = page.proxy.mapFromSource(page.model.index(page.model.row_of(str(runs_dir / "dim16")), 0))
    rect = page.runs_table.visualRect(row)
    viewport = page.runs_table.viewport()
    with qtbot.waitSignal(page.sig_open_run, timeout=1000) as blocker:
        # Qt 6's QTest double click carries no press: the view needs one on the same row
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [str(runs_dir / "dim16")]


def test_rename_through_the_page(
    page: RunsPage, qtbot: QtBot, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed(page, qtbot, runs_dir, 3)
    answers = iter([("small embedding", True), ("bad/name", True), ("dim32", True), ("", False)])
    asked: list[str] = []

    def get_text(parent: object, title: str, label: str, mode: object, text: str) -> Any:
        asked.append(text)
        return next(answers)

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    page.select_runs([runs_dir / "dim16"])
    qtbot.mouseClick(page.rename_run_button, Qt.MouseButton.LeftButton)
    new = runs_dir / "small embedding"
    assert asked == ["dim16"] and new.is_dir() and not (runs_dir / "dim16").exists()
    assert [run.name for run in page.selected_runs()] == ["small embedding"]
    qtbot.waitUntil(lambda: page.curve(new) is not None and points(page, new) == 2, timeout=5000)
    assert not page.runs_error.isVisible()

    error = page.findChild(QLabel, "runs_error")
    qtbot.mouseClick(page.rename_run_button, Qt.MouseButton.LeftButton)
    assert "cannot contain '/'" in error.text() and not error.isHidden()
    qtbot.mouseClick(page.rename_run_button, Qt.MouseButton.LeftButton)
    assert "already exists" in error.text()
    qtbot.mouseClick(page.rename_run_button, Qt.MouseButton.LeftButton)  # cancelled
    assert new.is_dir() and (runs_dir / "dim32").is_dir()
    qtbot.waitUntil(
        lambda: {r.name for r in page.runs()} == {"small embedding", "dim32", "synthetic"},
        timeout=5000,
    )


def test_delete_asks_then_trashes(
    page: RunsPage, qtbot: QtBot, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed(page, qtbot, runs_dir, 3)
    trashed: list[str] = []

    def fake_trash(path: str) -> None:  # the real trash is never touched
        trashed.append(path)
        shutil.rmtree(path)

    monkeypatch.setattr("send2trash.send2trash", fake_trash)
    questions: list[str] = []
    answer = [False]

    def confirm(text: str) -> bool:
        questions.append(text)
        return answer[0]

    monkeypatch.setattr(page, "_confirm", confirm)
    page.select_runs([runs_dir / "dim16", runs_dir / "synthetic"])
    qtbot.mouseClick(page.delete_run_button, Qt.MouseButton.LeftButton)
    assert questions[0].startswith("Move 2 runs to the trash?")
    assert "dim16" in questions[0] and "synthetic" in questions[0]
    assert trashed == [] and page.model.rowCount() == 3

    answer[0] = True
    qtbot.mouseClick(page.delete_run_button, Qt.MouseButton.LeftButton)
    assert sorted(trashed) == sorted([str(runs_dir / "dim16"), str(runs_dir / "synthetic")])
    assert [run.name for run in page.runs()] == ["dim32"]
    assert page.selected_runs() == [] and page.comparison.diff_table.columnCount() == 0
    assert not page.runs_error.isVisible()

    # a run that is training is refused, inline
    live = write_run(runs_dir, "live", status="running", pid=os.getpid())
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    page.select_runs([live])
    qtbot.mouseClick(page.delete_run_button, Qt.MouseButton.LeftButton)
    assert questions[-1].startswith("Move 1 run to the trash?")
    assert "still training" in page.runs_error.text() and live.is_dir()


# -- live following -----------------------------------------------------------------------


def test_follows_a_run_written_by_another_process(
    page: RunsPage, qtbot: QtBot, runs_dir: Path
) -> None:
    live = write_run(runs_dir, "live", status="running", pid=os.getpid(), epochs=1)
    listed(page, qtbot, runs_dir, 4)
    page.show()
    qtbot.waitExposed(page)
    assert cell(page, "live", RunsTableModel.STATUS) == "running"
    page.select_runs([live])
    qtbot.waitUntil(lambda: points(page, live) == 1, timeout=5000)

    # the other process appends: an epoch, then a line torn half-way, then the rest
    with open(live / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write(_line({"type": "step", "step": 11, "loss": 0.3}) + epoch_line(2, 0.8))
    qtbot.waitUntil(lambda: points(page, live) == 2, timeout=5000)
    third = epoch_line(3, 0.9)
    with open(live / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write(third[:20])
    with open(live / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write(third[20:])
    qtbot.waitUntil(lambda: points(page, live) == 3, timeout=5000)
    curve = page.curve(live)
    assert list(curve.xData) == [1.0, 2.0, 3.0]
    assert list(curve.yData) == pytest.approx([0.6, 0.8, 0.9])

    # it finishes: run.json is rewritten and the table follows
    meta = json.loads((live / "run.json").read_text())
    meta.update(status="finished", summary={"epochs": 3, "val_accuracy": 0.9})
    tmp = live / ".run.json.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, live / "run.json")
    qtbot.waitUntil(lambda: cell(page, "live", RunsTableModel.STATUS) == "finished", timeout=5000)
    assert cell(page, "live", RunsTableModel.ACCURACY) == "90.00%"
    assert [run.name for run in page.selected_runs()] == ["live"]  # selection kept

    # a new run folder appears (a CLI run started meanwhile)
    write_run(runs_dir, "from-the-cli", started="2030-01-01T00:00:00")
    qtbot.waitUntil(lambda: page.model.rowCount() == 5, timeout=5000)
    assert [run.name for run in page.selected_runs()] == ["live"]


def test_a_running_run_whose_process_died_shows_killed(
    page: RunsPage, qtbot: QtBot, runs_dir: Path
) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    write_run(runs_dir, "crashed", status="running", pid=proc.pid)
    listed(page, qtbot, runs_dir, 4)
    assert cell(page, "crashed", RunsTableModel.STATUS) == "killed"


def test_shutdown_twice_and_no_polling_while_hidden(
    page: RunsPage, qtbot: QtBot, runs_dir: Path
) -> None:
    listed(page, qtbot, runs_dir, 3)
    page.show()
    qtbot.waitExposed(page)
    assert page._poll.isActive()
    watch = page._watch
    assert watch is not None and watch.is_running()
    watcher = watch.worker
    assert watcher is not None
    thread = watcher.thread()
    assert thread.isRunning() and thread is not QThread.currentThread()  # listing off the GUI
    page.hide()
    assert not page._poll.isActive()
    page.shutdown()
    assert not thread.isRunning() and watch.is_done()
    page.shutdown()
