#!/usr/bin/env python3
"""Time ``studio train`` from two checkouts side by side: wall, training and the rest.

For a change to the time around training (imports, encoding the held-out splits,
checkpoints, the final model), the figure is the difference between two trees run
alternately on one machine, since the machines are noisy::

    git worktree add /tmp/old HEAD~2
    python scripts/ab_outside_training.py /tmp/fortunes.tsv --old /tmp/old --repeats 3
    python scripts/ab_outside_training.py DATA --old /tmp/old -- --ngram-buckets 2000000

Each run is a fresh ``python -m studio train DATA [EXTRA...]`` with ``PYTHONPATH`` set to
the tree, so both use this interpreter's packages. The training seconds are the ones the
command prints; "outside" is wall less training. Medians of ``--repeats`` per tree.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

TRAINING = re.compile(r"([\d.]+) s training")
ACCURACY = re.compile(r"validation accuracy ([\d.]+)")


def one_run(tree: Path, data: str, extra: list[str]) -> tuple[float, float, str]:
    """``(wall s, training s, validation accuracy)`` of one ``studio train`` from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree), COLUMNS="200")
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "studio", "train", data, *extra],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    text = " ".join((out.stdout + out.stderr).split())
    found = TRAINING.search(text)
    if out.returncode != 0 or found is None:
        raise SystemExit(f"{tree}: studio train failed (exit {out.returncode}):\n{text[-2000:]}")
    accuracy = ACCURACY.search(text)
    return wall, float(found.group(1)), accuracy.group(1) if accuracy else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more studio train options (after --)")
    args = parser.parse_args()
    trees = {"old": args.old, "new": args.new}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            wall, train, accuracy = one_run(tree, args.data, args.extra)
            runs[name].append((wall, train))
            times = f"wall {wall:.2f} s, training {train:.2f} s, outside {wall - train:.2f} s"
            print(f"{name}: {times}, validation accuracy {accuracy}", flush=True)
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        train = statistics.median(t for _, t in values)
        outside = statistics.median(w - t for w, t in values)
        print(f"{name} medians: wall {wall:.2f} s, training {train:.2f} s, outside {outside:.2f} s")


if __name__ == "__main__":
    main()
