"""The TF-IDF + LinearSVC baselines on the bench's split: the engine's baseline, timed.

Fitting goes through :func:`~studio.engine.analysis.baseline.fit_baseline` (never its cache),
so the row is the same model ``studio eval --baseline`` and the Evaluation page show; its
train seconds cover reading the texts, building the features and fitting.
"""

from __future__ import annotations

import numpy as np

from studio.bench.result import BenchResult, split_scores
from studio.engine.analysis.baseline import BaselineOptions, fit_baseline
from studio.engine.data.prepare import PreparedDataset


def run_tfidf(p: PreparedDataset, name: str, options: BaselineOptions) -> BenchResult:
    """Fit the baseline on the training split; score it on validation and test."""
    fitted = fit_baseline(p, options)

    def decided(split: str) -> np.ndarray:
        return fitted.predict([p.text(int(i)) for i in p.split_indices(split)])

    val = split_scores(p, "valid", decided("valid"))
    test = split_scores(p, "test", decided("test"))
    seconds = fitted.train_seconds
    docs = len(p.train_idx)
    tokens = int(np.diff(p.offsets)[p.train_idx].sum())
    features = len(fitted.vectorizer.vocabulary_)
    return BenchResult(
        name, seconds, docs / seconds, tokens / seconds, *val, *test, [(seconds, val[0])],
        detail=f"{features:,} features",
    )  # fmt: skip
