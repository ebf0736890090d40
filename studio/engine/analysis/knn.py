"""Exact nearest neighbours for UMAP, so umap-learn skips NN-descent.

NN-descent (pynndescent) is compiled by numba in each process before its first use: 70 to
80 s on 2 cores, measured, the most of a first map's wait. For up to :data:`EXACT_MAX`
points the exact neighbours cost a chunked matrix product instead (seconds), and are
handed to umap-learn as ``precomputed_knn``. As umap-learn's own do, each point's list
starts with itself at distance 0. Cosine, correlation (cosine of the centred rows) and
euclidean distances are computed; other metrics leave it to umap-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

__all__ = ["EXACT_MAX", "exact_knn"]

#: Above this many points the n x n work outgrows NN-descent's one-off compile.
EXACT_MAX: Final = 30_000
_CHUNK: Final = 1024


def exact_knn(
    x: np.ndarray, k: int, metric: str, cancelled: Callable[[], bool] = lambda: False
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(indices int64 [n, k], distances float32 [n, k])``, nearest first, or None when
    ``metric`` is not one computed here or there are too many points."""
    if metric not in ("cosine", "correlation", "euclidean") or len(x) > EXACT_MAX:
        return None
    v = np.asarray(x, dtype=np.float32)
    if metric == "correlation":
        v = v - v.mean(axis=1, keepdims=True)
    if metric != "euclidean":
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    sq = (v * v).sum(axis=1)
    k = min(k, len(v))
    idx = np.empty((len(v), k), dtype=np.int64)
    dist = np.empty((len(v), k), dtype=np.float32)
    for start in range(0, len(v), _CHUNK):
        if cancelled():
            return None
        block = v[start : start + _CHUNK]
        d = sq[start : start + len(block), None] + sq[None, :] - 2.0 * (block @ v.T)
        rows = np.arange(len(block))
        d[rows, start + rows] = -np.inf  # itself first, whatever rounding says
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d, near, axis=1), axis=1, kind="stable")
        near = np.take_along_axis(near, order, axis=1)
        found = np.maximum(np.take_along_axis(d, near, axis=1), 0.0)
        # cosine distance is 1 - cos = |a - b|^2 / 2 for unit rows; euclidean is the root
        idx[start : start + len(block)] = near
        dist[start : start + len(block)] = found / 2.0 if metric != "euclidean" else np.sqrt(found)
    return idx, dist
