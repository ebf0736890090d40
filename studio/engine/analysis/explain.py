"""Why the model predicts what it does for one text: a contribution per token.

A token owns its own row, the rows of its character n-grams (when the model has them) and
half of each bigram it is part of. Without hidden layers and with mean or sum pooling the
model is linear in the bag, so the contributions are exact: each row's share of the target
logit, weighted by its idf (when the model weighs rows) and divided by the bag's total
weight for mean pooling, gives ``logit_c = sum_i contribution_i + bias_c``. Otherwise each
token is occluded in turn (its rows, n-grams and bigrams leave the bag; all variants in one
batch) and its contribution is the drop in the target class's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from studio.engine.data.text_encoder import TextEncoder
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
    subwords: int = 0  # its character n-gram rows: an OOV token with some still has a vector


@dataclass(frozen=True)
class Explanation:
    probabilities: tuple[tuple[str, float], ...]  # most likely first
    target: str
    tokens: tuple[TokenScore, ...]
    method: str  # "exact" | "occlusion"
    bias: float | None = None  # exact only: the target logit's bias term


@dataclass(frozen=True)
class _Bag:
    """One text's bag as the model sees it, and which tokens own each of its ids.

    Id ``k`` belongs half to token ``left[k]`` and half to token ``right[k]``: a word's own
    id and its n-grams have the same token on both sides, bigram ``j`` has ``j`` and ``j + 1``.
    """

    ids: np.ndarray  # int64, the encoder's layout: words, bigrams, each word's n-grams
    left: np.ndarray
    right: np.ndarray
    unigrams: np.ndarray
    subwords: np.ndarray  # n-gram rows per token


def is_exact(run: LoadedRun) -> bool:
    """Whether :func:`explain` gives exact logit contributions for this model."""
    return not run.model.spec.hidden and run.model.spec.pooling in ("mean", "sum", "sqrtn")


@torch.inference_mode()
def explain(run: LoadedRun, text: str, target: str | None = None) -> Explanation:
    """Per-token contributions toward ``target`` (default: the most likely class)."""
    model = run.model
    model.eval()
    tokens = run.encoder.tokenize(text)
    bag = _bag(run.encoder, text, tokens)
    device = next(model.parameters()).device
    full = _probs(model, bag.ids, np.zeros(1, dtype=np.int64), device)[0]
    ranked = tuple((run.labels[i], float(full[i])) for i in np.argsort(-full, kind="stable"))
    if target is None:
        t = int(np.argmax(full))
    elif target in run.labels:
        t = run.labels.index(target)
    else:
        raise StudioError(f"unknown class {target!r}; the model knows {', '.join(run.labels)}")

    bias: float | None = None
    if is_exact(run):
        scores, bias = _exact(run, t, bag)
        method = "exact"
    else:
        scores = _occlusion(model, t, bag, full[t], device)
        method = "occlusion"
    token_scores = tuple(
        TokenScore(tok, bool(i == UNK_ID), float(s), int(k))
        for tok, i, s, k in zip(
            tokens, bag.unigrams.tolist(), scores.tolist(), bag.subwords.tolist(), strict=True
        )
    )
    return Explanation(ranked, run.labels[t], token_scores, method, bias)


def _bag(enc: TextEncoder, text: str, tokens: list[str]) -> _Bag:
    """The encoder's bag for ``text`` with each id's owning tokens (checked against the layout)."""
    ids, _ = enc.encode([text])
    ids = ids.astype(np.int64)
    unigrams = np.asarray(enc.token_ids([text])[0], dtype=np.int64)
    n = len(unigrams)
    if n != len(tokens):
        raise StudioError(f"the tokenizer gave {len(tokens)} tokens but {n} ids")
    subwords = np.zeros(n, dtype=np.int64)
    if enc.subwords is not None:
        subwords = np.fromiter((len(enc.subwords.of_word(w)) for w in tokens), np.int64, n)
    m = n - 1 if enc.ngram_buckets > 0 and n >= 2 else 0  # bigram j joins tokens j, j + 1
    if len(ids) != n + m + int(subwords.sum()) or not np.array_equal(ids[:n], unigrams):
        raise StudioError("the encoder's bag does not have the words, bigrams, n-grams layout")
    words = np.arange(n, dtype=np.int64)
    owner = np.repeat(words, subwords)
    left = np.concatenate([words, words[:m], owner])
    right = np.concatenate([words, words[:m] + 1, owner])
    return _Bag(ids, left, right, unigrams, subwords)


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


def _exact(run: LoadedRun, t: int, bag: _Bag) -> tuple[np.ndarray, float]:
    """Each token's share of the target logit: its ids' rows, weighted as the pooling does."""
    w, bias = _target_weights(run, t)
    table = run.model.embedding.weight
    index = torch.from_numpy(bag.ids).to(table.device)
    rows = table[index].detach().cpu().double().numpy()
    weight = (bag.ids != PAD_ID).astype(np.float64)  # the bag leaves <pad> out
    row_weight = run.model.row_weight
    if row_weight is not None:
        weight *= row_weight[index].detach().cpu().double().numpy()
    per_id = (rows @ w) * weight
    if run.model.spec.pooling == "mean":  # as the pooling: over the bag's total weight
        per_id /= max(float(weight.sum()), 1e-6)
    elif run.model.spec.pooling == "sqrtn":  # over the root of its sum of squares
        per_id /= max(float(np.sqrt(np.square(weight).sum())), 1e-6)
    n = len(bag.unigrams)
    half = per_id / 2
    scores = np.bincount(bag.left, half, minlength=n) + np.bincount(bag.right, half, minlength=n)
    return scores, bias


def _occlusion(
    model: TextClassifier, t: int, bag: _Bag, base: float, device: torch.device
) -> np.ndarray:
    """Each token's drop in probability when its ids (own, n-grams, bigrams) leave the bag."""
    n = len(bag.unigrams)
    if n == 0:
        return np.zeros(0)
    out = np.empty(n, dtype=np.float64)
    step = max(1, _MAX_BATCH_IDS // max(len(bag.ids), 1))
    for start in range(0, n, step):
        pos = np.arange(start, min(start + step, n))[:, None]
        keep = (bag.left[None, :] != pos) & (bag.right[None, :] != pos)
        flat = np.broadcast_to(bag.ids, keep.shape)[keep]
        counts = keep.sum(axis=1)
        offsets = np.zeros(len(pos), dtype=np.int64)
        np.cumsum(counts[:-1], out=offsets[1:])
        out[pos[:, 0]] = base - _probs(model, flat, offsets, device)[:, t]
    return out
