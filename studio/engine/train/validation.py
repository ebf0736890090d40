"""Scoring a model on a split: logits, loss, metrics and probabilities (also across ranks)."""

from __future__ import annotations

import numpy as np
import torch

from studio.engine.train.batching import DeviceData, shard_counts
from studio.engine.train.distributed import ProcessGroup
from studio.engine.train.losses import batch_loss, loss_function
from studio.engine.train.mapped import MappedData
from studio.engine.train.metrics import multi_label_metrics, single_label_metrics
from studio.engine.train.model import TextClassifier


@torch.no_grad()
def predict_logits(
    model: TextClassifier, data: DeviceData | MappedData, batch_size: int = 4096
) -> torch.Tensor:
    """Logits of every document of ``data``, in order."""
    model.eval()
    out = [model(b.ids, b.offsets) for b in data.batches(batch_size)]
    model.train()
    if not out:
        return torch.zeros((0, model.spec.num_outputs), device=data.device)
    return torch.cat(out).float()


def evaluate_split(
    model: TextClassifier,
    data: DeviceData | MappedData,
    multi_label: bool,
    group: ProcessGroup | None = None,
    targets: torch.Tensor | None = None,
) -> tuple[float, dict[str, float], np.ndarray]:
    """Loss, metrics and probabilities on a prepared split.

    In a distributed run ``data`` is this rank's part of the split: the logits of every
    part are gathered, so each rank computes the same metrics over the whole split
    (``targets``), and early-stopping decisions agree.
    """
    logits = predict_logits(model, data)
    if group is not None and targets is not None:
        logits = group.gather_rows(logits, shard_counts(len(targets), group.world_size))
        return score_logits(model, logits, targets, multi_label)
    return score_logits(model, logits, data.targets, multi_label)


def score_logits(
    model: TextClassifier, logits: torch.Tensor, targets: torch.Tensor, multi_label: bool
) -> tuple[float, dict[str, float], np.ndarray]:
    """Loss, metrics and probabilities of ``logits`` against ``targets``."""
    spec = model.spec
    if len(targets) == 0:
        return (
            float("nan"),
            {"accuracy": 0.0, "macro_f1": 0.0, "weighted_f1": 0.0},
            np.zeros((0, 0)),
        )
    loss = float(batch_loss(spec, loss_function(spec), logits, targets))
    probs = model.probabilities(logits).cpu().numpy()
    y = targets.cpu().numpy()
    if multi_label:
        metrics = multi_label_metrics(y, probs >= 0.5)
    else:
        metrics = single_label_metrics(y, probs.argmax(axis=1), probs.shape[1])
    return loss, metrics, probs
