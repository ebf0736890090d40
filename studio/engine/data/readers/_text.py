"""Reading files as bytes and decoding them to text, with errors that point at the bad byte.

``decode`` handles a whole file in memory; :class:`TextStream` decodes the same file block by
block, with the same checks and the same error messages, for files larger than memory.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from pathlib import Path

from studio.errors import DatasetError

BINARY_PROBE = 8192
BLOCK_BYTES = 1 << 20
_WIDE = ("utf-16", "utf-32")


def _os_error(exc: OSError, path: Path) -> DatasetError:
    if isinstance(exc, FileNotFoundError):
        return DatasetError("file not found", path=path)
    if isinstance(exc, IsADirectoryError):
        return DatasetError("is a folder, not a file (use format 'folder')", path=path)
    if isinstance(exc, PermissionError):
        return DatasetError("permission denied; check the file's permissions", path=path)
    return DatasetError(f"cannot read the file ({exc.strerror or exc})", path=path)


def read_bytes(path: Path, limit: int = -1) -> bytes:
    """Return the file's bytes (at most ``limit`` of them), turning OS errors into DatasetError."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        raise _os_error(exc, path) from None


def codec_name(encoding: str, path: Path) -> str:
    """The canonical name of ``encoding``; DatasetError naming ``path`` if Python lacks it."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise DatasetError(
            f"unknown encoding {encoding!r} (try utf-8, latin-1 or cp1252)", path=path
        ) from None


def _codec(path: Path, encoding: str | None) -> str:
    return "utf-8" if encoding is None else codec_name(encoding, path)


def _check_head(head: bytes, path: Path, encoding: str | None, codec: str) -> int:
    """Refuse UTF-16 read as UTF-8 and binary files; return how many BOM bytes to skip."""
    if not codec.startswith(_WIDE):
        if encoding is None and head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise DatasetError("looks like UTF-16 text; pass encoding 'utf-16'", path=path)
        nul = head.find(b"\x00", 0, BINARY_PROBE)
        if nul >= 0:
            raise DatasetError("binary file, not text", path=path, byte_offset=nul)
    return 3 if head.startswith(codecs.BOM_UTF8) and codec.startswith("utf-8") else 0


def _undecodable(path: Path, encoding: str | None, line: int, offset: int) -> DatasetError:
    what = "UTF-8" if encoding is None else repr(encoding)
    hint = "pass an encoding such as latin-1" if encoding is None else "try another encoding"
    return DatasetError(f"not valid {what} text ({hint})", path=path, line=line, byte_offset=offset)


def _cannot_decode(path: Path, encoding: str | None, exc: Exception) -> DatasetError:
    return DatasetError(f"cannot decode with {encoding!r} ({exc})", path=path)


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """Decode strictly: UTF-8 (BOM stripped) when ``encoding`` is None, else ``encoding``."""
    codec = _codec(path, encoding)
    skip = _check_head(data, path, encoding, codec)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data[:offset].decode(codec, errors="replace").count("\n") + 1
        raise _undecodable(path, encoding, line, offset) from None
    except (UnicodeError, LookupError) as exc:
        raise _cannot_decode(path, encoding, exc) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, encoding: str | None = None) -> str:
    """Read and decode a whole text file."""
    return decode(read_bytes(path), path, encoding)


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for each non-blank line, splitting on newline only."""
    return numbered_lines(text.split("\n"))


def numbered_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Number newline-split lines from 1, dropping blank ones and a trailing ``\\r``."""
    for number, line in enumerate(lines, 1):
        if line and not line.isspace():
            yield number, line.removesuffix("\r")


def _stream_codec(codec: str, head: bytes) -> str:
    """``codec``, or for UTF-16/32 without a BOM the native byte order that ``decode`` assumes.

    (The incremental UTF-16/32 decoders refuse a stream that does not start with a BOM.)
    """
    if codec in ("utf-16", "utf-32"):
        boms = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        if codec == "utf-32":
            boms = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
        if not head.startswith(boms):
            return f"{codec}-{'le' if sys.byteorder == 'little' else 'be'}"
    return codec


class TextStream:
    """A text file decoded block by block: the same checks and errors as :func:`decode`.

    Each call of :meth:`pieces` reads the file again from its start. ``bytes_read`` is how
    far the latest read has got, for progress.
    """

    def __init__(self, path: Path, encoding: str | None = None, block: int = BLOCK_BYTES) -> None:
        self.path = path
        self.encoding = encoding
        self.codec = _codec(path, encoding)
        self.block = block
        try:
            self.size = os.path.getsize(path)
        except OSError as exc:
            raise _os_error(exc, path) from None
        self.bytes_read = 0

    def _blocks(self) -> Iterator[bytes]:
        """The raw bytes; the first block holds at least ``BINARY_PROBE`` bytes for the checks."""
        try:
            with self.path.open("rb") as handle:
                size = max(self.block, BINARY_PROBE)
                while data := handle.read(size):
                    self.bytes_read += len(data)
                    yield data
                    size = self.block
        except OSError as exc:
            raise _os_error(exc, self.path) from None

    def pieces(self) -> Generator[str, None, None]:
        """The decoded text, a block at a time (a leading BOM removed as ``decode`` does)."""
        self.bytes_read = 0
        blocks = self._with_end(self._blocks())
        head = next(blocks)
        skip = _check_head(head, self.path, self.encoding, self.codec)
        decoder = codecs.getincrementaldecoder(_stream_codec(self.codec, head))()
        fed = skip  # file offset of the next byte given to the decoder
        strip_bom = True
        for data in chain((head[skip:],), blocks):
            pending = len(decoder.getstate()[0])  # bytes held back from the previous block
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                offset = fed - pending + exc.start
                raise _undecodable(
                    self.path, self.encoding, self._line_at(offset), offset
                ) from None
            except (UnicodeError, LookupError) as exc:
                raise _cannot_decode(self.path, self.encoding, exc) from None
            fed += len(data)
            if strip_bom and text:
                text, strip_bom = text.removeprefix("\ufeff"), False
            if text:
                yield text

    @staticmethod
    def _with_end(blocks: Iterator[bytes]) -> Iterator[bytes]:
        yield from blocks
        yield b""  # tells the decoder that the input is complete

    def _line_at(self, offset: int) -> int:
        """The line of byte ``offset``, counted as ``decode`` does (a rare path: re-reads)."""
        newlines, left = 0, offset
        try:
            with self.path.open("rb") as handle:
                head = handle.read(4)
                handle.seek(0)
                codec = _stream_codec(self.codec, head)
                decoder = codecs.getincrementaldecoder(codec)(errors="replace")
                while left > 0 and (data := handle.read(min(self.block, left))):
                    left -= len(data)
                    newlines += decoder.decode(data).count("\n")
        except OSError as exc:
            raise _os_error(exc, self.path) from None
        return newlines + decoder.decode(b"", final=True).count("\n") + 1
