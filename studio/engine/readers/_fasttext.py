"""fastText format: ``__label__a __label__b some text`` on each line."""

from __future__ import annotations

from pathlib import Path

from studio.errors import DatasetError

from ._common import finish
from ._text import iter_lines
from ._types import RawDataset

PREFIX = "__label__"


def read_fasttext(path: Path, text: str) -> RawDataset:
    """Read fastText-format text; the leading ``__label__`` tokens of a line are its labels."""
    if not text.strip():
        raise DatasetError("the file is empty", path=path)
    cache: dict[tuple[str, ...], tuple[str, ...]] = {}
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    multi = False
    size = len(PREFIX)
    for line, raw in iter_lines(text):
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
        multi = multi or len(key) > 1
        texts.append(rest.rstrip())
        labels.append(cache.setdefault(key, key))
        lines.append(line)
    return finish(path, "fasttext", texts, labels, lines, multi_label=multi)
