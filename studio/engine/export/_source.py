"""The run an export reads: a run folder, or a run already loaded with ``load_run``."""

from __future__ import annotations

from pathlib import Path

from studio.engine.analysis.inference import LoadedRun, load_run

__all__ = ["RunLike", "loaded_run", "run_folder"]

RunLike = str | Path | LoadedRun


def loaded_run(run: RunLike) -> LoadedRun:
    """``run`` itself when loaded, else the run folder opened with ``load_run``."""
    return run if isinstance(run, LoadedRun) else load_run(run)


def run_folder(run: RunLike) -> Path:
    """The folder of ``run``, without loading its model."""
    return run.path if isinstance(run, LoadedRun) else Path(run)
