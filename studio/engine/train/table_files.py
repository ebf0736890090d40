"""User and item tables, in memory or in memory-mapped files for tables past the memory.

:func:`new_table` makes a ``[rows, dim]`` float32 table with row 0 (``<pad>``) zero and the
rest drawn a block of rows at a time, so a table in memory and one in a file get the same
numbers from the same generator. With a folder, the table lives in a file there mapped
with ``MAP_SHARED`` (:func:`torch.from_file`): the kernel keeps the rows being trained in
memory and writes the rest back to the file, so a table larger than the memory trains, at
the disk's speed for the rows that do not fit. The file is unlinked as soon as it is mapped
(POSIX keeps the mapping; the space is freed when the table is), so nothing is left behind
when the run ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

from studio.errors import StudioError

__all__ = ["INIT_ROWS", "available_memory", "new_table", "table_bytes"]

#: Rows drawn per block of the initialisation.
INIT_ROWS = 1 << 16


def table_bytes(rows: int, dim: int) -> int:
    """Bytes of a table and its row-wise Adagrad state: ``rows * (dim + 1) * 4``."""
    return rows * (dim + 1) * 4


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def new_table(
    rows: int, dim: int, gen: torch.Generator, device: str, folder: str | Path | None = None
) -> torch.Tensor:
    """A table of ``rows`` x ``dim``: ``N(0, 0.1 / sqrt(dim))`` with row 0 zero; in a mapped
    file under ``folder`` when one is given (CPU only)."""
    if folder is None:
        table = torch.empty(rows, dim)
    elif torch.device(device).type != "cpu":
        raise StudioError(
            f"tables in files (--table-dir) train on the CPU; {device} holds its tables itself"
        )
    else:
        table = _mapped(Path(folder), rows, dim)
    for start in range(0, rows, INIT_ROWS):
        end = min(start + INIT_ROWS, rows)
        table[start:end] = torch.randn(end - start, dim, generator=gen) * (0.1 / dim**0.5)
    table[0] = 0.0
    return table if folder is not None else table.to(device)


def _mapped(folder: Path, rows: int, dim: int) -> torch.Tensor:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"table-{os.getpid()}-{rows}x{dim}.f32"
        while path.exists():
            path = path.with_name("_" + path.name)
        table = torch.from_file(str(path), shared=True, size=rows * dim, dtype=torch.float32)
    except (OSError, RuntimeError) as exc:
        raise StudioError(f"{folder}: cannot hold a {rows:,} x {dim} table there ({exc})") from None
    with contextlib.suppress(OSError):  # not on Windows: the file is left for the user
        path.unlink()  # the mapping outlives the name
    return table.view(rows, dim)
