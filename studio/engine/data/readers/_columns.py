"""Choosing the text and label columns of a table, by name or by looking at sample rows."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from studio.errors import DatasetError

TEXT_NAMES = (
    "text",
    "sentence",
    "review",
    "content",
    "body",
    "document",
    "description",
    "comment",
    "message",
)
LABEL_NAMES = (
    "label",
    "labels",
    "class",
    "category",
    "target",
    "section",
    "y",
    "sentiment",
    "tag",
    "tags",
)


def _listing(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


def check_unique(names: list[str], path: str | Path | None = None, line: int | None = None) -> None:
    """Raise DatasetError naming the first column name that appears twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DatasetError(
                f"duplicate column name {name!r}; rename one of them",
                path=path,
                line=line,
                column=name,
            )
        seen.add(name)


def _by_name(names: list[str], wanted: tuple[str, ...], exclude: set[str | None]) -> str | None:
    for name in names:
        if name not in exclude and name.strip().lower() in wanted:
            return name
    return None


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _column(rows: list[list[str]], index: int) -> list[str]:
    return [row[index] if index < len(row) else "" for row in rows]


def _longest(names: list[str], rows: list[list[str]], exclude: set[str | None]) -> str:
    """The string column with the longest mean length (numeric columns only as a last resort)."""
    best: tuple[bool, float, int] | None = None
    choice = ""
    for index, name in enumerate(names):
        if name in exclude:
            continue
        values = _column(rows, index)
        filled = [value for value in values if value.strip()]
        is_text = not filled or not all(_is_number(value) for value in filled)
        mean = sum(len(value) for value in values) / len(values) if values else 0.0
        key = (is_text, mean, -index)
        if best is None or key > best:
            best, choice = key, name
    return choice


def _fewest_distinct(names: list[str], rows: list[list[str]], exclude: set[str | None]) -> str:
    """The column with the fewest distinct values above one (the first column if none has two)."""
    candidates = [(i, name) for i, name in enumerate(names) if name not in exclude]
    best: tuple[int, int] | None = None
    choice = candidates[0][1]
    for index, name in candidates:
        count = len({value.strip() for value in _column(rows, index)})
        if count > 1 and (best is None or (count, index) < best):
            best, choice = (count, index), name
    return choice


def detect_columns(
    names: list[str],
    rows: list[list[str]],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    path: str | Path | None = None,
) -> tuple[str, str]:
    """Return ``(text_column, label_column)`` for a table with these column names.

    ``rows`` is a sample of the table's rows as strings (may be empty). Columns passed
    explicitly are checked and kept; the others are chosen by name, else by content: the
    text is the string column with the longest mean length, the label the remaining column
    with the fewest distinct values.
    """
    for given in (text_column, label_column):
        if given is not None and given not in names:
            raise DatasetError(
                f"column {given!r} not found; available columns: {_listing(names)}",
                path=path,
                column=given,
            )
    if text_column is not None and text_column == label_column:
        raise DatasetError(
            "the text column and the label column must differ", path=path, column=text_column
        )
    if len(names) < 2:
        raise DatasetError(
            f"need at least two columns (text and label), found {len(names)}: {_listing(names)}",
            path=path,
        )
    label = label_column
    if label is None:
        label = _by_name(names, LABEL_NAMES, {text_column})
    text = text_column
    if text is None:
        text = _by_name(names, TEXT_NAMES, {label})
    if text is None:
        text = _longest(names, rows, {label})
    if label is None:
        label = _fewest_distinct(names, rows, {text})
    return text, label
