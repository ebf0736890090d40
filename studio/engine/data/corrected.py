"""A corrected copy of a dataset: some documents relabelled, some left out, everything else
exactly as it was, in the source's own format. The source is only read.

Documents are named by the line the readers give them (``RawDataset.lines``: the record's
first line for CSV/TSV, the line for JSON Lines and fastText, the row for Parquet, the file's
number for a folder of class folders). Untouched records are copied byte for byte (text
formats keep their line ends, quoting and encoding, a UTF-8 BOM included); a relabelled
record changes only its label cell. The copy is read back with the same reader before this
returns, so a file that would not load is never left behind.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import shutil
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.config import DataConfig
from studio.engine.atomic import write_atomic, write_bytes_atomic
from studio.engine.data.readers import (
    FASTTEXT_PREFIX,
    RawDataset,
    class_files,
    csv_lines,
    raise_field_limit,
    read_bytes,
    read_dataset,
    read_text,
    resolve_format,
    sniff_delimiter,
    tsv_is_quoted,
)
from studio.errors import StudioError

__all__ = ["Corrected", "write_corrected"]

Relabel = Mapping[int, tuple[str, ...]]


@dataclass(frozen=True)
class Corrected:
    """What :func:`write_corrected` wrote."""

    path: str
    documents: int  # in the copy, as its reader counts them
    relabelled: int
    excluded: int


def write_corrected(
    data: DataConfig, relabel: Relabel, exclude: Collection[int], out: str | Path
) -> Corrected:
    """Write ``data.path`` to ``out`` with the documents at the lines in ``relabel`` given
    those labels and the ones in ``exclude`` left out; the copy is checked by reading it."""
    src, out = Path(data.path), Path(out)
    if out.resolve() == src.resolve():
        raise StudioError(f"{out} is the dataset itself; choose another name for the copy")
    fmt = resolve_format(src, data.format, data.encoding)
    raw = _read(data, src, fmt)
    missing = (set(relabel) | set(exclude)) - set(raw.lines)
    if missing:
        raise StudioError(
            f"{src} has no document at line {min(missing)}: the file changed since the labels "
            "were reviewed"
        )
    relabel = {line: labels for line, labels in relabel.items() if line not in exclude}
    if fmt == "folder":
        _write_folder(src, out, raw, relabel, set(exclude))
    elif fmt == "parquet":
        _write_parquet(src, out, raw, relabel, set(exclude), data.label_delimiter)
    else:
        text = read_text(src, data.encoding)
        if fmt == "jsonl":
            body = _jsonl_text(text, raw, relabel, set(exclude), data.label_delimiter)
        elif fmt == "fasttext":
            body = _fasttext_text(text, relabel, set(exclude))
        else:
            body = _csv_text(text, raw, fmt, relabel, set(exclude), data.label_delimiter)
        write_bytes_atomic(out, _encode(body, src, data.encoding))
    copy = _read(data, out, fmt)
    return Corrected(str(out), len(copy), len(relabel), len(exclude))


def _read(data: DataConfig, path: Path, fmt: str) -> RawDataset:
    return read_dataset(
        path, format=fmt, text_column=data.text_column, label_column=data.label_column,
        label_delimiter=data.label_delimiter, encoding=data.encoding,
    )  # fmt: skip


def _encode(text: str, src: Path, encoding: str | None) -> bytes:
    """``text`` in the source's encoding, with its UTF-8 BOM when it had one."""
    codec = codecs.lookup(encoding or "utf-8").name
    bom = codec == "utf-8" and read_bytes(src, 3) == codecs.BOM_UTF8
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(codec)


def _cell(labels: tuple[str, ...], delimiter: str | None) -> str:
    return (delimiter or "").join(labels) if delimiter else labels[0]


