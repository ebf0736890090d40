"""The default recipe's "auto" character n-grams and batch size, chosen from the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.config import AUTO_SHORT_TOKENS, DataConfig, StudioConfig, TokenizerConfig
from studio.engine.data.dataset import PreparedDataset
from studio.engine.data.prepare import prepare_dataset
from studio.engine.train.recipe import (
    SPACELESS_FROM,
    auto_char_ngrams,
    batch_for,
    char_ngrams_for,
    mean_tokens,
    resolve_recipe,
    text_facts,
)
from tests.text_samples import write_spaceless_csv, write_words_csv


def _prepared(path: Path, tmp_path: Path, kind: str = "words") -> PreparedDataset:
    tokenizer = TokenizerConfig(kind=kind)  # type: ignore[arg-type]
    return prepare_dataset(DataConfig(path=str(path)), tokenizer, cache_dir=tmp_path / "cache")


def test_spaceless_text_gets_one_to_three_grams(tmp_path: Path) -> None:
    p = _prepared(write_spaceless_csv(tmp_path / "spaceless.csv"), tmp_path)
    median, share = text_facts(p)
    assert share == 1.0 and median <= AUTO_SHORT_TOKENS  # a phrase (and its 。) per token
    assert auto_char_ngrams(p) == (1, 3)
    config = resolve_recipe(StudioConfig(), p)
    assert config.tokenizer.char_ngrams == (1, 3)


@pytest.mark.parametrize(("tokens", "expected"), [(12, (2, 5)), (64, (0, 0))])
def test_short_text_gets_two_to_five_grams_and_long_text_none(
    tmp_path: Path, tokens: int, expected: tuple[int, int]
) -> None:
    p = _prepared(write_words_csv(tmp_path / "words.csv", tokens), tmp_path)
    assert text_facts(p) == (float(tokens), 0.0)
    assert auto_char_ngrams(p) == expected
    assert resolve_recipe(StudioConfig(), p).tokenizer.char_ngrams == expected


def test_a_bpe_vocabulary_gets_none(tmp_path: Path) -> None:
    p = _prepared(write_words_csv(tmp_path / "words.csv", 12), tmp_path, kind="bpe")
    assert auto_char_ngrams(p) == (0, 0)


def test_char_ngrams_for_is_the_rule_on_the_facts() -> None:
    assert char_ngrams_for(AUTO_SHORT_TOKENS, 0.0) == (2, 5)
    assert char_ngrams_for(AUTO_SHORT_TOKENS + 0.5, 0.0) == (0, 0)
    assert char_ngrams_for(200.0, SPACELESS_FROM) == (1, 3)
    assert char_ngrams_for(200.0, SPACELESS_FROM - 0.01) == (0, 0)
    # another tokenizer's setting: its own pair, or none for BPE
    assert char_ngrams_for(5.0, 1.0, TokenizerConfig(char_ngrams=(3, 6))) == (3, 6)
    assert char_ngrams_for(5.0, 1.0, TokenizerConfig(kind="bpe")) == (0, 0)


# -- train.batch_size = 0: by the data --------------------------------------------------------

WORDS_BIGRAMS = TokenizerConfig(char_ngrams=(0, 0))


@pytest.mark.parametrize(
    ("tokenizer", "mean", "n_train", "expected"),
    [
        (WORDS_BIGRAMS, 77, 40_000, 256),  # short documents, many of them: the largest step
        (WORDS_BIGRAMS, 120, 40_000, 128),  # 256 x 239 ids would pass 40,000 ids a step
        (WORDS_BIGRAMS, 77, 20_000, 128),  # 256 would leave fewer than 128 steps an epoch
        (WORDS_BIGRAMS, 77, 3_000, 64),  # a small dataset keeps its steps
        (WORDS_BIGRAMS, 400, 1_000_000, 64),  # long documents fill a step already
        (TokenizerConfig(char_ngrams=(2, 5)), 75, 40_000, 64),  # n-grams: many ids a word
    ],
)
def test_batch_by_the_data(
    tokenizer: TokenizerConfig, mean: float, n_train: int, expected: int
) -> None:
    assert batch_for(tokenizer, mean, n_train) == expected


def test_a_given_batch_size_is_kept_and_zero_is_made_concrete(tmp_path: Path) -> None:
    p = _prepared(write_words_csv(tmp_path / "words.csv", 64), tmp_path)
    assert mean_tokens(p) == 64
    assert StudioConfig().train.batch_size == 0
    assert resolve_recipe(StudioConfig(), p).train.batch_size == 64  # 200 documents: small
    given = StudioConfig().with_overrides(train={"batch_size": 48})
    assert resolve_recipe(given, p).train.batch_size == 48
