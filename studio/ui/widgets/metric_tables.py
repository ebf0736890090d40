"""Column layouts of the metric tables the live plots and the runs page keep: one copy each.

A member's lower-case name is the key of that value in the training worker's payloads and
in ``metrics.jsonl`` records (``EpochCol.VAL_LOSS`` holds ``"val_loss"``): tables are
filled from named columns with :func:`stack_columns` and read by member, so two widgets
cannot disagree on where a value sits.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import TYPE_CHECKING

from studio.ui.widgets.buffers import GrowingBuffer

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EpochCol", "RunStepCol", "StepCol", "column_key", "new_table", "stack_columns"]


class StepCol(IntEnum):
    """Live step rows, in the order the training worker sends them."""

    STEP = 0
    EPOCH = 1  # fractional: step / steps per epoch
    WALL = 2  # seconds since the run started
    LOSS = 3


class RunStepCol(IntEnum):
    """Step rows the runs page keeps per run: step and loss only (a run may have millions)."""

    STEP = 0
    LOSS = 1


class EpochCol(IntEnum):
    """One row per validation: the fields of an ``epoch`` record, then the live wall time."""

    EPOCH = 0
    STEP = 1
    VAL_LOSS = 2
    VAL_ACCURACY = 3
    VAL_MACRO_F1 = 4
    VAL_RECALL = 5  # recommendation runs: recall@k on the held-out interactions
    WALL = 6


def column_key(column: IntEnum) -> str:
    """The payload / record key of a column: ``EpochCol.VAL_LOSS`` -> ``"val_loss"``."""
    return column.name.lower()


def new_table(layout: type[IntEnum], capacity: int) -> GrowingBuffer:
    """An empty growing buffer with one column per member of ``layout``."""
    return GrowingBuffer(len(layout), capacity=capacity)


def stack_columns(layout: type[IntEnum], columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Rows in ``layout`` order from named columns of one length; a column not given is NaN."""
    import numpy as np

    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    rows = np.full((n, len(layout)), np.nan, dtype=np.float64)
    for column in layout:
        values = columns.get(column_key(column))
        if values is not None:
            rows[:, column] = values
    return rows
