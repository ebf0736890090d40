"""Changes to run folders that the Runs page makes on the user's behalf (on the GUI thread:
one action on a few folders, whose errors show at once)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from studio.errors import StudioError

__all__ = ["delete_runs"]


def delete_runs(paths: Iterable[str | Path], runs_dir: str | None) -> tuple[set[str], list[str]]:
    """Move each run to the trash (or delete it where there is none): the runs deleted,
    and one message per run that could not be."""
    from studio.engine.runs.manage import delete_run

    deleted: set[str] = set()
    errors: list[str] = []
    for path in paths:
        try:
            delete_run(path, to_trash=True, runs_dir=runs_dir)
        except StudioError as exc:
            errors.append(str(exc))
        else:
            deleted.add(str(path))
    return deleted, errors
