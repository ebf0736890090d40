"""Reading files as bytes and decoding them to text, with errors that point at the bad byte."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from studio.errors import DatasetError

BINARY_PROBE = 8192
_WIDE = ("utf-16", "utf-32")


def read_bytes(path: Path, limit: int = -1) -> bytes:
    """Return the file's bytes (at most ``limit`` of them), turning OS errors into DatasetError."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit)
    except FileNotFoundError:
        raise DatasetError("file not found", path=path) from None
    except IsADirectoryError:
        raise DatasetError("is a folder, not a file (use format 'folder')", path=path) from None
    except PermissionError:
        raise DatasetError("permission denied; check the file's permissions", path=path) from None
    except OSError as exc:
        raise DatasetError(f"cannot read the file ({exc.strerror or exc})", path=path) from None


def _codec_name(encoding: str, path: Path) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DatasetError(
            f"unknown encoding {encoding!r} (try utf-8, latin-1 or cp1252)", path=path
        ) from None


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode strictly: UTF-8 (BOM stripped) when ``encoding`` is None, else ``encoding``."""
    codec = "utf-8" if encoding is None else _codec_name(encoding, path)
    if not codec.startswith(_WIDE):
        if encoding is None and data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise DatasetError("looks like UTF-16 text; pass encoding 'utf-16'", path=path)
        nul = data.find(b"\x00", 0, BINARY_PROBE)
        if nul >= 0:
            raise DatasetError("binary file, not text", path=path, byte_offset=nul)
    skip = 3 if data.startswith(codecs.BOM_UTF8) and codec.startswith("utf-8") else 0
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data[:offset].decode(codec, errors="replace").count("\n") + 1
        what = "UTF-8" if encoding is None else repr(encoding)
        hint = "pass an encoding such as latin-1" if encoding is None else "try another encoding"
        raise DatasetError(
            f"not valid {what} text ({hint})", path=path, line=line, byte_offset=offset
        ) from None
    except (UnicodeError, LookupError) as exc:
        raise DatasetError(f"cannot decode with {encoding!r} ({exc})", path=path) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, encoding: str | None = None) -> str:
    """Read and decode a whole text file."""
    return decode(read_bytes(path), path, encoding)


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for each non-blank line, splitting on newline only."""
    for number, line in enumerate(text.split("\n"), 1):
        if line and not line.isspace():
            yield number, line.removesuffix("\r")
