"""How well ``studio label-issues`` finds flipped labels: flip a seeded share of a dataset's
labels in a copy, run the out-of-fold finder, and score it at k = the number flipped.

    python scripts/label_noise.py DATA [--text-col C] [--label-col C] [--shares 0.05,0.1]
        [--folds 5] [--seed 0] [--config FILE]

Only single-label data. The copy is written to a temporary folder; DATA is never touched.
Prints, per share: precision and recall at k, recall of everything flagged, and seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.config import DataConfig, StudioConfig, load_config
from studio.engine.analysis.label_issues import find_issues, out_of_fold
from studio.engine.data.prepare import prepare_dataset


def _flipped_copy(prepared, share: float, seed: int, out: Path) -> set[int]:  # type: ignore[no-untyped-def]
    """A two-column TSV of the prepared documents with ``share`` of labels flipped; the
    flipped documents' indices."""
    rng = np.random.default_rng(seed)
    n, names = prepared.n_docs, prepared.label_names
    flipped = set(rng.choice(n, size=round(share * n), replace=False).tolist())
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["text", "label"])
        for i in range(n):
            label = int(prepared.targets[i])
            if i in flipped:
                label = int(rng.choice([j for j in range(len(names)) if j != label]))
            w.writerow([" ".join(prepared.text(i).split()), names[label]])
    return flipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--text-col")
    parser.add_argument("--label-col")
    parser.add_argument("--shares", default="0.05,0.1")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config")
    args = parser.parse_args()
    base = load_config(args.config) if args.config else StudioConfig()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        data = DataConfig(path=args.data, text_column=args.text_col, label_column=args.label_col)
        clean = prepare_dataset(data, base.tokenizer, cache_dir=cache)
        for share in (float(s) for s in args.shares.split(",")):
            copy = Path(tmp) / f"flipped-{share}.tsv"
            flipped = _flipped_copy(clean, share, args.seed, copy)
            config = base.with_overrides(data={"path": str(copy), "text_column": "text",
                                               "label_column": "label"})  # fmt: skip
            prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=cache)
            start = time.perf_counter()
            issues = find_issues(out_of_fold(config, prepared, args.folds))
            seconds = time.perf_counter() - start
            found = [i.line - 2 for i in issues]  # line 1 is the header
            k = len(flipped)
            hits_k = len(set(found[:k]) & flipped)
            print(json.dumps({
                "data": args.data, "share": share, "documents": clean.n_docs, "flipped": k,
                "flagged": len(found), "precision_at_k": round(hits_k / k, 4),
                "recall_at_k": round(hits_k / k, 4),
                "recall_flagged": round(len(set(found) & flipped) / k, 4),
                "precision_flagged": round(len(set(found) & flipped) / max(len(found), 1), 4),
                "seconds": round(seconds, 1),
            }), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
