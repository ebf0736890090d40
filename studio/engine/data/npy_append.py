"""``.npy`` files written by appending rows, for arrays whose length is known only at the end.

The header is numpy's format 1.0 (magic, version, little-endian ``uint16`` header length, a
dict literal padded with spaces and ending in ``\\n``) at a fixed :data:`HEADER_BYTES`, a
multiple of 64 as numpy writes it; it is written with a length of 0 first and rewritten with
the final shape on :meth:`NpyAppender.close`. ``np.load(..., mmap_mode="r")`` then opens the
file like any other. Rows go straight to the file, so memory holds only what one
:meth:`~NpyAppender.append` is given; :func:`read_rows` and :func:`write_rows` read and
rewrite a range of rows in place, without mapping the file.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType

import numpy as np

HEADER_BYTES = 128
_PREFIX = 10  # magic (6) + version (2) + header length (2)


def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """A format-1.0 ``.npy`` header of exactly :data:`HEADER_BYTES` bytes."""
    fields = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": False,
        "shape": shape,
    }
    body = repr(fields).encode("latin-1")
    room = HEADER_BYTES - _PREFIX - 1
    if len(body) > room:
        raise ValueError(f"shape {shape} does not fit a {HEADER_BYTES}-byte .npy header")
    length = struct.pack("<H", room + 1)
    return np.lib.format.magic(1, 0) + length + body.ljust(room) + b"\n"


class NpyAppender:
    """Write a ``.npy`` file row by row: 1-D, or 2-D with ``width`` columns."""

    def __init__(self, path: str | Path, dtype: np.dtype | type, width: int | None = None) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.width = width
        self.rows = 0
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self._file.write(npy_header(self.dtype, self._shape()))

    def _shape(self) -> tuple[int, ...]:
        return (self.rows,) if self.width is None else (self.rows, self.width)

    def append(self, rows: np.ndarray) -> None:
        """Append rows (cast to the file's dtype)."""
        array = np.ascontiguousarray(rows, dtype=self.dtype)
        expect = 1 if self.width is None else 2
        if array.ndim != expect or (self.width is not None and array.shape[1] != self.width):
            raise ValueError(f"rows of shape {array.shape} do not fit {self._shape()}")
        array.tofile(self._file)
        self.rows += len(array)

    def close(self) -> None:
        """Write the final shape into the header and close the file."""
        if self._file.closed:
            return
        self._file.seek(0)
        self._file.write(npy_header(self.dtype, self._shape()))
        self._file.close()

    def __enter__(self) -> NpyAppender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def read_rows(path: str | Path, dtype: np.dtype | type, start: int, count: int) -> np.ndarray:
    """Rows ``start:start + count`` of a 1-D ``.npy`` file written by :class:`NpyAppender`."""
    dtype = np.dtype(dtype)
    array = np.fromfile(
        path, dtype=dtype, count=count, offset=HEADER_BYTES + start * dtype.itemsize
    )
    if len(array) != count:
        raise ValueError(f"{path}: expected {count} rows from row {start}, found {len(array)}")
    return array


def write_rows(path: str | Path, start: int, rows: np.ndarray) -> None:
    """Overwrite rows from ``start`` on, in place, in a 1-D ``.npy`` file of ``rows.dtype``."""
    with open(path, "r+b") as handle:
        handle.seek(HEADER_BYTES + start * rows.dtype.itemsize)
        np.ascontiguousarray(rows).tofile(handle)
