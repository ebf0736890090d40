"""Run folders: what is written, what loads back, what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine import list_runs, load_run, train_run
from studio.engine.analysis.inference import evaluate_run
from studio.engine.runs.checkpoint import load_weights, save_weights
from studio.engine.runs.layout import read_metrics
from studio.errors import RunError


@pytest.fixture
def trained(topics_csv: Path, tmp_path: Path) -> Path:
    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        train={"epochs": 2}, tokenizer={"ngram_buckets": 500}
    )
    result = train_run(config, runs_dir=tmp_path / "runs")
    assert result.run_dir is not None
    return Path(result.run_dir)


def test_run_folder_contents(trained: Path) -> None:
    names = {p.name for p in trained.iterdir()}
    assert {"config.toml", "vocab.json", "labels.json", "metrics.jsonl", "run.json",
            "model.json", "model.safetensors", "checkpoints"} <= names  # fmt: skip
    assert not list(trained.rglob("*.tmp"))
    meta = json.loads((trained / "run.json").read_text())
    assert meta["status"] == "finished"
    assert meta["summary"]["epochs"] == 2
    records = read_metrics(trained)
    kinds = [r["type"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    steps = [r["step"] for r in records if r["type"] == "step"]
    assert steps == list(range(1, len(steps) + 1))


def test_saved_and_loaded_model_predicts_identically(trained: Path, topics_csv: Path) -> None:
    run = load_run(trained)
    texts = ["ball goal team", "bread cheese oven", "kernel compile bug", "the of and"]
    before = run.predict_proba(texts)
    again = load_run(trained).predict_proba(texts)
    np.testing.assert_array_equal(before, again)
    assert before.shape == (4, 3)
    np.testing.assert_allclose(before.sum(axis=1), 1.0, rtol=1e-5)
    assert run.predict("ball goal team coach")[0][0] == "sport"


@pytest.mark.parametrize(("patience", "checkpoint"), [(0, "last"), (1, "best")])
def test_the_final_model_is_written_once(
    topics_csv: Path, tmp_path: Path, patience: int, checkpoint: str
) -> None:
    """The final weights are a checkpoint's: model.safetensors is that file, not a copy."""
    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        train={"epochs": 3, "early_stopping_patience": patience}, tokenizer={"ngram_buckets": 500}
    )
    run = Path(str(train_run(config, runs_dir=tmp_path / "runs").run_dir))
    model, kept = run / "model.safetensors", run / "checkpoints" / f"{checkpoint}.safetensors"
    assert model.stat().st_ino == kept.stat().st_ino  # one file, two names
    final = load_run(run).model.state_dict()
    for name, tensor in load_weights(kept).items():
        assert torch.equal(final[name], tensor)


def test_a_stop_mid_epoch_writes_the_final_model(topics_csv: Path, tmp_path: Path) -> None:
    from studio.engine.train.control import TrainControl
    from studio.engine.train.events import Callback

    control = TrainControl()

    class StopAtStep5(Callback):
        def on_step_end(self, ctx: object, event: object) -> None:
            if getattr(event, "step", 0) == 5:
                control.request_stop()

    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        train={"epochs": 3, "batch_size": 16}, tokenizer={"ngram_buckets": 500}
    )
    result = train_run(config, [StopAtStep5()], control, runs_dir=tmp_path / "runs")
    run = Path(str(result.run_dir))
    assert result.status == "stopped" and result.steps == 5
    assert (run / "model.safetensors").is_file()  # no epoch ended: written from the model
    assert not (run / "checkpoints" / "last.safetensors").exists()


def test_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    state = {"a": torch.randn(5, 3), "b": torch.arange(4)}
    save_weights(tmp_path / "w.safetensors", state, {"epoch": "3"})
    loaded = load_weights(tmp_path / "w.safetensors")
    assert set(loaded) == {"a", "b"}
    assert torch.equal(loaded["a"], state["a"]) and torch.equal(loaded["b"], state["b"])


def test_best_and_last_checkpoints_load(trained: Path) -> None:
    for weights in ("best", "last"):
        assert load_run(trained, weights=weights).predict_proba(["goal"]).shape == (1, 3)


def test_pickle_files_are_refused_unopened(tmp_path: Path) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not even read")
    with pytest.raises(RunError, match="refusing to load a pickle-based file"):
        load_weights(bad)


def test_torn_metrics_line_is_skipped_with_a_warning(
    trained: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n = len(read_metrics(trained))
    with open(trained / "metrics.jsonl", "a") as fh:
        fh.write('{"type": "step", "ste')
    with caplog.at_level("WARNING", logger="studio"):
        assert len(read_metrics(trained)) == n
    assert "torn last line" in caplog.text and f"line {n + 1}" in caplog.text


def test_list_runs_and_evaluate(trained: Path, topics_csv: Path, tmp_path: Path) -> None:
    runs = list_runs(tmp_path / "runs")
    assert [r.path for r in runs] == [trained]
    assert runs[0].status == "finished" and runs[0].val_accuracy is not None
    result = evaluate_run(load_run(trained), topics_csv)
    assert result["documents"] == 1200
    assert result["accuracy"] > 0.6
    assert np.array(result["confusion_matrix"]).sum() == 1200
    assert set(result["per_class"]) == {"food", "sport", "tech"}


def test_missing_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not a run folder"):
        load_run(tmp_path / "nope")
