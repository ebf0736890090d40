"""Runs of several processes from the window: the device picker's choices, the process
worker with a fake child (curves, stop, errors, closing), and one real 2-process CPU run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QListWidget, QMessageBox, QSpinBox, QToolButton

from studio.engine.runs.status import pid_alive
from studio.ui.main_window import MainWindow
from studio.ui.widgets.device_picker import MULTI_GPU, DevicePicker
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.process import ProcessWorker
from studio.ui.workers.process_tree import process_tree
from studio.ui.workers.train_command import ChildCommand, build_train_command

ROOT = Path(__file__).resolve().parents[3]
FAKE = Path(__file__).with_name("fake_train_child.py")
GIB = 2**30


def fake_child(**env: str) -> Callable[[Path, DeviceSelection, Path], ChildCommand]:
    """A command factory that starts ``fake_train_child.py`` with the real command's options."""

    def factory(config: Path, selection: DeviceSelection, run_dir: Path) -> ChildCommand:
        real = build_train_command(config, selection, run_dir)
        assert real.args[:3] == ("-m", "studio", "train")
        return ChildCommand(sys.executable, (str(FAKE), *real.args[3:]), {**real.env, **env})

    return factory


def _gpus(n: int, unusable: tuple[int, ...] = ()) -> list[dict]:
    devices = [{"name": "cpu", "label": "CPU (2 threads)", "available": True, "reason": ""}]
    for i in range(n):
        ok = i not in unusable
        devices.append(
            {"name": f"cuda:{i}", "label": f"Fake GPU {i} (cuda:{i})", "available": ok,
             "reason": "" if ok else "in use by another process",
             "total_memory": 80 * GIB, "free_memory": (70 - i) * GIB}
        )  # fmt: skip
    devices.append(
        {"name": "mps", "label": "Apple MPS", "available": False, "reason": "no Apple GPU"}
    )
    return devices


def _distributed(win: MainWindow, processes: int = 2, **env: str) -> None:
    """Choose CPU × ``processes`` and the fake child for the next run."""
    picker = win.setup_page.devices
    picker.select("cpu")
    picker.processes.setMaximum(max(picker.processes.maximum(), processes))
    picker.processes.setValue(processes)
    win.controller.command_factory = fake_child(**env)


def _train_button(win: MainWindow) -> QToolButton:
    button = win.findChild(QToolButton, "train_button")
    assert button is not None
    return button


# -- the device picker ---------------------------------------------------------------------


def test_choosing_two_of_several_gpus_sets_visible_devices_and_nproc(
    window: MainWindow, qtbot
) -> None:
    picker = window.setup_page.devices
    qtbot.waitUntil(lambda: not picker.is_listing(), timeout=30_000)  # the start-up listing
    picker.set_devices(_gpus(4, unusable=(2,)))
    window.tabs.setCurrentWidget(window.setup_page)
    combo = picker.device_combo
    multi = combo.findData(MULTI_GPU)
    assert multi == combo.findData("cuda:3") + 1  # right after the last GPU
    assert picker._model.item(multi).isEnabled()
    assert not picker.gpu_list.isVisible()
    combo.setCurrentIndex(multi)
    assert picker.gpu_list.isVisible() and not picker.processes.isVisible()
    assert picker.checked_gpus() == (0, 1, 3)  # every usable GPU to begin with
    picker.gpu_list.item(3).setCheckState(Qt.CheckState.Unchecked)
    selection = picker.selection()
    assert selection == DeviceSelection("cuda", 2, (0, 1))
    assert window.setup_page.config().device.device == "cuda"
    assert "each of 2 GPUs" in window.setup_page.estimate_label.text()

    command = build_train_command(Path("/tmp/c.toml"), selection, Path("/runs/r"))
    assert command.env["CUDA_VISIBLE_DEVICES"] == "0,1"
    args = list(command.args)
    assert args[args.index("--nproc") + 1] == "2"
    assert args[args.index("--device") + 1] == "cuda"
    assert args[args.index("--run-dir") + 1] == "/runs/r"
    assert args[args.index("--config") + 1] == "/tmp/c.toml"
    assert "--quiet" in args and command.program == sys.executable


