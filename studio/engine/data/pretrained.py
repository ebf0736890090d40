"""Initialise embedding rows from a word2vec/GloVe/fastText ``.vec`` text file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.errors import DatasetError


def _dim_error(path: Path, line: int, found: int, dim: int) -> DatasetError:
    return DatasetError(
        f"vectors have dimension {found}, but the embedding dimension is {dim}",
        path=path,
        line=line,
    )


def load_vectors(
    path: str | Path, vocab: dict[str, int], dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read the vectors of the words in ``vocab``; returns ``(row_ids, vectors)``.

    Accepts files with or without the ``count dim`` header line (fastText/word2vec have it,
    GloVe does not). Streams the file, so only vocabulary words are kept in memory. Any
    line whose dimension differs from ``dim`` is an error naming the line.
    """
    p = Path(path)
    rows: list[int] = []
    vecs: list[np.ndarray] = []
    try:
        fh = open(p, encoding="utf-8", errors="strict")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise DatasetError(f"cannot open vector file: {exc.strerror}", path=p) from None
    with fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                parts = line.rstrip("\n").rstrip().split(" ")
                if lineno == 1 and len(parts) == 2 and all(x.isdigit() for x in parts):
                    if int(parts[1]) != dim:
                        raise _dim_error(p, 1, int(parts[1]), dim)
                    continue
                if len(parts) < 2:
                    continue
                if len(parts) - 1 != dim:
                    raise _dim_error(p, lineno, len(parts) - 1, dim)
                row = vocab.get(parts[0])
                if row is None or row < 2:
                    continue
                try:
                    vecs.append(np.asarray(parts[1:], dtype=np.float32))
                except ValueError:
                    raise DatasetError(
                        "vector has a value that is not a number", path=p, line=lineno
                    ) from None
                rows.append(row)
        except UnicodeDecodeError:
            raise DatasetError("vector file is not valid UTF-8", path=p) from None
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
    return np.asarray(rows, dtype=np.int64), np.stack(vecs)
