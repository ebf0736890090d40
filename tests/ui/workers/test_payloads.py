"""One typed contract: the thread worker and the process worker (a single ``studio train``
child, or a launch of several) emit the same payloads."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Slot
from pytestqt.qtbot import QtBot

from studio.config import DataConfig, StudioConfig
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.payloads import EpochDone, RunFailed, RunFinished, RunStarted, StepsBatch
from studio.ui.workers.training import TrainingController
from tests.conftest import write_topics_csv
from tests.ui.workers.test_distributed_runs import fake_child

EPOCHS = 2
ONLY_ONE_PROCESS = {"predictions"}  # live evaluation arrays: not from a launch of several


class Recorder(QObject):
    """Collects a worker's payloads on the GUI thread, by signal."""

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, list[Any]] = {
            "started": [], "update": [], "epoch": [], "finished": [], "failed": []
        }  # fmt: skip

    @Slot(object)
    def started(self, payload: object) -> None:
        self.events["started"].append(payload)

    @Slot(object)
    def update(self, payload: object) -> None:
        self.events["update"].append(payload)

    @Slot(object)
    def epoch(self, payload: object) -> None:
        self.events["epoch"].append(payload)

    @Slot(object)
    def finished(self, payload: object) -> None:
        self.events["finished"].append(payload)

    @Slot(object)
    def failed(self, payload: object) -> None:
        self.events["failed"].append(payload)


def _run(
    qtbot: QtBot,
    config: StudioConfig,
    runs_dir: Path,
    selection: DeviceSelection | None = None,
    *,
    child: str = "fake",
) -> dict[str, list[Any]]:
    """``child``: "fake" (the fake launch), "real" (``studio train``) or "thread" (none)."""
    controller = TrainingController()
    controller.child_runs = child != "thread"
    if child == "fake":
        controller.command_factory = fake_child(FAKE_EPOCHS=str(EPOCHS), FAKE_STEPS="15")
    recorder = Recorder()
    try:
        with qtbot.waitSignal(
            controller.sig_running, timeout=120_000, check_params_cb=lambda running: not running
        ):
            worker = controller.start(config, str(runs_dir), selection)
            worker.sig_started.connect(recorder.started)
            worker.sig_update.connect(recorder.update)
            worker.sig_epoch.connect(recorder.epoch)
            worker.sig_finished.connect(recorder.finished)
            worker.sig_failed.connect(recorder.failed)
    finally:
        assert controller.shutdown()
    assert recorder.events["failed"] == []
    return recorder.events


def _filled(payload: object) -> set[str]:
    """The fields that carry a value (not None, not NaN, not empty)."""
    out = set()
    for f in dataclasses.fields(payload):  # type: ignore[arg-type]
        value = getattr(payload, f.name)
        if isinstance(payload, StepsBatch) and f.name == "steps":
            empty = not len(value)
        else:
            empty = value is None or value == "" or (isinstance(value, float) and math.isnan(value))
        if not empty:
            out.add(f.name)
    return out


def test_thread_and_process_workers_emit_the_same_payloads(qtbot: QtBot, tmp_path: Path) -> None:
    csv = write_topics_csv(tmp_path / "topics.csv", n=300)
    config = StudioConfig(data=DataConfig(path=str(csv))).with_overrides(
        train={"epochs": EPOCHS}, tokenizer={"ngram_buckets": 0}, model={"embed_dim": 8}
    )
    in_thread = _run(qtbot, config, tmp_path / "thread-runs", child="thread")
    in_child = _run(qtbot, config, tmp_path / "child-runs", child="real")
    in_process = _run(qtbot, config, tmp_path / "process-runs", DeviceSelection("cpu", 2))

    for events in (in_thread, in_child, in_process):
        assert [type(p) for p in events["started"]] == [RunStarted]
        assert [type(p) for p in events["epoch"]] == [EpochDone] * EPOCHS
        assert [type(p) for p in events["finished"]] == [RunFinished]
        assert events["update"] and {type(p) for p in events["update"]} == {StepsBatch}
        started, finished = events["started"][0], events["finished"][0]
        assert started.epochs == EPOCHS and started.total_steps >= EPOCHS
        assert [e.epoch for e in events["epoch"]] == [1, 2]
        assert finished.status == "finished" and finished.epochs == EPOCHS
        assert finished.run_dir == started.run_dir and Path(finished.run_dir).is_dir()
        assert all(e.run_dir == started.run_dir for e in events["epoch"])
        steps = sum(len(u.steps) for u in events["update"])
        assert finished.steps - 1 <= steps <= finished.steps  # every step's loss, batched

    # the same fields carry values in all three, for every event
    for other in (in_child, in_process):
        assert _filled(in_thread["started"][0]) == _filled(other["started"][0])
        assert _filled(in_thread["finished"][0]) == _filled(other["finished"][0])
    assert in_process["started"][0].nproc == 2
    assert in_thread["started"][0].nproc == in_child["started"][0].nproc == 1
    for a, b, c in zip(in_thread["epoch"], in_child["epoch"], in_process["epoch"], strict=True):
        assert _filled(a) == _filled(b)
        assert _filled(a) - ONLY_ONE_PROCESS == _filled(c)
        assert a.predictions is not None and b.predictions is not None and c.predictions is None
        for f in ("label_names", "multi_label"):
            assert getattr(a.predictions, f) == getattr(b.predictions, f)
        assert (a.predictions.doc_ids == b.predictions.doc_ids).all()  # the same split
        assert (a.predictions.y_true == b.predictions.y_true).all()
        assert a.predictions.probs.shape == b.predictions.probs.shape
        doc = int(b.predictions.doc_ids[0])
        assert b.predictions.prepared.text(doc) == a.predictions.prepared.text(doc)
    runs = (in_thread, in_child, in_process)
    updates = [set().union(*map(_filled, e["update"])) for e in runs]
    assert updates[0] - {"gpu_memory"} == updates[1]  # GPU memory: CUDA only
    assert updates[0] - {"gpu_memory", "notice"} == updates[2]  # the fake launch has no notices
    # model.kind "auto": both real runs say which model they kept, as a notice
    for events in (in_thread, in_child):
        notices = [u.notice for u in events["update"] if u.notice]
        assert len(notices) == 1 and notices[0].startswith("kept the "), notices


def test_a_failure_is_a_run_failed_from_both_workers(qtbot: QtBot, tmp_path: Path) -> None:
    config = StudioConfig(data=DataConfig(path=str(tmp_path / "missing.csv")))
    failures = []
    for selection in (None, DeviceSelection("cpu", 2)):  # one child process, and a launch
        controller = TrainingController()
        controller.command_factory = fake_child(FAKE_MODE="usage")
        recorder = Recorder()
        with qtbot.waitSignal(
            controller.sig_running, timeout=60_000, check_params_cb=lambda running: not running
        ):
            worker = controller.start(config, str(tmp_path / "runs"), selection)
            worker.sig_failed.connect(recorder.failed)
            worker.sig_finished.connect(recorder.finished)
        assert recorder.events["finished"] == []
        failures += recorder.events["failed"]
    assert [type(f) for f in failures] == [RunFailed, RunFailed]
    assert all(f.status == "failed" and f.message and f.details == "" for f in failures)
