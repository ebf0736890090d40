"""Run configuration: frozen dataclasses, validated on construction, round-tripped to TOML.

One :class:`StudioConfig` describes a whole run. It is immutable, so the window can hand a
copy to the training thread without locks, and the same TOML file drives the CLI and the
window. Every invalid value raises :class:`~studio.errors.ConfigError` naming the field
(``section.key``) and the allowed values.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import tomli_w
import tomllib

from studio.errors import ConfigError

DataFormat = Literal["auto", "csv", "tsv", "jsonl", "fasttext", "folder", "parquet"]
TokenizerKind = Literal["words", "bpe"]
Pooling = Literal["mean", "sum", "sqrtn", "max"]
Weighting = Literal["none", "idf"]
#: ``tokenizer.char_ngrams``: ``(minn, maxn)``, ``(0, 0)`` for none, or ``"auto"``.
CharNgrams = tuple[int, int] | Literal["auto"]
#: What ``"auto"`` chooses: n-grams for documents of at most this median token count...
AUTO_SHORT_TOKENS = 32
AUTO_SHORT_NGRAMS = (2, 5)
#: ... and for text mostly in scripts written without spaces (words of 1-3 characters).
AUTO_SPACELESS_NGRAMS = (1, 3)
#: ``train.batch_size = 0`` (the default): the largest of 64, 128, 256 documents whose ids
#: stay within AUTO_BATCH_IDS a step, keeping AUTO_BATCH_MIN_STEPS steps an epoch (see
#: studio.engine.train.recipe).
AUTO_BATCH_SIZES = (64, 128, 256)
AUTO_BATCH_IDS = 40_000
AUTO_BATCH_MIN_STEPS = 128
Optimizer = Literal["adamw", "adam", "sgd"]
TableOptimizer = Literal["adagrad", "same"]
Schedule = Literal["constant", "linear", "cosine"]
Preset = Literal["default", "seed", "custom"]
ModelKind = Literal["auto", "embedding", "linear"]
#: ``train.class_weights``: a mode, or (label, weight) pairs sorted by label (a TOML table).
ClassWeights = str | tuple[tuple[str, float], ...]
CLASS_WEIGHT_MODES = ("none", "balanced")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(name, f"must be between {low:g} and {high:g}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}; got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """Where the data is and how to read and split it."""

    path: str = ""
    format: DataFormat = "auto"
    text_column: str | None = None
    label_column: str | None = None
    label_delimiter: str | None = None
    encoding: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    valid_fraction: float = 0.1
    test_fraction: float = 0.1
    split_seed: int = 0

    def __post_init__(self) -> None:
        _check_choice("data.format", self.format, typing.get_args(DataFormat))
        _check_range("data.valid_fraction", self.valid_fraction, 0.0, 0.5)
        _check_range("data.test_fraction", self.test_fraction, 0.0, 0.5)
        if self.valid_path is None and self.valid_fraction == 0.0:
            raise ConfigError("data.valid_fraction", "must be above 0 when no valid_path is given")
        if self.label_delimiter == "":
            raise ConfigError("data.label_delimiter", "must be a non-empty string or left out")


@dataclass(frozen=True)
class TokenizerConfig:
    """How text becomes token ids."""

    kind: TokenizerKind = "words"
    vocab_size: int = 20_000
    min_freq: int = 1
    lowercase: bool = True
    ngram_buckets: int = 200_000
    char_ngrams: CharNgrams = "auto"
    """``(minn, maxn)``: hashed character n-grams of each word, fastText's subwords; ``(0, 0)``
    none. ``"auto"``: chosen per dataset when training starts (short or spaceless text gets
    them, see :mod:`studio.engine.train.recipe`); the run's config records the choice."""
    char_buckets: int = 500_000

    def char_range(self, median_tokens: float, spaceless: bool = False) -> tuple[int, int]:
        """The n-gram range for data with this median length (tokens per document) and
        script: the pair itself, or what ``"auto"`` means there (see
        :mod:`studio.engine.train.recipe`)."""
        if self.char_ngrams != "auto":
            return self.char_ngrams
        if self.kind != "words":
            return (0, 0)
        if spaceless:
            return AUTO_SPACELESS_NGRAMS
        return AUTO_SHORT_NGRAMS if median_tokens <= AUTO_SHORT_TOKENS else (0, 0)

    def __post_init__(self) -> None:
        _check_choice("tokenizer.kind", self.kind, typing.get_args(TokenizerKind))
        object.__setattr__(self, "char_ngrams", _char_ngrams(self.char_ngrams))
        _check_range("tokenizer.char_buckets", self.char_buckets, 1, 50_000_000)
        if self.char_ngrams != "auto" and self.char_ngrams[0] and self.kind != "words":
            raise ConfigError(
                "tokenizer.char_ngrams", 'needs tokenizer.kind = "words" (BPE pieces are subwords)'
            )
        _check_range("tokenizer.vocab_size", self.vocab_size, 3, 5_000_000)
        _check_range("tokenizer.min_freq", self.min_freq, 1, 1_000_000)
        _check_range("tokenizer.ngram_buckets", self.ngram_buckets, 0, 50_000_000)


