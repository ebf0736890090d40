"""How well ``studio label-issues`` finds flipped labels, and what fixing them is worth.

    python scripts/label_noise.py DATA [--text-col C] [--label-col C] [--shares 0.05,0.1]
        [--folds 5] [--seed 0] [--config FILE] [--test-share 0.2] [--no-retrain]

A clean test part (``--test-share``, stratified, seeded) is set aside first; nothing is
flipped, searched or tuned on it. In the rest (the pool), a seeded ``share`` of labels is
flipped in a copy; the finder runs on that copy, and is scored at k = the number flipped.
Then the setup is trained on the clean pool, the noisy pool, and the two corrected copies
the window writes (every suggestion accepted; every flagged document excluded), and each
model is scored on the clean test part. Single-label data only; DATA is never touched.
Prints one JSON line per share.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from studio.config import DataConfig, StudioConfig, load_config
from studio.engine import train_run
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.label_issues import find_issues, out_of_fold
from studio.engine.analysis.report import predict_split
from studio.engine.data.corrected import write_corrected
from studio.engine.data.prepare import prepare_dataset
from studio.engine.data.split import stratified_split


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["text", "label"])
        w.writerows(rows)


def _split(prepared: Any, test_share: float, seed: int, tmp: Path) -> tuple[list, Path]:
    """The pool's (text, label) rows, and the clean test part written to a file."""
    names, y = prepared.label_names, np.asarray(prepared.targets)
    pool, _, test = stratified_split(y, 0.0, test_share, seed)
    row = lambda i: (" ".join(prepared.text(int(i)).split()), names[int(y[i])])  # noqa: E731
    _write(tmp / "test.tsv", [row(i) for i in test])
    return [row(i) for i in pool], tmp / "test.tsv"


def _flip(rows: list, share: float, seed: int) -> tuple[list, set[int]]:
    """``rows`` with ``share`` of labels changed to another class; the flipped lines."""
    rng = np.random.default_rng(seed)
    names = sorted({label for _, label in rows})
    picked = set(rng.choice(len(rows), size=round(share * len(rows)), replace=False).tolist())
    out = []
    for i, (text, label) in enumerate(rows):
        if i in picked:
            label = str(rng.choice([n for n in names if n != label]))
        out.append((text, label))
    return out, {i + 2 for i in picked}  # file lines: the header is line 1


def _test_accuracy(base: StudioConfig, train: Path, test: Path, cache: Path, runs: Path) -> float:
    """Train on ``train`` (its own validation share) and score on the clean ``test`` file."""
    data = {"path": str(train), "text_column": "text", "label_column": "label",
            "test_path": str(test), "test_fraction": 0.0}  # fmt: skip
    config = base.with_overrides(data=data)
    result = train_run(config, runs_dir=runs, cache_dir=cache)
    prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=cache)
    p = predict_split(load_run(str(result.run_dir)), prepared, "test")
    return round(float((p.probs.argmax(axis=1) == p.y_true).mean()), 4)


def _one_share(args: argparse.Namespace, base: StudioConfig, pool: list, test: Path,
               share: float, tmp: Path) -> dict[str, Any]:  # fmt: skip
    cache, runs = tmp / "cache", tmp / "runs"
    noisy, flipped = _flip(pool, share, args.seed)
    noisy_path = tmp / f"noisy-{share}.tsv"
    _write(noisy_path, noisy)
    data = DataConfig(path=str(noisy_path), text_column="text", label_column="label")
    config = base.with_overrides(data=data.__dict__)
    prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=cache)
    start = time.perf_counter()
    issues = find_issues(out_of_fold(config, prepared, args.folds))
    seconds = time.perf_counter() - start
    found, k = [i.line for i in issues], len(flipped)
    hits = len(set(found[:k]) & flipped)
    row: dict[str, Any] = {
        "data": args.data, "share": share, "pool": len(pool), "flipped": k,
        "flagged": len(found), "precision_at_k": round(hits / k, 4),
        "recall_at_k": round(hits / k, 4),
        "recall_flagged": round(len(set(found) & flipped) / k, 4),
        "precision_flagged": round(len(set(found) & flipped) / max(len(found), 1), 4),
        "finder_seconds": round(seconds, 1),
    }  # fmt: skip
    if args.no_retrain:
        return row
    accept = tmp / f"accept-{share}.tsv"
    exclude = tmp / f"exclude-{share}.tsv"
    write_corrected(data, {i.line: i.suggested_labels for i in issues}, set(), accept)
    write_corrected(data, {}, set(found), exclude)
    clean_path = tmp / "clean-pool.tsv"
    _write(clean_path, pool)
    for name, path in (("clean", clean_path), ("noisy", noisy_path),
                       ("accept_all", accept), ("exclude_all", exclude)):  # fmt: skip
        row[f"test_acc_{name}"] = _test_accuracy(base, path, test, cache, runs)
    gap = row["test_acc_clean"] - row["test_acc_noisy"]
    for name in ("accept_all", "exclude_all"):
        gain = row[f"test_acc_{name}"] - row["test_acc_noisy"]
        row[f"recovered_{name}"] = round(gain / gap, 3) if gap > 0 else None
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--text-col")
    parser.add_argument("--label-col")
    parser.add_argument("--shares", default="0.05,0.1")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config")
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--no-retrain", action="store_true")
    args = parser.parse_args()
    base = load_config(args.config) if args.config else StudioConfig()
    base = base.with_overrides(train={"tensorboard": False})
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        source = DataConfig(path=args.data, text_column=args.text_col, label_column=args.label_col)
        clean = prepare_dataset(source, base.tokenizer, cache_dir=tmp / "cache")
        pool, test = _split(clean, args.test_share, args.seed, tmp)
        for share in (float(s) for s in args.shares.split(",")):
            print(json.dumps(_one_share(args, base, pool, test, share, tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
