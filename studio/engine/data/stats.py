"""Dataset statistics the window draws: OOV rates and curve, document lengths, labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.engine.data.prepare import PreparedDataset
from studio.engine.data.tokenize import SPECIALS, UNK_ID


@dataclass(frozen=True)
class OovCurve:
    """OOV rate of a split's tokens for each vocabulary size in ``sizes``."""

    sizes: np.ndarray
    train: np.ndarray
    valid: np.ndarray


def _split_counts(p: PreparedDataset, split: str) -> np.ndarray:
    if split == "train":
        return p.train_counts
    lengths = np.diff(p.offsets)
    mask = np.zeros(p.n_docs, dtype=bool)
    mask[p.split_indices(split)] = True
    return np.bincount(p.ids[np.repeat(mask, lengths)], minlength=len(p.tokens))


def _oov_at(counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    total = counts[len(SPECIALS) :].sum() + counts[UNK_ID]
    if total == 0:
        return np.zeros(len(sizes))
    known = np.concatenate([[0], np.cumsum(counts[len(SPECIALS) :])])
    kept = known[np.clip(sizes - len(SPECIALS), 0, len(known) - 1)]
    return 1.0 - kept / total


def oov_rate(p: PreparedDataset, vocab_size: int, split: str = "train", min_freq: int = 1) -> float:
    """Share of ``split``'s tokens that become ``<unk>`` at this vocabulary size."""
    size = p.effective_vocab_size(vocab_size, min_freq)
    return float(_oov_at(_split_counts(p, split), np.array([size]))[0])


def oov_curve(p: PreparedDataset, points: int = 64) -> OovCurve:
    """OOV rate against vocabulary size, log-spaced from 3 to the full vocabulary."""
    full = max(len(p.tokens), 3)
    sizes = np.unique(np.geomspace(3, full, points).astype(np.int64))
    return OovCurve(
        sizes=sizes,
        train=_oov_at(_split_counts(p, "train"), sizes),
        valid=_oov_at(_split_counts(p, "valid"), sizes),
    )


def length_percentiles(
    p: PreparedDataset, qs: tuple[int, ...] = (5, 25, 50, 75, 95, 99)
) -> dict[int, float]:
    """Tokens per document at the given percentiles (all splits)."""
    lengths = np.diff(p.offsets)
    values = np.percentile(lengths, qs) if len(lengths) else np.zeros(len(qs))
    return {q: float(v) for q, v in zip(qs, values, strict=True)}
