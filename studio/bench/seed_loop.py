"""The training loop this project grew from, rewritten in PyTorch for comparison.

Padded ``nn.Embedding(10000, 128)`` -> ``AdaptiveAvgPool1d`` (averages over padding too,
as the Keras notebook's GlobalAveragePooling1D did without a mask) -> Dense 128 ReLU ->
output; a per-sample ``DataLoader`` with batch 32 and Adam. Uses the same prepared
dataset (ids and split) as the engine, so only the loop differs.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from studio.bench.result import BenchResult, split_scores
from studio.engine.data.ids import cap_vocab
from studio.engine.data.prepare import PreparedDataset
from studio.errors import StudioError


class SeedModel(nn.Module):
    def __init__(self, vocab: int, dim: int, classes: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.dense = nn.Sequential(nn.Linear(dim, 128), nn.ReLU(), nn.Linear(128, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embedding(x).transpose(1, 2)  # [B, dim, T]
        return self.dense(self.pool(h).squeeze(-1))


def padded(p: PreparedDataset, docs: np.ndarray, vocab: int, max_len: int) -> torch.Tensor:
    """Docs as a zero-padded ``[n, max_len]`` matrix (truncated), Keras-style."""
    out = np.zeros((len(docs), max_len), dtype=np.int64)
    for row, d in enumerate(docs):
        seq = cap_vocab(p.ids[p.offsets[d] : p.offsets[d + 1]], vocab)[:max_len]
        out[row, : len(seq)] = seq
    return torch.from_numpy(out)


def run_seed_loop(
    p: PreparedDataset,
    epochs: int = 2,
    vocab: int = 10_000,
    dim: int = 128,
    batch_size: int = 32,
    max_len: int = 256,
    seed: int = 0,
) -> BenchResult:
    """Train the seed model on ``p``'s split; times only the training loop.

    Validation runs after each epoch (untimed) so time-to-accuracy can be read off; the
    test split is scored once at the end.
    """
    if p.multi_label:
        raise StudioError("the seed loop is single-label only")
    torch.manual_seed(seed)
    lengths = np.diff(p.offsets)
    max_len = int(min(max_len, max(lengths.max(initial=1), 1)))
    x_train = padded(p, p.train_idx, vocab, max_len)
    y_train = torch.from_numpy(np.asarray(p.targets[p.train_idx]))
    x_val = padded(p, p.valid_idx, vocab, max_len)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True)
    model = SeedModel(vocab, dim, len(p.label_names))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    seconds = 0.0
    history: list[tuple[float, float]] = []
    val = (0.0, 0.0)
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        seconds += time.perf_counter() - t0
        val = split_scores(p, "valid", _predict(model, x_val))
        history.append((seconds, val[0]))
    test = split_scores(p, "test", _predict(model, padded(p, p.test_idx, vocab, max_len)))
    docs = len(p.train_idx) * epochs
    tokens = int(np.minimum(lengths[p.train_idx], max_len).sum()) * epochs
    return BenchResult(
        "seed-style loop", seconds, docs / seconds, tokens / seconds, *val, *test, history
    )


@torch.no_grad()
def _predict(model: SeedModel, x: torch.Tensor) -> np.ndarray:
    model.eval()
    chunks = [model(x[i : i + 1024]).argmax(1) for i in range(0, len(x), 1024)]
    return torch.cat(chunks).numpy() if chunks else np.zeros(0, dtype=np.int64)
