"""Run folders: where a run lives and what can be done with it afterwards.

Owns the runs directory's layout (``run.json``, ``metrics.jsonl``, checkpoints, the
``STOP`` file), model weight files, listing, live status, rename and delete, tailing
``metrics.jsonl`` and comparing runs. Knows nothing of training itself: imports nothing
from the other engine groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "RunInfo": "layout",
    "default_cache_dir": "layout",
    "default_runs_dir": "layout",
    "list_runs": "layout",
}
__all__ = [
    "RunInfo",
    "default_cache_dir",
    "default_runs_dir",
    "list_runs",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.runs.layout import RunInfo, default_cache_dir, default_runs_dir, list_runs
