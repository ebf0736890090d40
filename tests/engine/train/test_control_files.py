"""What a run folder carries between processes: a PAUSE file holds a single-process run,
and ``--live-predictions`` writes each epoch's validation probabilities for a reader."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from studio.config import SAMPLE_DATASET, StudioConfig
from studio.engine.runs.layout import PAUSE_FILE
from studio.engine.runs.live import LIVE_DIR, read_epoch
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback, EpochEnd, StepEnd
from studio.engine.train.live_predictions import LivePredictions
from studio.engine.train.session import train_run
from studio.engine.train.stopfile import StopFileWatcher

CONFIG = StudioConfig().with_overrides(
    data={"path": str(SAMPLE_DATASET), "text_column": "text", "label_column": "section"},
    tokenizer={"ngram_buckets": 0, "char_ngrams": (0, 0)},
)


class _PauseAt(Callback):
    """Creates PAUSE after step ``at`` and holds that step until the watcher has paused."""

    def __init__(self, control: TrainControl, at: int) -> None:
        self.control = control
        self.at = at
        self.steps: list[int] = []

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        self.steps.append(event.step)
        if event.step == self.at and ctx.run_dir is not None:
            (Path(ctx.run_dir) / PAUSE_FILE).touch()
            deadline = time.monotonic() + 30
            while not self.control.paused:  # the watcher thread's reaction, with a deadline
                assert time.monotonic() < deadline, "the PAUSE file was not noticed"
                time.sleep(0.01)


def test_a_pause_file_holds_the_run_until_it_is_removed(tmp_path: Path) -> None:
    control = TrainControl()
    pause = _PauseAt(control, at=3)
    run = tmp_path / "run"
    at_pause: list[int] = []

    def release() -> None:
        assert control.wait_until_paused(timeout=60)
        at_pause.append(len(pause.steps))  # the loop is parked before its next step
        (run / PAUSE_FILE).unlink()

    releaser = threading.Thread(target=release)
    releaser.start()
    config = CONFIG.with_overrides(train={"epochs": 1, "log_every": 1})
    result = train_run(config, [pause], control, run_dir=run, cache_dir=tmp_path / "cache")
    releaser.join()
    assert at_pause == [3]
    assert result.status == "finished" and pause.steps[-1] == result.steps > 3
    assert not (run / PAUSE_FILE).exists()


def test_the_watcher_acts_on_the_pause_files_changes_not_over_the_control(
    tmp_path: Path,
) -> None:
    control = TrainControl()
    stop, pause = tmp_path / "STOP", tmp_path / PAUSE_FILE
    watcher = StopFileWatcher(stop, control, pause_path=pause)
    control.pause()  # the window's thread run pauses through the control, with no file
    assert not watcher.check() and control.paused  # the absent file does not resume it
    control.resume()
    pause.touch()
    watcher.check()
    assert control.paused  # the file appeared: pause
    control.resume()  # resumed through the control while the file is still there
    watcher.check()
    assert not control.paused
    pause.unlink()
    watcher.check()
    assert not control.paused  # the file went: resume (already running)
    control.pause()
    watcher.check()
    assert control.paused
    stop.touch()
    assert watcher.check() and control.stop_requested and not control.paused


class _KeepProbs(Callback):
    def __init__(self) -> None:
        self.probs: dict[int, np.ndarray] = {}
        self.valid_docs: np.ndarray | None = None

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        assert ctx.val_probs is not None
        self.probs[event.epoch] = np.array(ctx.val_probs, copy=True)
        self.valid_docs = ctx.valid_docs


def test_live_predictions_are_each_epochs_validation_probabilities(tmp_path: Path) -> None:
    kept = _KeepProbs()
    run = tmp_path / "run"
    config = CONFIG.with_overrides(train={"epochs": 3})
    train_run(config, [kept, LivePredictions()], run_dir=run, cache_dir=tmp_path / "cache")
    assert read_epoch(run, 1) is None  # only the latest two epochs are kept
    for epoch in (2, 3):
        live = read_epoch(run, epoch)
        assert live is not None and live.epoch == epoch and not live.multi_label
        np.testing.assert_array_equal(live.probs, kept.probs[epoch].astype(np.float32))
        np.testing.assert_array_equal(live.doc_ids, kept.valid_docs)
    live = read_epoch(run, 3)
    assert live is not None and len(live.label_names) == live.probs.shape[1] == 7
    targets = np.asarray(live.y_true)
    assert targets.shape == (len(live.doc_ids),) and targets.max() < 7
    assert sorted(p.name for p in (run / LIVE_DIR).glob("valid-probs-*")) == [
        "valid-probs-0002.npy",
        "valid-probs-0003.npy",
    ]
