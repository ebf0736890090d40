"""CSV and TSV: a header row, then one record per row (quoted fields may span lines).

TSV has no quoting by its own definition (a field is everything between two tabs), and most
tools write it so: a text may well start with ``"C" Language ...``. Many others (Python's
``csv``, pandas) write TSV the CSV way, quoting any field with a tab, a newline or a quote in
it. :func:`tsv_is_quoted` tells the two apart from the file's start; a TSV file is read with
quote processing only when it is quoted that way.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from studio.errors import DatasetError

from ._columns import check_unique, detect_columns
from ._common import Documents, LabelParser, Row, collect
from ._types import RawDataset

if TYPE_CHECKING:
    from _csv import Reader

DELIMITERS = (",", "\t", ";", "|")
SNIFF_CHARS = 65536
SAMPLE_ROWS = 1000
# 2**18 characters of at most 4 bytes: all within the 1 MiB that inspect_columns reads
TSV_SNIFF_CHARS = 1 << 18
_FIELD_QUOTE = re.compile(r'(?<![^\t\r\n])"')  # a '"' that starts a field
_QUOTED_FIELD = re.compile(r'"[^"]*+(?:""[^"]*+)*+"')  # '"' ... '"', doubled quotes inside
_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


def raise_field_limit() -> None:
    """Let ``csv`` read fields of any length (its default limit is 128 KiB)."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 2


def sniff_delimiter(text: str) -> str | None:
    """Guess the delimiter from the first ~64 KB, or None when no candidate splits the header.

    Each candidate is parsed with ``csv.reader``; the winner splits the header into at least
    two fields, gives the most records with the header's field count and, on a tie, leaves
    the fewest stray quote characters in fields (a sign of splitting inside quotes).
    """
    sample, _ = _head(text, SNIFF_CHARS)
    best: tuple[int, int, int] | None = None
    choice = None
    for delimiter in DELIMITERS:
        rows: list[list[str]] = []
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            rows = [row for row in reader if row]
        except csv.Error:
            pass
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        stray = sum('"' in field for row in rows for field in row)
        score = (sum(len(row) == width for row in rows), -stray, width)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


def _head(text: str, chars: int) -> tuple[str, bool]:
    """The first ``chars`` characters of ``text``, cut after their last line end when the
    text is longer, and whether it is longer."""
    sample = text[:chars]
    truncated = len(text) > chars
    if truncated and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    return sample, truncated


def tsv_is_quoted(text: str, cut: bool = False) -> bool:
    """Whether TSV text quotes fields the CSV way, judged from its first TSV_SNIFF_CHARS.

    True when at least one field there starts with ``"`` and every field that does is a whole
    quoted field: ``"``, then anything with quotes doubled, then ``"`` right before a tab or
    a line end. A quoted field still open where the sample ends counts as whole if the file
    goes on (it is longer than the sample, or ``cut`` says ``text`` is only its start).
    """
    sample, truncated = _head(text, TSV_SNIFF_CHARS)
    truncated = truncated or cut
    quoted, at = 0, 0
    while (start := _FIELD_QUOTE.search(sample, at)) is not None:
        field = _QUOTED_FIELD.match(sample, start.start())
        if field is None:  # never closed: cut by the sample, or a lone quote
            return truncated and quoted > 0
        at = field.end()
        if at < len(sample) and sample[at] not in "\t\r\n":
            return False  # '"C" Language': text after the closing quote
        quoted += 1
    return quoted > 0


def _records(reader: Reader, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first_line, row)`` for every non-blank record, turning csv errors into ours."""
    start = 1
    try:
        for row in reader:
            if row:
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        message = str(exc)
        if "unexpected end of data" in message:
            message = "a quoted field starting on this line is never closed"
        raise DatasetError(f"malformed CSV: {message}", path=path, line=start) from None


def iter_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their endings, lazily.

    ``io.StringIO`` would hold the whole text as 4 bytes per character (1.3 GB for a 330 MB
    file); this keeps one line at a time. Files with bare ``\r`` line ends are split by
    ``splitlines`` instead.
    """
    if "\n" not in text:
        yield from text.splitlines(keepends=True)
        return
    find = text.find
    start, n = 0, len(text)
    while start < n:
        end = find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def csv_documents(
    path: Path,
    lines: Iterable[str],
    *,
    delimiter: str,
    fmt: str,
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
    quoted: bool = True,
) -> Documents:
    """Parse the header and a sample now (columns chosen), the rows lazily.

    ``lines`` are the file's lines with their line ends, as :func:`iter_lines` gives them;
    ``quoted`` False reads every ``"`` as text (unquoted TSV).
    """
    raise_field_limit()
    reader = csv.reader(
        lines,
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=True,
    )
    records = _records(reader, path)
    header_line, header = next(records, (0, []))
    names = [name.strip() for name in header]
    check_unique(names, path, header_line)
    sample: list[tuple[int, list[str]]] = []
    for item in records:
        sample.append(item)
        if len(sample) >= SAMPLE_ROWS:
            break
    text_name, label_name = detect_columns(
        names,
        [row for _, row in sample],
        text_column=text_column,
        label_column=label_column,
        path=path,
    )
    ti, li, width = names.index(text_name), names.index(label_name), len(names)
    parser = LabelParser(label_delimiter)

    def rows() -> Iterator[Row]:
        for chunk in (sample, records):
            for line, row in chunk:
                if len(row) != width:
                    if len(row) == 1 and not row[0].strip():
                        continue
                    sep = _NAMES[delimiter]
                    raise DatasetError(
                        f"expected {width} fields ({sep}-separated, like the header),"
                        f" found {len(row)}",
                        path=path,
                        line=line,
                    )
                found = parser.parse(row[li])
                if not found:
                    raise DatasetError("empty label", path=path, line=line, column=label_name)
                yield line, row[ti], found

    return Documents(fmt, rows(), text_name, label_name, label_delimiter is not None)


def read_csv(
    path: Path,
    text: str,
    *,
    tsv: bool,
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
) -> RawDataset:
    """Read CSV (delimiter sniffed) or TSV (tab; quoted only if :func:`tsv_is_quoted`) text."""
    if not text.strip():
        raise DatasetError("the file is empty", path=path)
    docs = csv_documents(
        path,
        iter_lines(text),
        delimiter="\t" if tsv else (sniff_delimiter(text) or ","),
        fmt="tsv" if tsv else "csv",
        text_column=text_column,
        label_column=label_column,
        label_delimiter=label_delimiter,
        quoted=not tsv or tsv_is_quoted(text),
    )
    return collect(path, docs)
