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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from studio.config import StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.report import predict_split
from studio.engine.data.dataset import PreparedDataset
from studio.engine.data.split import stratified_split
from studio.engine.train.control import TrainControl
from studio.engine.train.events import Callback
from studio.engine.train.session import train_run
from studio.errors import StudioError

__all__ = ["LabelIssue", "OutOfFold", "assign_folds", "find_issues", "out_of_fold"]

#: ``on_fold(k, folds)``: fold ``k`` (1-based) is about to train.
FoldStart = Callable[[int, int], None]


@dataclass(frozen=True)
class OutOfFold:
    """Every document's probabilities from the fold model that did not train on it."""

    probs: np.ndarray  # float32 [n_docs, n_labels]
    fold: np.ndarray  # int64 [n_docs]: the fold each document was held out in (0-based)
    prepared: PreparedDataset


@dataclass(frozen=True)
class LabelIssue:
    """One document whose given label the out-of-fold model doubts."""

    doc: int
    line: int  # its line in the source file (as the readers number lines)
    text: str
    given: str  # multi-label: the labels joined with ", "
    suggested: str
    quality: float  # cleanlab's label quality score, 0 (surely wrong) to 1


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
        from cleanlab.multilabel_classification.filter import find_label_issues
        from cleanlab.multilabel_classification.rank import get_label_quality_scores

        given = [list(np.flatnonzero(row)) for row in np.asarray(p.targets)]
        flagged = find_label_issues(
            labels=given, pred_probs=oof.probs, return_indices_ranked_by="self_confidence"
        )
        quality = get_label_quality_scores(given, oof.probs)
        suggested = [", ".join(names[j] for j in np.flatnonzero(r >= 0.5)) for r in oof.probs]
        given_text = [", ".join(names[j] for j in g) for g in given]
    else:
        from cleanlab.filter import find_label_issues
        from cleanlab.rank import get_label_quality_scores

        labels = np.asarray(p.targets, dtype=np.int64)
        flagged = find_label_issues(
            labels=labels, pred_probs=oof.probs, return_indices_ranked_by="self_confidence"
        )
        quality = get_label_quality_scores(labels, oof.probs)
        suggested = [names[j] for j in oof.probs.argmax(axis=1)]
        given_text = [names[j] for j in labels]
    return [
        LabelIssue(int(i), int(p.lines[i]), p.text(int(i)), given_text[i], suggested[i],
                   float(quality[i]))
        for i in flagged
    ]  # fmt: skip
