"""A dataset's columns from its first rows: cheap enough to fill column pickers at once.

:func:`inspect_columns` reads only the start of a file (the first ``HEAD_BYTES`` of a text
file, the first ``SAMPLE_ROWS`` rows of a Parquet file), lists its columns and guesses the
text and label columns the way the readers would; the full read (``read_dataset``) then
reports whatever is wrong further down. No torch, no numpy.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.data.readers import (
    FORMATS,
    codec_name,
    detect_columns,
    detect_format,
    jsonl_cell,
    parquet_cell,
    raise_field_limit,
    read_bytes,
    sniff_delimiter,
    tsv_is_quoted,
)
from studio.errors import DatasetError

__all__ = [
    "HEAD_BYTES",
    "NO_COLUMNS",
    "SAMPLE_ROWS",
    "ColumnInfo",
    "head_text",
    "inspect_columns",
    "jsonl_sample",
    "parquet_sample",
    "table_sample",
]

#: Bytes read from the start of a text file to list its columns.
HEAD_BYTES = 1 << 20
#: Rows (CSV/TSV/Parquet) or objects (JSON Lines) sampled to list and detect columns.
SAMPLE_ROWS = 1000
#: Formats without named columns.
NO_COLUMNS = ("fasttext", "folder")

Sample = tuple[list[str], list[list[str]]]
"""Column names and the sampled rows, one text cell per column."""


@dataclass(frozen=True)
class ColumnInfo:
    """The columns a dataset offers and the ones the readers would pick by themselves."""

    path: str
    format: str
    columns: tuple[str, ...]
    text_column: str | None = None
    label_column: str | None = None


def head_text(path: Path, encoding: str | None, limit: int = HEAD_BYTES) -> tuple[str, bool]:
    """Return the decoded first ``limit`` bytes of a file and whether the file is longer."""
    data = read_bytes(path, limit + 1)
    truncated = len(data) > limit
    data = data[:limit]
    codec = "utf-8" if encoding is None else codec_name(encoding, path)
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    text = decoder.decode(data, final=not truncated)
    return text.removeprefix("\ufeff"), truncated


def table_sample(text: str, truncated: bool, tsv: bool) -> Sample:
    """Header and sample rows of CSV/TSV text (the last row is dropped if it may be cut).

    TSV is read with quote processing only when :func:`tsv_is_quoted`, as the readers do.
    """
    delimiter = "\t" if tsv else (sniff_delimiter(text) or ",")
    quoted = not tsv or tsv_is_quoted(text, truncated)
    raise_field_limit()
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
    )
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) > SAMPLE_ROWS + 1:
                break
    except csv.Error:
        truncated = True  # keep what parsed cleanly; the full read reports the real error
    if truncated and len(rows) > 1:
        rows.pop()
    if not rows:
        return [], []
    return [name.strip() for name in rows[0]], rows[1 : SAMPLE_ROWS + 1]


def jsonl_sample(text: str, truncated: bool) -> Sample:
    """Keys and sample rows of the first JSON Lines objects."""
    lines = [line for line in text.split("\n") if line.strip()]
    if truncated and lines:
        lines.pop()
    objects: list[dict[str, Any]] = []
    for line in lines[:SAMPLE_ROWS]:
        try:
            value = json.loads(line)
        except ValueError:
            break  # the full read names the bad line
        if not isinstance(value, dict):
            break
        objects.append(value)
    names = list(dict.fromkeys(key for obj in objects for key in obj))
    return names, [[jsonl_cell(obj.get(name)) for name in names] for obj in objects]


def parquet_sample(path: Path) -> Sample:
    """Schema names and the first rows of a Parquet file."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs the 'pyarrow' package", path=path) from None
    try:
        parquet = pq.ParquetFile(path)
        names = [str(name) for name in parquet.schema_arrow.names]
        batch = next(parquet.iter_batches(batch_size=SAMPLE_ROWS), None)
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DatasetError(f"not a readable Parquet file ({detail})", path=path) from None
    if batch is None:
        return names, []
    columns = batch.to_pydict()
    rows = [[parquet_cell(v) for v in values] for values in zip(*columns.values(), strict=True)]
    return names, rows


def inspect_columns(
    path: str | Path, format: str = "auto", encoding: str | None = None
) -> ColumnInfo:
    """List a dataset's columns cheaply and guess its text and label columns.

    Reads only the start of the file (the header of CSV/TSV, the keys of the first
    ``SAMPLE_ROWS`` JSON objects, the Parquet schema). fastText files and folders have no
    columns. Raises DatasetError when the file cannot be opened or its format not told.
    """
    path = Path(path)
    fmt = format.strip().lower()
    if fmt != "auto" and fmt not in FORMATS:
        raise DatasetError(f"unknown format {format!r}", path=path)
    if fmt == "auto":
        fmt = detect_format(path, encoding=encoding)
    if fmt in NO_COLUMNS or path.is_dir():
        return ColumnInfo(str(path), fmt, ())
    if fmt == "parquet":
        if read_bytes(path, 4) != b"PAR1":
            raise DatasetError("not a Parquet file (it does not start with 'PAR1')", path=path)
        names, rows = parquet_sample(path)
    else:
        text, truncated = head_text(path, encoding)
        if fmt == "jsonl":
            names, rows = jsonl_sample(text, truncated)
        else:
            names, rows = table_sample(text, truncated, tsv=fmt == "tsv")
    text_column: str | None = None
    label_column: str | None = None
    with contextlib.suppress(DatasetError):  # no guess: the full read reports why
        text_column, label_column = detect_columns(names, rows, path=path)
    return ColumnInfo(str(path), fmt, tuple(names), text_column, label_column)
