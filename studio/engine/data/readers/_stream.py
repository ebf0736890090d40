"""Reading a CSV, TSV, JSON Lines or fastText file in chunks of documents, in bounded memory.

The file is decoded block by block (:class:`~._text.TextStream`) and cut into lines lazily;
the same row parsers as the in-memory readers (``csv_documents``, ``jsonl_documents``,
``fasttext_documents``) turn the lines into documents, and :class:`~._common.Tally` makes
the same whole-file checks at the end, so every bad input gives the same error. Two
differences: when a file holds several faults, the first one *in the file* is reported (the
in-memory path reports undecodable bytes before anything else), and a CSV file without any
``\\n`` (bare ``\\r`` line ends) is split only once it has been read whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from studio.errors import DatasetError

from ._common import Documents, Tally
from ._csv import SNIFF_CHARS, TSV_SNIFF_CHARS, csv_documents, sniff_delimiter, tsv_is_quoted
from ._detect import resolve_format
from ._fasttext import fasttext_documents
from ._jsonl import jsonl_documents
from ._text import BLOCK_BYTES, TextStream, numbered_lines

STREAM_FORMATS = ("csv", "tsv", "jsonl", "fasttext")
CHUNK_DOCS = 50_000
CHUNK_CHARS = 8_000_000  # a chunk also ends here: ~2 M tokens, ~200 MB once tokenized
_BLANK_PIECES = 4  # a longer all-whitespace start is checked by a second read, not kept


@dataclass(frozen=True)
class Chunk:
    """Consecutive documents of one file, and how far the file has been read."""

    texts: list[str]
    labels: list[tuple[str, ...]]
    lines: list[int]
    multi_label: bool  # the file's data is multi-label (so far: final with the last chunk)
    bytes_read: int
    size: int


def _split_lines(pieces: Iterator[str]) -> Iterator[str]:
    """The text of ``pieces`` split on ``\\n`` exactly as ``"".join(pieces).split("\\n")``."""
    pending: list[str] = []
    for piece in pieces:
        parts = piece.split("\n")
        if len(parts) == 1:
            pending.append(piece)
            continue
        pending.append(parts[0])
        yield "".join(pending)
        yield from islice(parts, 1, len(parts) - 1)
        pending = [parts[-1]]
    yield "".join(pending)


def _csv_lines(pieces: Iterator[str]) -> Iterator[str]:
    """The lines with their ends, as ``_csv.iter_lines`` cuts the whole text."""
    parts = _split_lines(pieces)
    previous = next(parts)
    newline = False
    for part in parts:
        yield previous + "\n"
        previous, newline = part, True
    if not newline:  # no "\n" in the whole file: other line ends, as splitlines knows them
        yield from previous.splitlines(keepends=True)
    elif previous:
        yield previous


def _nonblank(stream: TextStream) -> Iterator[str]:
    """The stream's pieces, once it is known that the text is not all whitespace."""
    pieces = stream.pieces()
    blank: list[str] = []
    for piece in pieces:
        if piece.strip():
            return chain(blank, (piece,), pieces)
        blank.append(piece)
        if len(blank) == _BLANK_PIECES:
            pieces.close()
            if not any(again.strip() for again in stream.pieces()):
                break
            return stream.pieces()
    raise DatasetError("the file is empty", path=stream.path)


def _peek(pieces: Iterator[str], chars: int) -> tuple[str, Iterator[str]]:
    """The text's first ``chars`` characters and one more when there are, and all the pieces."""
    head: list[str] = []
    count = 0
    for piece in pieces:
        head.append(piece)
        count += len(piece)
        if count > chars:
            break
    return "".join(head)[: chars + 1], chain(head, pieces)


def _documents(
    path: Path,
    fmt: str,
    pieces: Iterator[str],
    text_column: str | None,
    label_column: str | None,
    label_delimiter: str | None,
) -> Documents:
    if fmt == "fasttext":
        return fasttext_documents(path, numbered_lines(_split_lines(pieces)))
    if fmt == "jsonl":
        return jsonl_documents(
            path,
            numbered_lines(_split_lines(pieces)),
            text_column=text_column,
            label_column=label_column,
            label_delimiter=label_delimiter,
        )
    if fmt == "csv":
        head, pieces = _peek(pieces, SNIFF_CHARS)
        delimiter, quoted = sniff_delimiter(head) or ",", True
    else:
        head, pieces = _peek(pieces, TSV_SNIFF_CHARS)
        delimiter, quoted = "\t", tsv_is_quoted(head)
    return csv_documents(
        path,
        _csv_lines(pieces),
        delimiter=delimiter,
        fmt=fmt,
        text_column=text_column,
        label_column=label_column,
        label_delimiter=label_delimiter,
        quoted=quoted,
    )


def iter_chunks(
    path: str | Path,
    *,
    format: str = "auto",
    text_column: str | None = None,
    label_column: str | None = None,
    label_delimiter: str | None = None,
    encoding: str | None = None,
    docs: int = CHUNK_DOCS,
    chars: int = CHUNK_CHARS,
    block: int = BLOCK_BYTES,
) -> Iterator[Chunk]:
    """Read a CSV, TSV, JSON Lines or fastText file as chunks of at most ``docs`` documents.

    A chunk also ends once its texts hold ``chars`` characters, so long documents make
    smaller chunks.
    Takes the options of :func:`~studio.engine.data.readers.read_dataset` and raises the same
    DatasetError for every bad input; the whole-file checks (no documents, one class only,
    every text empty) are raised after the last chunk. Memory holds one chunk and one
    ``block`` of bytes (and a CSV header sample), whatever the file's size.
    """
    path = Path(path)
    fmt = resolve_format(path, format, encoding)
    if fmt not in STREAM_FORMATS:
        raise DatasetError(
            f"format {fmt!r} is not read in chunks (only {', '.join(STREAM_FORMATS)} are)",
            path=path,
        )
    stream = TextStream(path, encoding, block)
    documents = _documents(
        path, fmt, _nonblank(stream), text_column, label_column, label_delimiter or None
    )
    tally = Tally()
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    size = 0
    for line, text, found in documents.rows:
        texts.append(text)
        labels.append(found)
        lines.append(line)
        size += len(text)
        if len(texts) >= docs or size >= chars:
            tally.add(texts, labels, lines)
            yield Chunk(texts, labels, lines, documents.multi_label, stream.bytes_read, stream.size)
            texts, labels, lines, size = [], [], [], 0
    if texts:
        tally.add(texts, labels, lines)
        yield Chunk(texts, labels, lines, documents.multi_label, stream.bytes_read, stream.size)
    tally.check(path)
