"""Evaluation, playground and embedding explorer pages, and the task runner behind them."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from studio.ui.main_window import MainWindow
from studio.ui.pages.evaluation import EvaluationPage
from studio.ui.pages.explorer import ExplorerPage
from studio.ui.pages.playground import EMPTY_INPUT, PlaygroundPage
from studio.ui.workers.tasks import TaskRunner

TIMEOUT = 60_000


def test_task_runner_runs_off_the_gui_thread_and_the_newest_wins(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner("testTasks")
    started, release = threading.Event(), threading.Event()
    ran: list[tuple[int, str]] = []
    results: list[object] = []
    runner.sig_result.connect(results.append)

    def task(n: int, block: bool = False) -> int:
        ran.append((n, threading.current_thread().name))
        if block:
            started.set()
            release.wait(10)
        return n

    try:
        runner.submit(lambda: task(1, block=True))
        assert started.wait(10)
        runner.submit(lambda: task(2))  # superseded while queued: never runs
        with qtbot.waitSignal(runner.sig_result, timeout=TIMEOUT) as got:
            runner.submit(lambda: task(3))
            release.set()
        assert got.args == [3] and results == [3]  # 1 finished, but was stale by then
        assert [n for n, _ in ran] == [1, 3]
        assert all(name != threading.main_thread().name for _, name in ran)
    finally:
        release.set()
        runner.shutdown()


def test_evaluation_of_a_saved_run(qtbot, run_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = EvaluationPage()
    qtbot.addWidget(page)
    page.show()
    page.show_run(str(run_dir))
    qtbot.waitUntil(lambda: page.report is not None, timeout=TIMEOUT)
    report = page.report
    assert "accuracy" in page.summary.text()
    assert page.class_model.rowCount() == 3
    assert page.image.image.shape == (3, 3)
    assert int(page.image.image.sum()) == report.n_docs
    page.normalize.setChecked(True)
    np.testing.assert_allclose(page.image.image.sum(axis=0), 1.0, rtol=1e-6)  # rows (transposed)
    page.show_cell(0, 0)
    qtbot.waitUntil(lambda: page.example_model.rowCount() > 0, timeout=TIMEOUT)
    names = [c.name for c in report.per_class]
    assert all(r[1] == names[0] and r[2] == names[0] for r in page.example_model.rows)
    confidences = [r[3] for r in page.example_model.rows]
    assert confidences == sorted(confidences, reverse=True)
    for name in ("confusion.png", "confusion.svg"):
        page.save_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0
    assert not QImage(str(tmp_path / "confusion.png")).isNull()
    page.shutdown()


def test_a_hidden_page_draws_its_matrix_when_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    """While training, each epoch's report reaches a hidden page: the costly matrix is
    drawn once, for the latest report, when the page is shown."""
    from studio.engine.analysis.report import predictions_from_arrays

    rng = np.random.default_rng(1)
    page = EvaluationPage()
    qtbot.addWidget(page)
    for epoch, n in ((1, 300), (2, 400)):
        probs = rng.dirichlet(np.ones(4), size=n).astype(np.float32)
        pred = predictions_from_arrays(
            probs, rng.integers(0, 4, n), np.arange(n), list("abcd"), False
        )
        page.set_predictions(pred, str, f"epoch {epoch}")
        qtbot.waitUntil(
            lambda n=n: page.report is not None and page.report.n_docs == n, timeout=TIMEOUT
        )
        assert page.image.image is None  # hidden: tables and summary only
        assert f"epoch {epoch}" in page.summary.text()
    page.show()
    assert page.image.image is not None and int(page.image.image.sum()) == 400


def test_confusion_matrix_stays_readable_with_fifty_classes(qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.engine.analysis.report import predictions_from_arrays

    rng = np.random.default_rng(0)
    n, k = 2000, 50
    probs = rng.dirichlet(np.ones(k), size=n).astype(np.float32)
    y = rng.integers(0, k, n)
    pred = predictions_from_arrays(probs, y, np.arange(n), [f"class-{i}" for i in range(k)], False)
    page = EvaluationPage()
    qtbot.addWidget(page)
    page.show()
    page.set_predictions(pred, lambda i: f"doc {i}", "synthetic")
    qtbot.waitUntil(lambda: page.report is not None, timeout=TIMEOUT)
    ticks = page.plot.getAxis("bottom")._tickLevels[0]
    left = page.plot.getAxis("left")._tickLevels[0]
    assert len(ticks) <= 26 and len(left) <= 26
    # past 20 classes: numbered columns (named in the per-class table's "#"), row shares
    assert [label for _, label in ticks][:3] == ["1", "3", "5"]
    assert page.class_model.rows[0][:2] == (1, "class-0")
    assert page.normalize.isChecked()
    np.testing.assert_allclose(page.image.image.sum(axis=0), 1.0, rtol=1e-6)
    assert page.image.image.shape == (50, 50) and page.matrix._cell_text == []
    # hovering a cell names it in full
    text = page.matrix.cell_text(3, 7)
    count = int(page.report.confusion[3, 7])
    assert "true: 4 class-3" in text and "predicted: 8 class-7" in text
    assert f"{count:,} documents" in text
    # the top confusions, largest first, and a double-click lists that cell's examples
    rows = page.confusions_model.rows
    assert rows and [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)
    off = page.report.confusion.copy()
    np.fill_diagonal(off, 0)
    assert rows[0][2] == off.max() and all(r[0] != r[1] for r in rows)
    proxy = page.confusions_table.model()  # as the user sees it: largest first
    shown = [proxy.data(proxy.index(0, c)) for c in range(3)]
    assert int(shown[2]) == rows[0][2]
    page.confusions_table.doubleClicked.emit(proxy.index(0, 0))
    qtbot.waitUntil(lambda: page.example_model.rowCount() == rows[0][2], timeout=TIMEOUT)
    assert {(r[1], r[2]) for r in page.example_model.rows} == {(shown[0], shown[1])}
    # a choice the user makes is kept for the next report
    page.normalize.setChecked(False)
    page.set_predictions(pred, lambda i: f"doc {i}", "synthetic again")
    qtbot.waitUntil(lambda: "again" in page.summary.text(), timeout=TIMEOUT)
    assert not page.normalize.isChecked()
    page.shutdown()


def test_playground_predicts_as_you_type(qtbot, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = PlaygroundPage()
    qtbot.addWidget(page)
    page.set_runs_dir(str(run_dir.parent))
    page.refresh_runs()
    assert page.current_run() == str(run_dir)
    qtbot.keyClicks(page.input, "goal coach qwertyuiop")
    qtbot.waitUntil(lambda: page.last_explanation is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: page.chart.labels()[:1] == ["sport"], timeout=TIMEOUT)
    e = page.last_explanation
    assert [t.token for t in e.tokens] == ["goal", "coach", "qwertyuiop"]
    assert [t.oov for t in e.tokens] == [False, False, True]
    assert "line-through" in page.tokens.toHtml()
    assert "exact" in page.status.text()
    page.input.clear()  # nothing typed: no prediction for "", a hint instead
    qtbot.waitUntil(lambda: page.status.text() == EMPTY_INPUT, timeout=TIMEOUT)
    assert page.chart.labels() == [] and page.last_explanation is None
    page.shutdown()


def test_explorer_projects_finds_neighbours_and_refreshes_pins(qtbot, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = ExplorerPage()
    qtbot.addWidget(page)
    page.controls.count.setValue(30)
    page.controls.method.setCurrentText("PCA")  # UMAP has its own test (test_projector)
    page.set_run(str(run_dir))
    qtbot.waitUntil(lambda: len(page.points) > 0, timeout=TIMEOUT)
    assert len(page.points) == len(page.map_plot.scatter.data) <= 30
    page.search.setText("goal")
    qtbot.waitUntil(lambda: page.neighbours.count() == 10, timeout=TIMEOUT)
    assert all(page.neighbours.item(i).text().split()[-1] != "goal" for i in range(10))
    page.pin_current()
    qtbot.waitUntil(lambda: page.pinned.topLevelItemCount() == 1, timeout=TIMEOUT)
    assert page.pinned.topLevelItem(0).childCount() == 10
    page.pinned.clear()
    page.on_epoch_end(str(run_dir))  # as during training: read the latest checkpoint
    qtbot.waitUntil(lambda: page.pinned.topLevelItemCount() == 1, timeout=TIMEOUT)
    page.shutdown()


def test_training_feeds_evaluation_each_epoch_and_the_playground_after(
    loaded: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    win = loaded
    win.setup_page.epochs.setValue(2)
    with qtbot.waitSignal(win.sig_training_done, timeout=TIMEOUT):
        win.start_training()
    qtbot.waitUntil(lambda: "saved model" in win.evaluation_page.summary.text(), timeout=TIMEOUT)
    assert win.evaluation_page.report is not None
    assert win.active_run is not None
    assert win.playground_page.current_run() == win.active_run


def test_training_curves_save_as_png_and_svg(loaded: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    win = loaded
    win.setup_page.epochs.setValue(1)
    with qtbot.waitSignal(win.sig_training_done, timeout=TIMEOUT):
        win.start_training()
    win.training_page.plots.redraw()
    for name in ("curves.png", "curves.svg"):
        win.training_page.save_image(str(tmp_path / name))
    assert not QImage(str(tmp_path / "curves.png")).isNull()
    svg = (tmp_path / "curves.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "path" in svg
