"""fastText's own autotune alone, on ``studio bench``'s split of each dataset, test scored once.

The bench's "fastText autotune" row without the other contenders (a 2-minute search costs
minutes a repeat inside ``studio bench``): ``python scripts/autotune_rows.py DATA ...
[--seconds 120]``. Needs ``pip install -e ".[bench]"``. A search that fails ("Encountered
NaN") prints a failed line, as the bench's failed row.
"""

from __future__ import annotations

import argparse

from studio.bench.fasttext_loop import run_fasttext_autotune
from studio.config import StudioConfig
from studio.engine.data.prepare import prepare_dataset
from studio.errors import StudioError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", help="dataset files (split as studio bench does)")
    parser.add_argument("--seconds", type=int, default=120, help="autotune's search time")
    args = parser.parse_args()
    for path in args.data:
        config = StudioConfig().with_overrides(data={"path": path})
        p = prepare_dataset(config.data, config.tokenizer)
        try:
            r = run_fasttext_autotune(p, "fastText autotune", args.seconds)
        except StudioError as exc:
            print(f"{path}: failed: {exc}", flush=True)
            continue
        print(
            f"{path}: test acc {r.test_accuracy:.4f} macro-F1 {r.test_macro_f1:.4f}, "
            f"val acc {r.val_accuracy:.4f}, {r.train_seconds:.1f} s; {r.detail}",
            flush=True,
        )


if __name__ == "__main__":
    main()
