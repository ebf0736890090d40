"""The metric tables' column layouts: one copy, named for the data the run stores."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from studio.engine.runs.compare import EPOCH_COLUMNS, STEP_COLUMNS, curves
from studio.ui.widgets.metric_tables import (
    EpochCol,
    RunStepCol,
    StepCol,
    column_key,
    new_table,
    stack_columns,
)
from studio.ui.widgets.training_plots import TrainingPlots

RECORDS = [
    {"type": "step", "step": 5, "loss": 1.5},
    {"type": "epoch", "epoch": 1, "step": 10, "val_loss": 0.9, "val_accuracy": 0.5,
     "val_macro_f1": 0.4},
    {"type": "step", "step": 15, "loss": 1.1},
    {"type": "epoch", "epoch": 2, "step": 20, "val_loss": 0.7, "val_accuracy": 0.6,
     "val_macro_f1": 0.55},
]  # fmt: skip


def test_layouts_follow_the_stored_records() -> None:
    # the runs page fills its tables from these keys of metrics.jsonl
    assert [column_key(c) for c in EpochCol][: len(EPOCH_COLUMNS)] == list(EPOCH_COLUMNS)
    assert [column_key(c) for c in RunStepCol] == list(STEP_COLUMNS)
    # the training worker sends step rows in this order
    assert [column_key(c) for c in StepCol] == ["step", "epoch", "wall", "loss"]


def test_stack_columns_puts_each_named_column_in_its_place() -> None:
    rows = stack_columns(EpochCol, curves(RECORDS)["epochs"])
    assert rows.shape == (2, len(EpochCol))
    np.testing.assert_array_equal(rows[:, EpochCol.VAL_LOSS], [0.9, 0.7])
    np.testing.assert_array_equal(rows[:, EpochCol.VAL_ACCURACY], [0.5, 0.6])
    np.testing.assert_array_equal(rows[:, EpochCol.VAL_MACRO_F1], [0.4, 0.55])
    assert np.isnan(rows[:, EpochCol.WALL]).all()  # not in the records: NaN
    table = new_table(RunStepCol, capacity=1)
    table.append(stack_columns(RunStepCol, curves(RECORDS)["steps"]))
    np.testing.assert_array_equal(table.column(RunStepCol.LOSS), [1.5, 1.1])
    assert stack_columns(EpochCol, {}).shape == (0, len(EpochCol))
    with pytest.raises(ValueError, match="different lengths"):
        stack_columns(RunStepCol, {"step": np.zeros(2), "loss": np.zeros(3)})


def test_the_live_plot_and_the_runs_page_share_one_epoch_layout(qtbot: QtBot) -> None:
    """Both read ``EpochCol`` (before, ``_E_LOSS`` was column 3 in one and 2 in the other)."""
    runs_rows = stack_columns(EpochCol, curves(RECORDS)["epochs"])  # what the runs page keeps
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    epochs = [r for r in RECORDS if r["type"] == "epoch"]
    for wall, r in enumerate(epochs, start=1):
        plots.append_epoch(
            r["epoch"], r["step"], float(wall), r["val_loss"], r["val_accuracy"], False
        )
    live_rows = plots._epochs.view()
    both = [EpochCol.EPOCH, EpochCol.STEP, EpochCol.VAL_LOSS, EpochCol.VAL_ACCURACY]
    np.testing.assert_array_equal(live_rows[:, both], runs_rows[:, both])
    np.testing.assert_array_equal(live_rows[:, EpochCol.WALL], [1.0, 2.0])
    plots.redraw()
    np.testing.assert_array_equal(plots.val_loss_curve.getData()[1], [0.9, 0.7])
