"""How large a user/item table trains here: generated interactions (uniform users, zipf
items), one epoch of the default softmax, metrics off; prints the tables' size, the
training speed and the process's peak resident memory as JSON.

    python scripts/recs_scale.py --users 4000000 --items 500000 --interactions 20000000
    python scripts/recs_scale.py ... --csv FILE        # through a file and its cache

The ids are numbers, named lazily (no tuple of millions of strings), so the peak is the
training's own: the tables (in memory, or mapped), their Adagrad state and the pairs.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import overload

import numpy as np

from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.train.recs import RecSettings, fit_recs


class Numbered(Sequence[str]):
    """The names "0", "1", … of ``n`` generated ids."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        return [str(j) for j in range(self.n)[i]] if isinstance(i, slice) else str(range(self.n)[i])


def _through_csv(data: Interactions, path: str) -> tuple[Interactions, dict[str, float]]:
    """``data`` written to ``path`` as ``user,item`` rows, then opened twice through a fresh
    cache folder; the second open's interactions, and both opens' seconds."""
    import tempfile

    import pyarrow as pa
    from pyarrow import csv

    from studio.engine.data.interaction_cache import open_interactions

    table = pa.table({"user": np.asarray(data.users), "item": np.asarray(data.items)})
    csv.write_csv(table, path, csv.WriteOptions(quoting_style="none"))
    times = {}
    with tempfile.TemporaryDirectory() as cache:
        for name in ("first_open_s", "second_open_s"):
            start = time.perf_counter()
            opened = open_interactions(path, cache_dir=cache)
            times[name] = round(time.perf_counter() - start, 2)
        users, items = np.array(opened.users), np.array(opened.items)  # the cache goes below
    times["csv_mb"] = round(Path(path).stat().st_size / 1e6, 1)
    return Interactions(users, items, data.weights, None, data.lines, data.user_names,
                        data.item_names, path, data.columns), times  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=4_000_000)
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--csv", help="write the interactions to this CSV, then train on what "
                        "its first open (read, cached) and second open (mapped) give")  # fmt: skip
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.interactions
    items = np.minimum(rng.zipf(1.2, n) - 1, args.items - 1).astype(np.int64)
    data = Interactions(
        rng.integers(0, args.users, n), items, np.ones(n, np.float32), None, np.arange(n),
        Numbered(args.users), Numbered(args.items), "generated",
        {"user": "user", "item": "item", "weight": None, "time": None},
    )  # fmt: skip
    opened: dict[str, float] = {}
    if args.csv:
        data, opened = _through_csv(data, args.csv)
    split = InteractionSplit(np.arange(n), np.zeros(0, np.int64), np.ones(n, bool), 0, 0)
    start = time.perf_counter()
    settings = RecSettings(dim=args.dim, epochs=args.epochs)
    result = fit_recs(data, split, settings)
    wall = time.perf_counter() - start
    tables = result.tables
    size = sum(t.numel() * t.element_size() for t in (tables.users, tables.items))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "users": args.users, "items": args.items, "interactions": n, "dim": args.dim,
        "table_rows": tables.users.shape[0] + tables.items.shape[0],
        "tables_gb": round(size / 1e9, 3),
        "interactions_per_second": round(result.history[-1].interactions_per_second),
        "wall_s": round(wall, 1), "peak_rss_gb": round(peak_kib * 1024 / 1e9, 2),
        **opened,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
