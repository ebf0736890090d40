"""``implicit``'s alternating least squares, when it is installed, as a second baseline on
the recommendation tables' own split: fitted with its defaults (factors 100,
regularisation 0.01, alpha 1), scored with the same ranking metrics.

``implicit`` is optional (it is in the ``bench`` extra): without it there is no ALS row.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from studio.engine.train.ranking import RankMetrics, Scorer, rank_metrics

__all__ = ["ALS_NAME", "als_available", "als_metrics", "als_scorer"]

ALS_NAME = "implicit ALS (its defaults)"


def als_available() -> bool:
    return importlib.util.find_spec("implicit") is not None


def als_scorer(
    train: tuple[np.ndarray, np.ndarray], n_users: int, n_items: int, *, factors: int = 100,
    regularization: float = 0.01, alpha: float = 1.0, seed: int = 0, binary: bool = True,
) -> Scorer:  # fmt: skip
    """ALS fitted on ``train`` (implicit must be installed), as a :data:`Scorer`. With
    ``binary`` an interaction seen twice is still one; without, repeats add up."""
    import implicit
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    users, items = train
    matrix = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (users, items)), shape=(n_users, n_items)
    )
    matrix.sum_duplicates()
    if binary:
        matrix.data[:] = 1.0
    with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, BLAS in one
        model = implicit.als.AlternatingLeastSquares(
            factors=factors, regularization=regularization, alpha=alpha, random_state=seed
        )
        model.fit(matrix, show_progress=False)
    u, i = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda batch: u[batch] @ i.T


def als_metrics(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], n_users: int,
    n_items: int, k: int = 10, seed: int = 0,
) -> RankMetrics | None:  # fmt: skip
    """ALS's recall/NDCG/hit@k on ``test`` after fitting on ``train``; None without implicit."""
    if not als_available():
        return None
    return rank_metrics(als_scorer(train, n_users, n_items, seed=seed), train, test, k)
