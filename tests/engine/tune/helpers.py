"""Small studies for the tuner's tests: a tiny search space and a fast base config."""

from __future__ import annotations

from pathlib import Path

from studio.config import StudioConfig
from studio.engine.tune.space import Param

#: two epochs at most and small tables, so a trial on the topics CSV takes about a second
TINY_SPACE: tuple[Param, ...] = (
    Param("train.table_lr", "float", 0.1, 1.0, log=True),
    Param("train.lr", "float", 0.005, 0.05, log=True),
    Param("model.embed_dim", "choice", choices=(8, 16)),
    Param("tokenizer.ngram_buckets", "choice", choices=(0, 1000)),
    Param("train.epochs", "int", 1, 2),
)


def tiny_base(data: Path, **train: object) -> StudioConfig:
    """A fast config every trial of a test study starts from."""
    return StudioConfig().with_overrides(
        data={"path": str(data)},
        tokenizer={"ngram_buckets": 0, "vocab_size": 200},
        model={"embed_dim": 16},
        train={"epochs": 2, "batch_size": 64, **train},
        device={"threads": 1},  # on a loaded machine, one thread is the fastest
    )