def test_unavailable_gpus_cannot_be_checked(window: MainWindow, qtbot) -> None:
    picker = window.setup_page.devices
    qtbot.waitUntil(lambda: not picker.is_listing(), timeout=30_000)
    picker.set_devices(_gpus(3, unusable=(1,)))
    picker.select(MULTI_GPU)
    window.tabs.setCurrentWidget(window.setup_page)
    gpu_list = window.findChild(QListWidget, "gpu_list")
    assert gpu_list is picker.gpu_list and gpu_list.isVisible()
    blocked = gpu_list.item(1)
    assert not blocked.flags() & Qt.ItemFlag.ItemIsEnabled
    assert "in use by another process" in blocked.toolTip()

    def click_box(row: int) -> None:
        rect = gpu_list.visualItemRect(gpu_list.item(row))
        qtbot.mouseClick(
            gpu_list.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(rect.left() + 10, rect.center().y()),
        )

    click_box(0)  # a usable GPU's box toggles...
    assert picker.checked_gpus() == (2,)
    click_box(1)  # ...a greyed-out one's does not
    assert picker.checked_gpus() == (2,)
    blocked.setCheckState(Qt.CheckState.Checked)  # even when forced, it is not chosen
    assert picker.checked_gpus() == (2,)
    # one GPU left of "several": it trains in the window on that GPU
    assert picker.selection() == DeviceSelection("cuda:2")
    click_box(2)
    assert picker.checked_gpus() == ()
    assert not window.setup_page.is_valid() and not _train_button(window).isEnabled()
    assert "check at least one GPU" in window.setup_page.error_label.text()


def test_several_gpus_need_two_usable_ones() -> None:
    picker = DevicePicker()
    try:
        picker.set_devices(_gpus(2, unusable=(0,)))
        item = picker._model.item(picker.device_combo.findData(MULTI_GPU))
        assert not item.isEnabled() and "at least two usable GPUs" in item.toolTip()
        picker.set_devices(_gpus(1))
        assert picker.device_combo.findData(MULTI_GPU) < 0  # one GPU: no such entry
    finally:
        picker.deleteLater()


def test_cpu_processes_spin_gives_nproc_and_device_cpu(window: MainWindow) -> None:
    picker = window.setup_page.devices
    spin = window.findChild(QSpinBox, "processes")
    assert spin is picker.processes and spin.toolTip()
    assert spin.minimum() == 1 and spin.maximum() == (os.cpu_count() or 1)
    picker.select("cpu")
    assert picker.selection() == DeviceSelection("cpu", 1)  # one process: as before
    spin.setMaximum(max(spin.maximum(), 4))
    spin.setValue(4)
    assert picker.processes_label.text() == "processes"
    selection = picker.selection()
    assert selection == DeviceSelection("cpu", 4) and selection.distributed
    assert window.setup_page.config().device.device == "cpu"
    command = build_train_command(Path("c.toml"), selection, Path("r"))
    args = list(command.args)
    assert args[args.index("--nproc") + 1] == "4"
    assert args[args.index("--device") + 1] == "cpu"
    assert "CUDA_VISIBLE_DEVICES" not in command.env


def test_selection_keys_round_trip_and_the_window_remembers(qtbot, tmp_path: Path) -> None:
    for selection in (
        DeviceSelection(),
        DeviceSelection("cpu", 3),
        DeviceSelection("cuda:1"),
        DeviceSelection("cuda", 2, (1, 3)),
        DeviceSelection("mps"),
    ):
        assert DeviceSelection.from_key(selection.key()) == selection
    assert DeviceSelection.from_key("cpu*x") is None
    with pytest.raises(ValueError):
        DeviceSelection("cuda:0", 2, (0, 1))

    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("deviceSelection", "cuda:0,2")
    win = MainWindow(settings=settings, runs_dir=str(tmp_path / "runs"))
    qtbot.addWidget(win)
    try:
        win.setup_page.devices.set_devices(_gpus(3))  # the listing arrives later
        assert win.setup_page.devices.selection() == DeviceSelection("cuda", 2, (0, 2))
    finally:
        win.shutdown()


