"""Evaluation details of a trained run: per-class scores, confusion matrix, examples.

Everything here is pure (no global state) and vectorised, so the window can call it on a
worker thread for a 100k-document split. :func:`predict_split` runs the model; the rest
works on a :class:`SplitPredictions` (probabilities + targets) however it was obtained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.engine.train.build import encoded_split
from studio.engine.train.metrics import confusion_matrix, per_class_prf
from studio.errors import DatasetError, StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun
    from studio.engine.data.prepare import PreparedDataset

THRESHOLD = 0.5  # multi-label decision threshold of runs saved without one
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class SplitPredictions:
    """Model probabilities and true labels of some documents."""

    probs: np.ndarray  # [n, n_labels] float32 (binary single-sigmoid models: 2 columns)
    y_true: np.ndarray  # [n] int64, or [n, n_labels] uint8 for multi-label
    doc_ids: np.ndarray  # [n] int64 indices into the PreparedDataset (or row numbers of a file)
    label_names: tuple[str, ...]
    multi_label: bool
    threshold: float = THRESHOLD  # multi-label: the run's decision threshold

    @property
    def n_docs(self) -> int:
        return len(self.probs)

    def predicted(self) -> np.ndarray:
        """``[n]`` int64 argmax (single-label) or ``[n, L]`` bool decisions (multi-label)."""
        if self.multi_label:
            return self.probs >= self.threshold
        return self.probs.argmax(axis=1) if self.n_docs else np.zeros(0, dtype=np.int64)


def predictions_from_arrays(
    probs: np.ndarray,
    y_true: np.ndarray,
    doc_ids: np.ndarray,
    label_names: Sequence[str],
    multi_label: bool,
    threshold: float = THRESHOLD,
) -> SplitPredictions:
    """Check shapes and normalise dtypes. A single probability column with two labels
    (a binary sigmoid output) becomes ``[1 - p, p]``."""
    names = tuple(label_names)
    p = np.asarray(probs, dtype=np.float32)
    if p.ndim == 1:
        p = p[:, None]
    if p.ndim != 2:
        raise ValueError(f"probs must be 2-D, got shape {p.shape}")
    if not multi_label and len(names) == 2 and p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    n = p.shape[0]
    if p.shape[1] != len(names):
        raise ValueError(f"probs has {p.shape[1]} columns for {len(names)} labels")
    if multi_label:
        y = np.asarray(y_true, dtype=np.uint8)
        if y.shape != (n, len(names)):
            raise ValueError(f"multi-label y_true must be {(n, len(names))}, got {y.shape}")
    else:
        y = np.asarray(y_true, dtype=np.int64)
        if y.shape != (n,):
            raise ValueError(f"y_true must be ({n},), got {y.shape}")
        if n and (y.min() < 0 or y.max() >= len(names)):
            raise ValueError("y_true holds a class index outside the label names")
    ids = np.asarray(doc_ids, dtype=np.int64)
    if ids.shape != (n,):
        raise ValueError(f"doc_ids must be ({n},), got {ids.shape}")
    return SplitPredictions(p, y, ids, names, bool(multi_label), float(threshold))


@torch.inference_mode()
def predict_split(
    run: LoadedRun,
    prepared: PreparedDataset,
    split: str = "valid",
    batch_size: int = 32_768,
) -> SplitPredictions:
    """The run's probabilities on one split of ``prepared``.

    ``prepared`` must be the run's dataset prepared with its tokenizer settings: its ids are
    frequency ranks over the full vocabulary, which are capped to the run's vocabulary and
    given the run's bigrams exactly as during training.
    """
    if split not in SPLITS:
        raise StudioError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    _check_matches(run, prepared)
    docs = np.asarray(prepared.split_indices(split), dtype=np.int64)
    model = run.model
    model.eval()
    device = next(model.parameters()).device
    chunks: list[np.ndarray] = []
    for start in range(0, len(docs), batch_size):
        ids, offsets, _ = encoded_split(prepared, run.encoder, docs[start : start + batch_size])
        logits = model(
            torch.from_numpy(ids.astype(np.int64)).to(device),
            torch.from_numpy(offsets[:-1]).to(device),
        )
        chunks.append(model.probabilities(logits).float().cpu().numpy())
    n_labels = len(run.labels)
    probs = np.concatenate(chunks) if chunks else np.zeros((0, n_labels), dtype=np.float32)
    return predictions_from_arrays(
        probs, np.asarray(prepared.targets[docs]), docs, run.labels, run.multi_label, run.threshold
    )


def _check_matches(run: LoadedRun, prepared: PreparedDataset) -> None:
    enc = run.encoder
    same = (
        prepared.label_names == run.labels
        and prepared.multi_label == run.multi_label
        and prepared.tokenizer_kind == enc.kind
        and prepared.lowercase == enc.lowercase
        and len(prepared.tokens) >= enc.vocab_size
        and tuple(prepared.tokens[: enc.vocab_size]) == enc.tokens
    )
    if not same:
        raise DatasetError(
            "this prepared dataset does not match the run's labels or vocabulary; "
            "prepare it with the run's data and tokenizer settings",
            path=prepared.source,
        )


@dataclass(frozen=True)
class ClassScore:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Overall and per-class scores. Macro/weighted F1 leave out classes with no support."""

    accuracy: float  # multi-label: subset accuracy (every label right)
    macro_f1: float
    weighted_f1: float
    per_class: tuple[ClassScore, ...]
    confusion: np.ndarray | None  # [L, L] int64 counts m[true, pred]; None for multi-label
    n_docs: int


