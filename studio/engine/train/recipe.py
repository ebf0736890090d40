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
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from studio.config import StudioConfig, TokenizerConfig

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


def resolve_recipe(config: StudioConfig, p: PreparedDataset) -> StudioConfig:
    """``config`` with its ``"auto"`` settings made concrete for ``p``."""
    if config.tokenizer.char_ngrams != "auto":
        return config
    tokenizer = replace(config.tokenizer, char_ngrams=auto_char_ngrams(p))
    return replace(config, tokenizer=tokenizer)
