"""``studio bench --suite speed``: training throughput against fastText, and the time around it.

Two figures, measured side by side in one run (contenders alternate, medians of
``repeats``):

* **docs/s per epoch** of the engine (the default recipe at fastText's features: words and
  hashed word bigrams, no character n-grams) against fastText's ``train_supervised`` with
  ``-wordNgrams 2`` on the same training split, every core for both. The ratio is the
  target (at least 1.0).
* **time outside training** of ``studio train`` as a user runs it, on a dataset already in
  the cache: a fresh process from spawn to exit, less the training seconds it reports
  (``--json``). Measured at the default bucket count and at 2,000,000 bigram buckets (a
  512 MB table). The target is at most 1.5 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.bench.fasttext_loop import fasttext_available, run_fasttext
from studio.bench.runner import run_engine
from studio.config import DataConfig, StudioConfig
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.runs.layout import default_cache_dir
from studio.errors import StudioError

BIG_BUCKETS = 2_000_000
STUDIO = "studio (words + bigrams)"
FASTTEXT = "fastText -wordNgrams 2"


def _cli_run(data: DataConfig, runs: Path, extra: list[str]) -> dict[str, float]:
    """``studio train`` in a fresh process: wall seconds from spawn to exit, train seconds."""
    command = [sys.executable, "-m", "studio", "train", data.path, "--char-ngrams", "0",
               "--runs-dir", str(runs), "--json", "--quiet", *extra]  # fmt: skip
    for flag, value in (("--text-col", data.text_column), ("--label-col", data.label_column)):
        if value:
            command += [flag, value]
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise StudioError(f"studio train failed: {proc.stderr.strip()[-300:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])  # after the run folder line
    train = float(summary["train_seconds"])
    return {"wall_seconds": wall, "train_seconds": train, "outside_seconds": wall - train}


def _contenders(
    p: PreparedDataset, data: DataConfig, config: StudioConfig, runs: Path
) -> list[tuple[str, Callable[[], dict[str, float]]]]:
    words = config.with_overrides(tokenizer={"char_ngrams": (0, 0)})

    def engine() -> dict[str, float]:
        r = run_engine(p, words, STUDIO)
        return {"docs_per_second": r.docs_per_second, "train_seconds": r.train_seconds,
                "test_accuracy": r.test_accuracy}  # fmt: skip

    def fasttext() -> dict[str, float]:
        r = run_fasttext(p, FASTTEXT, 25, 2)
        return {"docs_per_second": r.docs_per_second, "train_seconds": r.train_seconds,
                "test_accuracy": r.test_accuracy}  # fmt: skip

    rows: list[tuple[str, Callable[[], dict[str, float]]]] = [(STUDIO, engine)]
    if fasttext_available() and not p.multi_label:
        rows.append((FASTTEXT, fasttext))
    rows += [
        ("studio train, default buckets", lambda: _cli_run(data, runs, [])),
        (f"studio train, {BIG_BUCKETS:,} buckets",
         lambda: _cli_run(data, runs, ["--ngram-buckets", str(BIG_BUCKETS)])),
    ]  # fmt: skip
    return rows


def run_speed(
    data: DataConfig,
    config: StudioConfig,
    repeats: int = 3,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every row of the speed suite ``repeats`` times, alternately; medians and ratios."""
    say = progress or (lambda _m: None)
    config = config.with_overrides(
        data={k: getattr(data, k) for k in ("path", "text_column", "label_column")}
    )
    # the user's cache: the studio train rows then start on a cached dataset
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=default_cache_dir())
    samples: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows = _contenders(p, data, config, Path(tmp))
        _cli_run(data, Path(tmp), [])  # once untimed: Python's bytecode cache, the OS's
        for k in range(repeats):
            for name, run in rows:
                say(f"repeat {k + 1}/{repeats}: {name}")
                samples.setdefault(name, []).append(run())
    medians = {
        name: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
        for name, runs in samples.items()
    }
    ratios = {}
    if FASTTEXT in medians:
        ratios["studio / fastText docs/s per epoch"] = (
            medians[STUDIO]["docs_per_second"] / medians[FASTTEXT]["docs_per_second"]
        )
    return {"data": data.path, "n_train": len(p.train_idx), "repeats": repeats,
            "rows": medians, "ratios": ratios}  # fmt: skip
