"""The Tune page: a study's budget and objective, its trials live, and the chosen parameters.

Start asks the main window for the base config (:attr:`TunePage.sig_start_requested`; the
window answers with :meth:`TunePage.start`); the study runs on a
:class:`~studio.ui.workers.tune.TuneController`. The page draws each trial's validation
curve as it trains (pruned trials grey), the best score so far over the session's time, a
table of trials with their parameters, and the best trial's values beside the defaults with
the path of its ``best.toml``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import pen, style_plot
from studio.ui.workers.payloads import RunFailed
from studio.ui.workers.tune import (
    BestFound,
    TrialEnded,
    TrialEpoch,
    TrialStarted,
    TuneController,
    TuneFinished,
    TuneRequest,
    TuneStarted,
)

if TYPE_CHECKING:
    from studio.config import StudioConfig
    from studio.engine.tune.events import TrialRecord
    from studio.engine.tune.space import Param

__all__ = ["OBJECTIVE_CHOICES", "TRIAL_COLUMNS", "TunePage"]

OBJECTIVE_CHOICES = ("accuracy", "macro_f1", "val_loss")  # the engine's OBJECTIVES, torch-free
TRIAL_COLUMNS = ("#", "state", "score", "parameters")
GREY = (150, 150, 150, 140)


def _value(value: Any) -> str:
    """A parameter value, plainly: 0.0123, 200,000, 64."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _score(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _params_text(params: dict[str, Any]) -> str:
    return "  ".join(f"{k.split('.', 1)[-1]}={_value(v)}" for k, v in params.items())


