"""Resuming a stopped or killed run ends exactly like an uninterrupted one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.runs.checkpoint import load_weights
from studio.engine.runs.layout import read_json, read_metrics
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback, EpochEnd, StepEnd
from studio.engine.train.resume import MANIFEST, load_train_state, read_manifest
from studio.engine.train.session import resume_run, train_run
from studio.errors import RunError
from tests.conftest import ROOT, write_topics_csv


def _config(path: Path, **model: Any) -> StudioConfig:
    base = StudioConfig(data=DataConfig(path=str(path)))
    return base.with_overrides(
        train={"epochs": 4, "batch_size": 32, "seed": 3, "schedule": "linear"},
        model={"hidden": (16,), "dropout": 0.2, **model},
        # bigrams and character n-grams as by default, in small tables: every checkpoint
        # holds the whole table (the defaults' 760k rows are 195 MB a file)
        tokenizer={"ngram_buckets": 20_000, "char_buckets": 20_000},
        device={"device": "cpu"},
    )


class StopAt(Callback):
    """Requests a stop at the end of epoch ``epoch`` or at the first step after it."""

    def __init__(self, control: TrainControl, epoch: int, mid_epoch: bool) -> None:
        self.control, self.epoch, self.mid_epoch = control, epoch, mid_epoch

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        if not self.mid_epoch and event.epoch == self.epoch:
            self.control.request_stop()

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        if self.mid_epoch and event.epoch == self.epoch + 1:
            self.control.request_stop()


def _curves(history: list[EpochEnd]) -> list[tuple[int, float, float, float]]:
    return [(e.epoch, e.train_loss, e.val_loss, e.val_accuracy) for e in history]


@pytest.mark.parametrize(
    ("train", "mid_epoch"),
    [
        ({}, False),  # AdamW + the row-wise Adagrad table, stopped at the end of epoch 2
        ({}, True),  # ... at the first step of epoch 3
        ({"optimizer": "adam", "table_optimizer": "same"}, True),  # Adam + SparseAdam
        ({"optimizer": "sgd", "table_optimizer": "same"}, False),
    ],
)
def test_stopped_run_resumes_exactly(
    tmp_path: Path, topics_csv: Path, train: dict[str, Any], mid_epoch: bool
) -> None:
    config = _config(topics_csv).with_overrides(train=train)
    full = train_run(config, runs_dir=tmp_path / "full")

    control = TrainControl()
    stopped = train_run(
        config, [StopAt(control, 2, mid_epoch)], control, runs_dir=tmp_path / "parts"
    )
    assert stopped.status == "stopped" and stopped.epochs == 2
    assert stopped.run_dir is not None
    run = Path(stopped.run_dir)
    manifest = read_manifest(run)
    assert manifest is not None and manifest["epoch"] == 2

    resumed = resume_run(run)
    assert resumed.status == "finished"
    assert resumed.run_dir == str(run)
    assert _curves(resumed.history) == _curves(full.history)
    assert resumed.steps == full.steps
    assert full.run_dir is not None
    a = load_weights(Path(full.run_dir) / "model.safetensors")
    b = load_weights(run / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)

    assert read_json(run / "run.json")["status"] == "finished"
    records = read_metrics(run)
    kinds = [r["type"] for r in records]
    assert kinds.count("resume") == 1 and kinds[-1] == "end"
    epochs = [r["epoch"] for r in records if r["type"] == "epoch"]
    assert epochs == [1, 2, 3, 4]
    resume_at = kinds.index("resume")
    assert records[resume_at]["epoch"] == 2
    assert all(r["epoch"] > 2 for r in records[resume_at:] if r["type"] in ("epoch", "step"))
    # only the latest epoch's resume files are kept
    assert sorted(p.name for p in (run / "checkpoints" / "resume").iterdir()) == [
        "state-e4.json",
        "state-e4.safetensors",
        "weights-e4.safetensors",
    ]


def test_early_stopping_state_survives_a_resume(tmp_path: Path, topics_csv: Path) -> None:
    config = _config(topics_csv).with_overrides(
        train={"epochs": 5, "early_stopping_patience": 2, "lr": 0.05}
    )
    full = train_run(config, runs_dir=tmp_path / "full")
    control = TrainControl()
    stopped = train_run(config, [StopAt(control, 2, False)], control, runs_dir=tmp_path / "p")
    assert stopped.run_dir is not None
    resumed = resume_run(stopped.run_dir)
    assert resumed.status == full.status
    assert _curves(resumed.history) == _curves(full.history)
    assert resumed.best_epoch == full.best_epoch
    assert full.run_dir is not None
    a = load_weights(Path(full.run_dir) / "model.safetensors")
    b = load_weights(Path(stopped.run_dir) / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_finished_run_and_missing_checkpoint_are_refused(
    tmp_path: Path, topics_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(topics_csv).with_overrides(train={"epochs": 1})
    done = train_run(config, runs_dir=tmp_path / "runs")
    assert done.run_dir is not None
    assert main(["train", "--resume", done.run_dir, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "already finished" in err and len(err.splitlines()) == 1

    meta = read_json(Path(done.run_dir) / "run.json")
    meta["status"] = "failed"
    (Path(done.run_dir) / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    (Path(done.run_dir) / "checkpoints" / MANIFEST).unlink()
    assert main(["train", "--resume", done.run_dir, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no complete checkpoint to resume from" in err and len(err.splitlines()) == 1
    with pytest.raises(RunError, match="no complete checkpoint"):
        load_train_state(done.run_dir)


def test_torn_checkpoint_is_not_complete(tmp_path: Path, topics_csv: Path) -> None:
    config = _config(topics_csv).with_overrides(train={"epochs": 1})
    done = train_run(config, runs_dir=tmp_path / "runs")
    assert done.run_dir is not None
    manifest = read_manifest(done.run_dir)
    assert manifest is not None
    state = Path(done.run_dir) / "checkpoints" / manifest["files"]["state"]
    state.write_bytes(state.read_bytes()[:-10])  # a file that does not match its manifest
    assert read_manifest(done.run_dir) is None


def test_only_the_final_model_is_flushed_to_disk(
    tmp_path: Path, topics_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Epoch checkpoints stay in the page cache (an fsync of each was 0.3 s an epoch at the
    default table size); the final model is flushed once, and it is the last checkpoint."""
    synced: list[tuple[str, int]] = []  # (file name, inode) of each fsync
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append((Path(os.readlink(f"/proc/self/fd/{fd}")).name, os.fstat(fd).st_ino))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    done = train_run(_config(topics_csv).with_overrides(train={"epochs": 3}), runs_dir=tmp_path)
    assert done.run_dir is not None
    tensors = [inode for name, inode in synced if ".safetensors" in name]
    model = Path(done.run_dir) / "model.safetensors"
    final = Path(done.run_dir) / "checkpoints" / "resume" / "weights-e3.safetensors"
    assert tensors == [model.stat().st_ino], synced
    assert model.stat().st_ino == final.stat().st_ino