def evaluation_report(pred: SplitPredictions) -> EvaluationReport:
    """Scores of ``pred`` (argmax for single-label, the run's threshold per label for
    multi-label)."""
    n, n_labels = pred.n_docs, len(pred.label_names)
    decided = pred.predicted()
    confusion: np.ndarray | None
    if pred.multi_label:
        t, p = pred.y_true.astype(bool), decided
        tp = (t & p).sum(axis=0).astype(np.float64)
        prf = per_class_prf(tp, (~t & p).sum(axis=0), (t & ~p).sum(axis=0))
        accuracy = float((t == p).all(axis=1).mean()) if n else 0.0
        confusion = None
    else:
        confusion = confusion_matrix(pred.y_true, decided, n_labels)
        tp = np.diag(confusion).astype(np.float64)
        prf = per_class_prf(tp, confusion.sum(axis=0) - tp, confusion.sum(axis=1) - tp)
        accuracy = float(tp.sum() / n) if n else 0.0
    support = prf["support"]
    present = support > 0
    macro = float(prf["f1"][present].mean()) if present.any() else 0.0
    weighted = float((prf["f1"] * support).sum() / max(support.sum(), 1))
    per_class = tuple(
        ClassScore(
            name=name,
            precision=float(prf["precision"][i]),
            recall=float(prf["recall"][i]),
            f1=float(prf["f1"][i]),
            support=int(support[i]),
        )
        for i, name in enumerate(pred.label_names)
    )
    return EvaluationReport(accuracy, macro, weighted, per_class, confusion, n)


def normalise_rows(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (recall view); all-zero rows stay zero."""
    m = np.asarray(confusion, dtype=np.float64)
    sums = m.sum(axis=1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)


@dataclass(frozen=True)
class Example:
    doc_id: int
    true: str  # multi-label: the labels joined with ", "
    predicted: str
    confidence: float  # probability of the (wrong) decision


def _top(score: np.ndarray, rows: np.ndarray, limit: int) -> np.ndarray:
    """``rows`` ordered by ``score`` descending (stable), at most ``limit``."""
    if limit <= 0 or len(rows) == 0:
        return rows[:0]
    s = score[rows]
    if len(rows) > limit:
        keep = np.argpartition(-s, limit - 1)[:limit]
        rows, s = rows[keep], s[keep]
        # argpartition does not keep ties in document order: restore it before sorting
        order = np.argsort(rows, kind="stable")
        rows, s = rows[order], s[order]
    return rows[np.argsort(-s, kind="stable")]


def cell_examples(
    pred: SplitPredictions, true_index: int, pred_index: int, limit: int = 500
) -> list[Example]:
    """Documents of class ``true_index`` predicted as ``pred_index``, most confident first."""
    if pred.multi_label:
        raise ValueError("cell_examples needs single-label predictions")
    decided = pred.predicted()
    rows = np.flatnonzero((pred.y_true == true_index) & (decided == pred_index))
    conf = pred.probs[:, pred_index] if pred.n_docs else np.zeros(0, dtype=np.float32)
    names = pred.label_names
    return [
        Example(int(pred.doc_ids[r]), names[true_index], names[pred_index], float(conf[r]))
        for r in _top(conf, rows, limit)
    ]


def confidently_wrong(pred: SplitPredictions, k: int = 50) -> list[Example]:
    """The ``k`` wrong predictions the model was surest of.

    Single-label: argmax differs from the truth, ranked by the predicted class's probability.
    Multi-label: the predicted label set differs from the true one, ranked by the most
    confident wrong decision among the wrong labels (``p`` for a label predicted but absent,
    ``1 - p`` for a label present but missed).
    """
    names = pred.label_names
    decided = pred.predicted()
    if not pred.multi_label:
        wrong_rows = np.flatnonzero(decided != pred.y_true)
        conf = pred.probs.max(axis=1) if pred.n_docs else np.zeros(0, dtype=np.float32)
        return [
            Example(int(pred.doc_ids[r]), names[pred.y_true[r]], names[decided[r]], float(conf[r]))
            for r in _top(conf, wrong_rows, k)
        ]
    truth = pred.y_true.astype(bool)
    wrong = decided != truth
    decision_conf = np.where(decided, pred.probs, 1 - pred.probs)
    conf = np.where(wrong, decision_conf, -np.inf).max(axis=1, initial=-np.inf)
    rows = _top(conf, np.flatnonzero(wrong.any(axis=1)), k)
    return [
        Example(
            int(pred.doc_ids[r]),
            _join(names, truth[r]),
            _join(names, decided[r]),
            float(conf[r]),
        )
        for r in rows
    ]


def _join(names: tuple[str, ...], mask: np.ndarray) -> str:
    return ", ".join(names[i] for i in np.flatnonzero(mask))


def top_confusions(confusion: np.ndarray, k: int = 20) -> list[tuple[int, int, int, float]]:
    """The ``k`` largest off-diagonal cells, most documents first: ``(true, predicted,
    count, share of the true class's documents)``; cells with no documents are left out."""
    m = np.asarray(confusion, dtype=np.int64)
    off = m.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[: max(k, 0)]
    sums = m.sum(axis=1)
    out = []
    for cell in flat:
        t, p = divmod(int(cell), m.shape[1])
        if off[t, p] <= 0:
            break
        out.append((t, p, int(off[t, p]), float(off[t, p] / sums[t])))
    return out
