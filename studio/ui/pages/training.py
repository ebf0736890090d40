"""The Training page: live curves, progress, and the result of the last run."""

from __future__ import annotations

import html

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.image_export import ask_and_save, save_widget_image
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.status_readout import format_seconds
from studio.ui.widgets.training_plots import TrainingPlots
from studio.ui.workers.payloads import EpochDone, RunFailed, RunFinished, RunStarted, StepsBatch


class TrainingPage(QWidget):
    """Fed by the main window from the worker's signals; holds no training logic."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = TrainingPlots()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status = QLabel()
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(
            self.result.textInteractionFlags().TextSelectableByMouse
        )
        self.result.setText(
            "Press <b>Train</b> (Ctrl+Return) to start. Curves appear here as the model learns."
        )
        self.save_button = QPushButton("Save image…")
        self.save_button.setToolTip("Save the curves as PNG or SVG")
        self.save_button.clicked.connect(self._save_dialog)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        layout.addWidget(self.plots, 1)
        layout.addWidget(self.result)
        self._total_steps = 1
        self._epochs = 1
        name_after_attributes(self)

    def on_launching(self, device: str, nproc: int = 1) -> None:
        """A run was asked for: clear the last one and show that it is getting ready."""
        self.plots.reset()
        self.status.clear()
        self.progress.setRange(0, 0)  # busy until the first record of the run
        self.progress.setFormat("starting")
        launch = " (launching the processes)" if nproc > 1 else ""
        self.result.setText(
            f"Starting on <b>{html.escape(device)}</b>{launch}: preparing the dataset…"
        )

    @Slot(object)
    def on_started(self, info: RunStarted) -> None:
        self.plots.reset()
        self.plots.set_steps_per_epoch(max(info.steps_per_epoch, 1))
        self._total_steps = max(info.total_steps, 1)
        self._epochs = info.epochs
        self.progress.setRange(0, self._total_steps)
        self.progress.setValue(0)
        self.progress.setFormat(f"epoch 1/{self._epochs} · step 0/{self._total_steps}")
        sizes = [f"{info.n_train:,} training and {info.n_valid:,} validation documents"]
        if info.vocab_size is not None:
            sizes.append(f"vocabulary {info.vocab_size:,}")
        if info.parameters is not None:
            sizes.append(f"{info.parameters:,} parameters")
        self.result.setText(f"Training on <b>{html.escape(info.device)}</b>: {', '.join(sizes)}.")

    @Slot(object)
    def on_update(self, update: StepsBatch) -> None:
        rows = update.steps
        if len(rows):
            self.plots.append_steps(rows)
        if update.step is not None:
            step = update.step
            self.progress.setValue(step)
            self.progress.setFormat(
                f"epoch {update.epoch}/{self._epochs} · step {step:,}/{self._total_steps:,}"
            )

    @Slot(object)
    def on_epoch(self, e: EpochDone) -> None:
        self.plots.append_epoch(e.epoch, e.step, e.wall, e.val_loss, e.val_accuracy, e.is_best)
        self.progress.setValue(e.step)
        self.status.setText(
            f"epoch {e.epoch}: val loss {e.val_loss:.4f} · accuracy {e.val_accuracy:.2%} "
            f"· macro-F1 {e.val_macro_f1:.3f}"
        )

    @Slot(object)
    def on_finished(self, r: RunFinished) -> None:
        if self.progress.maximum() == 0:  # stopped before it started
            self.progress.setRange(0, 1)
        self.progress.setFormat(f"{r.status} · {r.epochs} epochs")
        if r.status == "finished":
            self.progress.setValue(self.progress.maximum())
        status = r.status.replace("_", " ").capitalize()
        folder = html.escape(r.run_dir or "")
        saved = f"<br>Saved to <code>{folder}</code>" if folder else ""
        if not r.epochs:
            self.result.setText(f"<b>{status}</b> before the first epoch ended.{saved}")
            return
        acc = r.val_accuracy or 0.0
        f1 = r.val_macro_f1 or 0.0
        self.result.setText(
            f"<b>{status}</b> after {r.epochs} epochs "
            f"({format_seconds(r.train_seconds)} training, {r.docs_per_second:,.0f} docs/s). "
            f"Saved model (epoch {r.best_epoch}): validation accuracy <b>{acc:.2%}</b>, "
            f"macro-F1 <b>{f1:.3f}</b>.{saved}"
        )

    def save_image(self, path: str) -> None:
        """Both plots as PNG, or as SVG when ``path`` ends in .svg."""
        save_widget_image(self.plots, path)

    @Slot()
    def _save_dialog(self) -> None:
        ask_and_save(self, self.plots, "Save curves", "curves.png")

    @Slot(object)
    def on_failed(self, failed: RunFailed) -> None:
        if self.progress.maximum() == 0:  # failed before it started
            self.progress.setRange(0, 1)
        self.progress.setFormat("failed")
        self.result.setText(f"<b>Training failed:</b> {html.escape(failed.message)}")