def _epoch_records(run: Path) -> dict[int, dict[str, Any]]:
    return {r["epoch"]: r for r in read_metrics(run) if r["type"] == "epoch"}


# A real kill -9 of a `studio train` process at a random moment after epoch 2, then
# `studio train --resume`: the run folder stays readable and the resumed run ends with the
# same metrics as an uninterrupted one. (Takes ~10-30 s: it trains three times.)
def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    data = write_topics_csv(tmp_path / "big.csv", n=20000)
    # one training thread: Hogwild threads would make the two runs differ
    args = ["--epochs", "6", "--batch-size", "64", "--seed", "5", "--device", "cpu"]
    args += ["--workers", "1", "--ngram-buckets", "20000", "--char-buckets", "20000"]
    args += ["--json", "--quiet"]
    killed_dir = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "studio", "train", str(data), "--runs-dir", str(killed_dir)]
    proc = subprocess.Popen(
        [*command, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        run: Path | None = None
        while time.monotonic() < deadline:  # waiting on another process's files
            runs = list(killed_dir.glob("*")) if killed_dir.exists() else []
            if runs and len(_epoch_records(runs[0])) >= 2:
                run = runs[0]
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        assert run is not None, "the training process wrote no epoch records in time"
        time.sleep(random.Random(1234).uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # the folder of the killed run is readable
    assert read_json(run / "run.json")["status"] == "running"
    assert len(_epoch_records(run)) >= 2
    loaded = load_run(run, weights="last")
    probs = loaded.predict_proba(["ball goal team", "cook bread soup"])
    assert np.isfinite(probs).all()

    assert main(["train", "--resume", str(run), "--quiet", "--json"]) == 0
    assert read_json(run / "run.json")["status"] == "finished"

    reference_dir = tmp_path / "reference"
    assert main(["train", str(data), "--runs-dir", str(reference_dir), *args]) == 0
    (reference,) = list(reference_dir.iterdir())
    got, want = _epoch_records(run), _epoch_records(reference)
    assert sorted(got) == sorted(want) == [1, 2, 3, 4, 5, 6]
    for epoch in want:
        for key in ("step", "train_loss", "val_loss", "val_accuracy", "val_macro_f1"):
            assert got[epoch][key] == want[epoch][key], (epoch, key)
