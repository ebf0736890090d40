"""A dataset larger than memory: prepare it, train one epoch on it, measure peak memory.

    python tests/bench/bench_large.py [--docs 10000000] [--tokens 80] [--out DIR]
                                      [--mode stream|memory|both] [--workers N]
                                      [--no-train] [--reuse]

Generates a TSV of ``docs`` documents once (``bench_prepare.generate``: Zipf words, about
``tokens`` tokens each, 10 labels; 10 M documents make about 4 GB), then runs every stage
in a fresh child process and prints one JSON line per stage: wall time, the peak resident
memory of the child itself and of its largest worker process (``ru_maxrss``), and the peak
of their sum, sampled every 0.1 s from ``/proc`` (Linux). The issue's target: a peak under
3 GB for 10 M documents, streamed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_prepare import generate

GB = 2**30


def _peaks() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**10
    return {"peak_self_mb": round(own), "peak_worker_mb": round(workers)}


def child_prepare(data: Path, cache: Path, stream: bool, workers: int | None) -> dict[str, object]:
    """Prepare ``data`` into ``cache`` (cold), in this process; the figures of the stage."""
    from studio.config import DataConfig, TokenizerConfig
    from studio.engine.data.dataset import load_prepared
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.data.streamed import prepare_streamed

    config, tok = DataConfig(path=str(data)), TokenizerConfig()
    t0 = time.perf_counter()
    if stream and workers:  # a given number of tokenizer processes
        prepare_streamed(config, tok, cache / "entry", workers=workers)
        p = load_prepared(cache / "entry")
    else:
        p = prepare_dataset(config, tok, cache_dir=cache, stream=stream)
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "docs": p.n_docs,
        "tokens": int(p.offsets[-1]),
        "vocab": len(p.tokens),
        "cache_dir": p.cache_dir,
    }


def child_train(data: Path, cache: Path, runs: Path) -> dict[str, object]:
    """One epoch with the default settings, as ``studio train DATA --epochs 1`` runs it
    (the dataset opened from ``cache``, which the prepare stage filled)."""
    from studio.config import StudioConfig
    from studio.engine.train.session import train_run

    config = StudioConfig().with_overrides(data={"path": str(data)}, train={"epochs": 1})
    t0 = time.perf_counter()
    result = train_run(config, cache_dir=cache, runs_dir=runs)
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "train_seconds": round(result.train_seconds, 1),
        "docs_per_second": round(result.docs_per_second),
        "steps": result.steps,
        "val_accuracy": round(result.val_accuracy, 4),
        "run_dir": result.run_dir,
    }


def _child(argv: list[str]) -> None:
    stage, data, cache, mode, workers = argv
    if stage == "train":
        figures = child_train(Path(data), Path(cache), Path(cache).parent / "runs")
    elif stage == "prepare":
        figures = child_prepare(Path(data), Path(cache), mode == "stream", int(workers) or None)
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    print(json.dumps({**figures, **_peaks()}))


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, from /proc (0 when unavailable)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return total


def stage(name: str, *args: str) -> dict[str, object]:
    """Run one stage in a fresh child process; its figures plus the sampled tree peak."""
    cmd = [sys.executable, __file__, "--child", name, *args]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.1):
            peak = max(peak, _tree_rss(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"stage {name} failed with status {child.returncode}")
    return {"stage": name, **json.loads(out.strip().splitlines()[-1]), "peak_tree_mb": peak >> 20}


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000_000)
    ap.add_argument("--tokens", type=int, default=80)
    ap.add_argument("--out", default="/tmp/studio-bench-large")
    ap.add_argument("--mode", choices=["stream", "memory", "both"], default="stream")
    ap.add_argument("--workers", type=int, default=0, help="streamed: tokenizer processes")
    ap.add_argument("--no-train", action="store_true", help="prepare only")
    ap.add_argument("--reuse", action="store_true", help="keep a prepared cache (train only)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"generated-{args.docs}x{args.tokens}.tsv"
    if not data.exists():
        t0 = time.perf_counter()
        partial = data.with_suffix(".partial")
        generate(partial, args.docs, args.tokens)
        partial.rename(data)
        print(f"generated {data} ({data.stat().st_size / GB:.2f} GB)"
              f" in {time.perf_counter() - t0:.0f} s", file=sys.stderr)  # fmt: skip
    modes = ["stream", "memory"] if args.mode == "both" else [args.mode]
    for mode in modes:
        cache = out / f"cache-{mode}-{args.docs}"
        size = {"mode": mode, "file_gb": round(data.stat().st_size / GB, 2)}
        if not (args.reuse and cache.exists()):
            shutil.rmtree(cache, ignore_errors=True)
            figures = stage("prepare", str(data), str(cache), mode, str(args.workers))
            print(json.dumps({**size, **figures}), flush=True)
        if not args.no_train:
            figures = stage("train", str(data), str(cache), mode, str(args.workers))
            print(json.dumps({**size, **figures}), flush=True)


if __name__ == "__main__":
    main()
