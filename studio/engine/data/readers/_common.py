"""Helpers shared by the readers: label cells to tuples, lazily parsed rows, the final checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import DatasetError

from ._types import RawDataset

Row = tuple[int, str, tuple[str, ...]]  # (line, text, labels)


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


@dataclass
class Documents:
    """One file's documents, parsed lazily: ``rows`` yields ``(line, text, labels)``.

    Every row is checked as it is parsed, so iterating raises the file's first bad row.
    ``multi_label`` is final once ``rows`` is exhausted (a JSON list label turns it on).
    """

    fmt: str
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    text_column: str | None = None
    label_column: str | None = None
    multi_label: bool = False


class Tally:
    """The whole-file checks (documents, classes, empty texts), fed a chunk at a time."""

    def __init__(self) -> None:
        self.docs = 0
        self.label_sets: set[tuple[str, ...]] = set()
        self.empty = 0
        self.first_empty: tuple[int, int] | None = None  # (document index, line)

    def add(self, texts: list[str], labels: list[tuple[str, ...]], lines: list[int]) -> None:
        self.label_sets.update(labels)
        empty = [i for i, text in enumerate(texts) if not text or text.isspace()]
        if empty and self.first_empty is None:
            self.first_empty = (self.docs + empty[0], lines[empty[0]])
        self.empty += len(empty)
        self.docs += len(texts)

    def check(self, path: Path, where: Callable[[int], str] | None = None) -> tuple[str, ...]:
        """Raise DatasetError when the documents make no dataset; else return the warnings."""
        if not self.docs:
            raise DatasetError("no documents found", path=path)
        distinct = {label for row in self.label_sets for label in row}
        if len(distinct) < 2:
            only = f"only one class ({next(iter(distinct))!r})" if distinct else "no labels"
            raise DatasetError(f"{only} found; a classifier needs at least two", path=path)
        if self.empty == self.docs:
            raise DatasetError("no document has any text (every text is empty)", path=path)
        if self.first_empty is None:
            return ()
        index, line = self.first_empty
        first = where(index) if where else f"line {line}"
        noun = "document has" if self.empty == 1 else "documents have"
        return (f"{self.empty} {noun} empty text (first at {first})",)


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
    tally = Tally()
    tally.add(texts, labels, lines)
    warnings = tally.check(path, where)
    return RawDataset(
        texts=texts,
        labels=labels,
        lines=lines,
        path=str(path),
        format=fmt,
        text_column=text_column,
        label_column=label_column,
        multi_label=multi_label,
        warnings=warnings,
    )


def collect(path: Path, docs: Documents) -> RawDataset:
    """Read every row of ``docs`` into memory and check the whole."""
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    for line, text, found in docs.rows:
        texts.append(text)
        labels.append(found)
        lines.append(line)
    return finish(
        path,
        docs.fmt,
        texts,
        labels,
        lines,
        text_column=docs.text_column,
        label_column=docs.label_column,
        multi_label=docs.multi_label,
    )
