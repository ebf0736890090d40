"""Run folders: where a run lives and what can be done with it afterwards.

Owns the runs directory's layout (``run.json`` and its settings keys, ``metrics.jsonl``,
checkpoints, the ``STOP`` and ``PAUSE`` files; :mod:`.layout`), the live validation
predictions a child run writes for the window (:mod:`.live`), the one listing of runs for
the CLI and the window (:mod:`.listing`), model weight files (:mod:`.checkpoint`), writes
kept inside the runs folder (:mod:`.paths`), live status and process liveness
(:mod:`.status`), rename and delete (:mod:`.manage`), watching runs as they are written
(:mod:`.tail`) and comparing runs (:mod:`.compare`). Knows nothing of training itself:
imports nothing from the other engine groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "RUN_SETTINGS": "layout",
    "RunInfo": "layout",
    "default_cache_dir": "layout",
    "default_runs_dir": "layout",
    "list_runs": "listing",
    "resume_hint": "listing",
    "MetricsTail": "tail",
    "runs_signature": "tail",
    "pid_alive": "status",
    "run_status": "status",
    "delete_run": "manage",
    "rename_run": "manage",
    "curves": "compare",
    "differing_settings": "compare",
    "settings_table": "compare",
}
__all__ = [
    "RUN_SETTINGS",
    "MetricsTail",
    "RunInfo",
    "curves",
    "default_cache_dir",
    "default_runs_dir",
    "delete_run",
    "differing_settings",
    "list_runs",
    "pid_alive",
    "rename_run",
    "resume_hint",
    "run_status",
    "runs_signature",
    "settings_table",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.runs.compare import curves, differing_settings, settings_table
    from studio.engine.runs.layout import (
        RUN_SETTINGS,
        RunInfo,
        default_cache_dir,
        default_runs_dir,
    )
    from studio.engine.runs.listing import list_runs, resume_hint
    from studio.engine.runs.manage import delete_run, rename_run
    from studio.engine.runs.status import pid_alive, run_status
    from studio.engine.runs.tail import MetricsTail, runs_signature
