"""Seeded, stratified train/validation/test split."""

from __future__ import annotations

import numpy as np

from studio.config import DataConfig


def stratified_split(
    strata: np.ndarray, valid_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split document indices so every stratum keeps its share in each part.

    ``strata[i]`` is document ``i``'s class (for multi-label data, pass its first label).
    Each class contributes ``round(n * fraction)`` documents to validation and test, but
    always keeps at least one training document. Returns sorted index arrays.
    """
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    valid: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for cls in np.unique(strata):
        idx = np.flatnonzero(strata == cls)
        rng.shuffle(idx)
        n = len(idx)
        n_valid = min(round(n * valid_fraction), max(n - 1, 0))
        n_test = min(round(n * test_fraction), max(n - 1 - n_valid, 0))
        valid.append(idx[:n_valid])
        test.append(idx[n_valid : n_valid + n_test])
        train.append(idx[n_valid + n_test :])
    parts = (train, valid, test)
    return tuple(np.sort(np.concatenate(p)).astype(np.int64, copy=False) for p in parts)  # type: ignore[return-value]


def split_documents(
    strata: np.ndarray, data: DataConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the main file's documents as ``data`` asks (no fraction for a split given as a file).

    ``strata`` is any integer code per document that sorts like its first label.
    """
    valid_f = 0.0 if data.valid_path else data.valid_fraction
    test_f = 0.0 if data.test_path else data.test_fraction
    return stratified_split(strata, valid_f, test_f, data.split_seed)