def _char_ngrams(value: object) -> CharNgrams:
    """``tokenizer.char_ngrams`` checked: ``"auto"``, ``(0, 0)`` (off) or
    ``1 <= minn <= maxn <= 12``."""
    name = "tokenizer.char_ngrams"
    if value == 0:
        return (0, 0)
    if value == "auto":
        return "auto"
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise ConfigError(name, f'must be [minn, maxn], 0 for off or "auto"; got {value!r}')
    minn, maxn = int(value[0]), int(value[1])  # type: ignore[index]
    if (minn, maxn) != (0, 0) and not 1 <= minn <= maxn <= 12:
        raise ConfigError(name, f"needs 1 <= minn <= maxn <= 12 (or [0, 0] for off), got {value!r}")
    return (minn, maxn)


@dataclass(frozen=True)
class ModelConfig:
    """The network: embedding table -> pooling -> hidden layers -> output."""

    preset: Preset = "default"
    kind: ModelKind = "auto"  # "embedding", "linear", or both and the better (engine.train.linear)
    embed_dim: int = 64
    pooling: Pooling = "mean"
    weighting: Weighting = "none"
    """``"idf"``: mean/sum pooling weighs each row by its inverse document frequency."""
    hidden: tuple[int, ...] = ()
    dropout: float = 0.0
    pretrained_vectors: str | None = None
    freeze_embeddings: bool = False
    linear_c: float = 0.5
    """The linear model's inverse regularisation (liblinear's ``C``; ``kind`` auto or linear):
    smaller is smoother. The tuner searches it."""

    def __post_init__(self) -> None:
        _check_choice("model.preset", self.preset, typing.get_args(Preset))
        _check_choice("model.kind", self.kind, typing.get_args(ModelKind))
        _check_range("model.embed_dim", self.embed_dim, 1, 4096)
        _check_choice("model.pooling", self.pooling, typing.get_args(Pooling))
        _check_choice("model.weighting", self.weighting, typing.get_args(Weighting))
        if self.weighting != "none" and self.pooling == "max":
            raise ConfigError("model.weighting", "needs a weighted pooling (max has no weights)")
        if len(self.hidden) > 8:
            raise ConfigError("model.hidden", f"at most 8 hidden layers, got {len(self.hidden)}")
        for width in self.hidden:
            _check_range("model.hidden", width, 1, 65_536)
        _check_range("model.dropout", self.dropout, 0.0, 0.95)
        _check_range("model.linear_c", self.linear_c, 1e-4, 1e4)


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation loop."""

    epochs: int = 5
    batch_size: int = 0  # documents per step; 0 = by the data (AUTO_BATCH_SIZES)
    lr: float = 0.02
    optimizer: Optimizer = "adamw"
    table_optimizer: TableOptimizer = "adagrad"
    table_lr: float = 0.5
    weight_decay: float = 0.0
    schedule: Schedule = "linear"
    grad_clip: float = 0.0
    early_stopping_patience: int = 0
    seed: int = 0
    log_every: int = 0
    tensorboard: bool = False  # also write TensorBoard event files to <run>/tensorboard
    class_weights: ClassWeights = "none"
    """How much each class's training documents count in the training loss.

    ``"none"``: all alike. ``"balanced"``: ``n_samples / (n_classes * count_c)`` on the
    training split (scikit-learn's ``class_weight="balanced"``); for multi-label and binary
    (one sigmoid output) models, ``pos_weight`` = negatives / positives of each label. A
    table ``{label = weight}`` gives some labels a weight (> 0); the others weigh 1. Only
    the training loss is weighted: the validation loss (early stopping, the curves) is not,
    so runs with different weights stay comparable.
    """

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_weights", _class_weights(self.class_weights))
        _check_range("train.epochs", self.epochs, 1, 10_000)
        _check_range("train.batch_size", self.batch_size, 0, 1_048_576)
        if isinstance(self.lr, bool) or not 0.0 < self.lr <= 100.0:
            raise ConfigError("train.lr", f"must be above 0 and at most 100, got {self.lr!r}")
        _check_choice("train.optimizer", self.optimizer, typing.get_args(Optimizer))
        _check_choice(
            "train.table_optimizer", self.table_optimizer, typing.get_args(TableOptimizer)
        )
        if isinstance(self.table_lr, bool) or not 0.0 < self.table_lr <= 1000.0:
            raise ConfigError(
                "train.table_lr", f"must be above 0 and at most 1000, got {self.table_lr!r}"
            )
        _check_range("train.weight_decay", self.weight_decay, 0.0, 1.0)
        _check_choice("train.schedule", self.schedule, typing.get_args(Schedule))
        _check_range("train.grad_clip", self.grad_clip, 0.0, 1e6)
        _check_range("train.early_stopping_patience", self.early_stopping_patience, 0, 10_000)
        _check_range("train.seed", self.seed, 0, 2**63 - 1)
        _check_range("train.log_every", self.log_every, 0, 1_000_000)


def _class_weights(value: object) -> ClassWeights:
    """``train.class_weights`` checked: a mode, or sorted (label, weight) pairs."""
    name = "train.class_weights"
    allowed = 'must be "none", "balanced" or a table {label = weight}'
    if isinstance(value, str):
        if value not in CLASS_WEIGHT_MODES:
            raise ConfigError(name, f"{allowed}; got {value!r}")
        return value
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, tuple | list) and all(
        isinstance(p, tuple | list) and len(p) == 2 for p in value
    ):
        pairs = [(p[0], p[1]) for p in value]
    else:
        raise ConfigError(name, f"{allowed}; got {value!r}")
    if not pairs:
        raise ConfigError(name, 'the table is empty; use "none" for no weights')
    weights: dict[str, float] = {}
    for label, weight in pairs:
        if not isinstance(label, str) or not label or label in weights:
            raise ConfigError(name, f"labels must be distinct non-empty strings, got {label!r}")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight <= 0
        ):
            raise ConfigError(
                name, f"the weight of {label!r} must be a finite number above 0, got {weight!r}"
            )
        weights[label] = float(weight)
    return tuple(sorted(weights.items()))


@dataclass(frozen=True)
class DeviceConfig:
    """Where training runs. ``device`` is ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""

    device: str = "cpu"
    amp: bool = True
    threads: int = 0
    compile: bool = False  # torch.compile the dense layers (helps on GPUs; off by default)
    # training threads that update one shared table without locks (Hogwild, fastText's
    # -thread); 0 = auto (see studio.engine.train.hogwild.hogwild_threads), 1 = one thread,
    # and bit-identical runs for a seed
    workers: int = 0

    def __post_init__(self) -> None:
        name = self.device
        ok = name in ("auto", "cpu", "cuda", "mps") or (
            name.startswith("cuda:") and name[5:].isdigit()
        )
        if not ok:
            raise ConfigError(
                "device.device", f"must be auto, cpu, cuda, cuda:N or mps; got {name!r}"
            )
        _check_range("device.threads", self.threads, 0, 1024)
        _check_range("device.workers", self.workers, 0, 256)


@dataclass(frozen=True)
class StudioConfig:
    """Everything a run needs, in five sections."""

    data: DataConfig = field(default_factory=DataConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    device: DeviceConfig = field(default_factory=DeviceConfig)

    def with_overrides(self, **sections: Mapping[str, Any]) -> StudioConfig:
        """A copy with some keys changed, e.g. ``with_overrides(train={"epochs": 2})``."""
        changed: dict[str, Any] = {}
        for name, values in sections.items():
            if name not in _SECTIONS:
                raise ConfigError(name, f"unknown section; expected one of {', '.join(_SECTIONS)}")
            current = getattr(self, name)
            changed[name] = _build_section(name, {**_section_to_dict(current), **values})
        return replace(self, **changed)


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "tokenizer": TokenizerConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "device": DeviceConfig,
}
#: Keys whose value may be a TOML table (kept as sorted (key, value) pairs; checked by the
#: section itself).
_TABLE_KEYS = frozenset({"train.class_weights"})

#: The bundled sample dataset (excerpts of Debian's manual pages, labelled by section).
SAMPLE_DATASET = Path(__file__).resolve().parent.parent / "resources" / "manpages" / "manpages.tsv"
#: The bundled interactions dataset (recommendation): Debian packages and their dependencies.
SAMPLE_INTERACTIONS = SAMPLE_DATASET.parent.parent / "debian-depends" / "depends.tsv"
#: Its text and label columns.
SAMPLE_TEXT_COLUMN = "text"
SAMPLE_LABEL_COLUMN = "section"
#: The data section that trains on it (``studio train`` and ``studio bench`` without DATA).
SAMPLE_DATA = DataConfig(
    path=str(SAMPLE_DATASET), text_column=SAMPLE_TEXT_COLUMN, label_column=SAMPLE_LABEL_COLUMN
)

SEED_PRESET: dict[str, dict[str, Any]] = {
    "tokenizer": {"kind": "words", "vocab_size": 10_000, "ngram_buckets": 0},
    "model": {"preset": "seed", "kind": "embedding", "embed_dim": 128, "hidden": (128,)},
    "train": {
        "batch_size": 32,
        "optimizer": "adam",
        "table_optimizer": "same",
        "lr": 0.001,
        "schedule": "constant",
    },
}
"""The architecture of the Keras notebook this project grew from:
Embedding(10000, 128) -> GlobalAveragePooling1D -> Dense(128, relu) -> Dense(classes)."""


def apply_preset(config: StudioConfig, preset: str) -> StudioConfig:
    """Return ``config`` with the named preset's settings applied."""
    if preset == "seed":
        return config.with_overrides(**SEED_PRESET)
    if preset in ("default", "custom"):
        return config.with_overrides(model={"preset": preset})
    raise ConfigError("model.preset", f"must be one of default, seed, custom; got {preset!r}")


def _expected_types(hint: Any) -> tuple[type, ...]:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return tuple({type(a) for a in typing.get_args(hint)})
    if origin in (typing.Union, types.UnionType):
        return tuple(t for a in typing.get_args(hint) for t in _expected_types(a))
    if origin is tuple:
        return (tuple, list)
    if hint is float:
        return (float, int)
    return (hint,)


def _build_section(name: str, values: Mapping[str, Any], path: str | None = None) -> Any:
    cls = _SECTIONS[name]
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{name}.{key}"
        if key not in known:
            raise ConfigError(
                where, f"unknown key; expected one of {', '.join(sorted(known))}", path=path
            )
        if where in _TABLE_KEYS:
            kwargs[key] = value
            continue
        expected = _expected_types(hints[key])
        if value is None and type(None) in expected:
            kwargs[key] = None
            continue
        if isinstance(value, bool) and bool not in expected:
            raise ConfigError(where, f"expected {_type_names(expected)}, got {value!r}", path=path)
        if not isinstance(value, expected):
            raise ConfigError(where, f"expected {_type_names(expected)}, got {value!r}", path=path)
        if isinstance(value, list):
            value = tuple(value)
        if float in expected and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(exc.field, exc.message, path=path) from None


def _type_names(types_: tuple[type, ...]) -> str:
    names = sorted({"null" if t is type(None) else t.__name__ for t in types_})
    return " or ".join(names)


def _section_to_dict(section: Any) -> dict[str, Any]:
    return {f.name: getattr(section, f.name) for f in fields(section)}


def config_from_dict(raw: Mapping[str, Any], path: str | None = None) -> StudioConfig:
    """Build a validated config from nested mappings (as read from TOML)."""
    sections: dict[str, Any] = {}
    for name, values in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(
                name, f"unknown section; expected one of {', '.join(_SECTIONS)}", path=path
            )
        if not isinstance(values, Mapping):
            raise ConfigError(name, "must be a table of keys", path=path)
        sections[name] = _build_section(name, values, path)
    return StudioConfig(**sections)


def config_to_dict(config: StudioConfig) -> dict[str, dict[str, Any]]:
    """Nested plain dict; ``None`` values are left out (TOML has no null)."""
    out: dict[str, dict[str, Any]] = {}
    for name in _SECTIONS:
        section = _section_to_dict(getattr(config, name))
        out[name] = {k: _plain(f"{name}.{k}", v) for k, v in section.items() if v is not None}
    return out


def _plain(where: str, value: Any) -> Any:
    """A value as TOML writes it: a table for ``_TABLE_KEYS`` pairs, a list for a tuple."""
    if isinstance(value, tuple):
        return dict(value) if where in _TABLE_KEYS else list(value)
    return value


def load_config(path: str | Path) -> StudioConfig:
    """Read a TOML config file. Errors name the file and the field or TOML line."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config", "file not found", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config", f"cannot read: {exc}", path=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"not valid TOML: {exc}", path=str(p)) from None
    return config_from_dict(raw, path=str(p))


def load_config_text(text: str, path: str | None = None) -> StudioConfig:
    """Parse TOML text (as saved by the window in its settings)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"not valid TOML: {exc}", path=path) from None
    return config_from_dict(raw, path=path)


def dumps_config(config: StudioConfig) -> str:
    """The config as TOML text."""
    return tomli_w.dumps(config_to_dict(config))


def save_config(config: StudioConfig, path: str | Path) -> None:
    """Write the config as TOML (atomically: temp file then rename)."""
    from studio.engine.atomic import write_text_atomic

    write_text_atomic(Path(path), dumps_config(config))


__all__ = [
    "CLASS_WEIGHT_MODES",
    "SEED_PRESET",
    "CharNgrams",
    "ClassWeights",
    "ConfigError",
    "DataConfig",
    "DeviceConfig",
    "ModelConfig",
    "StudioConfig",
    "TokenizerConfig",
    "TrainConfig",
    "apply_preset",
    "config_from_dict",
    "config_to_dict",
    "dumps_config",
    "load_config",
    "load_config_text",
    "save_config",
]
