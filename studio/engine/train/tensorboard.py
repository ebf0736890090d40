"""TensorBoard event files, written live during training or afterwards from ``metrics.jsonl``.

:class:`TensorBoardLogger` is a training callback (``train.tensorboard = true`` adds one
that writes to ``<run_dir>/tensorboard/``). ``studio export --format tensorboard``
writes the same scalars, under the same tags, from a finished run's metrics. Either way::

    tensorboard --logdir <run_dir>/tensorboard

The ``tensorboard`` package is optional and imported only when one of these is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd
from studio.errors import StudioError

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

    from studio.engine.train.context import FitContext

TENSORBOARD_DIR = "tensorboard"  # inside a run folder

# tag -> field of a step record (StepEnd / metrics.jsonl "step"), logged at that step
STEP_SCALARS = {"train/loss": "loss", "train/lr": "lr"}
# tag -> field of an epoch record (EpochEnd / metrics.jsonl "epoch"), logged at the
# epoch's last step so that they line up with train/loss on the same x axis
EPOCH_SCALARS = {
    "train/epoch_loss": "train_loss",
    "val/loss": "val_loss",
    "val/accuracy": "val_accuracy",
    "val/macro_f1": "val_macro_f1",
    "val/weighted_f1": "val_weighted_f1",
}


def summary_writer_class() -> type[SummaryWriter]:
    """``torch.utils.tensorboard.SummaryWriter``, or a StudioError saying what to install."""
    try:
        import tensorboard  # noqa: F401  (torch's writer needs it; check before torch tries)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise StudioError(
            "writing TensorBoard logs needs the 'tensorboard' package: pip install tensorboard"
        ) from None
    return SummaryWriter


def add_scalars(
    writer: SummaryWriter,
    tags: Mapping[str, str],
    record: Mapping[str, Any],
    walltime: float | None = None,
) -> None:
    """Log ``record[key]`` as ``tag`` at ``record["step"]`` for each tag -> key present.

    ``record`` is a ``metrics.jsonl`` record or ``vars()`` of a :class:`StepEnd` /
    :class:`EpochEnd`, which have the same field names.
    """
    step = int(record["step"])
    for tag, key in tags.items():
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            writer.add_scalar(tag, float(value), step, walltime=walltime)


class TensorBoardLogger(Callback):
    """Writes ``train/loss`` (and ``train/lr``) for every step the trainer reports, the
    validation metrics at each epoch end, and flushes then; closes at fit end or failure.

    The ``tensorboard`` package is checked for here, so a missing one fails before training.
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self._writer_class = summary_writer_class()
        self._writer: SummaryWriter | None = None

    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = self._writer_class(log_dir=str(self.log_dir))

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        if self._writer is not None:
            add_scalars(self._writer, STEP_SCALARS, vars(event))

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        if self._writer is not None:
            add_scalars(self._writer, EPOCH_SCALARS, vars(event))
            self._writer.flush()

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self._close()

    def on_exception(self, ctx: FitContext, error: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
