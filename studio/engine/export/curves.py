"""The training-curve formats: ``metrics.jsonl`` as TensorBoard event files or CSV tables.

No model is loaded, so a run that stopped or failed part-way exports what it recorded.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from studio.engine.export._files import check_file_target, prepare_folder, write_text
from studio.engine.export._source import RunLike, run_folder
from studio.engine.runs.layout import METRICS_FILE, RUN_FILE, read_json, read_metrics
from studio.engine.train.tensorboard import (
    EPOCH_SCALARS,
    STEP_SCALARS,
    add_scalars,
    summary_writer_class,
)
from studio.errors import RunError

__all__ = ["EPOCH_COLUMNS", "STEP_COLUMNS", "export_csv", "export_tensorboard"]

STEP_COLUMNS = ("step", "epoch", "loss", "lr", "time")
EPOCH_COLUMNS = (
    "epoch",
    "step",
    "time",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "val_macro_f1",
    "val_weighted_f1",
)


def _records(run: RunLike) -> tuple[Path, list[dict[str, Any]]]:
    run_dir = run_folder(run)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a run folder")
    if not (run_dir / METRICS_FILE).is_file():
        raise RunError(f"{run_dir / METRICS_FILE}: missing")
    return run_dir, read_metrics(run_dir)


def _started(run_dir: Path) -> float | None:
    """The run's start as a Unix time (``run.json``), to turn record times into wall times."""
    try:
        return datetime.fromisoformat(str(read_json(run_dir / RUN_FILE)["started"])).timestamp()
    except (RunError, KeyError, TypeError, ValueError):
        return None


def export_tensorboard(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """TensorBoard event files with the run's training curves."""
    writer_class = summary_writer_class()
    run_dir, records = _records(run)
    folder = prepare_folder(
        Path(out), overwrite, lambda name: name.startswith("events.out.tfevents.")
    )
    t0 = _started(run_dir)
    writer = writer_class(log_dir=str(folder))
    try:
        for record in records:
            tags = {"step": STEP_SCALARS, "epoch": EPOCH_SCALARS}.get(record.get("type", ""))
            if tags is None or not isinstance(record.get("step"), int):
                continue
            time = record.get("time")
            wall = t0 + time if t0 is not None and isinstance(time, (int, float)) else None
            add_scalars(writer, tags, record, walltime=wall)
    finally:
        writer.close()
    return folder


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _table(records: list[dict[str, Any]], leading: tuple[str, ...]) -> str:
    columns = list(leading)
    for record in records:
        columns += [k for k in record if k != "type" and k not in columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return buf.getvalue()


def export_csv(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """``steps.csv`` + ``epochs.csv`` in a folder, or only the epochs if ``out`` is ``*.csv``."""
    _, records = _records(run)
    steps = [r for r in records if r.get("type") == "step"]
    epochs = [r for r in records if r.get("type") == "epoch"]
    path = Path(out)
    if path.suffix.lower() == ".csv":
        check_file_target(path, overwrite)
        write_text(path, _table(epochs, EPOCH_COLUMNS))
        return path
    names = ("steps.csv", "epochs.csv")
    folder = prepare_folder(path, overwrite, lambda name: name in names)
    write_text(folder / "steps.csv", _table(steps, STEP_COLUMNS))
    write_text(folder / "epochs.csv", _table(epochs, EPOCH_COLUMNS))
    return folder
