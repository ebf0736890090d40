"""The default recipe's per-dataset choices, made when training starts.

``tokenizer.char_ngrams = "auto"`` (the default) becomes a concrete setting from the
prepared dataset, so the run's ``config.toml`` records what was trained and retraining
from it repeats it exactly:

* text mostly in scripts written without spaces (Chinese, Japanese, Thai, ...;
  :mod:`~studio.engine.data.scripts`): n-grams of 1 to 3 characters, since the word
  tokenizer sees whole phrases there and words are one to a few characters long;
* short documents (median at most ``AUTO_SHORT_TOKENS`` = 32 tokens): n-grams of 2 to 5
  characters. Measured on the fortunes data (median 23 tokens): test accuracy 0.532 ->
  0.538 and macro-F1 0.502 -> 0.523 (README, "Getting the best model");
* otherwise none: on the Debian descriptions (median 64 tokens) 3-6-grams (with idf
  weights) gave test accuracy 0.859 against 0.857 without, at ten times the training time.

``train.batch_size = 0`` (the default) becomes the largest of 64, 128 and 256 documents
whose ids (words, bigrams, n-grams: about ``AUTO_BATCH_IDS`` = 40,000) fit a step, while an
epoch keeps at least ``AUTO_BATCH_MIN_STEPS`` = 128 steps. A step has a fixed cost (the
head, the optimiser, Python) besides its per-id work, so short documents in small batches
waste most of it: on the Debian descriptions (153 ids a document) 256 trains at 52,800
docs/s against 36,900 at 64, validation accuracy 0.863 against 0.861. Long documents or
char n-grams keep 64 (their batches are large already; bigger ones fall out of the cache:
fortunes with n-grams 8,400 docs/s at 256 against 12,600 at 64), and so do small datasets,
which need the steps.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from studio.config import (
    AUTO_BATCH_IDS,
    AUTO_BATCH_MIN_STEPS,
    AUTO_BATCH_SIZES,
    StudioConfig,
    TokenizerConfig,
)
from studio.engine.train.memory import ids_per_document

if TYPE_CHECKING:
    from studio.engine.data.dataset import PreparedDataset

#: Share of (sampled) documents in spaceless scripts from which that rule applies.
SPACELESS_FROM = 0.5


def text_facts(p: PreparedDataset, sample: int = 2000) -> tuple[float, float]:
    """``(median tokens per document, share of documents in spaceless scripts)`` of an evenly
    spread sample of ``p``'s training documents: what ``"auto"`` decides by."""
    import numpy as np

    from studio.engine.data.scripts import spaceless_share

    train = np.asarray(p.train_idx)
    picked = train[:: max(len(train) // sample, 1)][:sample]
    share = spaceless_share([p.text(int(i)) for i in picked])
    median = float(np.median(p.offsets[picked + 1] - p.offsets[picked])) if len(picked) else 0.0
    return median, share


def char_ngrams_for(
    median_tokens: float, spaceless_share: float, tokenizer: TokenizerConfig | None = None
) -> tuple[int, int]:
    """The n-gram range ``tokenizer`` (default: words, ``"auto"``) gives data with these
    :func:`text_facts`."""
    tokenizer = tokenizer or TokenizerConfig(char_ngrams="auto")
    return tokenizer.char_range(median_tokens, spaceless_share >= SPACELESS_FROM)


def auto_char_ngrams(p: PreparedDataset, sample: int = 2000) -> tuple[int, int]:
    """What ``char_ngrams = "auto"`` means for ``p`` (BPE vocabularies get none)."""
    if p.tokenizer_kind != "words" or p.n_docs == 0:
        return (0, 0)
    return char_ngrams_for(*text_facts(p, sample))


def batch_for(tokenizer: TokenizerConfig, mean_tokens: float, n_train: int) -> int:
    """What ``train.batch_size = 0`` means for ``n_train`` training documents of
    ``mean_tokens`` tokens with ``tokenizer`` (n-grams concrete)."""
    per_doc = ids_per_document(tokenizer, mean_tokens)
    chosen = AUTO_BATCH_SIZES[0]
    for size in AUTO_BATCH_SIZES[1:]:
        if size * per_doc > AUTO_BATCH_IDS or n_train < size * AUTO_BATCH_MIN_STEPS:
            break
        chosen = size
    return chosen


def mean_tokens(p: PreparedDataset) -> float:
    """The mean tokens per training document of ``p``."""
    import numpy as np

    train = np.asarray(p.train_idx)
    if len(train) == 0:
        return 0.0
    return float(np.mean(p.offsets[train + 1] - p.offsets[train]))


def resolve_recipe(config: StudioConfig, p: PreparedDataset) -> StudioConfig:
    """``config`` with its ``"auto"`` settings (and a batch size of 0) made concrete for
    ``p``."""
    if config.tokenizer.char_ngrams == "auto":
        tokenizer = replace(config.tokenizer, char_ngrams=auto_char_ngrams(p))
        config = replace(config, tokenizer=tokenizer)
    if config.train.batch_size == 0:
        size = batch_for(config.tokenizer, mean_tokens(p), len(p.train_idx))
        config = replace(config, train=replace(config.train, batch_size=size))
    return config
