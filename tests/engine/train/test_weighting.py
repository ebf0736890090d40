"""idf row weights: their values, the weighted pooling, and the fused table update under them."""

from __future__ import annotations

import math

import numpy as np
import torch

from studio.engine.train.batching import DeviceData
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.table_optim import RowwiseAdagrad, pool
from studio.engine.train.weighting import document_frequency, fill_row_weights, idf_weights


def _data(docs: list[list[int]]) -> DeviceData:
    lengths = [len(d) for d in docs]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = np.concatenate([np.asarray(d, dtype=np.int32) for d in docs])
    return DeviceData(ids, offsets, np.zeros(len(docs), dtype=np.int64), torch.device("cpu"))


def test_document_frequency_counts_each_document_once() -> None:
    data = _data([[2, 2, 3], [3], [4, 2]])
    df = document_frequency(data.ids, data.lengths_t, rows=6)
    assert df.tolist() == [0, 0, 2, 2, 1, 0]


def test_idf_is_scikit_learns_smoothed_idf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [["a", "a", "b"], ["b"], ["c", "a"], ["a"]]
    index = {"a": 2, "b": 3, "c": 4}
    weights = idf_weights(_data([[index[t] for t in d] for d in docs]), rows=6)
    vec = TfidfVectorizer(analyzer=lambda d: d, smooth_idf=True).fit(docs)
    for token, col in vec.vocabulary_.items():
        assert math.isclose(float(weights[index[token]]), float(vec.idf_[col]), rel_tol=1e-6)
    assert math.isclose(float(weights[5]), math.log(5 / 1) + 1, rel_tol=1e-6)  # never seen


def test_weighted_mean_pooling_is_the_weighted_average_of_rows() -> None:
    weight = torch.randn(6, 3)
    row_weight = torch.tensor([9.0, 1.0, 2.0, 0.5, 4.0, 1.0])
    ids = torch.tensor([2, 3, 0, 4])  # doc 0: rows 2, 3, <pad>; doc 1: row 4
    offsets = torch.tensor([0, 3])
    out = pool(weight, ids, offsets, "mean", row_weight)
    expected0 = (2.0 * weight[2] + 0.5 * weight[3]) / 2.5  # <pad> counts for nothing
    torch.testing.assert_close(out[0], expected0)
    torch.testing.assert_close(out[1], weight[4])
    torch.testing.assert_close(pool(weight, ids, offsets, "sum", row_weight)[0], 2.5 * expected0)
    plain = pool(weight, ids, offsets, "mean")
    torch.testing.assert_close(plain[0], (weight[2] + weight[3]) / 2)


def test_fused_update_follows_the_weighted_gradient() -> None:
    torch.manual_seed(0)
    table = torch.randn(6, 4)
    row_weight = torch.tensor([1.0, 1.0, 3.0, 0.5, 2.0, 1.0])
    ids, offsets = torch.tensor([2, 3, 3, 4]), torch.tensor([0, 2])
    target = torch.randn(2, 4)
    # reference: autograd through the weighted pooling, then row-wise Adagrad by hand
    leaf = table.clone().requires_grad_()
    ((pool(leaf, ids, offsets, "mean", row_weight) - target) ** 2).sum().backward()
    assert leaf.grad is not None
    fused = RowwiseAdagrad(table.clone(), lr=0.1, pooling="mean", row_weight=row_weight)
    pooled = fused.pooled(ids, offsets)
    ((pooled - target) ** 2).sum().backward()
    assert pooled.grad is not None
    before = fused.weight.clone()
    fused.apply(ids, offsets, pooled.grad)
    moved = fused.weight - before
    for row in (2, 4):  # rows seen once: the step is -lr * g / sqrt(mean(g^2))
        g = leaf.grad[row]
        expected = -0.1 * g / g.pow(2).mean().sqrt()
        torch.testing.assert_close(moved[row], expected, rtol=1e-4, atol=1e-6)
    assert torch.equal(moved[5], torch.zeros(4))  # untouched rows stay


def test_fill_row_weights_writes_the_buffer_saved_with_the_model() -> None:
    spec = ModelSpec(num_embeddings=6, embed_dim=3, num_outputs=2, weighting="idf")
    model = TextClassifier(spec)
    data = _data([[2, 3], [2]])
    fill_row_weights(model, data)
    assert model.row_weight is not None
    torch.testing.assert_close(model.row_weight, idf_weights(data, 6))
    assert "row_weight" in model.state_dict()
    assert TextClassifier(ModelSpec(6, 3, 2)).row_weight is None  # no weighting, no buffer
