"""Recommendation runs in the run store: listed with text runs (status, epochs, recall@k),
their curves read like any run's, never offered for resume; their items as a map space."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from studio.engine.analysis.recs_record import RecsRecorder
from studio.engine.analysis.spaces import ITEM_TIERS, item_space, load_space
from studio.engine.data.interaction_split import split_interactions
from studio.engine.data.interactions import read_interactions
from studio.engine.runs.compare import curves
from studio.engine.runs.layout import read_metrics
from studio.engine.runs.listing import list_runs, resumable, resume_hint
from studio.engine.train.recs import RecSettings, fit_recs


def _plays(path: Path) -> Path:
    rng = np.random.default_rng(5)
    rows = ["user,item"]
    for u in range(80):
        rows += [f"u{u},i{(u % 4) * 10 + int(rng.integers(0, 10))}" for _ in range(8)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _train(tmp_path: Path, epochs: int = 3) -> tuple[Path, list[float]]:
    data = read_interactions(_plays(tmp_path / "plays.csv"))
    split = split_interactions(data, "random")
    settings = RecSettings(dim=8, epochs=epochs, als_baseline=False)
    recorder = RecsRecorder(tmp_path / "runs", data, split, settings)
    meta = json.loads((recorder.run_dir / "run.json").read_text())
    assert meta["status"] == "running" and meta["pid"] == os.getpid()  # while it trains
    result = fit_recs(data, split, settings, recorder.on_epoch, None, recorder.on_baseline)
    run = recorder.finish(result)
    return run, [e.metrics.recall for e in result.history]


def test_a_trained_run_is_listed_with_its_best_recall_and_curves(tmp_path: Path) -> None:
    run, recalls = _train(tmp_path)
    [info] = list_runs(tmp_path / "runs")
    assert info.path == run and info.kind == "recs" and info.status == "finished"
    assert info.epochs == 3 and info.val_recall == max(recalls) and info.k == 10
    assert info.val_accuracy is None and info.settings["embed_dim"] == 8
    assert not resumable(info) and resume_hint(info) is None
    records = read_metrics(run)
    assert [r["name"] for r in records if r["type"] == "baseline"] == ["popularity"]
    epochs = curves(records)["epochs"]
    np.testing.assert_array_equal(epochs["epoch"], [1, 2, 3])
    np.testing.assert_array_equal(epochs["val_recall"], recalls)
    assert np.isnan(epochs["val_accuracy"]).all()
    steps = curves(records)["steps"]["step"]
    assert list(steps) == sorted(steps) and steps[0] > 0  # the epoch's last step


def test_a_killed_run_reads_killed_with_the_epochs_it_logged(tmp_path: Path) -> None:
    data = read_interactions(_plays(tmp_path / "plays.csv"))
    split = split_interactions(data, "random")
    settings = RecSettings(dim=8, epochs=5, als_baseline=False)
    recorder = RecsRecorder(tmp_path / "runs", data, split, settings)
    fit_recs(data, split, RecSettings(dim=8, epochs=2, als_baseline=False), recorder.on_epoch)
    assert recorder._fh is not None
    recorder._fh.close()  # the process dies here: no end record, run.json still "running"
    meta_path = recorder.run_dir / "run.json"
    meta = json.loads(meta_path.read_text())
    meta["pid"] = 2**22 + 12345  # a process that is gone: what SIGKILL leaves
    meta_path.write_text(json.dumps(meta))
    [info] = list_runs(tmp_path / "runs")
    assert info.status == "killed" and info.epochs == 2 and info.val_recall is not None
    assert not resumable(info)


def test_a_run_that_raised_says_failed(tmp_path: Path) -> None:
    data = read_interactions(_plays(tmp_path / "plays.csv"))
    split = split_interactions(data, "random")
    recorder = RecsRecorder(tmp_path / "runs", data, split, RecSettings(dim=8))
    recorder.fail("out of memory")
    meta = json.loads((recorder.run_dir / "run.json").read_text())
    assert meta["status"] == "failed" and meta["error"] == "out of memory"


def test_items_map_in_popularity_order_with_tiers_by_share(tmp_path: Path) -> None:
    run, _ = _train(tmp_path, epochs=1)
    space = load_space(run)
    assert space.kind == "items" and space.limit == 40
    from studio.engine.analysis.recommend import load_recs_run

    rec = load_recs_run(run)
    counts = np.bincount(rec.train_items, minlength=40)
    names = space.names(space.ranked(40))
    ranked_counts = [counts[rec.item_names.index(n)] for n in names]
    assert ranked_counts == sorted(ranked_counts, reverse=True)  # most had first
    classes, labels = space.classes(space.ranked(40))
    assert labels == [label for label, _ in ITEM_TIERS]
    assert list(classes) == sorted(classes)  # head, then torso, then tail
    share = np.cumsum(ranked_counts) / counts.sum()
    starts = np.concatenate([[0.0], share[:-1]])
    for tier, (_label, end) in enumerate(ITEM_TIERS):  # by hand: where each item's share starts
        low = 0.0 if tier == 0 else ITEM_TIERS[tier - 1][1]
        expected = (starts >= low) & (starts < end)
        assert (classes[expected] == tier).all()
    item = names[0]
    near = space.index.query(item, 5)
    assert len(near) == 5 and item not in {n for n, _ in near}
    vectors = space.vectors(np.array([0]))
    np.testing.assert_allclose(vectors[0], rec.tables.items[rec.item_names.index(item) + 1])


def test_an_unseen_item_is_refused_by_name(tmp_path: Path) -> None:
    from studio.engine.analysis.recommend import load_recs_run
    from studio.errors import StudioError

    run, _ = _train(tmp_path, epochs=1)
    with pytest.raises(StudioError, match="'nothing' is not in"):
        item_space(load_recs_run(run)).index.query("nothing")
