"""Helpers shared by the readers: label cells to tuples, and the final dataset checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.errors import DatasetError

from ._types import RawDataset


class LabelParser:
    """Turn label cells into label tuples, reusing one tuple per distinct cell to save memory."""

    def __init__(self, delimiter: str | None) -> None:
        self.delimiter = delimiter or None
        self._cache: dict[str, tuple[str, ...]] = {}

    def parse(self, cell: str) -> tuple[str, ...]:
        """Return the labels in ``cell``; an empty tuple when there are none."""
        labels = self._cache.get(cell)
        if labels is None:
            if self.delimiter is None:
                label = cell.strip()
                labels = (label,) if label else ()
            else:
                parts = (part.strip() for part in cell.split(self.delimiter))
                labels = tuple(dict.fromkeys(part for part in parts if part))
            self._cache[cell] = labels
        return labels

    def parse_many(self, cells: list[str]) -> tuple[str, ...]:
        """Return the labels of a list of cells (a multi-label list value)."""
        parts = (cell.strip() for cell in cells)
        return tuple(dict.fromkeys(part for part in parts if part))


def finish(
    path: Path,
    fmt: str,
    texts: list[str],
    labels: list[tuple[str, ...]],
    lines: list[int],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    multi_label: bool = False,
    where: Callable[[int], str] | None = None,
) -> RawDataset:
    """Check the dataset as a whole (documents, classes, empty texts) and build it."""
    if not texts:
        raise DatasetError("no documents found", path=path)
    distinct = {label for row in labels for label in row}
    if len(distinct) < 2:
        only = f"only one class ({next(iter(distinct))!r})" if distinct else "no labels"
        raise DatasetError(f"{only} found; a classifier needs at least two", path=path)
    warnings: list[str] = []
    empty = [i for i, text in enumerate(texts) if not text or text.isspace()]
    if len(empty) == len(texts):
        raise DatasetError("no document has any text (every text is empty)", path=path)
    if empty:
        first = where(empty[0]) if where else f"line {lines[empty[0]]}"
        noun = "document has" if len(empty) == 1 else "documents have"
        warnings.append(f"{len(empty)} {noun} empty text (first at {first})")
    return RawDataset(
        texts=texts,
        labels=labels,
        lines=lines,
        path=str(path),
        format=fmt,
        text_column=text_column,
        label_column=label_column,
        multi_label=multi_label,
        warnings=tuple(warnings),
    )