# -- the process worker with a fake child ----------------------------------------------------


def test_fake_run_fills_curves_and_epochs_and_finishes(loaded: MainWindow, qtbot) -> None:
    win = loaded
    _distributed(win, FAKE_EPOCHS="3", FAKE_STEPS="30")
    updates: list[int] = []
    win.sig_training_update.connect(lambda u: updates.append(len(u.steps)))
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        qtbot.mouseClick(_train_button(win), Qt.MouseButton.LeftButton)
        assert win.controller.is_distributed()
    result = done.args[0]
    assert result.status == "finished" and result.epochs == 3 and result.steps == 90
    page = win.training_page
    assert page.plots.step_count() == 90 and sum(updates) == 90
    assert page.plots.epoch_count() == 3
    assert page.progress.value() == page.progress.maximum() == 90
    assert "validation accuracy <b>90.00%</b>" in page.result.text()
    assert "epoch 3" in page.status.text()
    run_dir = Path(result.run_dir)
    assert run_dir.parent == Path(win.runs_dir)
    assert not (run_dir / "STOP").exists()
    assert (run_dir / "config.toml").read_text().count("[train]") == 1
    assert not win.controller.is_running() and win.can_train()
    assert not win.banner.isVisible()
    win.tabs.setCurrentWidget(win.runs_page)
    qtbot.waitUntil(
        lambda: str(run_dir) in [str(r.path) for r in win.runs_page.runs()], timeout=10_000
    )


def test_stop_creates_the_stop_file_and_the_run_ends_stopped(loaded: MainWindow, qtbot) -> None:
    win = loaded
    _distributed(win, FAKE_EPOCHS="1000", FAKE_STEP_SECONDS="0.01")
    with qtbot.waitSignal(win.sig_training_update, timeout=30_000):
        win.start_training()
    worker = win.controller.worker
    assert isinstance(worker, ProcessWorker) and worker.run_dir is not None
    run_dir = worker.run_dir
    pause = win.findChild(QToolButton, "pause_button")
    assert not pause.isEnabled() and not win.pause_action.isEnabled()
    assert "several processes" in win.pause_action.toolTip()
    assert win.findChild(QToolButton, "stop_button").isEnabled()
    assert "evaluated from its saved model" in win.evaluation_page.summary.text()
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.stop_action.trigger()
        assert (run_dir / "STOP").exists()
    assert done.args[0].status == "stopped"
    assert 0 < done.args[0].steps < 1000
    assert not (run_dir / "STOP").exists()  # a later --resume must not stop at once
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    assert win.pause_action.toolTip() == win._pause_tip
    assert "Stopped" in win.training_page.result.text()


def test_user_error_of_the_child_shows_its_line_in_the_banner(loaded: MainWindow, qtbot) -> None:
    win = loaded
    _distributed(win, FAKE_MODE="usage")
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.start_training()
    assert done.args[0].status == "failed"
    assert win.banner.isVisible()
    assert "data.path: fake.csv: no such file" in win.banner.label.text()
    assert "studio: error" not in win.banner.label.text()
    assert not win.banner.details_button.isVisible()  # one line says it all
    assert "failed" in win.training_page.progress.format()
    assert not any(Path(win.runs_dir).iterdir())  # the empty run folder is gone
    assert win.can_train()


def test_crashing_child_shows_the_stderr_tail_in_details(loaded: MainWindow, qtbot) -> None:
    win = loaded
    _distributed(win, FAKE_MODE="crash")
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.start_training()
    assert done.args[0].status == "failed"
    text = win.banner.label.text()
    assert "exited with status 3" in text and "fake crash in rank 1" in text
    assert win.banner.details_button.isVisible()
    assert "Traceback (most recent call last)" in win.banner.details
    assert win.training_page.plots.step_count() > 0  # the steps before the crash
    assert "evaluated from its saved model" not in win.evaluation_page.summary.text()


