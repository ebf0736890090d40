"""The Tune page driven through a real tiny study: trials live, the table, the best box, Stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.config import StudioConfig
from studio.ui.main_window import MainWindow
from studio.ui.pages.tune import TunePage
from studio.ui.workers.tune import TuneFinished
from tests.conftest import write_topics_csv
from tests.engine.tune.helpers import TINY_SPACE, tiny_base


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[TunePage]:
    p = TunePage()
    qtbot.addWidget(p)
    p.space = TINY_SPACE
    yield p
    p.shutdown()


@pytest.fixture
def base(tmp_path: Path) -> StudioConfig:
    return tiny_base(write_topics_csv(tmp_path / "topics.csv", n=400))


def _run(page: TunePage, qtbot: QtBot, base: StudioConfig, runs: Path) -> TuneFinished:
    page.trials.setValue(2)
    page.budget_minutes.setValue(0)
    with qtbot.waitSignal(page.sig_finished, timeout=120_000) as blocker:
        page.start(base, str(runs))
    result = blocker.args[0]
    assert isinstance(result, TuneFinished), result
    return result


def test_a_study_shows_its_trials_curves_and_best_parameters(
    page: TunePage, qtbot: QtBot, base: StudioConfig, tmp_path: Path
) -> None:
    result = _run(page, qtbot, base, tmp_path / "runs")
    assert result.ended_by == "trials"
    assert sorted(page.curves) == [0, 1]  # one curve per trial
    for number, curve in page.curves.items():
        xs, _ys = curve.getData()
        assert len(xs) == len(page.scores[number]) >= 1
    table = page.trials_table
    assert table.rowCount() == 2
    cells = [[table.item(r, c) for c in range(table.columnCount())] for r in range(2)]
    texts = [[item.text() if item is not None else "" for item in row] for row in cells]
    assert {row[1].split()[0] for row in texts} <= {"complete", "pruned"}
    assert all(row[3] for row in texts)  # the parameters are listed
    assert result.best is not None and result.best_path is not None
    assert Path(result.best_path).is_file()
    text = page.best_box.toPlainText()
    for key, _value, _default in result.chosen:
        assert key in text
    assert "default" in text
    assert result.best_path in page.best_path_label.text()
    assert len(page.best_points) >= 1
    assert page.start_button.isEnabled() and not page.stop_button.isEnabled()


def test_stop_during_a_study_ends_it_cleanly(
    page: TunePage, qtbot: QtBot, base: StudioConfig, tmp_path: Path
) -> None:
    page.trials.setValue(50)
    page.budget_minutes.setValue(0)
    with qtbot.waitSignal(page.controller.sig_running, timeout=10_000):
        page.start(base, str(tmp_path / "runs"))
    assert page.stop_button.isEnabled()
    with qtbot.waitSignal(page.sig_finished, timeout=120_000) as blocker:
        qtbot.waitUntil(lambda: bool(page.scores), timeout=60_000)  # a trial is training
        page.stop_button.click()
    result = blocker.args[0]
    assert isinstance(result, TuneFinished)
    assert result.ended_by == "stop"
    assert not page.is_running()
    assert page.start_button.isEnabled()


def test_the_window_tunes_the_loaded_dataset_with_the_setup(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    window = loaded
    window.tune_action.trigger()
    assert window.tabs.currentWidget() is window.tune_page
    page = window.tune_page
    page.space = TINY_SPACE
    page.trials.setValue(1)
    page.budget_minutes.setValue(0)
    window.setup_page.epochs.setValue(1)
    with qtbot.waitSignal(page.sig_finished, timeout=120_000) as blocker:
        page.start_button.click()
        assert not window.train_action.isEnabled()
    result = blocker.args[0]
    assert isinstance(result, TuneFinished), result
    assert result.best_path is not None and Path(result.best_path).is_file()
    assert window.train_action.isEnabled()
