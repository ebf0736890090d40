"""Why the model predicts what it does for one text: a contribution per token.

Without hidden layers and with mean or sum pooling the model is linear in the bag, so the
contributions are exact: ``logit_c = sum_i contribution_i + bias_c``. Otherwise each token is
occluded in turn (all variants in one batch) and its contribution is the drop in the
target class's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from studio.engine.data.ids import add_bigrams
from studio.engine.data.tokenize import PAD_ID, UNK_ID
from studio.engine.train.model import TextClassifier
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun

_MAX_BATCH_IDS = 4_000_000  # occlusion variants per forward pass are capped by total ids


@dataclass(frozen=True)
class TokenScore:
    token: str
    oov: bool  # the token maps to <unk>
    contribution: float  # toward the explained class: logit units (exact) or probability drop


@dataclass(frozen=True)
class Explanation:
    probabilities: tuple[tuple[str, float], ...]  # most likely first
    target: str
    tokens: tuple[TokenScore, ...]
    method: str  # "exact" | "occlusion"
    bias: float | None = None  # exact only: the target logit's bias term


def is_exact(run: LoadedRun) -> bool:
    """Whether :func:`explain` gives exact logit contributions for this model."""
    return not run.model.spec.hidden and run.model.spec.pooling in ("mean", "sum")


@torch.inference_mode()
def explain(run: LoadedRun, text: str, target: str | None = None) -> Explanation:
    """Per-token contributions toward ``target`` (default: the most likely class)."""
    enc, model = run.encoder, run.model
    model.eval()
    tokens = enc.tokenize(text)
    unigrams = np.asarray(enc.token_ids([text])[0], dtype=np.int32)
    if len(unigrams) != len(tokens):
        raise StudioError(f"the tokenizer gave {len(tokens)} tokens but {len(unigrams)} ids")
    n = len(unigrams)
    bag, _ = add_bigrams(
        unigrams, np.array([0, n], dtype=np.int64), enc.vocab_size, enc.ngram_buckets
    )
    bigrams = bag[n:]  # bigram j joins tokens j and j + 1

    device = next(model.parameters()).device
    full = _probs(model, bag, np.zeros(1, dtype=np.int64), device)[0]
    ranked = tuple((run.labels[i], float(full[i])) for i in np.argsort(-full, kind="stable"))
    if target is None:
        t = int(np.argmax(full))
    elif target in run.labels:
        t = run.labels.index(target)
    else:
        raise StudioError(f"unknown class {target!r}; the model knows {', '.join(run.labels)}")

    bias: float | None = None
    if is_exact(run):
        scores, bias = _exact(run, t, unigrams, bigrams)
        method = "exact"
    else:
        scores = _occlusion(model, t, unigrams, bigrams, full[t], device)
        method = "occlusion"
    token_scores = tuple(
        TokenScore(tok, bool(i == UNK_ID), float(s))
        for tok, i, s in zip(tokens, unigrams.tolist(), scores.tolist(), strict=True)
    )
    return Explanation(ranked, run.labels[t], token_scores, method, bias)


def _probs(
    model: TextClassifier, flat: np.ndarray, offsets: np.ndarray, device: torch.device
) -> np.ndarray:
    """Probabilities of the bags ``flat`` split at ``offsets`` (starts only)."""
    logits = model(
        torch.from_numpy(np.asarray(flat, dtype=np.int64)).to(device),
        torch.from_numpy(np.asarray(offsets, dtype=np.int64)).to(device),
    )
    return model.probabilities(logits).float().cpu().numpy()


def _target_weights(run: LoadedRun, t: int) -> tuple[np.ndarray, float]:
    """The output row and bias of class ``t``'s logit (binary sigmoid: class 0 is negated)."""
    linear = run.model.head[-1]
    assert isinstance(linear, nn.Linear)
    w = linear.weight.detach().cpu().double().numpy()
    b = linear.bias.detach().cpu().double().numpy()
    if run.model.spec.sigmoid and run.model.spec.num_outputs == 1:
        sign = 1.0 if t == 1 else -1.0
        return sign * w[0], sign * float(b[0])
    return w[t], float(b[t])


def _exact(
    run: LoadedRun, t: int, unigrams: np.ndarray, bigrams: np.ndarray
) -> tuple[np.ndarray, float]:
    w, bias = _target_weights(run, t)
    table = run.model.embedding.weight
    ids = np.concatenate([unigrams, bigrams]).astype(np.int64)
    rows = table[torch.from_numpy(ids).to(table.device)].detach().cpu().double().numpy()
    per_id = rows @ w
    per_id[ids == PAD_ID] = 0.0  # the bag leaves <pad> out of the sum and of the count
    if run.model.spec.pooling == "mean":
        per_id /= max(int(np.count_nonzero(ids != PAD_ID)), 1)
    n = len(unigrams)
    scores = per_id[:n].copy()
    half = per_id[n:] / 2
    scores[: len(half)] += half
    scores[1 : len(half) + 1] += half
    return scores, bias


def _occlusion(
    model: TextClassifier,
    t: int,
    unigrams: np.ndarray,
    bigrams: np.ndarray,
    base: float,
    device: torch.device,
) -> np.ndarray:
    n, m = len(unigrams), len(bigrams)
    if n == 0:
        return np.zeros(0)
    bag = np.concatenate([unigrams, bigrams]).astype(np.int64)
    out = np.empty(n, dtype=np.float64)
    step = max(1, _MAX_BATCH_IDS // max(len(bag), 1))
    for start in range(0, n, step):
        pos = np.arange(start, min(start + step, n))
        keep = np.ones((len(pos), len(bag)), dtype=bool)
        rows = np.arange(len(pos))
        keep[rows, pos] = False  # the token itself
        if m:
            left = pos < m  # bigram (pos, pos + 1)
            keep[rows[left], n + pos[left]] = False
            right = (pos > 0) & (pos - 1 < m)  # bigram (pos - 1, pos)
            keep[rows[right], n + pos[right] - 1] = False
        flat = np.broadcast_to(bag, keep.shape)[keep]
        counts = keep.sum(axis=1)
        offsets = np.zeros(len(pos), dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        out[pos] = base - _probs(model, flat, offsets, device)[:, t]
    return out
