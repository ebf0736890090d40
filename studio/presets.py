"""Which preset a config is: the Setup page's preset box reads it from the values."""

from __future__ import annotations

from typing import Any, Final

from studio.config import StudioConfig, apply_preset

__all__ = ["PRESET_KEYS", "matching_preset"]

#: The settings a preset decides (section, key): the Setup page's preset reads the name of
#: the preset whose values these all equal, and "custom" once one differs.
PRESET_KEYS: Final = (
    ("tokenizer", "kind"), ("tokenizer", "vocab_size"), ("tokenizer", "ngram_buckets"),
    ("tokenizer", "char_ngrams"), ("tokenizer", "char_buckets"), ("model", "kind"),
    ("model", "embed_dim"),
    ("model", "hidden"), ("model", "pooling"), ("model", "weighting"), ("train", "epochs"),
    ("train", "batch_size"), ("train", "lr"), ("train", "optimizer"), ("train", "schedule"),
    # no field on the page, but a loaded (tuned) setup may set them
    ("model", "dropout"), ("model", "linear_c"), ("train", "table_lr"),
    ("train", "weight_decay"),
)  # fmt: skip


def matching_preset(config: StudioConfig) -> str:
    """``"default"`` or ``"seed"`` when every :data:`PRESET_KEYS` setting of ``config``
    equals that preset's, else ``"custom"``."""

    def values(c: StudioConfig) -> tuple[Any, ...]:
        return tuple(getattr(getattr(c, section), key) for section, key in PRESET_KEYS)

    mine = values(config)
    for name in ("default", "seed"):
        if values(apply_preset(StudioConfig(), name)) == mine:
            return name
    return "custom"
