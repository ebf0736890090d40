"""How large a user/item table trains here: generated interactions (uniform users, zipf
items), one epoch of the default softmax, metrics off; prints the tables' size, the
training speed and the process's peak resident memory as JSON.

    python scripts/recs_scale.py --users 4000000 --items 500000 --interactions 20000000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.train.recs import RecSettings, fit_recs


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=4_000_000)
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.interactions
    items = np.minimum(rng.zipf(1.2, n) - 1, args.items - 1).astype(np.int64)
    data = Interactions(
        rng.integers(0, args.users, n), items, np.ones(n, np.float32), None, np.arange(n),
        tuple(map(str, range(args.users))), tuple(map(str, range(args.items))), "generated",
        {"user": "user", "item": "item", "weight": None, "time": None},
    )  # fmt: skip
    split = InteractionSplit(np.arange(n), np.zeros(0, np.int64), np.ones(n, bool), 0, 0)
    start = time.perf_counter()
    result = fit_recs(data, split, RecSettings(dim=args.dim, epochs=args.epochs))
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
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
