"""The one listing of run folders, for ``studio runs`` and the window's Runs page.

Each run's status is its live one (:func:`studio.engine.runs.status.status_of`): a run whose
``run.json`` still says ``running`` but whose process is gone from this machine is
``killed`` (SIGKILL, power loss, an out-of-memory kill), distinct from one the user
stopped. Epochs and accuracy come from the end-of-run summary, or, for a run that never
wrote one (killed, still running), from the epoch records of its ``metrics.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from studio.engine.runs.layout import METRICS_FILE, RUN_FILE, RunInfo, read_json
from studio.engine.runs.status import status_of
from studio.errors import RunError

__all__ = ["RESUMABLE", "list_runs", "resumable", "resume_hint", "run_info"]

#: Statuses ``studio train --resume`` continues (from the run's last complete checkpoint).
RESUMABLE: Final = ("killed", "stopped", "failed")
_EPOCH_RECORD: Final = '{"type": "epoch"'  # how the recorder's json.dumps starts one


def _epoch_records(run_dir: Path) -> list[dict[str, Any]]:
    """The epoch records of ``metrics.jsonl`` (step records are skipped unparsed, and a
    torn last line is ignored)."""
    out: list[dict[str, Any]] = []
    try:
        with open(run_dir / METRICS_FILE, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(_EPOCH_RECORD) and line.endswith("\n"):
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue
    except OSError:
        return []
    return out


def _progress(run_dir: Path, summary: dict[str, Any]) -> tuple[int, float | None, float | None]:
    """Completed epochs, best validation accuracy and its epoch's macro-F1."""
    if summary.get("epochs"):
        return int(summary["epochs"]), summary.get("val_accuracy"), summary.get("val_macro_f1")
    records = [r for r in _epoch_records(run_dir) if isinstance(r.get("epoch"), int)]
    if not records:
        return 0, None, None
    best = max(records, key=lambda r: float(r.get("val_accuracy") or 0.0))
    return max(r["epoch"] for r in records), best.get("val_accuracy"), best.get("val_macro_f1")


def _recs_progress(run_dir: Path, summary: dict[str, Any]) -> tuple[int, float | None, int]:
    """A recommendation run's completed epochs, best recall@k and k."""
    if summary.get("epochs"):
        return int(summary["epochs"]), summary.get("val_recall"), int(summary.get("k") or 10)
    records = [r for r in _epoch_records(run_dir) if isinstance(r.get("val_recall"), float)]
    if not records:
        return 0, None, 10
    best = max(records, key=lambda r: float(r["val_recall"]))
    return max(int(r["epoch"]) for r in records), best["val_recall"], int(best.get("k") or 10)


def run_info(folder: Path) -> RunInfo | None:
    """One run folder's row; None when it has no readable ``run.json``."""
    try:
        meta = read_json(folder / RUN_FILE)
    except RunError:
        return None
    if not isinstance(meta, dict):
        return None
    summary = meta.get("summary") or {}
    if meta.get("kind") == "recs":
        epochs, recall, k = _recs_progress(folder, summary)
        accuracy, macro_f1 = None, None
    else:
        (epochs, accuracy, macro_f1), recall, k = _progress(folder, summary), None, 10
    return RunInfo(
        path=folder,
        name=folder.name,
        status=status_of(meta),
        started=str(meta.get("started", "")),
        dataset=str(meta.get("dataset", "")),
        epochs=epochs,
        val_accuracy=accuracy,
        val_macro_f1=macro_f1,
        settings=dict(meta.get("settings") or {}),
        nproc=int(meta.get("world_size") or 1),
        host=str(meta.get("host") or ""),
        kind=str(meta.get("kind") or "text"),
        val_recall=recall,
        k=k,
    )


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder in ``runs_dir``, newest first; unreadable ones are skipped."""
    if not runs_dir.is_dir():
        return []
    found = (run_info(folder) for folder in runs_dir.iterdir() if (folder / RUN_FILE).is_file())
    runs = [run for run in found if run is not None]
    return sorted(runs, key=lambda r: (r.started, r.name), reverse=True)


def resumable(run: RunInfo) -> bool:
    """Whether ``studio train --resume`` can continue ``run`` (a text run that did not end;
    a recommendation run is trained again, not continued)."""
    return run.status in RESUMABLE and run.kind == "text"


def resume_hint(run: RunInfo) -> str | None:
    """How to continue ``run`` when it can be, for people; None when it cannot."""
    if not resumable(run):
        return None
    done = f"after epoch {run.epochs}" if run.epochs else "from its start"
    if run.nproc > 1:
        return (
            f"{run.name} was trained by {run.nproc} processes: continue it {done} in one "
            f"process with `studio train --resume {run.path}`"
        )
    return f"continue it {done} with `studio train --resume {run.path}`"