def test_missing_program_fails_with_a_message(loaded: MainWindow, qtbot, tmp_path) -> None:
    win = loaded
    _distributed(win)
    win.controller.command_factory = lambda *a: ChildCommand(str(tmp_path / "nope"), ())
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.start_training()
    assert done.args[0].status == "failed"
    assert "cannot start the training process" in win.banner.label.text()


def _pids(pidfile: Path, qtbot, count: int) -> list[int]:
    qtbot.waitUntil(lambda: pidfile.exists() and len(pidfile.read_text().split()) == count)
    return [int(p) for p in pidfile.read_text().split()]


@pytest.mark.parametrize("stubborn", [False, True], ids=["obeys-stop", "ignores-stop"])
def test_closing_the_window_mid_run_leaves_no_process(
    loaded: MainWindow, qtbot, tmp_path: Path, monkeypatch, stubborn: bool
) -> None:
    win = loaded
    pidfile = tmp_path / "pids.txt"
    _distributed(
        win, FAKE_EPOCHS="1000", FAKE_STEP_SECONDS="0.01", FAKE_RANKS="2",
        FAKE_PIDFILE=str(pidfile), FAKE_MODE="stubborn" if stubborn else "normal",
    )  # fmt: skip
    win.controller.shutdown_timeout_ms = 500
    with qtbot.waitSignal(win.sig_training_update, timeout=30_000):
        win.start_training()
    pids = _pids(pidfile, qtbot, 3)
    launcher = pids[0]
    # the fake's ranks, like torchrun's, live in sessions of their own
    assert set(pids) <= set(process_tree(launcher))
    assert all(os.getsid(p) == p for p in pids[1:])
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    assert win.close()
    assert not win.controller.is_running()
    qtbot.waitUntil(lambda: not any(pid_alive(p) for p in pids), timeout=5_000)


# -- one real run ------------------------------------------------------------------------


def _has_nproc() -> bool:
    help_text = subprocess.run(
        [sys.executable, "-m", "studio", "train", "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    ).stdout  # fmt: skip
    return "--nproc" in help_text


@pytest.mark.slow
def test_real_two_process_cpu_run_from_the_window(
    window: MainWindow, qtbot, sample_path: Path
) -> None:
    if not _has_nproc():
        pytest.skip("studio train has no --nproc yet")
    win = window
    with qtbot.waitSignal(win.dataset_page.sig_loaded, timeout=30_000):
        win.open_path(str(sample_path))
    setup = win.setup_page
    setup.vocab_size.setValue(2000)
    setup.embed_dim.setValue(16)
    setup.ngram_buckets.setValue(0)
    setup.char_buckets.setValue(10_000)  # small tables: each rank's copy, each checkpoint
    setup.epochs.setValue(2)
    setup.batch_size.setValue(64)
    picker = setup.devices
    picker.select("cpu")
    picker.processes.setMaximum(max(picker.processes.maximum(), 2))
    picker.processes.setValue(2)
    assert picker.selection() == DeviceSelection("cpu", 2)
    with qtbot.waitSignal(win.sig_training_done, timeout=120_000) as done:
        win.start_training()
        assert win.controller.is_distributed()
    result = done.args[0]
    assert result.status == "finished", win.banner.details or win.banner.label.text()
    assert result.epochs == 2
    assert win.training_page.plots.step_count() > 0
    assert win.training_page.plots.epoch_count() == 2
    run_dir = Path(result.run_dir)
    assert (run_dir / "model.safetensors").is_file() and not (run_dir / "STOP").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    win.tabs.setCurrentWidget(win.runs_page)
    qtbot.waitUntil(
        lambda: any(r.path == run_dir and r.status == "finished" for r in win.runs_page.runs()),
        timeout=10_000,
    )
    # the evaluation page evaluates the saved model (no live predictions from the ranks)
    qtbot.waitUntil(lambda: "saved model of" in win.evaluation_page.summary.text(), timeout=60_000)
