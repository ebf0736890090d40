"""Likely label issues in a whole dataset: out-of-fold probabilities for every document, ranked
by confident learning (the ``cleanlab`` library: ``find_label_issues`` and
``get_label_quality_scores``, single- and multi-label).

Each fold's model is trained with the user's setup on the other folds (its validation part,
for early stopping and the threshold, is carved from those folds too) and predicts only the
documents of its fold, so no document's probabilities come from a model that saw it. The
fold models live in a temporary folder and are removed afterwards.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from studio.config import StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.label_review import LabelIssue
from studio.engine.analysis.report import predict_split
from studio.engine.data.dataset import PreparedDataset
from studio.engine.data.split import stratified_split
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback
from studio.engine.train.session import train_run
from studio.errors import StudioError

__all__ = [
    "LabelIssue",
    "OutOfFold",
    "assign_folds",
    "find_issues",
    "main_file_config",
    "out_of_fold",
]

#: ``on_fold(k, folds)``: fold ``k`` (1-based) is about to train.
FoldStart = Callable[[int, int], None]


@dataclass(frozen=True)
class OutOfFold:
    """Every document's probabilities from the fold model that did not train on it."""

    probs: np.ndarray  # float32 [n_docs, n_labels]
    fold: np.ndarray  # int64 [n_docs]: the fold each document was held out in (0-based)
    prepared: PreparedDataset


def main_file_config(config: StudioConfig) -> StudioConfig:
    """``config`` reading only ``data.path``: label issues point at lines of one file, so a
    separate validation or test file is left out (the folds make their own splits)."""
    data = config.data
    if data.valid_path is None and data.test_path is None:
        return config
    share = data.valid_fraction or 0.1
    return config.with_overrides(
        data={"valid_path": None, "test_path": None, "valid_fraction": share}
    )


def _strata(prepared: PreparedDataset) -> np.ndarray:
    t = np.asarray(prepared.targets)
    return t.argmax(axis=1) if prepared.multi_label else t


def assign_folds(prepared: PreparedDataset, folds: int, seed: int) -> np.ndarray:
    """Fold 0 .. folds-1 of each document, stratified by (first) label and seeded."""
    if not 2 <= folds <= prepared.n_docs:
        raise StudioError(f"--folds must be 2 to {prepared.n_docs}, got {folds}")
    strata = _strata(prepared)
    rng = np.random.default_rng(seed)
    fold = np.empty(prepared.n_docs, dtype=np.int64)
    start = 0  # dealing round-robin class by class keeps every fold's share of each class
    for cls in np.unique(strata):
        idx = np.flatnonzero(strata == cls)
        rng.shuffle(idx)
        fold[idx] = (start + np.arange(len(idx))) % folds
        start += len(idx)
    return fold


def _fold_dataset(
    prepared: PreparedDataset, held_out: np.ndarray, valid_fraction: float, seed: int
) -> PreparedDataset:
    """``prepared`` with the held-out documents as its test split; train and validation
    from the rest, and the vocabulary's counts taken on that training part only."""
    rest = np.flatnonzero(~held_out)
    tr, va, _ = stratified_split(_strata(prepared)[rest], valid_fraction, 0.0, seed)
    train_idx, valid_idx = rest[tr], rest[va]
    spans = [prepared.ids[prepared.offsets[i] : prepared.offsets[i + 1]] for i in train_idx]
    ids = np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)
    counts = np.bincount(ids, minlength=len(prepared.train_counts)).astype(np.int64)
    return replace(
        prepared,
        train_idx=train_idx,
        valid_idx=valid_idx,
        test_idx=np.flatnonzero(held_out),
        train_counts=counts[: len(prepared.train_counts)],
    )


def out_of_fold(
    config: StudioConfig,
    prepared: PreparedDataset,
    folds: int = 5,
    *,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    on_fold: FoldStart | None = None,
) -> OutOfFold:
    """Train one model per fold and predict each document with the model that did not see
    it. ``callbacks`` follow every fold's training (curves); ``control`` stops it."""
    fold = assign_folds(prepared, folds, config.data.split_seed)
    probs = np.zeros((prepared.n_docs, len(prepared.label_names)), dtype=np.float32)
    config = config.with_overrides(train={"tensorboard": False})
    with tempfile.TemporaryDirectory(prefix="studio-folds-") as tmp:
        for k in range(folds):
            if on_fold is not None:
                on_fold(k + 1, folds)
            part = _fold_dataset(prepared, fold == k, config.data.valid_fraction, k)
            result = train_run(
                config, callbacks, control, prepared=part, run_dir=Path(tmp) / f"fold-{k + 1}"
            )
            if result.status == "stopped":
                raise StudioError(f"stopped in fold {k + 1} of {folds}")
            predictions = predict_split(load_run(str(result.run_dir)), part, "test")
            probs[part.test_idx] = predictions.probs
    return OutOfFold(probs, fold, prepared)


def find_issues(oof: OutOfFold) -> list[LabelIssue]:
    """The documents cleanlab flags, most likely wrong first, with a suggested label (the
    out-of-fold model's choice) and cleanlab's label quality score."""
    p = oof.prepared
    names = p.label_names
    if p.multi_label:
        given: Any = [list(np.flatnonzero(row)) for row in np.asarray(p.targets)]
        suggested = [_chosen(row, names) for row in oof.probs]
        given_labels = [tuple(names[j] for j in g) for g in given]
    else:
        given = np.asarray(p.targets, dtype=np.int64)
        suggested = [(names[j],) for j in oof.probs.argmax(axis=1)]
        given_labels = [(names[j],) for j in given]
    flagged, quality = _confident_learning(given, oof.probs, p.multi_label)
    return [
        LabelIssue(int(i), int(p.lines[i]), p.text(int(i)), given_labels[i], suggested[i],
                   float(quality[i]))
        for i in flagged
    ]  # fmt: skip


def _confident_learning(
    given: Any, probs: np.ndarray, multi_label: bool
) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's flagged documents (most likely wrong first) and quality scores. One
    process (``n_jobs=1``: no pool forked from a process with threads, such as the window);
    its warning that a tiny class may hide issues is dropped (the ranking stands)."""
    if multi_label:
        from cleanlab.multilabel_classification.filter import find_label_issues
        from cleanlab.multilabel_classification.rank import get_label_quality_scores
    else:
        from cleanlab.filter import find_label_issues  # type: ignore[assignment]
        from cleanlab.rank import get_label_quality_scores  # type: ignore[assignment]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="May not flag all label issues")
        flagged = find_label_issues(
            labels=given, pred_probs=probs, return_indices_ranked_by="self_confidence",
            n_jobs=1,
        )  # fmt: skip
    return np.asarray(flagged), np.asarray(get_label_quality_scores(given, probs))


def _chosen(probs: np.ndarray, names: Sequence[str]) -> tuple[str, ...]:
    """A multi-label suggestion: every label at 0.5 or more, else the likeliest one (a
    document keeps at least one label)."""
    picked = np.flatnonzero(probs >= 0.5)
    if len(picked) == 0:
        picked = np.array([int(probs.argmax())])
    return tuple(names[int(j)] for j in picked)
