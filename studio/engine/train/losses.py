"""The training objective: the loss of a model's logits, whole-batch and per-rank.

Class weights (``train.class_weights``) weigh the *training* loss only; validation scores
use :func:`loss_function` without weights, so early stopping and the curves compare
across settings.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.config import ClassWeights
from studio.engine.train.batching import Batch
from studio.engine.train.model import ModelSpec
from studio.errors import ConfigError


def loss_function(spec: ModelSpec, weights: torch.Tensor | None = None) -> nn.Module:
    """The loss module; ``weights`` are per-class (softmax) or per-output ``pos_weight``."""
    if spec.sigmoid:
        return nn.BCEWithLogitsLoss(pos_weight=weights)
    return nn.CrossEntropyLoss(weight=weights)


def training_loss(
    setting: ClassWeights, spec: ModelSpec, label_names: tuple[str, ...], targets: torch.Tensor
) -> nn.Module:
    """The training loss, weighted as ``setting`` says from the training ``targets``."""
    return loss_function(spec, class_weights(setting, spec, label_names, targets))


def class_weights(
    setting: ClassWeights, spec: ModelSpec, label_names: tuple[str, ...], targets: torch.Tensor
) -> torch.Tensor | None:
    """The loss weights of ``setting`` on ``targets``' device; None for ``"none"``.

    Softmax models: one weight per class; ``"balanced"`` is ``n / (k * count_c)`` over the
    ``k`` classes the training split has (scikit-learn's). Sigmoid models: ``pos_weight``,
    one per output; ``"balanced"`` is negatives / positives of each label (1 where a
    label has no positives or no negatives); a binary model's single output gets the
    positive class's weight over the negative's. Raises ConfigError for a named label the
    dataset does not have.
    """
    if setting == "none":
        return None
    counts = _label_counts(spec, targets, len(label_names))
    if isinstance(setting, str):  # "balanced" (the config allows no other)
        weights = _balanced(spec, counts, len(targets))
    else:
        weights = _named(setting, label_names)
    if spec.sigmoid and spec.num_outputs == 1:  # binary: positive (label 1) over negative
        weights = weights[1:] / weights[:1]
    return weights.to(device=targets.device, dtype=torch.float32)


def _label_counts(spec: ModelSpec, targets: torch.Tensor, n_labels: int) -> torch.Tensor:
    """Training documents of each label (float64, on the CPU)."""
    t = targets.detach().cpu()
    if spec.sigmoid and spec.num_outputs > 1:
        return t.to(torch.float64).sum(dim=0)
    return torch.bincount(t.to(torch.int64), minlength=n_labels).to(torch.float64)


def _balanced(spec: ModelSpec, counts: torch.Tensor, n: int) -> torch.Tensor:
    if spec.sigmoid and spec.num_outputs > 1:  # multi-label: pos_weight = negatives / positives
        negatives = n - counts
        usable = (counts > 0) & (negatives > 0)
        return torch.where(usable, negatives / counts.clamp(min=1), torch.ones_like(counts))
    present = counts > 0
    k = int(present.sum())
    return torch.where(present, n / (k * counts.clamp(min=1)), torch.ones_like(counts))


def _named(pairs: tuple[tuple[str, float], ...], label_names: tuple[str, ...]) -> torch.Tensor:
    index = {name: i for i, name in enumerate(label_names)}
    weights = torch.ones(len(label_names), dtype=torch.float64)
    for label, weight in pairs:
        if label not in index:
            shown = ", ".join(repr(n) for n in label_names[:10])
            more = f" and {len(label_names) - 10:,} more" if len(label_names) > 10 else ""
            raise ConfigError(
                "train.class_weights",
                f"label {label!r} is not in the dataset; its labels are {shown}{more}",
            )
        weights[index[label]] = float(weight)
    return weights


def batch_loss(
    spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """The mean loss of ``logits`` against targets ``y`` (class ids, or 0/1 label rows)."""
    if not spec.sigmoid:
        return fn(logits, y)
    if spec.num_outputs == 1:
        return fn(logits.squeeze(-1), y.float())
    return fn(logits, y.float())


def part_loss(
    spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, batch: Batch, world: int
) -> torch.Tensor:
    """This rank's share of the global batch's mean loss, times the world size.

    DDP averages the ranks' gradients, so weighting each part's mean by its share of the
    batch gives exactly the gradient of the whole batch's mean loss, even for uneven parts.
    A class-weighted cross-entropy is a mean weighted by the targets' class weights, so
    its share is the part's sum of those weights over the whole batch's.
    """
    n = len(batch.part_targets)
    if n == 0:  # a last batch smaller than the world: this rank still joins the all-reduce
        return logits.sum() * 0.0
    share: torch.Tensor | float = n / batch.n_docs
    if isinstance(fn, nn.CrossEntropyLoss) and fn.weight is not None:
        share = fn.weight[batch.part_targets].sum() / fn.weight[batch.targets].sum()
    return batch_loss(spec, fn, logits, batch.part_targets) * (share * world)
