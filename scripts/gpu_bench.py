"""The GPU figures of the README's performance table, in one process (scripts/gpu_check.sh).

    python scripts/gpu_bench.py --out DIR [--device cuda] [--docs 1000000] [--tokens 30]

On a generated set of ``docs`` documents (``tests/bench/bench_prepare.generate``: Zipf
words, 10 labels), prepared once: the batch-size finder's result on ``device``; one epoch
at that batch with AMP on and off (docs/s, peak device memory against the Setup page's
estimate); one epoch of the default recipe on the same machine's CPU (Hogwild threads),
and the ratio. Prints one JSON object and writes it to ``DIR/gpu_bench.json``.
``--device cpu`` (with few ``--docs``) dry-runs every part on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "bench"))
sys.path.insert(0, str(ROOT))

from bench_prepare import generate  # noqa: E402

from studio.config import DataConfig, StudioConfig  # noqa: E402
from studio.engine.data.prepare import PreparedDataset, prepare_dataset  # noqa: E402
from studio.engine.train.batch_finder import find_batch_size  # noqa: E402
from studio.engine.train.loop import fit  # noqa: E402
from studio.engine.train.memory import estimate_training_memory  # noqa: E402
from studio.engine.train.recipe import resolve_recipe  # noqa: E402


def _epoch(config: StudioConfig, p: PreparedDataset, device: torch.device) -> dict[str, Any]:
    """One epoch of ``config``: docs/s, and on CUDA the peak memory against the estimate."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    t0 = time.perf_counter()
    r = fit(config, prepared=p)
    out: dict[str, Any] = {
        "batch_size": resolve_recipe(config, p).train.batch_size, "amp": config.device.amp,
        "docs_per_second": r.docs_per_second, "train_seconds": r.train_seconds,
        "wall_seconds": time.perf_counter() - t0, "val_accuracy": r.val_accuracy,
    }  # fmt: skip
    if device.type == "cuda":
        lengths = p.offsets[p.train_idx + 1] - p.offsets[p.train_idx]
        vocab = p.effective_vocab_size(config.tokenizer.vocab_size, config.tokenizer.min_freq)
        estimate = estimate_training_memory(
            config, vocab, len(p.label_names), tokens_per_doc=float(lengths.mean())
        )
        peak = torch.cuda.max_memory_allocated(device) - base
        out |= {"peak_bytes": peak, "estimate_bytes": estimate.training_bytes,
                "peak_over_estimate": peak / estimate.training_bytes}  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--tokens", type=int, default=30)
    ap.add_argument("--work", default="/tmp/studio-gpu-check", help="the data and its cache")
    args = ap.parse_args()
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"generated-{args.docs}.tsv"
    t0 = time.perf_counter()
    if not data.exists():
        generate(data, args.docs, args.tokens)
    base = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        train={"epochs": 1}, tokenizer={"char_ngrams": (0, 0)}
    )
    p = prepare_dataset(base.data, base.tokenizer, cache_dir=work / "cache")
    report: dict[str, Any] = {
        "device": args.device, "docs": args.docs, "n_train": len(p.train_idx),
        "prepare_seconds": time.perf_counter() - t0,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
    }  # fmt: skip
    on = base.with_overrides(device={"device": args.device})
    best = find_batch_size(on, p)
    report["batch_finder"] = best
    device = torch.device(args.device)
    report["amp_on"] = _epoch(
        on.with_overrides(train={"batch_size": best}, device={"amp": True}), p, device
    )
    report["amp_off"] = _epoch(
        on.with_overrides(train={"batch_size": best}, device={"amp": False}), p, device
    )
    report["cpu_default"] = _epoch(base, p, torch.device("cpu"))
    fastest = max(report["amp_on"]["docs_per_second"], report["amp_off"]["docs_per_second"])
    report["device_over_cpu"] = fastest / report["cpu_default"]["docs_per_second"]
    text = json.dumps(report, indent=1)
    (out / "gpu_bench.json").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
