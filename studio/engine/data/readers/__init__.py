"""Dataset readers: CSV, TSV, JSON Lines, fastText, a folder of class folders, and Parquet.

``read_dataset`` turns any of them into a :class:`RawDataset`; ``iter_chunks`` reads a CSV,
TSV, JSON Lines or fastText file of any size in chunks of documents. Every problem with the
input is raised as :class:`studio.errors.DatasetError` naming the file, line, column or
byte offset; no other exception escapes for bad input.
"""

from __future__ import annotations

from pathlib import Path

from studio.errors import DatasetError

from ._columns import detect_columns
from ._csv import iter_lines as csv_lines
from ._csv import raise_field_limit, read_csv, sniff_delimiter, tsv_is_quoted
from ._detect import FORMATS, detect_format, resolve_format
from ._fasttext import PREFIX as FASTTEXT_PREFIX
from ._fasttext import read_fasttext
from ._folder import class_files, read_folder
from ._jsonl import jsonl_cell, read_jsonl
from ._parquet import parquet_cell, read_parquet
from ._stream import CHUNK_CHARS, CHUNK_DOCS, STREAM_FORMATS, Chunk, iter_chunks
from ._text import codec_name, read_bytes, read_text
from ._types import RawDataset

__all__ = [
    "CHUNK_CHARS",
    "CHUNK_DOCS",
    "FASTTEXT_PREFIX",
    "FORMATS",
    "STREAM_FORMATS",
    "Chunk",
    "RawDataset",
    "class_files",
    "codec_name",
    "csv_lines",
    "detect_columns",
    "detect_format",
    "iter_chunks",
    "jsonl_cell",
    "parquet_cell",
    "raise_field_limit",
    "read_bytes",
    "read_dataset",
    "resolve_format",
    "sniff_delimiter",
    "tsv_is_quoted",
]


def read_dataset(
    path: str | Path,
    *,
    format: str = "auto",
    text_column: str | None = None,
    label_column: str | None = None,
    label_delimiter: str | None = None,
    encoding: str | None = None,
) -> RawDataset:
    """Read a dataset file or folder.

    ``format`` is "auto" or one of FORMATS. Columns left as None are detected.
    ``label_delimiter`` makes the data multi-label (label cells split on it); ``encoding``
    None means UTF-8 with an optional BOM. Raises DatasetError for any bad input.
    """
    path = Path(path)
    fmt = resolve_format(path, format, encoding)
    delimiter = label_delimiter or None
    if fmt == "folder":
        return read_folder(path, encoding)
    if fmt == "parquet":
        if read_bytes(path, 4) != b"PAR1":
            raise DatasetError("not a Parquet file (it does not start with 'PAR1')", path=path)
        return read_parquet(
            path, text_column=text_column, label_column=label_column, label_delimiter=delimiter
        )
    text = read_text(path, encoding)
    if fmt == "fasttext":
        return read_fasttext(path, text)
    if fmt == "jsonl":
        return read_jsonl(
            path,
            text,
            text_column=text_column,
            label_column=label_column,
            label_delimiter=delimiter,
        )
    return read_csv(
        path,
        text,
        tsv=fmt == "tsv",
        text_column=text_column,
        label_column=label_column,
        label_delimiter=delimiter,
    )
