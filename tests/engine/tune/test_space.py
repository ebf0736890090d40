"""The search-space table, budgets and durations: pure functions, no training."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studio.config import StudioConfig
from studio.engine.tune.budget import Budget, format_duration, parse_duration
from studio.engine.tune.space import (
    SPACE,
    Param,
    apply_params,
    base_params,
    label,
    space_for,
    suggest,
    value_of,
)
from studio.errors import ConfigError, StudioError


def test_space_keys_are_config_fields_and_hold_the_defaults() -> None:
    defaults = StudioConfig()
    keys = [p.key for p in SPACE]
    assert len(keys) == len(set(keys))
    for p in SPACE:
        value = value_of(defaults, p.key)  # a missing field raises AttributeError
        assert p.contains(value), f"{p.key}: the default {value!r} is not a point of the space"
    # the base trial of a default study is exactly the defaults
    base = base_params(defaults, space_for(defaults))
    assert base == {p.key: label(value_of(defaults, p.key)) for p in SPACE}
    assert apply_params(defaults, base) == defaults  # stored labels decode to the values
    assert {"train.table_lr", "train.lr", "model.embed_dim", "tokenizer.ngram_buckets",
            "tokenizer.vocab_size", "train.epochs", "train.weight_decay",
            "model.dropout"} <= set(keys)  # fmt: skip
    assert 0 in next(p for p in SPACE if p.key == "tokenizer.ngram_buckets").choices
    assert {"tokenizer.char_ngrams", "model.weighting"} <= set(keys)


def test_pair_choices_are_stored_as_labels_and_applied_as_pairs() -> None:
    grams = next(p for p in SPACE if p.key == "tokenizer.char_ngrams")
    assert label((3, 6)) == "3-6" and grams.decode("3-6") == (3, 6)
    config = apply_params(StudioConfig(), {"tokenizer.char_ngrams": "2-5"})
    assert config.tokenizer.char_ngrams == (2, 5)
    assert apply_params(config, {"tokenizer.char_ngrams": "auto"}).tokenizer.char_ngrams == "auto"
    custom = StudioConfig().with_overrides(tokenizer={"char_ngrams": (4, 7)})
    widened = {p.key: p for p in space_for(custom)}["tokenizer.char_ngrams"]
    assert (4, 7) in widened.choices and base_params(custom, (widened,)) == {
        "tokenizer.char_ngrams": "4-7"
    }


def test_space_for_widens_to_a_custom_base() -> None:
    base = StudioConfig().with_overrides(model={"embed_dim": 100}, train={"lr": 0.5})
    space = {p.key: p for p in space_for(base)}
    assert 100 in space["model.embed_dim"].choices
    assert space["train.lr"].high == 0.5
    assert base_params(base, tuple(space.values()))["model.embed_dim"] == 100
    # a value that cannot be a point of a log range is left for the sampler
    assert Param("x.y", "float", 0.1, 1.0, log=True).including(0.0).low == 0.1


class _Fixed:
    """A trial that answers every suggestion with the low end or the first choice."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return low

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        return low

    def suggest_categorical(self, name: str, choices: tuple[object, ...]) -> object:
        return choices[0]


def test_suggest_and_apply_give_a_valid_config() -> None:
    params = suggest(_Fixed(), SPACE)
    config = apply_params(StudioConfig(), params)
    for key, value in params.items():
        assert value_of(config, key) == value
    assert config.model.embed_dim == 32 and config.tokenizer.ngram_buckets == 0
    with pytest.raises(ConfigError):
        apply_params(StudioConfig(), {"train.no_such_field": 1})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("1.5m", 90)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5x", "", "m", "10m5", "0s", "-3m", "1h 2"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(StudioError, match="--budget"):
        parse_duration(text)


def test_budget_checks_and_describes() -> None:
    assert Budget(trials=8, seconds=600).describe() == "8 trials or 10 min"
    assert Budget.from_json(Budget(trials=3).to_json()) == Budget(trials=3)
    assert format_duration(5400) == "1 h 30 min"
    with pytest.raises(StudioError):
        Budget(trials=0)
    with pytest.raises(StudioError):
        Budget(seconds=0)


def test_space_budget_and_events_load_no_torch_numpy_or_optuna() -> None:
    code = (
        "import sys\n"
        "import studio.engine.tune.space, studio.engine.tune.budget, studio.engine.tune.events\n"
        "heavy = [m for m in ('torch', 'numpy', 'optuna') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_oversized_draw_shrinks_buckets_then_subwords_then_width() -> None:
    from studio.engine.tune.space import SPACE, shrink_to_fit

    draw = {"tokenizer.ngram_buckets": 1_000_000, "tokenizer.char_ngrams": (3, 6),
            "model.embed_dim": 256, "tokenizer.vocab_size": 200_000, "train.epochs": 7}  # fmt: skip

    def size(p: dict[str, object]) -> int:
        rows = int(p["tokenizer.vocab_size"]) + int(p["tokenizer.ngram_buckets"])  # type: ignore[call-overload]
        rows += 0 if p["tokenizer.char_ngrams"] == (0, 0) else 500_000
        return rows * int(p["model.embed_dim"])  # type: ignore[call-overload]

    for cap, expect in [
        (200_000 * 256 + 500_000 * 256 + 200_000 * 256, {"tokenizer.ngram_buckets": 200_000}),
        (700_000 * 256, {"tokenizer.ngram_buckets": 0}),  # every bucket size tried first
        (200_000 * 256, {"tokenizer.ngram_buckets": 0, "tokenizer.char_ngrams": (0, 0)}),
        (
            200_000 * 64,
            {"tokenizer.ngram_buckets": 0, "tokenizer.char_ngrams": (0, 0), "model.embed_dim": 64},
        ),
    ]:
        found = shrink_to_fit(draw, SPACE, lambda p, cap=cap: size(p) <= cap)
        assert found == {**draw, **expect}, cap
    assert shrink_to_fit(draw, SPACE, lambda p: False) is None
