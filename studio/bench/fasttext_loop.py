"""fastText's supervised trainer on the same split, fed the studio's word tokens.

Needs the optional ``fasttext-numpy2`` package (``pip install -e ".[bench]"``). fastText
reads its own text format, so the training split is written once to a temp file; only
``train_supervised`` is timed.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.bench.result import BenchResult
from studio.engine.data.prepare import PreparedDataset
from studio.engine.data.tokenize import word_tokens
from studio.engine.train.metrics import single_label_metrics
from studio.errors import StudioError


def fasttext_available() -> bool:
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return False
    return True


def _line(p: PreparedDataset, i: int) -> str:
    return " ".join(word_tokens(p.text(int(i))))


def run_fasttext(
    p: PreparedDataset, name: str, epochs: int = 5, word_ngrams: int = 1, threads: int = 0
) -> BenchResult:
    """Train fastText with its defaults except ``epochs``/``word_ngrams``; times training only."""
    try:
        import fasttext
    except ImportError:
        raise StudioError("the fastText comparison needs: pip install fasttext-numpy2") from None
    if p.multi_label:
        raise StudioError("the fastText comparison runs on single-label data only")
    threads = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        with open(path, "w", encoding="utf-8") as fh:
            for i in p.train_idx:
                label = p.label_names[int(p.targets[i])].replace(" ", "_")
                fh.write(f"__label__{label} {_line(p, i)}\n")
        for attempt in range(3):
            t0 = time.perf_counter()
            try:
                model = fasttext.train_supervised(
                    str(path), epoch=epochs, wordNgrams=word_ngrams, thread=threads,
                    verbose=0, seed=attempt,
                )  # fmt: skip
            except RuntimeError as exc:
                # fastText's lock-free multi-threaded SGD can diverge on small data
                # ("Encountered NaN"); it is retried with another seed
                if attempt == 2:
                    raise StudioError(f"fastText failed three times: {exc}") from None
                continue
            seconds = time.perf_counter() - t0
            break
    index = {n.replace(" ", "_"): k for k, n in enumerate(p.label_names)}
    labels, _ = model.predict([_line(p, i) for i in p.valid_idx])
    pred = np.array([index[ls[0].removeprefix("__label__")] for ls in labels])
    metrics = single_label_metrics(np.asarray(p.targets[p.valid_idx]), pred, len(index))
    docs = len(p.train_idx) * epochs
    tokens = int(np.diff(p.offsets)[p.train_idx].sum()) * epochs
    return BenchResult(
        name, seconds, docs / seconds, tokens / seconds, metrics["accuracy"], metrics["macro_f1"],
        [(seconds, metrics["accuracy"])],
    )  # fmt: skip
