"""How long a study runs (trials, time or both) and what it optimises. Pure Python.

A :class:`Budget` ends a tuning session when the study holds ``trials`` finished trials
(counted over every session of the study) or when ``seconds`` of this session have passed,
whichever comes first. :data:`OBJECTIVES` maps each objective to its direction and to the
fields of the trainer's events that score it (validation only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from studio.errors import StudioError

__all__ = [
    "OBJECTIVES",
    "Budget",
    "Direction",
    "Objective",
    "format_duration",
    "parse_duration",
]

Objective = Literal["accuracy", "macro_f1", "val_loss"]
Direction = Literal["maximize", "minimize"]

#: objective -> (Optuna direction, the field of EpochEnd / FitResult that scores it)
OBJECTIVES: dict[str, tuple[Direction, str]] = {
    "accuracy": ("maximize", "val_accuracy"),
    "macro_f1": ("maximize", "val_macro_f1"),
    "val_loss": ("minimize", "val_loss"),
}

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smh])")


@dataclass(frozen=True)
class Budget:
    """``trials``: finished trials the study should hold; ``seconds``: this session's time."""

    trials: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.trials is not None and (isinstance(self.trials, bool) or self.trials < 1):
            raise StudioError(f"budget: trials must be at least 1, got {self.trials}")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise StudioError(f"budget: the time must be above 0 seconds, got {self.seconds}")

    def to_json(self) -> dict[str, Any]:
        return {"trials": self.trials, "seconds": self.seconds}

    @classmethod
    def from_json(cls, raw: Any) -> Budget:
        if not isinstance(raw, dict):
            return cls()
        return cls(trials=raw.get("trials"), seconds=raw.get("seconds"))

    def describe(self) -> str:
        parts = []
        if self.trials is not None:
            parts.append(f"{self.trials} trial{'s' if self.trials != 1 else ''}")
        if self.seconds is not None:
            parts.append(format_duration(self.seconds))
        return " or ".join(parts) if parts else "no limit"


def parse_duration(text: str) -> float:
    """Seconds of ``90``, ``90s``, ``10m``, ``1h`` or ``1h30m``; StudioError otherwise."""
    s = text.strip().lower()
    try:
        seconds = float(s)
    except ValueError:
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(s):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise StudioError(
                f"--budget: expected a duration like 90s, 10m or 1h; got {text!r}"
            ) from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise StudioError(f"--budget: must be above 0 seconds, got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """``90 s``, ``10 min``, ``1 h 30 min``."""
    if seconds < 120:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
