"""The runs directory: one folder per run, readable by any later process.

A run folder holds ``config.toml``, ``vocab.json``, ``labels.json``, ``tokenizer.json``
(BPE only), ``metrics.jsonl`` (appended as training goes), ``run.json`` (status and
summary), ``checkpoints/{last,best}.safetensors`` and the final ``model.safetensors`` +
``model.json``. Everything is JSON, TOML or safetensors: nothing is ever unpickled.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.engine.atomic import write_text_atomic
from studio.engine.runs.paths import ensure_inside
from studio.errors import RunError

if TYPE_CHECKING:
    from studio.config import StudioConfig

log = logging.getLogger("studio")

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
SNAPSHOTS_DIR = "snapshots"  # per epoch: the frequent words' vectors (the projector's frames)
#: Words (ids 2 .. SNAPSHOT_WORDS + 1, the most frequent) whose vectors each epoch keeps
SNAPSHOT_WORDS: Final = 2000
STOP_FILE = "STOP"  # created by another process (the window, a shell) to stop the run
PAUSE_FILE = "PAUSE"  # while it exists, a single-process run waits before its next step
#: What another process may create in a run folder before the run has begun
REQUEST_FILES: Final = (STOP_FILE, PAUSE_FILE)

#: ``run.json``'s ``settings``: each key and the ``section.field`` of the run's config it
#: records, in the order written. Listing (``studio runs``, the Runs page) and comparing
#: runs read these keys; this is the one place that names them.
RUN_SETTINGS: Final[dict[str, str]] = {
    "vocab_size": "tokenizer.vocab_size",
    "embed_dim": "model.embed_dim",
    "batch_size": "train.batch_size",
    "epochs": "train.epochs",
    "lr": "train.lr",
    "optimizer": "train.optimizer",
    "preset": "model.preset",
    "ngram_buckets": "tokenizer.ngram_buckets",
    "tokenizer": "tokenizer.kind",
}


def default_runs_dir() -> Path:
    """``$STUDIO_RUNS_DIR``, else the platform's user data folder + ``runs``."""
    env = os.environ.get("STUDIO_RUNS_DIR")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_data_path("embedding-studio", appauthor=False) / "runs"


def default_cache_dir() -> Path:
    """``$STUDIO_CACHE_DIR``, else the platform's user cache folder."""
    env = os.environ.get("STUDIO_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return platformdirs.user_cache_path("embedding-studio", appauthor=False) / "datasets"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:40] or "run"


def create_run_dir(runs_dir: Path, dataset: str, now: datetime | None = None) -> Path:
    """A new, empty run folder named ``<date>-<time>-<dataset>``, made inside ``runs_dir``."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{_slug(Path(dataset).stem)}"
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        for n in range(1000):
            candidate = runs_dir / (base if n == 0 else f"{base}-{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue  # a run, a file or a symlink of that name: never written through
            return ensure_inside(runs_dir, candidate)
    except OSError as exc:
        raise RunError(f"{runs_dir}: cannot create a run folder: {exc.strerror or exc}") from None
    raise RunError(f"{runs_dir}: too many runs named {base}")


def check_run_dir(path: Path) -> None:
    """Refuse a named run folder that is a file or holds anything already (but a STOP or
    PAUSE request: a launcher may stop or pause a run before it has begun)."""
    if path.is_file() or (
        path.is_dir() and any(p.name not in REQUEST_FILES for p in path.iterdir())
    ):
        raise RunError(f"{path}: the run folder is not empty; name a new one")


def claim_run_dir(path: Path) -> Path:
    """Use exactly ``path`` as a new run folder: created, or an existing empty folder."""
    check_run_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"{path}: cannot create the run folder: {exc.strerror or exc}") from None
    return path


def run_settings(config: StudioConfig) -> dict[str, Any]:
    """The :data:`RUN_SETTINGS` of ``config``, as ``run.json`` records them."""
    out: dict[str, Any] = {}
    for key, where in RUN_SETTINGS.items():
        section, name = where.split(".")
        out[key] = getattr(getattr(config, section), name)
    return out


def write_json(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: unreadable ({exc})") from None


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of ``metrics.jsonl``; a torn or garbled line is skipped with a
    logged warning (a process killed mid-write leaves at most one torn last line)."""
    path = Path(run_dir) / METRICS_FILE
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith("\n"):
                log.warning("%s, line %d: skipped a torn last line", path, number)
                break  # written half-way when the process died
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning("%s, line %d: skipped a line that is not JSON", path, number)
    return out


@dataclass(frozen=True)
class RunInfo:
    """One row of ``studio runs`` and of the Runs page (:mod:`.listing` makes them)."""

    path: Path
    name: str
    status: str
    started: str
    dataset: str
    epochs: int
    val_accuracy: float | None
    val_macro_f1: float | None
    settings: dict[str, Any]
    nproc: int = 1  # processes that trained it (a distributed run's world size)
    host: str = ""  # the machine that trained it
    kind: str = "text"  # "recs": a recommendation run (user and item tables)
    val_recall: float | None = None  # recs: the best epoch's recall@k on the held-out part
    k: int = 10  # recs: the k of val_recall
