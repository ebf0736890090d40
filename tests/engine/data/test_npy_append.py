"""``.npy`` files written by appending are ordinary ``.npy`` files to numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.engine.data.npy_append import (
    HEADER_BYTES,
    NpyAppender,
    npy_header,
    read_rows,
    write_rows,
)


def test_appended_rows_load_back(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    with NpyAppender(path, np.int64) as out:
        out.append(np.arange(5))
        out.append(np.array([], dtype=np.int64))
        out.append(np.array([7, 8], dtype=np.int32))  # cast to the file's dtype
    loaded = np.load(path, mmap_mode="r", allow_pickle=False)
    assert loaded.dtype == np.int64 and loaded.tolist() == [0, 1, 2, 3, 4, 7, 8]
    assert np.load(path, allow_pickle=False).tolist() == loaded.tolist()


def test_two_dimensional_and_empty(tmp_path: Path) -> None:
    with NpyAppender(tmp_path / "m.npy", np.uint8, width=3) as out:
        out.append(np.eye(3)[:2])
        with pytest.raises(ValueError):
            out.append(np.ones((1, 4)))
    assert np.load(tmp_path / "m.npy").tolist() == [[1, 0, 0], [0, 1, 0]]
    NpyAppender(tmp_path / "e.npy", np.float32).close()
    empty = np.load(tmp_path / "e.npy", allow_pickle=False)
    assert empty.shape == (0,) and empty.dtype == np.float32


def test_header_is_numpys_format_and_fixed_size() -> None:
    small = npy_header(np.dtype(np.int32), (0,))
    huge = npy_header(np.dtype(np.int64), (2**62, 2**31))
    assert len(small) == len(huge) == HEADER_BYTES and HEADER_BYTES % 64 == 0
    assert small.startswith(b"\x93NUMPY\x01\x00") and small.endswith(b"\n")


def test_rows_are_read_and_rewritten_in_place(tmp_path: Path) -> None:
    path = tmp_path / "ids.npy"
    with NpyAppender(path, np.int32) as out:
        out.append(np.arange(10))
    assert read_rows(path, np.int32, 3, 4).tolist() == [3, 4, 5, 6]
    write_rows(path, 3, np.array([-1, -2], dtype=np.int32))
    assert np.load(path).tolist() == [0, 1, 2, -1, -2, 5, 6, 7, 8, 9]
    with pytest.raises(ValueError):
        read_rows(path, np.int32, 8, 5)  # past the end
