"""The Label issues page in the window: folds in the background with a curve per fold, the
ranked list reviewed one by one and in bulk, decisions that outlive the window, filtering by
class pair from either confusion matrix, a corrected copy that leaves the original as it
was, and a retrain on it that the Runs page compares with the reviewed run."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig, load_config
from studio.engine.data.readers import read_dataset
from studio.ui.main_window import MainWindow
from studio.ui.pages.label_issues import LabelIssuesPage
from tests.engine.analysis.test_label_issues import FAST, _noisy_copy
from tests.ui.conftest import make_window


@pytest.fixture(autouse=True)
def _pca_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a run also maps its embeddings (the Embeddings page); PCA stands in for
    UMAP, whose first map compiles for most of a minute (the projector's tests cover it)."""
    from studio.engine.analysis import projection

    monkeypatch.setattr(projection, "project", lambda x, *_a, **_k: projection.pca_2d(x))


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 3-epoch run on the topics data with 5% of its labels flipped."""
    from studio.engine import train_run

    root = tmp_path_factory.mktemp("noisy")
    data, _ = _noisy_copy(root, 0.05)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(**FAST)
    result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
    return Path(str(result.run_dir))


@pytest.fixture
def run(noisy_run: Path, tmp_path: Path) -> Path:
    """A copy of the noisy run that this test may review."""
    return Path(shutil.copytree(noisy_run, tmp_path / "runs" / noisy_run.name))


def _find(qtbot: QtBot, page: LabelIssuesPage, folds: int = 3) -> None:
    qtbot.waitUntil(page.find_button.isEnabled, timeout=30_000)
    page.folds.setValue(folds)
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=120_000):
        page.find_button.click()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=30_000)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_decisions_survive_closing_the_window(qtbot: QtBot, tmp_path: Path, run: Path) -> None:
    win = make_window(qtbot, tmp_path)
    win.open_run(str(run))
    page = win.label_issues_page
    _find(qtbot, page)
    assert [page.curves.points(k) for k in (1, 2, 3)] == [3, 3, 3]  # one curve per fold
    assert not page.progress.isVisible() and page.stop_button.isEnabled() is False
    flagged = page.model.rowCount()
    assert page.summary.text().startswith(f"{flagged:,} flagged ({flagged:,} shown)")

    page.issues_table.selectRow(0)
    page.accept_button.click()  # one by one: the next document is selected after
    assert page.issues_table.selectionModel().selectedRows()[0].row() == 1
    page.exclude_button.click()
    page.issues_table.selectAll()
    page.decision_filter.setCurrentIndex(1)  # "to review": the two decided are hidden
    assert page.proxy.rowCount() == flagged - 2
    page.issues_table.selectAll()
    page.keep_button.click()  # in bulk
    decided = page.model.decisions()
    assert sorted(decided.values()).count("keep") == flagged - 2
    saved = json.loads((run / "label-issues" / "decisions.json").read_text(encoding="utf-8"))
    assert {int(k): v for k, v in saved["decisions"].items()} == decided
    win.close()

    again = make_window(qtbot, tmp_path)
    again.open_run(str(run))
    reopened = again.label_issues_page
    qtbot.waitUntil(lambda: reopened.model.rowCount() == flagged, timeout=30_000)
    assert reopened.model.decisions() == decided
    assert "0 to review" in reopened.summary.text()
    again.shutdown()


def test_a_matrix_cell_filters_the_list_to_its_pair(
    qtbot: QtBot, window: MainWindow, run: Path
) -> None:
    window.open_run(str(run))
    page = window.label_issues_page
    _find(qtbot, page)
    names = list(page.findings.label_names)  # type: ignore[union-attr]
    issue = page.model.issue(0)
    pair = (names.index(issue.given), names.index(issue.suggested))

    def shown() -> set[tuple[str, str]]:
        rows = page.proxy.source_rows(range(page.proxy.rowCount()))
        return {(page.model.issue(r).given, page.model.issue(r).suggested) for r in rows}

    page.pairs.sig_cell_clicked.emit(*pair)  # the page's own matrix of flagged documents
    assert shown() == {(issue.given, issue.suggested)}
    assert page.proxy.rowCount() == page.pairs.values()[pair]
    page.show_all()
    assert page.proxy.rowCount() == page.model.rowCount()
    evaluation = window.evaluation_page  # the Evaluation page's matrix does the same
    qtbot.waitUntil(lambda: evaluation.report is not None, timeout=60_000)
    evaluation.matrix.sig_cell_clicked.emit(*pair)
    assert shown() == {(issue.given, issue.suggested)}
    assert page.given_filter.currentText() == issue.given


def test_corrected_copy_and_a_retrain_compared_on_the_runs_page(
    qtbot: QtBot, window: MainWindow, run: Path, tmp_path: Path
) -> None:
    window.open_run(str(run))
    page = window.label_issues_page
    _find(qtbot, page)
    source = load_config(run / "config.toml").data.path
    before = _digest(source)
    assert not page.save_button.isEnabled()  # nothing to change yet
    page.issues_table.selectAll()
    page.accept_button.click()
    out = tmp_path / "fixed.csv"
    page.save_corrected(str(out))
    qtbot.waitUntil(lambda: page.status.text().startswith("Saved"), timeout=30_000)
    assert _digest(source) == before  # the user's file is only read
    fixed = dict(zip(read_dataset(out).lines, read_dataset(out).labels, strict=True))
    for issue in page.model.issues():
        assert fixed[issue.line] == issue.suggested_labels

    with qtbot.waitSignal(window.sig_training_done, timeout=120_000):
        page.retrain_button.click()
    assert _digest(source) == before
    qtbot.waitUntil(lambda: len(window.runs_page.selected_runs()) == 2, timeout=30_000)
    selected = {str(r.path) for r in window.runs_page.selected_runs()}
    assert selected == {str(run), str(window.active_run)}
    assert window.tabs.currentWidget() is window.runs_page
    retrained = load_config(Path(str(window.active_run)) / "config.toml")
    assert Path(retrained.data.path).parent == run / "label-issues"


def test_stopping_the_finder_keeps_no_half_review(
    qtbot: QtBot, window: MainWindow, run: Path
) -> None:
    window.open_run(str(run))
    page = window.label_issues_page
    qtbot.waitUntil(page.find_button.isEnabled, timeout=30_000)
    page.folds.setValue(10)
    with qtbot.waitSignal(page.sig_running, check_params_cb=lambda on: not on, timeout=120_000):
        page.find_button.click()
        assert not window.train_action.isEnabled()  # one training at a time
        page.stop_button.click()
    assert "stopped in fold" in page.status.text()
    assert not (run / "label-issues" / "issues.json").exists()
    assert window.train_action.isEnabled() is window.can_train()
