"""Training user and item embeddings in the window: read the interactions, split them, fit
the tables and save the run, on a worker thread; each epoch's metrics as a signal.

Start, stop and shutdown are :class:`~studio.ui.workers.stoppable.StoppableJob`'s; the
engine's ``fit_recs`` checks the control object between steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from studio.errors import StudioError
from studio.ui.workers.stoppable import StoppableJob, report_outcome

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl

__all__ = ["RecsDone", "RecsEpoch", "RecsJob", "RecsRequest", "RecsWorker"]


@dataclass(frozen=True)
class RecsRequest:
    """What to train: the file, its columns, the split and the settings (``RecSettings``)."""

    path: str
    settings: Any
    holdout: str = "last"
    share: float = 0.2
    min_count: int = 1
    runs_dir: str | None = None
    item_text: str | None = None  # a file of item ids and texts (side features)
    nproc: int = 1  # more: trained by `studio recs --nproc` processes (recs_processes)
    visible_gpus: tuple[int, ...] = ()  # several GPUs: the CUDA indices the ranks see


@dataclass(frozen=True)
class RecsEpoch:
    epoch: int
    loss: float
    recall: float
    ndcg: float
    hit_rate: float
    interactions_per_second: float


@dataclass(frozen=True)
class RecsDone:
    run_dir: str
    popularity_recall: float
    users: int
    items: int
    train: int
    test: int


class RecsWorker(QObject):
    """Runs one training on its thread: :meth:`run` is the thread's entry point."""

    sig_baseline = Signal(str, float)
    """A baseline's name and recall@k on the same split (before the first epoch): popularity,
    then implicit's ALS when it is installed."""
    sig_epoch = Signal(object)
    """An epoch ended: :class:`RecsEpoch`."""
    sig_finished = Signal(object)
    """The run is saved: :class:`RecsDone`."""
    sig_failed = Signal(object)
    """It failed: :class:`~studio.ui.workers.payloads.RunFailed`."""

    def __init__(self, request: RecsRequest, control: TrainControl) -> None:
        super().__init__()
        self.request = request
        self.control = control

    @Slot()
    def run(self) -> None:
        report_outcome(self._train, self.sig_finished, self.sig_failed)

    def _train(self) -> RecsDone:
        if self.request.nproc > 1:
            return self._train_processes()
        from pathlib import Path

        from studio.engine.analysis.recs_record import RecsRecorder
        from studio.engine.data.interaction_cache import open_interactions
        from studio.engine.data.interaction_split import split_interactions
        from studio.engine.runs.layout import default_cache_dir, default_runs_dir
        from studio.engine.train.recs import RecEpoch, fit_recs

        r = self.request
        data = open_interactions(r.path, cache_dir=default_cache_dir())
        split = split_interactions(data, r.holdout, r.share, r.min_count, r.settings.seed)  # type: ignore[arg-type]
        texts = None
        if r.item_text:
            from studio.engine.data.item_text import read_item_texts

            texts = read_item_texts(r.item_text, data.item_names, item_column=data.columns["item"])
        runs = Path(r.runs_dir) if r.runs_dir else default_runs_dir()
        recorder = RecsRecorder(runs, data, split, r.settings, texts)

        def on_epoch(e: RecEpoch) -> None:
            recorder.on_epoch(e)
            m = e.metrics
            self.sig_epoch.emit(
                RecsEpoch(e.epoch, e.loss, m.recall, m.ndcg, m.hit_rate, e.interactions_per_second)
            )

        def on_baseline(name: str, m: Any) -> None:
            recorder.on_baseline(name, m)
            self.sig_baseline.emit(name, float(m.recall))

        try:
            result = fit_recs(data, split, r.settings, on_epoch, self.control, on_baseline,
                              None if texts is None else texts.texts)  # fmt: skip
        except BaseException as exc:
            recorder.fail(str(exc) or type(exc).__name__)
            raise
        if self.control.stop_requested and len(result.history) < r.settings.epochs:
            recorder.finish(result)  # kept, marked stopped, as a text run is
            raise StudioError(
                f"stopped after epoch {len(result.history)}; kept in {recorder.run_dir}"
            )
        run = recorder.finish(result)
        pop = result.popularity.recall if result.popularity else 0.0
        return RecsDone(str(run), float(pop), data.n_users, data.n_items,
                        len(split.train_idx), len(split.test_idx))  # fmt: skip

    def _train_processes(self) -> RecsDone:
        from pathlib import Path

        from studio.engine.runs.layout import create_run_dir, default_runs_dir
        from studio.ui.workers.recs_processes import train_in_processes

        r = self.request
        runs = Path(r.runs_dir) if r.runs_dir else default_runs_dir()
        run_dir = create_run_dir(runs, f"recs-{Path(r.path).stem}")
        epochs = 0

        def on_record(record: dict[str, Any]) -> None:
            nonlocal epochs
            if record.get("type") == "baseline":
                self.sig_baseline.emit(str(record["name"]), float(record["val_recall"]))
            elif record.get("type") == "epoch":
                epochs = int(record["epoch"])
                self.sig_epoch.emit(RecsEpoch(
                    epochs, float(record["loss"]), float(record["val_recall"]),
                    float(record["val_ndcg"]), float(record["val_hit_rate"]),
                    float(record["interactions_per_second"]),
                ))  # fmt: skip

        report = train_in_processes(r, self.control, run_dir, on_record)
        if self.control.stop_requested and epochs < r.settings.epochs:
            raise StudioError(f"stopped after epoch {epochs}; kept in {run_dir}")
        pop = report.get("popularity") or {}
        counts = (int(report[key]) for key in ("users", "items", "train", "test"))
        return RecsDone(str(run_dir), float(pop.get("recall", 0.0)), *counts)


class RecsJob(StoppableJob[RecsWorker]):
    """Owns one recommendation training at a time."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("recs_thread", parent)

    def start(self, request: RecsRequest) -> RecsWorker:
        return self._start_worker(
            lambda control: RecsWorker(request, control),
            lambda w: w.run,
            lambda w: (w.sig_finished, w.sig_failed),
        )