def _line_end(line: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if line.endswith(end):
            return end
    return ""


def _csv_text(
    text: str, raw: RawDataset, fmt: str, relabel: Relabel, exclude: set[int], delimiter: str | None
) -> str:
    """CSV or TSV, parsed as the reader parses it; only changed records are rewritten."""
    tsv = fmt == "tsv"
    sep = "\t" if tsv else (sniff_delimiter(text) or ",")
    quoted = not tsv or tsv_is_quoted(text)
    raise_field_limit()
    lines = list(csv_lines(text))
    reader = csv.reader(
        iter(lines), delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=True,
    )  # fmt: skip
    out: list[str] = []
    start, label_index = 1, -1
    for row in reader:
        span = lines[start - 1 : reader.line_num]
        if row and label_index < 0:  # the header
            label_index = [name.strip() for name in row].index(str(raw.label_column))
            out += span
        elif row and start in exclude:
            pass
        elif row and start in relabel:
            row[label_index] = _cell(relabel[start], delimiter)
            out.append(_csv_row(row, sep, quoted, _line_end(span[-1])))
        else:
            out += span
        start = reader.line_num + 1
    return "".join(out + lines[start - 1 :])


def _csv_row(row: list[str], sep: str, quoted: bool, end: str) -> str:
    if not quoted:  # fields of an unquoted TSV hold no tab or line end (the reader split there)
        return sep.join(row) + end
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=end).writerow(row)
    return buffer.getvalue()


def _jsonl_value(old: Any, labels: tuple[str, ...], delimiter: str | None) -> Any:
    """The new label value in the old one's shape: a list stays a list, a number a number."""
    if isinstance(old, list):
        return list(labels)
    if isinstance(old, bool | int | float) and len(labels) == 1:
        try:
            value = json.loads(labels[0])
        except ValueError:
            return labels[0]
        return value if isinstance(value, bool | int | float) else labels[0]
    return _cell(labels, delimiter)


def _jsonl_text(
    text: str, raw: RawDataset, relabel: Relabel, exclude: set[int], delimiter: str | None
) -> str:
    pieces: list[str | None] = list(text.split("\n"))
    key = str(raw.label_column)
    for line, labels in relabel.items():
        piece = str(pieces[line - 1])
        obj = json.loads(piece)
        obj[key] = _jsonl_value(obj[key], labels, delimiter)
        cr = "\r" if piece.endswith("\r") else ""
        pieces[line - 1] = json.dumps(obj, ensure_ascii=False) + cr
    for line in exclude:
        pieces[line - 1] = None
    return "\n".join(p for p in pieces if p is not None)


def _fasttext_text(text: str, relabel: Relabel, exclude: set[int]) -> str:
    pieces: list[str | None] = list(text.split("\n"))
    for line, labels in relabel.items():
        piece = str(pieces[line - 1])
        cr = "\r" if piece.endswith("\r") else ""
        rest = piece.removesuffix("\r").lstrip()
        while rest.startswith(FASTTEXT_PREFIX):
            parts = rest.split(None, 1)
            rest = parts[1].lstrip() if len(parts) > 1 else ""
        head = " ".join(FASTTEXT_PREFIX + label for label in labels)
        pieces[line - 1] = head + (" " + rest if rest else "") + cr
    for line in exclude:
        pieces[line - 1] = None
    return "\n".join(p for p in pieces if p is not None)


def _write_parquet(
    src: Path, out: Path, raw: RawDataset, relabel: Relabel, exclude: set[int],
    delimiter: str | None,
) -> None:  # fmt: skip
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    name = str(raw.label_column)
    column = table.column(name)
    values = column.to_pylist()
    for row, labels in relabel.items():
        values[row - 1] = _jsonl_value(values[row - 1], labels, delimiter)
    try:
        array = pa.array(values, type=column.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # "7" into an int column
        array = pa.array(values)
    table = table.set_column(table.column_names.index(name), name, array)
    keep = pa.array([row not in exclude for row in range(1, table.num_rows + 1)])
    write_atomic(out, lambda tmp: pq.write_table(table.filter(keep), tmp))


def _write_folder(
    src: Path, out: Path, raw: RawDataset, relabel: Relabel, exclude: set[int]
) -> None:
    """Copy each kept ``.txt`` file into the folder of its (new) label, in a new folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StudioError(f"{out} already exists; choose a new folder for the corrected copy")
    files = [(folder.name, file) for folder, found in class_files(src) for file in found]
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for number, (label, file) in enumerate(files, 1):
            if number in exclude:
                continue
            target = staging / (relabel[number][0] if number in relabel else label)
            target.mkdir(exist_ok=True)
            name, k = file.name, 1
            while (target / name).exists():  # two files of one name meet in a class
                k += 1
                name = f"{file.stem}-{k}{file.suffix}"
            shutil.copy2(file, target / name)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
