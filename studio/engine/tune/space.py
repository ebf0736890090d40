"""The tuner's search space: one table of the config keys it varies, and how it applies them.

:data:`SPACE` is the whole space, one :class:`Param` a line; adding a setting to the search
is adding a line (its key is ``section.field`` of :class:`~studio.config.StudioConfig`).
Pure Python, no torch, numpy or Optuna: the window can list the space cheaply. A trial object
is anything with Optuna's ``suggest_float`` / ``suggest_int`` / ``suggest_categorical``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, Protocol

from studio.config import StudioConfig

__all__ = [
    "SPACE",
    "Param",
    "Suggester",
    "apply_params",
    "base_params",
    "space_for",
    "suggest",
    "value_of",
]

Kind = Literal["float", "int", "choice"]


class Suggester(Protocol):
    """What :func:`suggest` needs of a trial (an ``optuna.Trial`` is one)."""

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class Param:
    """One searched setting: ``key`` (``section.field``) and its range or choices."""

    key: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def short(self) -> str:
        """The field name alone (a column header)."""
        return self.field

    def including(self, value: Any) -> Param:
        """This parameter widened so that ``value`` (the base config's) is a point of it."""
        if self.kind == "choice":
            if value in self.choices:
                return self
            try:
                return replace(self, choices=tuple(sorted((*self.choices, value))))
            except TypeError:  # mixed kinds ("auto" and pairs): the base value goes last
                return replace(self, choices=(*self.choices, value))
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self
        if self.log and value <= 0:
            return self  # not a point of a log range: the base trial samples this one
        return replace(self, low=min(self.low, value), high=max(self.high, value))

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.choices
        return isinstance(value, int | float) and self.low <= value <= self.high

    def suggest(self, trial: Suggester) -> Any:
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)
        return self.decode(trial.suggest_categorical(self.key, [label(c) for c in self.choices]))

    def decode(self, value: Any) -> Any:
        """A stored value back as the config's: a choice's label (``"3-6"``) is its pair."""
        if self.kind == "choice" and isinstance(value, str):
            for choice in self.choices:
                if label(choice) == value:
                    return choice
        return value


def label(value: Any) -> Any:
    """How a choice is stored (Optuna keeps only plain scalars): a pair is ``"minn-maxn"``."""
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return value


def _float(key: str, low: float, high: float, *, log: bool = False) -> Param:
    return Param(key, "float", low, high, log=log)


def _int(key: str, low: int, high: int) -> Param:
    return Param(key, "int", low, high)


def _choice(key: str, *choices: Any) -> Param:
    return Param(key, "choice", choices=tuple(choices))


#: The parameters that matter, one a line. Ranges hold the defaults, so the base trial fits.
SPACE: tuple[Param, ...] = (
    _float("train.table_lr", 0.05, 5.0, log=True),  # the embedding table's row-wise Adagrad
    _float("train.lr", 1e-3, 0.1, log=True),  # the head's optimiser
    _choice("model.embed_dim", 32, 64, 128, 256),
    _choice("tokenizer.ngram_buckets", 0, 50_000, 200_000, 1_000_000),  # hashed bigram rows
    _choice("tokenizer.vocab_size", 10_000, 20_000, 50_000, 100_000, 200_000),
    _int("train.epochs", 1, 20),
    _choice("train.weight_decay", 0.0, 1e-5, 1e-4, 1e-3, 1e-2),
    _float("model.dropout", 0.0, 0.5),
    _choice("tokenizer.char_ngrams", "auto", (0, 0), (1, 4), (2, 5), (3, 6)),  # subwords
    _choice("model.weighting", "none", "idf"),
    _choice("model.kind", "auto", "embedding", "linear"),  # auto: both fitted, the better kept
    _float("model.linear_c", 0.05, 5.0, log=True),  # the linear model's C (auto and linear)
)


def value_of(config: StudioConfig, key: str) -> Any:
    """The value of ``section.field`` in ``config``."""
    section, name = key.split(".", 1)
    return getattr(getattr(config, section), name)


def space_for(base: StudioConfig, space: tuple[Param, ...] = SPACE) -> tuple[Param, ...]:
    """``space`` widened to hold the base config's values (so its trial is a point of it)."""
    return tuple(p.including(value_of(base, p.key)) for p in space)


def base_params(base: StudioConfig, space: tuple[Param, ...]) -> dict[str, Any]:
    """The base config's values of the searched parameters that are points of ``space``."""
    return {p.key: label(v) for p in space if p.contains(v := value_of(base, p.key))}


#: What :func:`shrink_to_fit` gives up first when a draw is over ``max_params``: hashed
#: bigram rows, then character n-grams, then width, then vocabulary.
SHRINK_ORDER: Final = (
    "tokenizer.ngram_buckets", "tokenizer.char_ngrams", "model.embed_dim",
    "tokenizer.vocab_size",
)  # fmt: skip


def shrink_to_fit(
    params: Mapping[str, Any], space: tuple[Param, ...], fits: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """The draw ``params`` made small enough that ``fits``: the parameters of
    :data:`SHRINK_ORDER` in turn, each to its largest smaller choice that fits (character
    n-grams: off), keeping every other value; None when even that does not fit."""
    out = dict(params)
    by_key = {p.key: p for p in space}
    for key in SHRINK_ORDER:
        param = by_key.get(key)
        if param is None or param.kind != "choice" or key not in out:
            continue
        if key == "tokenizer.char_ngrams":
            smaller = [(0, 0)] if (0, 0) in param.choices and out[key] != (0, 0) else []
        else:
            smaller = sorted((c for c in param.choices if c < out[key]), reverse=True)
        for choice in smaller:
            out[key] = choice
            if fits(out):
                return out
    return None


def suggest(trial: Suggester, space: tuple[Param, ...]) -> dict[str, Any]:
    """One value of every parameter, drawn by ``trial``, keyed by ``section.field``."""
    return {p.key: p.suggest(trial) for p in space}


def apply_params(config: StudioConfig, params: Mapping[str, Any]) -> StudioConfig:
    """``config`` with the trial's parameters (``section.field -> value``) set."""
    by_key = {p.key: p for p in SPACE}
    sections: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        section, name = key.split(".", 1)
        param = by_key.get(key)
        sections.setdefault(section, {})[name] = param.decode(value) if param else value
    return config.with_overrides(**sections)
