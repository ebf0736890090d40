"""A fused, row-wise Adagrad update for the embedding table (no sparse tensors).

With mean or sum pooling, the gradient of a token row is the gradient of its document's
pooled vector (divided by the document's length for mean). So instead of letting autograd
build a sparse ``[n_ids, dim]`` gradient that an optimiser must sort and coalesce (most of
a step's time, measured with torch.profiler), the trainer takes the gradient of the pooled
vectors and updates each row with one ``index_add_``. Row-wise Adagrad keeps one
accumulator per row (as TorchRec's row-wise Adagrad does), so each row's step size adapts
to how often and how strongly it is updated; rare tokens keep large steps.

``<pad>`` (id 0) never gets an update. With row weights (idf, see
:func:`~studio.engine.train.weighting.idf_weights`) a document's vector is the weighted mean
(or sum) of its rows, and each row's gradient is scaled by its weight in its document.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from studio.engine.data.tokenize import PAD_ID


class RowwiseAdagrad:
    """Owns the table's update; the table itself has ``requires_grad=False``."""

    def __init__(
        self,
        weight: torch.Tensor,
        lr: float,
        pooling: str,
        eps: float = 1e-8,
        row_weight: torch.Tensor | None = None,
    ) -> None:
        if pooling not in ("mean", "sum"):
            raise ValueError("row-wise Adagrad needs mean or sum pooling")
        self.weight = weight
        self.row_weight = row_weight
        self.lr = lr
        self.pooling = pooling
        self.eps = eps
        self.state = torch.zeros(weight.shape[0], device=weight.device, dtype=torch.float32)

    def pooled(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """The document vectors, as a leaf whose ``.grad`` the step reads."""
        with torch.no_grad():
            out = pool(self.weight, ids, offsets, self.pooling, self.row_weight)
        return out.requires_grad_()

    @torch.no_grad()
    def apply(self, ids: torch.Tensor, offsets: torch.Tensor, grad: torch.Tensor) -> None:
        """Update the rows of a batch given the gradient of each document's pooled vector.

        In a distributed run every rank applies the whole global batch (its ids are on
        every rank; the gradients are gathered), so the replicas of the table stay equal.
        """
        n = ids.numel()
        counts = torch.diff(offsets, append=offsets.new_tensor([n]))
        bag = torch.repeat_interleave(
            torch.arange(len(offsets), device=ids.device), counts, output_size=n
        )
        scale = (ids != PAD_ID).float()  # a row's share of its document's gradient
        if self.row_weight is not None:
            scale = scale * self.row_weight[ids]
        if self.pooling == "mean":  # each row's gradient is its document's, over its weight
            total = torch.zeros(len(offsets), device=ids.device).index_add_(0, bag, scale)
            scale = scale / total.clamp_min(1e-6)[bag]
        # every token of a document shares one gradient row: square it once per document
        self.state.index_add_(0, ids, grad.pow(2).mean(dim=1)[bag] * scale.square())
        step = scale * (-self.lr) / (self.state[ids].sqrt() + self.eps)
        self.weight.index_add_(0, ids, grad[bag] * step.unsqueeze(1))


def pool(
    weight: torch.Tensor,
    ids: torch.Tensor,
    offsets: torch.Tensor,
    mode: str,
    row_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Documents' pooled vectors: ``mode`` over their rows, weighted by ``row_weight``.

    Weighted ``mean`` is ``sum(w_i * e_i) / sum(w_i)``; ``<pad>`` counts for nothing.
    """
    if row_weight is None or mode == "max":
        return F.embedding_bag(ids, weight, offsets, mode=mode, padding_idx=PAD_ID)
    w = row_weight[ids] * (ids != PAD_ID).to(row_weight.dtype)
    out = F.embedding_bag(ids, weight, offsets, mode="sum", per_sample_weights=w.to(weight.dtype))
    if mode == "sum":
        return out
    bag = torch.repeat_interleave(
        torch.arange(len(offsets), device=ids.device),
        torch.diff(offsets, append=offsets.new_tensor([ids.numel()])),
        output_size=ids.numel(),
    )
    total = torch.zeros(len(offsets), device=ids.device, dtype=w.dtype).index_add_(0, bag, w)
    return out / total.clamp_min(1e-6).unsqueeze(1).to(out.dtype)
