"""Config validation and TOML round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.config import (
    DataConfig,
    DeviceConfig,
    ModelConfig,
    StudioConfig,
    TrainConfig,
    apply_preset,
    config_from_dict,
    dumps_config,
    load_config,
    load_config_text,
    save_config,
)
from studio.errors import ConfigError


def test_toml_round_trip(tmp_path: Path) -> None:
    config = StudioConfig(
        data=DataConfig(path="d.csv", text_column="body", label_delimiter="|", valid_fraction=0.2),
        model=ModelConfig(embed_dim=32, hidden=(64, 32), pooling="max"),
        train=TrainConfig(epochs=3, lr=0.5, optimizer="sgd"),
        device=DeviceConfig(device="cuda:1", amp=False),
    )
    path = tmp_path / "c.toml"
    save_config(config, path)
    assert load_config(path) == config
    assert load_config(path).model.hidden == (64, 32)


def test_default_config_round_trips() -> None:
    import tomllib

    assert config_from_dict(tomllib.loads(dumps_config(StudioConfig()))) == StudioConfig()


@pytest.mark.parametrize(
    ("section", "values", "field", "phrase"),
    [
        ("tokenizer", {"vocab_size": 2}, "tokenizer.vocab_size", "between 3"),
        ("model", {"embed_dim": 0}, "model.embed_dim", "between 1"),
        ("model", {"embed_dim": 10**6}, "model.embed_dim", "between 1"),
        ("train", {"lr": -0.1}, "train.lr", "above 0"),
        ("train", {"epochs": 0}, "train.epochs", "between 1"),
        ("train", {"optimizer": "lbfgs"}, "train.optimizer", "one of"),
        ("device", {"device": "tpu"}, "device.device", "cuda:N"),
        ("train", {"epochs": "3"}, "train.epochs", "expected int"),
        ("train", {"epochs": True}, "train.epochs", "expected int"),
        ("train", {"speed": 3}, "train.speed", "unknown key"),
    ],
)
def test_bad_values_name_the_field(section: str, values: dict, field: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({section: values})
    assert err.value.field == field
    assert phrase in str(err.value)


def test_unknown_section_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[trainer]\nepochs = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: trainer: unknown section"):
        load_config(bad)
    bad.write_text("[train\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_seed_preset_is_the_keras_architecture() -> None:
    seed = apply_preset(StudioConfig(), "seed")
    assert (seed.tokenizer.vocab_size, seed.model.embed_dim, seed.model.hidden) == (
        10_000,
        128,
        (128,),
    )
    assert seed.train.batch_size == 32 and seed.model.pooling == "mean"


def test_configs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        StudioConfig().train.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "weights",
    ["none", "balanced", (("devel::lang:pike", 0.5), ("rare label", 4.0), ("x", 2.0))],
)
def test_class_weights_round_trip_through_toml(tmp_path: Path, weights: object) -> None:
    config = StudioConfig().with_overrides(train={"class_weights": weights})
    assert hash(config) == hash(StudioConfig().with_overrides(train={"class_weights": weights}))
    path = tmp_path / "c.toml"
    save_config(config, path)
    loaded = load_config(path)
    assert loaded == config and loaded.train.class_weights == weights
    assert dumps_config(loaded) == dumps_config(config)


def test_class_weights_read_an_inline_table_as_sorted_pairs() -> None:
    text = '[train]\nclass_weights = { rare = 4, "a b" = 0.25 }\nepochs = 2\n'
    config = load_config_text(text)
    assert config.train.class_weights == (("a b", 0.25), ("rare", 4.0))
    assert config.with_overrides(train={"epochs": 3}).train.class_weights == (
        ("a b", 0.25),
        ("rare", 4.0),
    )
    assert TrainConfig().class_weights == "none"


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("inverse", '"none", "balanced" or a table'),
        (3, '"none", "balanced" or a table'),
        ({}, "empty"),
        ({"a": 0}, "'a' must be a finite number above 0"),
        ({"a": -1.5}, "above 0"),
        ({"a": float("inf")}, "finite"),
        ({"a": float("nan")}, "finite"),
        ({"a": True}, "finite number"),
        ({"a": "2"}, "finite number"),
    ],
)
def test_bad_class_weights_name_the_field(value: object, phrase: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({"train": {"class_weights": value}})
    assert err.value.field == "train.class_weights"
    assert phrase in str(err.value)


def test_bad_class_weights_in_a_file_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "w.toml"
    bad.write_text('[train]\nclass_weights = "inverse"\n')
    with pytest.raises(ConfigError, match=r"w\.toml: train\.class_weights: must be"):
        load_config(bad)
