"""The label-issue finder in the window: one model per fold on a worker thread, then the
ranking, saved beside the run (``studio.engine.analysis.label_review.find_and_save``).

The engine's hooks run on that thread; the bridge here turns them into signals carrying
frozen payloads: one when a fold starts, one per epoch (the per-fold curves), and the
overall progress at most ten times a second (throttled here, at the source). Start, stop
and shutdown are :class:`~studio.ui.workers.stoppable.StoppableJob`'s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.config import StudioConfig
from studio.ui.workers.stoppable import StoppableJob, report_outcome

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl

__all__ = ["FoldEpoch", "FoldsController", "FoldsRequest", "FoldsWorker"]

PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class FoldsRequest:
    """Find the label issues of ``config``'s dataset with ``folds`` models; save in ``run_dir``."""

    config: StudioConfig
    run_dir: str
    folds: int = 5


@dataclass(frozen=True)
class FoldEpoch:
    """Fold ``fold`` (1-based) finished an epoch with this validation accuracy and loss."""

    fold: int
    epoch: int
    val_accuracy: float
    val_loss: float


def _make_bridge(worker: FoldsWorker) -> Any:
    """The engine callback that reports one fold's training (runs on the worker thread)."""
    from studio.engine.train.events import Callback

    class FoldBridge(Callback):
        def __init__(self) -> None:
            self.fold, self.folds, self.last = 1, 1, 0.0

        def start_fold(self, fold: int, folds: int) -> None:
            self.fold, self.folds = fold, folds
            worker.sig_fold.emit(fold, folds)
            worker.sig_progress.emit((fold - 1) / folds)

        def on_step_end(self, ctx: Any, event: Any) -> None:
            now = time.monotonic()
            if now - self.last >= PROGRESS_INTERVAL_S:
                self.last = now
                worker.sig_progress.emit((self.fold - 1 + event.fraction) / self.folds)

        def on_epoch_end(self, ctx: Any, event: Any) -> None:
            worker.sig_epoch.emit(
                FoldEpoch(self.fold, event.epoch, event.val_accuracy, event.val_loss)
            )

    return FoldBridge()


class FoldsWorker(QObject):
    """Runs the finder on a worker thread: :meth:`run` is its thread's entry point."""

    sig_fold = Signal(int, int)
    """Fold ``k`` of ``n`` starts training."""
    sig_epoch = Signal(object)
    """A fold's epoch ended: :class:`FoldEpoch`."""
    sig_progress = Signal(float)
    """The share of the work done, 0 to 1 (at most every :data:`PROGRESS_INTERVAL_S`)."""
    sig_finished = Signal(object)
    """The ranking is saved: ``studio.engine.analysis.label_review.Findings``."""
    sig_failed = Signal(object)
    """It failed or was stopped: :class:`~studio.ui.workers.payloads.RunFailed`."""

    def __init__(self, request: FoldsRequest, control: TrainControl) -> None:
        super().__init__()
        self.request = request  # frozen: safe to read from the worker thread
        self.control = control

    @Slot()
    def run(self) -> None:
        from studio.engine.analysis.label_review import find_and_save

        r = self.request
        bridge = _make_bridge(self)

        def work() -> object:
            findings = find_and_save(
                r.config, r.run_dir, r.folds, callbacks=[bridge], control=self.control,
                on_fold=bridge.start_fold,
            )  # fmt: skip
            self.sig_progress.emit(1.0)
            return findings

        report_outcome(work, self.sig_finished, self.sig_failed)


class FoldsController(StoppableJob[FoldsWorker]):
    """Owns one finder run at a time: start, stop, and a clean shutdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("label_folds_thread", parent)

    def start(self, request: FoldsRequest) -> FoldsWorker:
        """Start; connect to the returned worker before control returns to the event loop
        (the work begins from there, so no signal is missed)."""
        return self._start_worker(
            lambda control: FoldsWorker(request, control),
            lambda w: w.run,
            lambda w: (w.sig_finished, w.sig_failed),
        )
