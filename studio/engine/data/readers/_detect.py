"""Guessing a dataset's format from its path and first bytes."""

from __future__ import annotations

from pathlib import Path

from studio.errors import DatasetError

from ._csv import sniff_delimiter
from ._text import BINARY_PROBE, read_bytes

FORMATS = ("csv", "tsv", "jsonl", "fasttext", "folder", "parquet")
SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TEXT_SUFFIXES = (".txt", ".ft", ".fasttext")
PROBE = 65536
_ASK = "pass a format: " + ", ".join(FORMATS)


def _first_line(sample: str) -> str:
    for line in sample.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def detect_format(path: str | Path, *, encoding: str | None = None) -> str:
    """The format of ``path`` (one of FORMATS), from its suffix or, if needed, its content."""
    path = Path(path)
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return SUFFIXES[suffix]
    head = read_bytes(path, PROBE)
    if head.startswith(b"PAR1"):
        return "parquet"
    wide = encoding is not None and encoding.lower().replace("_", "-").startswith(
        ("utf-16", "utf-32")
    )
    if not wide and b"\x00" in head[:BINARY_PROBE]:
        raise DatasetError("binary file, not text", path=path, byte_offset=head.index(b"\x00"))
    try:
        sample = head.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff")
    except LookupError:
        raise DatasetError(f"unknown encoding {encoding!r}", path=path) from None
    first = _first_line(sample)
    if not first:
        raise DatasetError("the file is empty", path=path)
    if first.startswith("__label__"):
        return "fasttext"
    if suffix in TEXT_SUFFIXES:
        raise DatasetError(
            f"cannot tell the format of this {suffix} file (its first line does not start with"
            f" '__label__'); {_ASK}",
            path=path,
        )
    if first.startswith("{"):
        return "jsonl"
    delimiter = sniff_delimiter(sample)
    if delimiter is not None:
        return "tsv" if delimiter == "\t" else "csv"
    raise DatasetError(f"cannot tell the format of this file; {_ASK}", path=path)


def resolve_format(path: Path, format: str = "auto", encoding: str | None = None) -> str:
    """The format to read ``path`` with: ``format`` checked, or detected when it is "auto"."""
    fmt = format.strip().lower()
    if fmt != "auto" and fmt not in FORMATS:
        choices = ", ".join(("auto", *FORMATS))
        raise DatasetError(f"unknown format {format!r}; expected one of {choices}", path=path)
    if fmt == "auto":
        fmt = detect_format(path, encoding=encoding)
    if fmt == "folder" and not path.is_dir():
        raise DatasetError("folder not found (format 'folder' needs a folder)", path=path)
    if fmt != "folder" and path.is_dir():
        raise DatasetError(f"is a folder, not a {fmt} file (use format 'folder')", path=path)
    return fmt
