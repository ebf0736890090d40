"""Recommendation benchmark, every knob (``studio bench --suite recs`` is the short form):
the user/item tables against popularity and ``implicit``'s ALS on DATA's split, and
training speed on generated interactions.

    python tests/bench/bench_recs.py [DATA --user-col C --item-col C] [--holdout random]
        [--epochs 20] [--generated 1000000] [--batch-sizes 1024,4096,16384] [--repeats 3]
        [--als-minutes 5] [--als-grid 64:0.1,200:0.01]
    python tests/bench/bench_recs.py DATA --sweep

With DATA: recall/NDCG/hit@10 of each model on DATA's held-out interactions (scored once),
train and wall seconds. Always: interactions/s of the tables' training on ``--generated``
interactions (zipf items, 2 epochs, metrics off), median of ``--repeats`` per batch size.
With ``--sweep``: only recall/NDCG/hit@10 of each of ``SWEEP``'s settings on a validation
split carved from DATA's training rows (how the defaults were chosen). One JSON object per
line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.bench.recs import RecsBenchOptions, compare, speed, sweep
from studio.engine.train.recs import RecSettings


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data", nargs="?")
    parser.add_argument("--user-col")
    parser.add_argument("--item-col")
    parser.add_argument("--holdout", default="random", choices=["last", "random"])
    parser.add_argument("--epochs", type=int, default=RecSettings().epochs)
    parser.add_argument("--generated", type=int, default=1_000_000)
    parser.add_argument("--batch-sizes", default="1024,4096,16384")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sweep", action="store_true",
                        help="instead: SWEEP scored on a validation split")  # fmt: skip
    parser.add_argument("--als-minutes", type=float, default=5.0,
                        help="minutes of random search over ALS factors, regularisation and "
                        "alpha on a validation split (0: none)")  # fmt: skip
    parser.add_argument("--als-grid", default="64:0.1,200:0.01",
                        help="extra ALS settings tried, factors:regularisation")  # fmt: skip
    args = parser.parse_args()
    opts = RecsBenchOptions(
        data=args.data or "", user_col=args.user_col, item_col=args.item_col,
        holdout=args.holdout, epochs=args.epochs, generated=args.generated,
        batch_sizes=tuple(int(b) for b in args.batch_sizes.split(",") if b),  # "": none
        repeats=args.repeats, als_minutes=args.als_minutes,
        als_grid=tuple((int(f), float(r)) for f, r in
                       (pair.split(":") for pair in args.als_grid.split(",") if pair)),
    )  # fmt: skip
    if args.data and args.sweep:
        for row in sweep(opts):
            print(json.dumps({"data": Path(args.data).name, **row}), flush=True)
        return 0
    if args.data:
        for row in compare(opts):
            print(json.dumps({"data": Path(args.data).name, **row}), flush=True)
    for row in speed(opts):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
