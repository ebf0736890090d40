"""The fused table update and pooling: the fast CPU paths equal the general ones."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from studio.engine.data.tokenize import PAD_ID
from studio.engine.train.table_optim import RowwiseAdagrad, pool


def _batch(seed: int, pad: bool) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([3, 0, 5, 1, 7])  # an empty document too
    ids = torch.randint(2, 40, (int(lengths.sum()),), generator=g)
    ids[:4] = ids[0]  # repeated rows within and across documents
    if pad:
        ids[5] = PAD_ID
    offsets = torch.cumsum(lengths, 0) - lengths
    return ids, offsets


@pytest.mark.parametrize("pooling", ["mean", "sum"])
def test_fast_update_equals_the_general_one(pooling: str) -> None:
    weight = torch.randn(40, 6)
    tables = [RowwiseAdagrad(weight.clone(), 0.5, pooling) for _ in range(2)]
    for step in range(3):
        ids, offsets = _batch(step, pad=False)
        grad = torch.randn(len(offsets), 6, generator=torch.Generator().manual_seed(step))
        tables[0].apply(ids, offsets, grad, may_pad=False)  # the fast path
        tables[1].apply(ids, offsets, grad, may_pad=True)  # the general path
    torch.testing.assert_close(tables[0].weight, tables[1].weight)
    torch.testing.assert_close(tables[0].state, tables[1].state)
    assert not torch.equal(tables[0].weight, weight)


def test_pad_gets_no_update_and_no_share_of_the_mean() -> None:
    weight = torch.randn(40, 6)
    weight[PAD_ID] = 0
    table = RowwiseAdagrad(weight, 0.5, "mean")
    ids, offsets = _batch(0, pad=True)
    pooled = table.pooled(ids, offsets)  # looks for <pad> itself
    expected = F.embedding_bag(ids, weight, offsets, mode="mean", padding_idx=PAD_ID)
    torch.testing.assert_close(pooled, expected)
    table.apply(ids, offsets, torch.ones(len(offsets), 6))
    assert torch.count_nonzero(table.weight[PAD_ID]) == 0
    assert table.state[PAD_ID] == 0


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
@pytest.mark.parametrize("pad", [False, True])
def test_pool_equals_the_padding_idx_bag(mode: str, pad: bool) -> None:
    weight = torch.randn(40, 6)
    ids, offsets = _batch(3, pad)
    expected = F.embedding_bag(ids, weight, offsets, mode=mode, padding_idx=PAD_ID)
    torch.testing.assert_close(pool(weight, ids, offsets, mode), expected)


def test_sparse_gradient_skips_pad() -> None:
    weight = torch.randn(40, 6, requires_grad=True)
    ids, offsets = _batch(4, pad=True)
    pool(weight, ids, offsets, "mean", sparse=True).sum().backward()
    assert weight.grad is not None and weight.grad.is_sparse
    assert torch.count_nonzero(weight.grad.to_dense()[PAD_ID]) == 0
