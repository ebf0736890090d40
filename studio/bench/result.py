"""One benchmark row: speed, scores on validation and test, and accuracy over training time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.engine.data.prepare import PreparedDataset
from studio.engine.train.metrics import multi_label_metrics, single_label_metrics


@dataclass(frozen=True)
class BenchResult:
    """A contender's figures. Validation picked epochs or hyperparameters; test is untouched."""

    name: str
    train_seconds: float
    docs_per_second: float
    tokens_per_second: float
    val_accuracy: float
    val_macro_f1: float
    test_accuracy: float
    test_macro_f1: float
    history: list[tuple[float, float]] = field(default_factory=list)  # (train seconds, val acc)
    wall_seconds: float = 0.0  # the contender's whole call; set by the runner
    detail: str = ""  # one line worth showing, e.g. the parameters autotune chose

    def seconds_to_reach(self, accuracy: float) -> float | None:
        """Training seconds until validation accuracy first reached ``accuracy``."""
        for seconds, acc in self.history:
            if acc >= accuracy:
                return seconds
        return None


def split_scores(p: PreparedDataset, split: str, decided: np.ndarray) -> tuple[float, float]:
    """(accuracy, macro-F1) of class indices (or 0/1 label decisions) on ``p``'s ``split``.

    Every contender is scored by this one function, with the engine's definitions
    (multi-label accuracy is subset accuracy; macro-F1 averages the classes present).
    """
    y = np.asarray(p.targets[p.split_indices(split)])
    if p.multi_label:
        m = multi_label_metrics(y, np.asarray(decided))
    else:
        m = single_label_metrics(y, np.asarray(decided), len(p.label_names))
    return m["accuracy"], m["macro_f1"]
