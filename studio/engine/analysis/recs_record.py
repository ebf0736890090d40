"""A recommendation run in the same run store as text runs, written as it trains.

:class:`RecsRecorder` makes the run folder before the first epoch and writes what the
Runs page and ``studio runs`` read for any run: ``run.json`` (``"kind": "recs"``, status
``running`` with this process's pid, then ``finished``, ``stopped`` or ``failed``) and an
append-only ``metrics.jsonl`` with, per epoch, a ``step`` record (the epoch's mean loss at
its last step) and an ``epoch`` record (``loss``, ``val_recall``, ``val_ndcg``,
``val_hit_rate``, ``k``), and one ``baseline`` record per baseline. At the end
:meth:`RecsRecorder.finish` adds the tables and ``recs.json``
(:func:`~studio.engine.analysis.recommend.write_recs_run`). A process killed mid-run leaves
a folder whose status reads ``killed``, as a killed text run's does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.data.item_text import ItemTexts
from studio.engine.runs.layout import METRICS_FILE, RUN_FILE, create_run_dir, write_json
from studio.engine.train.ranking import RankMetrics
from studio.engine.train.recs import RecEpoch, RecResult, RecSettings

__all__ = ["RECS_KIND", "RecsRecorder", "recs_run_settings"]

#: ``run.json``'s ``kind`` of a recommendation run (a text run has none).
RECS_KIND: Final = "recs"


def recs_run_settings(settings: RecSettings, item_texts: ItemTexts | None = None) -> dict[str, Any]:
    """``run.json``'s settings: the keys text runs share (``embed_dim``, ``batch_size``,
    ``epochs``) named as theirs, so the Runs page's columns and comparison read both."""
    out = dataclasses.asdict(settings)
    out["item_text"] = None if item_texts is None else Path(item_texts.path).name
    out["embed_dim"] = out.pop("dim")
    out["task"] = "recommendation"
    return out


class RecsRecorder:
    """Pass :meth:`on_epoch` and :meth:`on_baseline` to ``fit_recs``; then :meth:`finish`
    (or :meth:`fail` when training raised)."""

    def __init__(
        self, runs_dir: Path, data: Interactions, split: InteractionSplit,
        settings: RecSettings, item_texts: ItemTexts | None = None,
        run_dir: Path | None = None,
    ) -> None:  # fmt: skip
        """A new run folder in ``runs_dir``, or ``run_dir`` (an empty folder made by the
        caller: the window names the folder of a run it launches as processes)."""
        self.data, self.split, self.settings = data, split, settings
        self.item_texts = item_texts
        self._steps_per_epoch = -(-len(split.train_idx) // settings.batch_size)
        self.run_dir = run_dir or create_run_dir(Path(runs_dir), f"recs-{Path(data.path).stem}")
        self._meta: dict[str, Any] = {
            "format": 1, "kind": RECS_KIND, "status": "running", "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().isoformat(timespec="seconds"),
            "dataset": data.path, "device": settings.device,
            "settings": recs_run_settings(settings, item_texts),
            "interactions": len(data), "users": data.n_users, "items": data.n_items,
            "n_train": len(split.train_idx), "n_valid": len(split.test_idx),
            "split": split.rule,
        }  # fmt: skip
        write_json(self.run_dir / RUN_FILE, self._meta)
        self._fh: IO[str] | None = open(self.run_dir / METRICS_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._append({"type": "start", "epochs": settings.epochs})
        self._best: dict[str, Any] | None = None

    def _append(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(record) + "\n")
            self._fh.flush()

    def on_baseline(self, name: str, metrics: RankMetrics) -> None:
        self._append({"type": "baseline", "name": name, **_ranked(metrics)})

    def on_epoch(self, e: RecEpoch) -> None:
        step = e.epoch * self._steps_per_epoch  # the epoch's mean loss, at its last step
        self._append({"type": "step", "step": step, "epoch": e.epoch, "loss": e.loss})
        record = {"type": "epoch", "epoch": e.epoch, "step": step, "loss": e.loss,
                  **_ranked(e.metrics), "train_seconds": e.seconds,
                  "interactions_per_second": e.interactions_per_second}  # fmt: skip
        self._append(record)
        if self._best is None or record["val_recall"] > self._best["val_recall"]:
            self._best = record

    def finish(self, result: RecResult) -> Path:
        """Write the tables and ``recs.json``; ``run.json`` says ``finished`` (or
        ``stopped`` when fewer epochs ran than were asked for)."""
        from studio.engine.analysis.recommend import write_recs_run

        write_recs_run(self.run_dir, self.data, self.split, self.settings, result,
                       self.item_texts)  # fmt: skip
        done = len(result.history)
        status = "finished" if done >= self.settings.epochs else "stopped"
        summary: dict[str, Any] = {"epochs": done}
        if self._best is not None:
            summary |= {key: self._best[key] for key in ("val_recall", "val_ndcg", "k")}
            summary["best_epoch"] = self._best["epoch"]
        self._close(status, summary=summary)
        return self.run_dir

    def fail(self, message: str) -> None:
        self._close("failed", error=message)

    def _close(self, status: str, **changes: Any) -> None:
        self._append({"type": "end", "status": status})
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        finished = datetime.now().isoformat(timespec="seconds")
        self._meta |= {"status": status, "pid": None, "finished": finished, **changes}
        write_json(self.run_dir / RUN_FILE, self._meta)


def _ranked(m: RankMetrics) -> dict[str, Any]:
    return {"val_recall": float(m.recall), "val_ndcg": float(m.ndcg),
            "val_hit_rate": float(m.hit_rate), "k": int(m.k)}  # fmt: skip
