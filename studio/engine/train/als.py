"""``implicit``'s alternating least squares, when it is installed, as a second baseline on
the recommendation tables' own split: fitted with its defaults (factors 100,
regularisation 0.01, alpha 1), scored with the same ranking metrics.

``implicit`` is optional (it is in the ``bench`` extra): without it there is no ALS row.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from studio.engine.train.ranking import RankMetrics, rank_metrics

__all__ = ["ALS_NAME", "als_available", "als_metrics"]

ALS_NAME = "implicit ALS (its defaults)"


def als_available() -> bool:
    return importlib.util.find_spec("implicit") is not None


def als_metrics(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], n_users: int,
    n_items: int, k: int = 10, seed: int = 0,
) -> RankMetrics | None:  # fmt: skip
    """ALS's recall/NDCG/hit@k on ``test`` after fitting on ``train``; None without implicit."""
    if not als_available():
        return None
    import implicit
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    users, items = train
    matrix = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items)
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # an interaction seen twice is still one
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, BLAS in one
        model = implicit.als.AlternatingLeastSquares(random_state=seed)
        model.fit(matrix, show_progress=False)
    u, i = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return rank_metrics(lambda batch: u[batch] @ i.T, train, test, k)
