"""Analysis: what a trained run does and how well.

Owns loading a trained run, inference, evaluation reports, per-token explanations, the
embedding explorer's neighbours and projections (:mod:`.projection`), and label issues
found by cross-validation (:mod:`.label_issues`). Builds on ``engine.train`` (the model,
and the fold models' training) and ``engine.data``; never on export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "LoadedRun": "inference",
    "evaluate_run": "inference",
    "load_run": "inference",
}
__all__ = [
    "LoadedRun",
    "evaluate_run",
    "load_run",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun, evaluate_run, load_run
