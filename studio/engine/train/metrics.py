"""Classification metrics from predictions (numpy, no sklearn)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``m[t, p]`` = number of documents of class ``t`` predicted as ``p``."""
    flat = y_true.astype(np.int64) * n_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 per class; 0 where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def single_label_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> dict[str, float]:
    """Accuracy, macro-F1 and weighted-F1 (classes absent from ``y_true`` are left out)."""
    m = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(m).astype(np.float64)
    prf = per_class_prf(tp, m.sum(axis=0) - tp, m.sum(axis=1) - tp)
    present = prf["support"] > 0
    support = prf["support"][present]
    return {
        "accuracy": float(tp.sum() / max(len(y_true), 1)),
        "macro_f1": float(prf["f1"][present].mean()) if present.any() else 0.0,
        "weighted_f1": float((prf["f1"][present] * support).sum() / max(support.sum(), 1)),
    }


def multi_label_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Subset accuracy (all labels right), macro-F1 and weighted-F1 over labels."""
    t, p = y_true.astype(bool), y_pred.astype(bool)
    tp = (t & p).sum(axis=0).astype(np.float64)
    prf = per_class_prf(tp, (~t & p).sum(axis=0), (t & ~p).sum(axis=0))
    present = prf["support"] > 0
    support = prf["support"][present]
    return {
        "accuracy": float((t == p).all(axis=1).mean()) if len(t) else 0.0,
        "macro_f1": float(prf["f1"][present].mean()) if present.any() else 0.0,
        "weighted_f1": float((prf["f1"][present] * support).sum() / max(support.sum(), 1)),
    }
