"""Tuning: an Optuna study over the training config, stored so it survives a crash.

``create_study(base, settings)`` makes a study folder (:mod:`.study`: the SQLite study, the
settings, ``base.toml``, ``best.toml``); ``run_study(folder, budget, callbacks, control)``
(:mod:`.runner`) runs trials until the budget (:mod:`.budget`: trials and/or time) ends,
each the base config with parameters drawn from the one search-space table
(:mod:`.space`), trained by ``fit`` and scored on validation (:mod:`.trial`), and tells
:class:`~.events.TuneCallback` listeners (:mod:`.events`) of every trial. Imports
``engine.train``, ``engine.data`` and ``engine.runs``, and Optuna; :mod:`.space`,
:mod:`.budget` and :mod:`.events` load neither torch, numpy nor Optuna.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "OBJECTIVES": "budget",
    "Budget": "budget",
    "parse_duration": "budget",
    "StudyResult": "events",
    "StudyStart": "events",
    "TrialRecord": "events",
    "TuneCallback": "events",
    "run_study": "runner",
    "SPACE": "space",
    "Param": "space",
    "apply_params": "space",
    "TuneSettings": "study",
    "create_study": "study",
    "default_studies_dir": "study",
    "load_trials": "study",
    "resolve_study": "study",
}
__all__ = [
    "OBJECTIVES",
    "SPACE",
    "Budget",
    "Param",
    "StudyResult",
    "StudyStart",
    "TrialRecord",
    "TuneCallback",
    "TuneSettings",
    "apply_params",
    "create_study",
    "default_studies_dir",
    "load_trials",
    "parse_duration",
    "resolve_study",
    "run_study",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.tune.budget import OBJECTIVES, Budget, parse_duration
    from studio.engine.tune.events import StudyResult, StudyStart, TrialRecord, TuneCallback
    from studio.engine.tune.runner import run_study
    from studio.engine.tune.space import SPACE, Param, apply_params
    from studio.engine.tune.study import (
        TuneSettings,
        create_study,
        default_studies_dir,
        load_trials,
        resolve_study,
    )
