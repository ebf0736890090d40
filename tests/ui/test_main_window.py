"""The whole window with the real engine: train, stop, pause, errors, validation, devices."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    QToolButton,
)

from studio.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def _spin(win: MainWindow, name: str) -> QSpinBox:
    box = win.findChild(QSpinBox, name)
    assert box is not None, name
    return box


def _button(win: MainWindow, name: str) -> QToolButton:
    button = win.findChild(QToolButton, name)
    assert button is not None, name
    return button


def test_stable_object_names(window: MainWindow) -> None:
    for cls, name in [
        (QLineEdit, "dataset_path"), (QComboBox, "text_column"), (QComboBox, "label_column"),
        (QSpinBox, "vocab_size"), (QSpinBox, "embed_dim"), (QSpinBox, "batch_size"),
        (QSpinBox, "epochs"), (QDoubleSpinBox, "learning_rate"), (QComboBox, "device_combo"),
        (QToolButton, "train_button"), (QToolButton, "pause_button"), (QToolButton, "stop_button"),
        (pg.PlotWidget, "loss_plot"), (QProgressBar, "progress"),
    ]:  # fmt: skip
        assert window.findChild(cls, name) is not None, name


def test_whole_flow_trains_and_shows_the_result(loaded: MainWindow, qtbot, tmp_path: Path) -> None:
    win = loaded
    _spin(win, "vocab_size").setValue(500)
    _spin(win, "embed_dim").setValue(16)
    _spin(win, "batch_size").setValue(32)
    _spin(win, "epochs").setValue(2)
    combo = win.findChild(QComboBox, "device_combo")
    combo.setCurrentIndex(combo.findData("cpu"))
    assert _button(win, "train_button").isEnabled()
    with qtbot.waitSignal(win.sig_training_done, timeout=60_000) as done:
        qtbot.mouseClick(_button(win, "train_button"), Qt.MouseButton.LeftButton)
    assert done.args[0].status == "finished"
    assert win.training_page.plots.step_count() > 0
    assert "validation accuracy" in win.training_page.result.text()
    run_dir = Path(done.args[0].run_dir)
    assert run_dir.parent == tmp_path / "runs"
    config = (run_dir / "config.toml").read_text()
    assert (
        "vocab_size = 500" in config and "embed_dim = 16" in config and "batch_size = 32" in config
    )
    assert _button(win, "train_button").isEnabled() and not _button(win, "stop_button").isEnabled()


def test_ctrl_return_starts_and_esc_stops_mid_epoch(loaded: MainWindow, qtbot) -> None:
    win = loaded
    _spin(win, "epochs").setValue(500)
    _spin(win, "batch_size").setValue(4)
    with qtbot.waitSignal(win.sig_training_update, timeout=30_000):
        qtbot.keyClick(win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert win.controller.is_running()
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert done.args[0].status == "stopped"
    assert done.args[0].epochs < 500
    assert win.can_train()


def test_pause_then_stop_on_the_thread(loaded: MainWindow, qtbot) -> None:
    win = loaded
    win.controller.child_runs = False  # the child's pause: tests/ui/workers/test_child_runs.py
    _spin(win, "epochs").setValue(500)
    _spin(win, "batch_size").setValue(4)
    with qtbot.waitSignal(win.sig_training_update, timeout=30_000):
        win.start_training()
    win.pause_action.trigger()
    control = win.controller._control
    assert control is not None and control.wait_until_paused(timeout=30)
    steps = win.training_page.plots.step_count()
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.stop_action.trigger()
    assert done.args[0].status == "stopped"
    # no step ran after the pause took hold (pending rows may still have arrived)
    assert win.training_page.plots.step_count() >= steps


def test_worker_signals_are_throttled(loaded: MainWindow, qtbot) -> None:
    win = loaded
    win.controller.child_runs = False  # the thread's bridge (the child's: test_distributed_runs)
    _spin(win, "epochs").setValue(6)
    _spin(win, "batch_size").setValue(2)
    updates: list[int] = []
    win.sig_training_update.connect(lambda u: updates.append(len(u.steps)))
    with qtbot.waitSignal(win.sig_training_done, timeout=120_000) as done:
        win.start_training()
    result = done.args[0]
    steps = result.steps
    seconds = max(result.train_seconds, 0.05)
    assert sum(updates) >= steps - 1  # every step's loss still arrives, batched
    assert len(updates) <= 20 * seconds + 6 + 2 * 6  # ≈20/s, plus one flush per epoch
    assert len(updates) < steps / 5


def test_worker_error_returns_to_idle_and_a_second_run_works(
    loaded: MainWindow, qtbot, monkeypatch
) -> None:
    import studio.engine.train.session as session

    real = session.train_run

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated crash inside the engine")

    monkeypatch.setattr(session, "train_run", boom)
    win = loaded
    win.controller.child_runs = False  # the crash is in this process's engine
    _spin(win, "epochs").setValue(1)
    with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
        win.start_training()
    assert done.args[0].status == "failed"
    assert win.banner.isVisible() and "simulated crash" in win.banner.label.text()
    assert win.banner.details_button.isVisible() and "Traceback" in win.banner.details
    assert win.can_train()
    monkeypatch.setattr(session, "train_run", real)
    with qtbot.waitSignal(win.sig_training_done, timeout=60_000) as done:
        win.start_training()
    assert done.args[0].status == "finished"


def test_invalid_inputs_disable_train_with_the_reason(loaded: MainWindow, qtbot) -> None:
    win = loaded
    assert _button(win, "train_button").isEnabled()
    _spin(win, "embed_dim").setValue(0)
    assert not _button(win, "train_button").isEnabled()
    assert "model.embed_dim" in win.setup_page.error_label.text()
    assert win.setup_page.error_label.isVisible() or not win.setup_page.isVisible()
    _spin(win, "embed_dim").setValue(32)
    assert _button(win, "train_button").isEnabled()
    win.setup_page.hidden_layers.setText("128,x")
    assert not _button(win, "train_button").isEnabled()
    assert "model.hidden" in win.setup_page.error_label.text()


def test_bad_dataset_shows_inline_and_disables_train(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\na,x\nb,y\nc,x,extra\n")
    with qtbot.waitSignal(window.dataset_page.sig_failed, timeout=30_000) as failed:
        window.open_path(str(bad))
    assert "line 4" in failed.args[0]
    assert not _button(window, "train_button").isEnabled()


def test_device_picker_shows_two_fake_gpus(window: MainWindow, qtbot, monkeypatch) -> None:
    import torch

    class Props:
        def __init__(self, i: int) -> None:
            self.name = f"Fake GPU {i}"
            self.total_memory = (40 + 40 * i) * 2**30

    monkeypatch.setattr(torch.backends.cuda, "is_built", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", Props)
    monkeypatch.setattr(
        torch.cuda, "mem_get_info", lambda i: ((30 + i) * 2**30, (40 + 40 * i) * 2**30)
    )
    picker = window.setup_page.devices
    qtbot.waitUntil(lambda: not picker.is_listing(), timeout=30_000)  # the start-up listing
    with qtbot.waitSignal(
        picker._model.modelReset if False else picker.sig_device_changed, timeout=30_000
    ):
        picker.refresh()
    combo = picker.device_combo
    names = [combo.itemData(i) for i in range(combo.count())]
    assert "cuda:0" in names and "cuda:1" in names
    text = combo.itemText(combo.findData("cuda:1"))
    assert "Fake GPU 1" in text and "31.0 GiB free of 80.0 GiB" in text
    model = combo.model()
    assert model.item(combo.findData("cuda:0")).isEnabled()
    assert not model.item(combo.findData("mps")).isEnabled()


def test_a_failed_export_says_export_failed(
    window: MainWindow, qtbot, tmp_path: Path, monkeypatch
) -> None:
    from studio.errors import StudioError

    def refuse(run: object, fmt: str, out: object, **kwargs: object) -> Path:
        raise StudioError(f"cannot write {fmt} to {out}")

    monkeypatch.setattr("studio.engine.export.export_run", refuse)
    window.active_run = str(tmp_path / "runs" / "some-run")
    with qtbot.waitSignal(window.exporter.tasks.sig_error, timeout=30_000):
        window.export_run("onnx", str(tmp_path / "model.onnx"))
    text = window.banner.label.text()
    assert window.banner.isVisible()
    assert text.startswith("<b>Export failed:</b> cannot write onnx to "), text
    assert "Training failed" not in text and "export failed" not in text
    assert not window.banner.details_button.isVisible()  # a StudioError says it all


def test_the_export_tip_lists_the_engine_formats(window: MainWindow) -> None:
    from studio.engine.export.formats import FORMATS

    tip = window.export_action.toolTip()
    assert all(name in tip for name in FORMATS), tip


def test_importing_the_window_does_not_import_torch() -> None:
    code = "import sys, studio.ui.main_window, studio.ui.app; print('torch' in sys.modules)"
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.stdout.strip() == "False", proc.stderr


def test_closing_mid_epoch_exits_cleanly_within_two_seconds(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QMessageBox
        from studio.ui.app import make_app
        from studio.ui.main_window import MainWindow
        from tests.conftest import write_topics_csv
        QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
        app = make_app()
        win = MainWindow(QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat),
                         runs_dir={str(tmp_path / "runs")!r})
        win.show()
        path = write_topics_csv(__import__("pathlib").Path({str(tmp_path)!r}) / "t.csv", n=600)
        def loaded(_p):
            win.setup_page.epochs.setValue(1000)
            win.setup_page.batch_size.setValue(4)
            win.start_training()
        closed = []
        def on_update(_u):
            if not closed:
                closed.append(time.perf_counter())
                print("closing", flush=True)
                win.close()
        win.dataset_page.sig_loaded.connect(loaded)
        win.sig_training_update.connect(on_update)
        win.open_path(str(path))
        code = app.exec()
        print(f"exit-after {{time.perf_counter() - closed[0]:.3f}}", flush=True)
        sys.exit(code)
    """)
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
           "STUDIO_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "closing" in proc.stdout
    seconds = float(proc.stdout.split("exit-after")[1])
    assert seconds < 2.0
    assert "QThread" not in proc.stderr and "Destroyed" not in proc.stderr
