"""fastText format: ``__label__a __label__b some text`` on each line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from studio.errors import DatasetError

from ._common import Documents, Row, collect
from ._text import iter_lines
from ._types import RawDataset

PREFIX = "__label__"


def fasttext_documents(path: Path, lines: Iterable[tuple[int, str]]) -> Documents:
    """The documents of numbered non-blank fastText lines, parsed lazily."""
    docs = Documents("fasttext")

    def parsed() -> Iterator[Row]:
        cache: dict[tuple[str, ...], tuple[str, ...]] = {}
        size = len(PREFIX)
        for line, raw in lines:
            rest = raw.lstrip()
            found: list[str] = []
            while rest.startswith(PREFIX):
                parts = rest.split(None, 1)
                label = parts[0][size:]
                if not label:
                    raise DatasetError("empty label after '__label__'", path=path, line=line)
                if label not in found:
                    found.append(label)
                rest = parts[1].lstrip() if len(parts) > 1 else ""
            if not found:
                raise DatasetError(
                    "no '__label__' at the start of the line (expected '__label__name text')",
                    path=path,
                    line=line,
                )
            key = tuple(found)
            docs.multi_label = docs.multi_label or len(key) > 1
            yield line, rest.rstrip(), cache.setdefault(key, key)

    docs.rows = parsed()
    return docs


def read_fasttext(path: Path, text: str) -> RawDataset:
    """Read fastText-format text; the leading ``__label__`` tokens of a line are its labels."""
    if not text.strip():
        raise DatasetError("the file is empty", path=path)
    return collect(path, fasttext_documents(path, iter_lines(text)))
