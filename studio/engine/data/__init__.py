"""Data: from the user's file to the flat id arrays the trainer reads.

Owns the readers (CSV, TSV, JSON Lines, fastText, class folders, Parquet), column
detection and sampling a file's first rows (:mod:`.sample`), tokenizers, the text encoder,
id encoding (words, hashed bigrams), preparation in memory and streamed, the on-disk cache
of prepared datasets, splits and statistics. For recommendation: interaction files
(:mod:`.interactions`, read by pyarrow when it gives the same result:
:mod:`.fast_interactions`), their memory-mapped cache (:mod:`.interaction_cache`, with the
ids as flat :mod:`.names`), per-user splits (:mod:`.interaction_split`) and item texts.
Imports nothing from the other engine groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "Cancelled": "dataset",
    "ColumnInfo": "sample",
    "inspect_columns": "sample",
    "PreparedDataset": "dataset",
    "prepare_dataset": "prepare",
    "RawDataset": "readers",
    "read_dataset": "readers",
    "TextEncoder": "text_encoder",
}
__all__ = [
    "Cancelled",
    "ColumnInfo",
    "PreparedDataset",
    "RawDataset",
    "TextEncoder",
    "inspect_columns",
    "prepare_dataset",
    "read_dataset",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.data.dataset import Cancelled, PreparedDataset
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.data.readers import RawDataset, read_dataset
    from studio.engine.data.sample import ColumnInfo, inspect_columns
    from studio.engine.data.text_encoder import TextEncoder