class TunePage(QWidget):
    """Start and stop a study; watch its trials; read the parameters it chose."""

    sig_start_requested = Signal()
    """Start was clicked: the window answers with :meth:`start` and the base config."""
    sig_running = Signal(bool)
    """A study started (True) or its thread ended (False)."""
    sig_finished = Signal(object)
    """The session ended: :class:`~studio.ui.workers.tune.TuneFinished` or ``RunFailed``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = TuneController(self)
        self.controller.sig_running.connect(self._on_running)
        self.space: tuple[Param, ...] | None = None
        """The parameters searched (None: the engine's whole space; tests pass a tiny one)."""
        self.budget_minutes = QSpinBox()
        self.budget_minutes.setRange(0, 24 * 60)
        self.budget_minutes.setValue(10)
        self.budget_minutes.setToolTip("How long the search may run, in minutes (0 = no limit)")
        self.budget_minutes.setSpecialValueText("no limit")
        self.budget_minutes.setSuffix(" min")
        self.trials = QSpinBox()
        self.trials.setRange(0, 10_000)
        self.trials.setSpecialValueText("no limit")
        self.trials.setToolTip("How many trials to run at most (0 = no limit)")
        self.objective = QComboBox()
        self.objective.addItems(OBJECTIVE_CHOICES)
        self.objective.setToolTip("What the search maximises on the validation split")
        self.start_button = QPushButton("Start tuning")
        self.start_button.clicked.connect(self.sig_start_requested)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.status_label = QLabel("Tune searches learning rates, sizes and regularisation.")
        self.status_label.setWordWrap(True)
        self.curves_plot = pg.PlotWidget(self)
        self.best_plot = pg.PlotWidget(self)
        self.trials_table = QTableWidget(0, len(TRIAL_COLUMNS))
        self.trials_table.setHorizontalHeaderLabels(list(TRIAL_COLUMNS))
        self.trials_table.horizontalHeader().setStretchLastSection(True)
        self.trials_table.verticalHeader().setVisible(False)
        self.trials_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.best_box = QPlainTextEdit()
        self.best_box.setReadOnly(True)
        self.best_box.setPlaceholderText("The best trial's parameters appear here.")
        self.best_path_label = QLabel()
        self.best_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout()
        self._style_plots()
        self.curves: dict[int, pg.PlotDataItem] = {}
        self.scores: dict[int, list[tuple[int, float]]] = {}
        self.rows: dict[int, int] = {}
        self.best_points: list[tuple[float, float]] = []
        self.best_curve = self.best_plot.plot([], [], pen=pen("best", self.palette()))
        self.result: TuneFinished | RunFailed | None = None
        name_after_attributes(self)

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Time budget", self.budget_minutes)
        form.addRow("Trials", self.trials)
        form.addRow("Objective", self.objective)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.status_label)
        side.addWidget(QLabel("Best parameters (chosen · default)"))
        side.addWidget(self.best_box, 1)
        side.addWidget(self.best_path_label)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.curves_plot)
        plots.addWidget(self.best_plot)
        plots.addWidget(self.trials_table)
        top = QHBoxLayout(self)
        top.addLayout(side, 1)
        top.addWidget(plots, 3)

    def _style_plots(self) -> None:
        for plot, title, x in (
            (self.curves_plot, "Validation score per trial", "epoch"),
            (self.best_plot, "Best so far", "seconds"),
        ):
            style_plot(plot, self.palette())
            plot.setTitle(title)
            plot.setLabel("bottom", x)
            plot.showGrid(x=True, y=True, alpha=0.2)

    # -- session -----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.controller.is_running()

    def request(self, base: StudioConfig, runs_dir: str | None = None) -> TuneRequest:
        """The study the controls describe, from ``base``."""
        minutes, trials = self.budget_minutes.value(), self.trials.value()
        return TuneRequest(
            base=base, objective=self.objective.currentText(), trials=trials or None,
            seconds=minutes * 60.0 if minutes or not trials else None, runs_dir=runs_dir,
            space=self.space,
        )  # fmt: skip

    def start(self, base: StudioConfig, runs_dir: str | None = None) -> None:
        """Start a new study from ``base`` (a no-op while one runs)."""
        if self.controller.is_running():
            return
        self.clear()
        worker = self.controller.start(self.request(base, runs_dir))
        worker.sig_study_started.connect(self.on_study_started)
        worker.sig_trial_started.connect(self.on_trial_started)
        worker.sig_trial_epoch.connect(self.on_trial_epoch)
        worker.sig_trial_ended.connect(self.on_trial_ended)
        worker.sig_best.connect(self.on_best)
        worker.sig_notice.connect(self.status_label.setText)
        worker.sig_finished.connect(self.on_finished)
        worker.sig_failed.connect(self.on_failed)
        self.status_label.setText("Preparing the data…")

    @Slot()
    def stop(self) -> None:
        if self.controller.is_running():
            self.controller.stop()
            self.status_label.setText("Stopping after the running epoch…")

    def shutdown(self) -> None:
        """Stop the study and wait for its thread (idempotent)."""
        self.controller.shutdown()

    def clear(self) -> None:
        self.curves_plot.clear()
        self.curves, self.scores, self.rows = {}, {}, {}
        self.best_points = []
        self.best_curve.setData([], [])
        self.trials_table.setRowCount(0)
        self.best_box.clear()
        self.best_path_label.clear()
        self.result = None

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.budget_minutes.setEnabled(not running)
        self.trials.setEnabled(not running)
        self.objective.setEnabled(not running)
        self.sig_running.emit(running)
        if not running and self.result is not None:
            self.sig_finished.emit(self.result)

    # -- trials ------------------------------------------------------------------------
    @Slot(object)
    def on_study_started(self, info: TuneStarted) -> None:
        self.status_label.setText(
            f"Study {info.study_dir} on {info.device}: {info.objective} ({info.direction}), "
            f"budget {info.budget}"
        )
        for record in info.trials:
            self._show_record(record)

    @Slot(object)
    def on_trial_started(self, t: TrialStarted) -> None:
        self._set_row(t.number, "running", None, t.params)
        self.status_label.setText(f"Trial {t.number}: {_params_text(t.params)}")

    @Slot(object)
    def on_trial_epoch(self, e: TrialEpoch) -> None:
        points = self.scores.setdefault(e.number, [])
        points.append((e.epoch, e.score))
        curve = self.curves.get(e.number)
        if curve is None:
            color = pg.intColor(e.number, hues=9, values=1)
            curve = self.curves_plot.plot(
                [], [], pen=pg.mkPen(color, width=1), symbol="o", symbolSize=4,
                symbolBrush=color, symbolPen=None,
            )  # fmt: skip
            self.curves[e.number] = curve
        curve.setData([p[0] for p in points], [p[1] for p in points])

    @Slot(object)
    def on_trial_ended(self, ended: TrialEnded) -> None:
        self._show_record(ended.record)

    @Slot(object)
    def on_best(self, b: BestFound) -> None:
        self.best_points.append((b.elapsed, b.score))
        self.best_curve.setData([p[0] for p in self.best_points], [p[1] for p in self.best_points])

    def _show_record(self, r: TrialRecord) -> None:
        self._set_row(r.number, r.state + (" (base)" if r.base else ""), r.score, r.params)
        if r.curve and r.number not in self.curves:
            for epoch, score in enumerate(r.curve, start=1):
                self.on_trial_epoch(TrialEpoch(r.number, epoch, score))
        curve = self.curves.get(r.number)
        if curve is not None and r.state != "complete":
            curve.setPen(pg.mkPen(GREY, width=1))
            curve.setSymbolBrush(pg.mkBrush(GREY))

    def _set_row(
        self, number: int, state: str, score: float | None, params: dict[str, Any]
    ) -> None:
        row = self.rows.get(number)
        if row is None:
            row = self.rows[number] = self.trials_table.rowCount()
            self.trials_table.insertRow(row)
        values = (str(number), state, _score(score), _params_text(params))
        for column, text in enumerate(values):
            item = QTableWidgetItem(text)
            if state.startswith(("pruned", "skipped", "failed", "stopped")):
                item.setForeground(Qt.GlobalColor.gray)
            self.trials_table.setItem(row, column, item)

    # -- the end -----------------------------------------------------------------------
    @Slot(object)
    def on_finished(self, result: TuneFinished) -> None:
        self.result = result
        best = result.best
        if best is None:
            self.best_box.setPlainText("No trial completed: nothing was saved.")
            self.status_label.setText(f"Study ended by {result.ended_by}; no trial completed.")
            return
        lines = [f"trial {best.number}: validation {result.objective} {_score(best.score)}", ""]
        width = max((len(k) for k, _, _ in result.chosen), default=0)
        lines += [f"{k:<{width}}  {_value(v)}  (default {_value(d)})" for k, v, d in result.chosen]
        self.best_box.setPlainText("\n".join(lines))
        self.best_path_label.setText(f"config: {result.best_path or ''}")
        self.status_label.setText(
            f"Study ended by {result.ended_by} after {result.seconds:.0f} s: best trial "
            f"{best.number}, {result.objective} {_score(best.score)}"
        )

    @Slot(object)
    def on_failed(self, failed: RunFailed) -> None:
        self.result = failed
        self.status_label.setText(f"Tuning failed: {failed.message}")
