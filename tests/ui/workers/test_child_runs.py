"""Single-device runs in a child process (the window's default): each epoch's validation
predictions reach the evaluation page, Pause and Resume work, and nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig
from studio.engine.runs.layout import PAUSE_FILE
from studio.engine.runs.live import LABELS_FILE, LIVE_DIR, probs_file
from studio.ui.main_window import MainWindow
from studio.ui.workers.child_epochs import MAX_WAIT_POLLS, ChildEpochs
from studio.ui.workers.payloads import EpochDone, RunStarted
from studio.ui.workers.process import ProcessWorker

TIMEOUT = 120_000


def test_each_epoch_of_a_child_run_reaches_the_evaluation_page(
    loaded: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = loaded
    assert win.controller.child_runs  # the default
    win.setup_page.epochs.setValue(2)
    shown: list[tuple[int, int]] = []
    page = win.evaluation_page
    real = page.show_epoch
    monkeypatch.setattr(
        page, "show_epoch", lambda p, e: (shown.append((e, len(p.probs))), real(p, e))
    )
    started: list[RunStarted] = []
    epochs: list[EpochDone] = []
    with qtbot.waitSignal(win.sig_training_done, timeout=TIMEOUT) as done:
        win.start_training()
        worker = win.controller.worker
        assert isinstance(worker, ProcessWorker)
        worker.sig_started.connect(started.append)
        worker.sig_epoch.connect(epochs.append)
    assert done.args[0].status == "finished"
    (n_valid,) = {s.n_valid for s in started}
    assert shown == [(1, n_valid), (2, n_valid)]  # each epoch, as it ended
    for e in epochs:
        p = e.predictions
        assert p is not None and p.probs.shape == (n_valid, len(p.label_names))
        np.testing.assert_allclose(p.probs.sum(axis=1), 1.0, rtol=1e-4)
        assert p.prepared.text(int(p.doc_ids[0]))  # the document's own text, from the cache
    run = Path(done.args[0].run_dir)
    assert not (run / LIVE_DIR).exists() and not (run / PAUSE_FILE).exists()


def test_pause_and_resume_a_child_run(loaded: MainWindow, qtbot: QtBot) -> None:
    win = loaded
    win.setup_page.epochs.setValue(500)
    win.setup_page.findChild(object, "batch_size").setValue(4)
    with qtbot.waitSignal(win.sig_training_update, timeout=TIMEOUT):
        win.start_training()
    worker = win.controller.worker
    assert isinstance(worker, ProcessWorker) and worker.run_dir is not None
    assert win.pause_action.isEnabled()  # one process can pause, unlike a launch of several
    win.pause_action.trigger()
    assert win.controller.is_paused() and (worker.run_dir / PAUSE_FILE).exists()
    win.pause_action.trigger()
    assert not win.controller.is_paused() and not (worker.run_dir / PAUSE_FILE).exists()
    with qtbot.waitSignal(win.sig_training_done, timeout=TIMEOUT) as done:
        win.stop_action.trigger()
    assert done.args[0].status == "stopped" and done.args[0].epochs < 500


def _write_live(run: Path, epoch: int, probs: np.ndarray) -> None:
    live = run / LIVE_DIR
    live.mkdir(exist_ok=True)
    np.save(live / "valid-docs.npy", np.arange(len(probs), dtype=np.int64) * 2)
    np.save(live / "valid-targets.npy", probs.argmax(axis=1))
    (live / LABELS_FILE).write_text(json.dumps({"label_names": ["a", "b"], "multi_label": False}))
    np.save(probs_file(live, epoch), probs)


def _record(epoch: int, run: Path) -> EpochDone:
    return EpochDone.from_record({"epoch": epoch, "step": epoch * 10}, wall=0.0, run_dir=run)


def test_an_epoch_waits_for_its_predictions_and_epochs_leave_in_order(tmp_path: Path) -> None:
    config = StudioConfig(data=DataConfig(path=str(tmp_path / "data.csv")))
    epochs = ChildEpochs(tmp_path, config)
    probs = np.array([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)
    assert epochs.add(_record(1, tmp_path)) == []  # its files are not written yet
    assert epochs.add(_record(2, tmp_path)) == []  # held behind epoch 1
    _write_live(tmp_path, 1, probs)
    (first,) = epochs.ready()  # epoch 2's file is still missing
    assert first.epoch == 1 and first.predictions is not None
    np.testing.assert_array_equal(first.predictions.probs, probs)
    np.testing.assert_array_equal(first.predictions.doc_ids, [0, 2])
    assert first.predictions.label_names == ("a", "b")
    polls = 1
    while not (out := epochs.ready()):
        polls += 1
        assert polls <= MAX_WAIT_POLLS, "epoch 2 was held for good"
    assert polls > 1  # it waited for its file before going out without predictions
    (late,) = out
    assert late.epoch == 2 and late.predictions is None
    assert epochs.add(_record(3, tmp_path)) == []
    (last,) = epochs.drain()  # the child has exited: nothing more will be written
    assert last.epoch == 3 and last.predictions is None
