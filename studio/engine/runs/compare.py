"""Comparing runs: their curves as arrays, and their settings side by side.

The settings of a run are ``run.json``'s ``settings``, shown in the order of
:data:`~studio.engine.runs.layout.RUN_SETTINGS`; ``dataset`` comes first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from studio.engine.runs.layout import RUN_SETTINGS, RunInfo

__all__ = [
    "EPOCH_COLUMNS",
    "MISSING",
    "STEP_COLUMNS",
    "curves",
    "differing_settings",
    "settings_table",
]

MISSING: Final = "–"  # shown for a setting a run does not have
STEP_COLUMNS: Final = ("step", "loss")
EPOCH_COLUMNS: Final = ("epoch", "step", "val_loss", "val_accuracy", "val_macro_f1", "val_recall")
#: Settings in the order ``run.json`` writes them; other keys follow, sorted.
_SETTING_ORDER: Final[tuple[str, ...]] = tuple(RUN_SETTINGS)


def _column(records: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    values = np.empty(len(records), dtype=np.float64)
    for i, record in enumerate(records):
        value = record.get(key)
        try:
            values[i] = float(value) if value is not None else np.nan
        except (TypeError, ValueError):
            values[i] = np.nan
    return values


def curves(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """The plottable series of metrics records, as float64 arrays (NaN where missing).

    ``{"steps": {"step", "loss"}, "epochs": {"epoch", "step", "val_loss", "val_accuracy",
    "val_macro_f1", "val_recall"}}``: one entry per ``step`` / ``epoch`` record, in file
    order (``val_recall``: recommendation runs' recall@k).
    """
    steps = [r for r in records if r.get("type") == "step"]
    epochs = [r for r in records if r.get("type") == "epoch"]
    return {
        "steps": {key: _column(steps, key) for key in STEP_COLUMNS},
        "epochs": {key: _column(epochs, key) for key in EPOCH_COLUMNS},
    }


def _display(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest exact form: 0.001, 3e-05
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _same(a: object, b: object) -> bool:
    """Equal values of one kind; 16 and 16.0 are the same number, True and 1 are not."""
    numbers = (int, float)
    plain = not isinstance(a, bool) and not isinstance(b, bool)
    if plain and isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    return type(a) is type(b) and a == b


def settings_table(
    runs: Sequence[RunInfo], only_differing: bool = True
) -> list[tuple[str, list[str]]]:
    """Rows ``(key, [value per run])`` of the runs' settings, ``dataset`` first.

    With ``only_differing`` only the keys whose values are not all equal are kept. Datasets
    show as file names, or as full paths where two different paths share a file name.
    """
    _absent = object()
    keys: list[str] = []
    for run in runs:
        keys.extend(k for k in run.settings if k not in keys)
    ordered = [k for k in _SETTING_ORDER if k in keys]
    ordered += sorted(k for k in keys if k not in _SETTING_ORDER)
    rows: list[tuple[str, list[str]]] = []

    datasets = [run.dataset for run in runs]
    if not only_differing or len(set(datasets)) > 1:
        names = {Path(d).name for d in datasets if d}
        by_name = len(names) == len({d for d in datasets if d})
        rows.append(
            (
                "dataset",
                [(Path(d).name if by_name else d) if d else MISSING for d in datasets],
            )
        )
    for key in ordered:
        values = [run.settings.get(key, _absent) for run in runs]
        first = values[0]
        if only_differing and all(_same(first, v) for v in values[1:]):
            continue
        rows.append((key, [MISSING if v is _absent else _display(v) for v in values]))
    return rows


def differing_settings(runs: Sequence[RunInfo]) -> list[tuple[str, list[str]]]:
    """The settings (and ``dataset``) whose values differ across ``runs``, as display text.

    ``[(key, [value of run 0, value of run 1, ...]), ...]``; a key a run lacks shows as
    ``"–"``. Fewer than two runs have no differences.
    """
    if len(runs) < 2:
        return []
    return settings_table(runs, only_differing=True)
