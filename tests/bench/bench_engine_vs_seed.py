"""Docs/s of the engine's default config next to the seed-style loop, same data and split.

    python tests/bench/bench_engine_vs_seed.py [DATA] [--repeats 3] [--epochs 2]

Runs the two loops alternately ``repeats`` times in one process and prints medians and
the ratio, so machine noise hits both alike. Not a unit test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch

from studio.bench.seed_loop import run_seed_loop
from studio.config import DataConfig, StudioConfig
from studio.engine import fit, prepare_dataset

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=str(ROOT / "resources/manpages/manpages.tsv"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    config = StudioConfig(data=DataConfig(path=args.data)).with_overrides(
        train={"epochs": args.epochs}
    )
    p = prepare_dataset(config.data, config.tokenizer)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{len(p.train_idx)} train docs"
    )
    unigrams = config.with_overrides(tokenizer={"ngram_buckets": 0})
    rows: dict[str, list[tuple[float, float]]] = {"default": [], "no bigrams": [], "seed": []}
    for _ in range(args.repeats):
        for name, cfg in (("default", config), ("no bigrams", unigrams)):
            r = fit(cfg, prepared=p)
            rows[name].append((r.docs_per_second, r.val_accuracy))
        s = run_seed_loop(p, epochs=args.epochs)
        rows["seed"].append((s.docs_per_second, s.val_accuracy))
        print("  " + "  ".join(f"{k} {v[-1][0]:9,.0f}" for k, v in rows.items()) + " docs/s")
    seed = statistics.median(x for x, _ in rows["seed"])
    for name, values in rows.items():
        med = statistics.median(x for x, _ in values)
        print(
            f"{name:11s} median {med:9,.0f} docs/s  val acc {values[-1][1]:.4f}  "
            f"ratio to seed {med / seed:.1f}x"
        )


if __name__ == "__main__":
    main()
