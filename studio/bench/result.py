"""One benchmark row: speed, accuracy, and the accuracy reached over training time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BenchResult:
    name: str
    train_seconds: float
    docs_per_second: float
    tokens_per_second: float
    val_accuracy: float
    val_macro_f1: float
    history: list[tuple[float, float]] = field(default_factory=list)  # (train seconds, val acc)

    def seconds_to_reach(self, accuracy: float) -> float | None:
        """Training seconds until validation accuracy first reached ``accuracy``."""
        for seconds, acc in self.history:
            if acc >= accuracy:
                return seconds
        return None
