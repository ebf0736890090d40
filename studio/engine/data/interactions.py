"""Interaction data for recommendation: who interacted with what, optionally how much and
when. One row per interaction in a CSV, TSV, JSON Lines or Parquet file.

Columns are found by name when not given (``user``/``user_id``/``customer``…, ``item``/
``item_id``/``product``…, ``rating``/``weight``/``count``…, ``timestamp``/``time``/
``date``…). Every problem is a :class:`~studio.errors.DatasetError` naming the file, the
line and the column; users and items become dense ids in order of first appearance.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from studio.engine.data.readers import (
    csv_lines,
    raise_field_limit,
    read_bytes,
    read_text,
    sniff_delimiter,
    tsv_is_quoted,
)
from studio.errors import DatasetError

__all__ = [
    "COLUMN_NAMES",
    "FAST_FROM_BYTES",
    "Interactions",
    "Row",
    "choose_columns",
    "column_key",
    "read_interactions",
    "table_rows",
]

#: CSV, TSV and Parquet files from this size are read by pyarrow when it can give the same
#: result (:mod:`~studio.engine.data.fast_interactions`), else by the rows here.
FAST_FROM_BYTES = 1 << 20

#: The names each role's column is recognised by (compared without case, ``_`` and ``-``).
COLUMN_NAMES: Final = {
    "user": ("user", "userid", "user_id", "customer", "customerid", "client", "member",
             "visitor", "session", "package", "source"),
    "item": ("item", "itemid", "item_id", "product", "productid", "movie", "movieid",
             "song", "track", "artist", "book", "article", "depends", "target", "sku"),
    "weight": ("weight", "rating", "score", "count", "plays", "playcount", "quantity",
               "value", "strength"),
    "time": ("timestamp", "time", "ts", "date", "datetime", "created", "createdat", "when"),
}  # fmt: skip
Row = tuple[int, dict[str, Any]]  # (line, column -> value)


@dataclass(frozen=True)
class Interactions:
    """One array entry per interaction; ``users[i]`` indexes ``user_names``."""

    users: np.ndarray  # int64
    items: np.ndarray  # int64
    weights: np.ndarray  # float32, 1.0 without a weight column
    times: np.ndarray | None  # float64 seconds (or the column's numbers); None: no column
    lines: np.ndarray  # int64, the source line (CSV/JSONL) or row (Parquet)
    user_names: Sequence[str]  # a tuple, or memory-mapped Names (studio.engine.data.names)
    item_names: Sequence[str]
    path: str
    columns: dict[str, str | None]

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_users(self) -> int:
        return len(self.user_names)

    @property
    def n_items(self) -> int:
        return len(self.item_names)


def column_key(name: str) -> str:
    """How column names are compared: without case, ``_``, ``-`` and spaces."""
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def choose_columns(
    names: Sequence[str], given: dict[str, str | None], path: Path
) -> dict[str, str | None]:
    """The column of each role: as given, else the first name that matches the role;
    DatasetError when a given column is missing or no user or item column is found."""
    chosen: dict[str, str | None] = {}
    for role, candidates in COLUMN_NAMES.items():
        name = given.get(role)
        if name is not None:
            if name not in names:
                raise DatasetError(
                    f"no column {name!r} (columns: {', '.join(names)})", path=path, column=name
                )
        else:
            keys = {column_key(c) for c in candidates}
            name = next(
                (n for n in names if column_key(n) in keys and n not in chosen.values()), None
            )
        chosen[role] = name
    for role in ("user", "item"):
        if chosen[role] is None:
            raise DatasetError(
                f"no {role} column found among {', '.join(names)}; name it with "
                f"--{role}-col (recognised: {', '.join(COLUMN_NAMES[role][:4])}, …)",
                path=path,
            )
    if chosen["user"] == chosen["item"]:
        raise DatasetError("the user and item columns must differ", path=path)
    return chosen


def _csv_rows(path: Path, text: str, tsv: bool) -> tuple[list[str], Iterator[Row]]:
    raise_field_limit()
    sep = "\t" if tsv else (sniff_delimiter(text) or ",")
    quoted = not tsv or tsv_is_quoted(text)
    reader = csv.reader(
        csv_lines(text), delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=True,
    )  # fmt: skip
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DatasetError("the file is empty", path=path) from None

    def rows() -> Iterator[Row]:
        line = reader.line_num + 1
        try:
            for cells in reader:
                if cells and any(c.strip() for c in cells):
                    if len(cells) != len(header):
                        raise DatasetError(
                            f"expected {len(header)} fields like the header, found {len(cells)}",
                            path=path, line=line,
                        )  # fmt: skip
                    yield line, dict(zip(header, cells, strict=True))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise DatasetError(f"malformed CSV: {exc}", path=path, line=line) from None

    return header, rows()


def _jsonl_rows(path: Path, text: str) -> tuple[list[str], Iterator[Row]]:
    parsed: list[Row] = []
    for number, raw in enumerate(text.split("\n"), 1):
        if raw.strip():
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise DatasetError(f"invalid JSON: {exc}", path=path, line=number) from None
            if not isinstance(value, dict):
                raise DatasetError("expected a JSON object per line", path=path, line=number)
            parsed.append((number, value))
    if not parsed:
        raise DatasetError("the file is empty", path=path)
    return list(dict.fromkeys(k for _, obj in parsed[:1000] for k in obj)), iter(parsed)


def _parquet_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs the 'pyarrow' package", path=path) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many kinds for a bad file
        raise DatasetError(f"not a readable Parquet file ({exc})", path=path) from None
    names = [str(n) for n in table.column_names]
    columns = table.to_pydict()
    rows = (
        (i + 1, {n: columns[n][i] for n in names}) for i in range(table.num_rows)
    )  # fmt: skip
    return names, rows


def _number(value: Any, role: str, path: Path, line: int, column: str) -> float:
    if isinstance(value, bool):
        raise DatasetError(f"{role} must be a number, not {value}", path=path, line=line,
                           column=column)  # fmt: skip
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    if role == "time" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).timestamp()
        except ValueError:
            pass
    what = "a number or an ISO date" if role == "time" else "a number"
    raise DatasetError(f"{role} must be {what}, got {value!r}", path=path, line=line,
                       column=column)  # fmt: skip


def read_interactions(
    path: str | Path,
    *,
    user_column: str | None = None,
    item_column: str | None = None,
    weight_column: str | None = None,
    time_column: str | None = None,
) -> Interactions:
    """Read an interactions file; DatasetError (file, line, column) for any bad input."""
    path = Path(path)
    given = {"user": user_column, "item": item_column, "weight": weight_column,
             "time": time_column}  # fmt: skip
    if path.is_file() and path.stat().st_size >= FAST_FROM_BYTES:
        from studio.engine.data.fast_interactions import read_fast

        fast = read_fast(path, given)
        if fast is not None:
            return fast
    names, rows = table_rows(path)
    chosen = choose_columns(names, given, path)
    return _collect(path, rows, chosen)


def table_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    """The column names and the ``(line, {column: value})`` rows of a CSV, TSV, JSON Lines
    or Parquet file (by its suffix, or Parquet's magic bytes)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq") or read_bytes(path, 4) == b"PAR1":
        return _parquet_rows(path)
    text = read_text(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _jsonl_rows(path, text)
    return _csv_rows(path, text, suffix in (".tsv", ".tab"))


def _collect(path: Path, rows: Iterator[Row], chosen: dict[str, str | None]) -> Interactions:
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    u, it, w, t, lines = [], [], [], [], []
    ucol, icol = str(chosen["user"]), str(chosen["item"])
    wcol, tcol = chosen["weight"], chosen["time"]
    for line, row in rows:
        for col in (ucol, icol):
            value = row.get(col)
            if value is None or str(value).strip() == "":
                raise DatasetError(f"empty {col}", path=path, line=line, column=col)
        u.append(users.setdefault(str(row[ucol]).strip(), len(users)))
        it.append(items.setdefault(str(row[icol]).strip(), len(items)))
        w.append(1.0 if wcol is None else _number(row.get(wcol), "weight", path, line, wcol))
        if tcol is not None:
            t.append(_number(row.get(tcol), "time", path, line, tcol))
        lines.append(line)
    if not u:
        raise DatasetError("no interactions found", path=path)
    return Interactions(
        np.asarray(u, dtype=np.int64), np.asarray(it, dtype=np.int64),
        np.asarray(w, dtype=np.float32), None if tcol is None else np.asarray(t, np.float64),
        np.asarray(lines, dtype=np.int64), tuple(users), tuple(items), str(path), chosen,
    )  # fmt: skip
