"""Parquet: one document per row (pyarrow is imported only when a Parquet file is read)."""

from __future__ import annotations

from pathlib import Path

from studio.errors import DatasetError

from ._columns import check_unique, detect_columns
from ._common import LabelParser, finish
from ._jsonl import label_of, scalar_text, text_of
from ._types import RawDataset

SAMPLE_ROWS = 1000


def parquet_cell(value: object) -> str:
    """A Parquet value as one table cell: "" for null, scalars as text, else ``str``."""
    if value is None:
        return ""
    cell = scalar_text(value)
    return cell if cell is not None else str(value)


def read_parquet(
    path: Path,
    *,
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
) -> RawDataset:
    """Read a Parquet file; ``lines[i]`` is the 1-based row number."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs the 'pyarrow' package", path=path) from None
    failures = (pa.ArrowException, OSError, ValueError, TypeError)
    try:
        table = pq.read_table(path)
    except failures as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DatasetError(f"not a readable Parquet file ({detail})", path=path) from None
    names = [str(name) for name in table.column_names]
    check_unique(names, path)
    head = table.slice(0, SAMPLE_ROWS).to_pydict()
    rows = [
        list(row) for row in zip(*([parquet_cell(v) for v in head[n]] for n in names), strict=True)
    ]
    text_name, label_name = detect_columns(
        names, rows, text_column=text_column, label_column=label_column, path=path
    )
    try:
        text_values = table.column(text_name).to_pylist()
        label_values = table.column(label_name).to_pylist()
    except failures as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DatasetError(f"cannot read the columns ({detail})", path=path) from None
    parser = LabelParser(label_delimiter)
    multi = label_delimiter is not None
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    for row, (text, value) in enumerate(zip(text_values, label_values, strict=True), 1):
        found, is_list = label_of(value, parser, path, row, label_name)
        if not found:
            raise DatasetError("empty label", path=path, line=row, column=label_name)
        multi = multi or is_list
        texts.append(text_of(text, path, row, text_name))
        labels.append(found)
    lines = list(range(1, len(texts) + 1))
    return finish(
        path,
        "parquet",
        texts,
        labels,
        lines,
        text_column=text_name,
        label_column=label_name,
        multi_label=multi,
    )
