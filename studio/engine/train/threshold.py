"""The decision threshold of a multi-label model, chosen on the validation split.

A sigmoid per label decides "has this label" at a probability threshold. 0.5 is rarely the
best one: with hundreds of labels, each rare, the model's probabilities stay low and 0.5
misses most true labels. At the end of a fit the threshold that gives the best micro-F1 on
the validation split (a grid of 0.05 steps; ties go to the one nearest 0.5) is saved in the
run's ``labels.json``, and evaluation, the baseline comparison and prediction use it. The
per-epoch validation scores (the curves, early stopping) keep 0.5, so epochs compare.
"""

from __future__ import annotations

import numpy as np
import torch

from studio.engine.train.build import encoded_split
from studio.engine.train.context import FitContext

DEFAULT = 0.5
GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))


def micro_f1(y: np.ndarray, decided: np.ndarray) -> float:
    """Micro-averaged F1 of 0/1 label rows."""
    t = y.astype(bool)
    tp = float((t & decided).sum())
    wrong = float((t ^ decided).sum())
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def choose_threshold(y: np.ndarray, probs: np.ndarray) -> float:
    """The grid threshold with the best micro-F1 of ``probs`` against labels ``y``."""
    if len(y) == 0:
        return DEFAULT
    scored = [(micro_f1(y, probs >= t), -abs(t - DEFAULT), t) for t in GRID]
    return max(scored)[2]


@torch.inference_mode()
def validation_threshold(ctx: FitContext, batch_size: int = 8192) -> float | None:
    """The threshold for ``ctx``'s model on its validation split; None for single-label."""
    p, docs = ctx.prepared, ctx.valid_docs
    if not ctx.multi_label or p is None or docs is None:
        return None
    model = ctx.model
    was_training = model.training
    model.eval()
    chunks = []
    for start in range(0, len(docs), batch_size):
        ids, offsets, _ = encoded_split(p, ctx.encoder, docs[start : start + batch_size])
        logits = model(
            torch.from_numpy(ids.astype(np.int64)).to(ctx.device),
            torch.from_numpy(offsets[:-1]).to(ctx.device),
        )
        chunks.append(model.probabilities(logits).float().cpu().numpy())
    model.train(was_training)
    probs = np.concatenate(chunks) if chunks else np.zeros((0, len(ctx.label_names)))
    return choose_threshold(np.asarray(p.targets[docs]), probs)
