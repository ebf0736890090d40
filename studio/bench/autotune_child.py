"""fastText's autotune in a child process, so a trial that aborts the process is a failed row.

fastText's search can end the whole process from a worker thread ("terminate called after
throwing an instance of ...": facebookresearch/fastText#465, #888, #1240), which no Python
``except`` catches. :func:`studio.bench.fasttext_loop.run_fasttext_autotune` writes the
splits and a JSON spec, runs this file as a script (standard library and fastText only, so it
starts fast) and reads back a JSON result: the seconds ``train_supervised`` took, the
arguments autotune chose and the labels it predicts for the given texts, or
``{"error": message}`` when fastText raised (e.g. "Encountered NaN.").
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def autotune(spec: dict[str, Any]) -> dict[str, Any]:
    """Search, keep the best model, predict ``spec["texts"]`` (split -> lines) with it."""
    import fasttext

    t0 = time.perf_counter()
    try:
        model = fasttext.train_supervised(
            input=spec["train"],
            autotuneValidationFile=spec["valid"],
            autotuneDuration=int(spec["seconds"]),
            thread=int(spec["threads"]),
            verbose=0,
        )
    except RuntimeError as exc:  # "Encountered NaN." on a diverging trial
        return {"error": str(exc)}
    seconds = time.perf_counter() - t0
    a = model.f.getArgs()
    chosen = {
        "epoch": a.epoch, "lr": a.lr, "dim": a.dim, "wordNgrams": a.wordNgrams,
        "minn": a.minn, "maxn": a.maxn, "bucket": a.bucket, "loss": a.loss.name,
    }  # fmt: skip
    predicted = {}
    for split, lines in spec["texts"].items():
        labels, _ = model.predict(lines) if lines else ([], None)
        predicted[split] = [ls[0] for ls in labels]
    return {"seconds": seconds, "args": chosen, "predicted": predicted}


def main(argv: list[str]) -> int:
    """``autotune_child.py SPEC.json OUT.json``."""
    spec_path, out_path = argv
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    result = autotune(spec)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
