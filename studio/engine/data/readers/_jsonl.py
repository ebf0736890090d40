"""JSON Lines: one JSON object per line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from studio.errors import DatasetError

from ._columns import detect_columns
from ._common import Documents, LabelParser, Row, collect
from ._text import iter_lines
from ._types import RawDataset

SAMPLE_ROWS = 1000
_KINDS = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}


def _objects(lines: Iterable[tuple[int, str]], path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for every numbered non-blank line."""
    for line, raw in lines:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            hint = "; expected one JSON object per line" if raw.strip() == "[" else ""
            raise DatasetError(
                f"invalid JSON: {exc.msg}{hint}", path=path, line=line, column=exc.colno
            ) from None
        except (ValueError, RecursionError) as exc:
            raise DatasetError(f"invalid JSON: {exc}", path=path, line=line) from None
        if not isinstance(value, dict):
            kind = _KINDS.get(type(value), "a number")
            raise DatasetError(
                f"expected a JSON object, found {kind} (one object per line)", path=path, line=line
            )
        yield line, value


def scalar_text(value: object) -> str | None:
    """A label or text scalar as a string (JSON spelling for booleans); None if not a scalar."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None


def label_of(
    value: object, parser: LabelParser, path: Path, line: int, column: str
) -> tuple[tuple[str, ...], bool]:
    """Return ``(labels, is_list)`` for a label value, or raise DatasetError."""
    if isinstance(value, (list, tuple)):
        cells = [scalar_text(item) for item in value]
        if any(cell is None for cell in cells):
            raise DatasetError(
                "a label list may only hold strings, numbers or booleans",
                path=path,
                line=line,
                column=column,
            )
        labels = parser.parse_many([cell for cell in cells if cell is not None])
        return labels, True
    cell = scalar_text(value)
    if cell is None and value is not None:
        raise DatasetError(
            "a label must be a string, number, boolean or a list of those",
            path=path,
            line=line,
            column=column,
        )
    return parser.parse(cell or ""), False


def text_of(value: object, path: Path, line: int, column: str) -> str:
    """Return a text value as a string (null counts as empty text)."""
    if value is None:
        return ""
    cell = scalar_text(value)
    if cell is None:
        raise DatasetError("the text must be a string", path=path, line=line, column=column)
    return cell


def jsonl_cell(value: object) -> str:
    """A JSON value as one table cell: "" for null, strings as they are, else JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def jsonl_documents(
    path: Path,
    lines: Iterable[tuple[int, str]],
    *,
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
) -> Documents:
    """Parse a sample now (columns chosen), the rows lazily, from numbered non-blank lines."""
    objects = _objects(lines, path)
    sample: list[tuple[int, dict[str, Any]]] = []
    for item in objects:
        sample.append(item)
        if len(sample) >= SAMPLE_ROWS:
            break
    names = list(dict.fromkeys(key for _, obj in sample for key in obj))
    rows = [[jsonl_cell(obj.get(name)) for name in names] for _, obj in sample]
    text_key, label_key = detect_columns(
        names, rows, text_column=text_column, label_column=label_column, path=path
    )
    parser = LabelParser(label_delimiter)
    docs = Documents("jsonl", text_column=text_key, label_column=label_key)
    docs.multi_label = label_delimiter is not None

    def parsed() -> Iterator[Row]:
        for chunk in (sample, objects):
            for line, obj in chunk:
                for key in (text_key, label_key):
                    if key not in obj:
                        raise DatasetError(f"missing key {key!r}", path=path, line=line, column=key)
                found, is_list = label_of(obj[label_key], parser, path, line, label_key)
                if not found:
                    raise DatasetError("empty label", path=path, line=line, column=label_key)
                docs.multi_label = docs.multi_label or is_list
                yield line, text_of(obj[text_key], path, line, text_key), found

    docs.rows = parsed()
    return docs


def read_jsonl(
    path: Path,
    text: str,
    *,
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
) -> RawDataset:
    """Read JSON Lines text."""
    if not text.strip():
        raise DatasetError("the file is empty", path=path)
    docs = jsonl_documents(
        path,
        iter_lines(text),
        text_column=text_column,
        label_column=label_column,
        label_delimiter=label_delimiter,
    )
    return collect(path, docs)
