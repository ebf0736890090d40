"""The Setup page's size and memory estimate: the engine's count for a config, in words.

:func:`estimate` is :func:`~studio.engine.train.memory.estimate_training_memory` (arithmetic,
no torch) with ``tokenizer.char_ngrams = "auto"`` settled for the loaded data as training
will settle it (:func:`~studio.engine.train.recipe.char_ngrams_for`), so the n-gram rows
"auto" adds for short or spaceless text are counted; :func:`estimate_text` says it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.config import StudioConfig
    from studio.ui.workers.device_selection import DeviceSelection

__all__ = ["estimate", "estimate_text", "human_bytes"]


def estimate(
    config: StudioConfig,
    n_labels: int,
    vocab_found: int | None,
    *,
    distributed: bool = False,
    text_shape: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Parameter count, bytes of the table, and what training holds (the engine's count).

    ``text_shape``: the data's median tokens per document and share of documents in scripts
    without spaces, which decide what ``"auto"`` n-grams add; None before any data (the
    engine's default length, and no n-grams).
    """
    from studio.engine.train.memory import DEFAULT_TOKENS_PER_DOC, estimate_training_memory
    from studio.engine.train.recipe import char_ngrams_for  # arithmetic, no torch

    tokens, share = text_shape or (float(DEFAULT_TOKENS_PER_DOC), 0.0)
    tok = replace(config.tokenizer, char_ngrams=char_ngrams_for(tokens, share, config.tokenizer))
    e = estimate_training_memory(
        replace(config, tokenizer=tok),
        vocab_found,
        n_labels,
        distributed=distributed,
        tokens_per_doc=tokens,
    )
    return {
        "parameters": float(e.parameters),
        "table_bytes": float(e.table_bytes),
        "training_bytes": float(e.training_bytes),  # weights, optimiser state, grads, a batch
    }


def human_bytes(n: float) -> str:
    """``812 B``, ``1.5 KiB``, ... ``3.2 TiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"


def estimate_text(e: dict[str, float], info: dict[str, Any], selection: DeviceSelection) -> str:
    """The estimate label's rich text: sizes, and whether training fits the chosen device
    (``info``: the device picker's entry for it)."""
    need = e["training_bytes"]
    free = info.get("free_memory")
    if free:
        fits = "fits" if need < 0.8 * free else "does NOT fit"
        each = f"each of {info['gpus']} GPUs ({info['name']})" if info.get("gpus") else ""
        where = f"{fits} in {human_bytes(free)} free on {each or info['name']}"
    elif selection.distributed:
        where = f"in each of {selection.nproc} {selection.device.upper()} processes"
    else:
        where = f"on {info.get('name', 'cpu')}"
    return (
        f"<b>{e['parameters']:,.0f}</b> parameters · table {human_bytes(e['table_bytes'])} · "
        f"training needs about {human_bytes(need)} "
        f"(weights, optimiser state, gradients, one batch) {where}"
    )
