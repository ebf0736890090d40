"""Training: the model and the loop, and everything it needs while it runs.

``fit`` and its :class:`~.loop.FitLoop` (:mod:`.loop`) run on pieces built by :mod:`.build`
(model, encoder, splits), :mod:`.recipe` (the per-dataset defaults: n-grams, batch size),
:mod:`.losses`, :mod:`.optim` (optimisers, schedule, clipping; Adam(W) in :mod:`.adam`),
:mod:`.step` (a step's forward), :mod:`.hogwild` (several CPU threads on one table),
:mod:`.validation` and :mod:`.progress` (meters, reported steps). Around them: events and
context for callbacks (:mod:`.events`, :mod:`.context`), control and the stop and pause
files, live predictions, batching and memory-mapped data (:mod:`.batching`, :mod:`.mapped`),
the fused table optimiser (:mod:`.table_optim`), the batch-size finder and out-of-memory
rule (:mod:`.oom`), the memory estimate (:mod:`.memory`), resume state, the distributed
group and launcher, and the run session (``train_run``: prepare, then fit into a new run
folder with :mod:`.recorder`). Recommendation reuses the tables and their optimiser:
:mod:`.recs` (``fit_recs``), :mod:`.rec_losses`, :mod:`.rec_sync` (several processes),
:mod:`.table_files` (tables in memory or in mapped files), :mod:`.ranking` and the ALS
baseline (:mod:`.als`). Imports from ``engine.data`` and ``engine.runs``; never from
analysis or export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "TrainControl": "control",
    "Callback": "events",
    "EpochEnd": "events",
    "FitResult": "events",
    "FitStart": "events",
    "StepEnd": "events",
    "fit": "loop",
    "resume_run": "session",
    "train_run": "session",
}
__all__ = [
    "Callback",
    "EpochEnd",
    "FitResult",
    "FitStart",
    "StepEnd",
    "TrainControl",
    "fit",
    "resume_run",
    "train_run",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl
    from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd
    from studio.engine.train.loop import fit
    from studio.engine.train.session import resume_run, train_run
