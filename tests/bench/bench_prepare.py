"""Preparing a large dataset: time and peak memory, then reopening it from the cache.

    python tests/bench/bench_prepare.py [--docs 1000000] [--tokens 80] [--out DIR]

Generates a TSV of ``docs`` documents (Zipf-distributed words, about ``tokens`` tokens
each, 10 labels; generated for this benchmark only), then in fresh processes: prepares it
with the default tokenizer (cache cold), and reopens it (cache warm). Prints wall time and
the peak resident memory of each process (``ru_maxrss``, worker processes included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CHILD = """
import json, resource, sys, time
from studio.config import DataConfig, TokenizerConfig
from studio.engine.data.prepare import prepare_dataset
t0 = time.perf_counter()
p = prepare_dataset(DataConfig(path=sys.argv[1]), TokenizerConfig(), cache_dir=sys.argv[2])
seconds = time.perf_counter() - t0
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "docs": p.n_docs,
                  "tokens": int(p.offsets[-1]), "vocab": len(p.tokens),
                  "cached": p.cache_dir is not None}))
"""


def generate(path: Path, docs: int, tokens: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i:x}" for i in range(200_000)])
    labels = [f"topic{k}" for k in range(10)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text\tlabel\n")
        for start in range(0, docs, 50_000):
            n = min(50_000, docs - start)
            ids = np.minimum(rng.zipf(1.15, size=(n, tokens)), len(words)) - 1
            ys = rng.integers(0, 10, n)
            ids = (ids + ys[:, None] * 7) % len(words)  # labels shift the word distribution
            rows = [
                f"{' '.join(words[r])}, ok.\t{labels[y]}\n" for r, y in zip(ids, ys, strict=True)
            ]
            fh.writelines(rows)


def run(data: Path, cache: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(cache)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--tokens", type=int, default=80)
    ap.add_argument("--out", default="/tmp/studio-bench-prepare")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"generated-{args.docs}.tsv"
    if not data.exists():
        t0 = time.perf_counter()
        generate(data, args.docs, args.tokens)
        size = data.stat().st_size / 2**20
        print(f"generated {data} ({size:,.0f} MiB) in {time.perf_counter() - t0:.1f} s")
    cache = out / "cache"
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    cold = run(data, cache)
    warm = run(data, cache)
    print(
        f"prepare (cold cache): {cold['seconds']:.1f} s, peak {cold['peak_mb']:,.0f} MB, "
        f"{cold['docs']:,} docs, {cold['tokens']:,} tokens, vocabulary {cold['vocab']:,}"
    )
    print(f"reopen (warm cache): {warm['seconds']:.2f} s, peak {warm['peak_mb']:,.0f} MB, "
          f"from cache: {warm['cached']}")  # fmt: skip


if __name__ == "__main__":
    main()
