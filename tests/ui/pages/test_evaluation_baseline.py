"""The Evaluation page's TF-IDF baseline view, driven through pytest-qt on a real tiny run."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTableWidget

from studio.config import DataConfig, StudioConfig
from studio.ui.pages.evaluation import EvaluationPage
from studio.ui.widgets.baseline_view import verdict
from tests.conftest import TOPICS, write_topics_csv

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from studio.engine import train_run

    root = tmp_path_factory.mktemp("trained")
    data = write_topics_csv(root / "topics.csv", n=900)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        train={"epochs": 3, "lr": 0.05}, tokenizer={"ngram_buckets": 0}
    )
    result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
    return Path(str(result.run_dir))


def _cells(table: QTableWidget, row: int) -> list[str]:
    items = [table.item(row, c) for c in range(table.columnCount())]
    return [item.text() if item is not None else "" for item in items]


def _shown_page(qtbot, run_dir: Path) -> EvaluationPage:  # type: ignore[no-untyped-def]
    page = EvaluationPage()
    qtbot.addWidget(page)
    view = page.baseline_view
    assert not view.compare_button.isEnabled()  # nothing shown yet
    page.show_run(str(run_dir))
    qtbot.waitUntil(lambda: page.report is not None and view.has_run(), timeout=TIMEOUT)
    assert view.compare_button.isEnabled()
    return page


def test_compare_shows_the_run_and_the_baseline_side_by_side_then_from_the_cache(
    qtbot, run_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from studio.engine.analysis.baseline import WORDS, compare_with_baseline
    from studio.engine.analysis.inference import load_run
    from studio.engine.data.prepare import cache_key, prepare_dataset
    from studio.engine.runs.layout import default_cache_dir

    page = _shown_page(qtbot, run_dir)
    view = page.baseline_view
    assert view.baseline_split.currentData() == "test"
    assert view.baseline_features.currentData() == "words"
    with qtbot.waitSignal(view.sig_compared, timeout=TIMEOUT) as got:
        view.compare_button.click()
        assert view.cancel_button.isEnabled() and not view.compare_button.isEnabled()
    shown = got.args[0]
    assert not shown.baseline.cached and "cached" not in view.baseline_status.text()
    assert view.compare_button.isEnabled() and not view.cancel_button.isEnabled()

    run = load_run(str(run_dir))
    data, tok = run.config.data, run.config.tokenizer
    prepared = prepare_dataset(data, tok, cache_dir=default_cache_dir())
    # fitted afresh, by hand, away from the cache the page used
    expected = compare_with_baseline(
        run, prepared, "test", WORDS, dataset_key=cache_key(data, tok), cache_dir=tmp_path / "own"
    )
    assert not expected.baseline.cached
    scores = {_cells(view.score_table, r)[0]: _cells(view.score_table, r)[1:] for r in range(3)}
    assert view.score_table.rowCount() == 3  # single-label: no micro-F1 row
    for label, a in (("accuracy", "accuracy"), ("macro-F1", "macro_f1"),
                     ("weighted-F1", "weighted_f1")):  # fmt: skip
        r, b = getattr(expected.run, a), getattr(expected.baseline, a)
        assert scores[label] == [f"{r:.3f}", f"{b:.3f}", f"{r - b:+.3f}"]
    diffs = expected.f1_differences()
    assert view.f1_table.rowCount() == len(run.labels) == len(diffs) == 3
    for row, (name, r, b, d) in enumerate(diffs):  # the baseline's lead first
        assert _cells(view.f1_table, row) == [name, f"{r:.3f}", f"{b:.3f}", f"{d:+.3f}"]
    assert [d for *_, d in diffs] == sorted(d for *_, d in diffs)
    assert view.baseline_verdict.text() == (
        f"<b>{verdict(expected.run.macro_f1, expected.baseline.macro_f1)}</b>"
    )

    with qtbot.waitSignal(view.sig_compared, timeout=TIMEOUT) as again:
        view.compare_button.click()
    assert again.args[0].baseline.cached
    assert "cached" in view.baseline_status.text()
    assert again.args[0].baseline.macro_f1 == expected.baseline.macro_f1
    assert again.args[0].baseline.per_class_f1 == expected.baseline.per_class_f1
    assert _cells(view.f1_table, 0) == [diffs[0][0], *(f"{x:.3f}" for x in diffs[0][1:3]),
                                        f"{diffs[0][3]:+.3f}"]  # fmt: skip
    page.shutdown()


def test_a_compare_can_be_cancelled_and_a_live_epoch_disables_it(qtbot, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = _shown_page(qtbot, run_dir)
    view = page.baseline_view
    view.baseline_features.setCurrentIndex(1)  # characters: a different cache entry
    with qtbot.waitSignal(view.baseline_tasks.sig_cancelled, timeout=TIMEOUT):
        view.compare_button.click()
        view.cancel_button.click()
    assert "cancelled" in view.baseline_status.text()
    assert view.comparison is None and view.f1_table.rowCount() == 0
    assert view.compare_button.isEnabled() and not view.cancel_button.isEnabled()
    page.set_predictions(page.predictions, str, "epoch 1")  # a run still training
    assert not view.has_run() and not view.compare_button.isEnabled()
    page.shutdown()


def _multi_label_csv(path: Path, n: int = 600, seed: int = 2) -> Path:
    rng = random.Random(seed)
    names = sorted(TOPICS)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(n):
            labels = rng.sample(names, rng.randint(1, 2))
            words = [rng.choice(TOPICS[rng.choice(labels)]) for _ in range(rng.randint(3, 12))]
            fh.write(f"{' '.join(words)},{'|'.join(sorted(labels))}\n")
    return path


def test_a_multi_label_run_shows_subset_accuracy_and_micro_f1(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.engine import train_run

    data = DataConfig(path=str(_multi_label_csv(tmp_path / "multi.csv")), label_delimiter="|")
    config = StudioConfig(data=data).with_overrides(
        train={"epochs": 3, "lr": 0.05}, tokenizer={"ngram_buckets": 0}
    )
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    page = _shown_page(qtbot, Path(str(result.run_dir)))
    view = page.baseline_view
    with qtbot.waitSignal(view.sig_compared, timeout=TIMEOUT) as got:
        view.compare_button.click()
    comparison = got.args[0]
    assert comparison.baseline.multi_label and comparison.run.micro_f1 is not None
    labels = [_cells(view.score_table, r)[0] for r in range(view.score_table.rowCount())]
    assert labels == ["subset accuracy", "macro-F1", "weighted-F1", "micro-F1"]
    r, b = comparison.run.micro_f1, comparison.baseline.micro_f1
    assert _cells(view.score_table, 3)[1:] == [f"{r:.3f}", f"{b:.3f}", f"{r - b:+.3f}"]
    assert view.f1_table.rowCount() == len(TOPICS)
    page.shutdown()


def test_the_verdict_says_ahead_behind_or_level() -> None:
    assert (
        verdict(0.80, 0.75)
        == "The embedding model is 5.0 points ahead of the baseline on macro-F1."
    )
    assert (
        verdict(0.70, 0.725) == "The embedding model is 2.5 points behind the baseline on macro-F1."
    )
    assert "level" in verdict(0.7, 0.7)
