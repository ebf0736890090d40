"""fastText's supervised trainer on the same split, fed the studio's word tokens.

Needs the optional ``fasttext-numpy2`` package (``pip install -e ".[bench]"``). fastText
reads its own text format, so the training split (and for autotune the validation split) is
written once to a temp file; only ``train_supervised`` is timed. Every row is scored on the
validation split and on the test split, which nothing tuned on.

Autotune (:func:`run_fasttext_autotune`) searches hyperparameters for ``seconds`` against the
validation file and then trains once more with the best, in a child process; its train
seconds are that whole ``train_supervised`` call and its docs/s counts the final model's
epochs over that time, search included.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from studio.bench.result import BenchResult, split_scores
from studio.engine.data.prepare import PreparedDataset
from studio.engine.data.tokenize import word_tokens
from studio.errors import StudioError


def fasttext_available() -> bool:
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return False
    return True


def _fasttext(p: PreparedDataset) -> Any:
    try:
        import fasttext
    except ImportError:
        raise StudioError("the fastText comparison needs: pip install fasttext-numpy2") from None
    if p.multi_label:
        raise StudioError("the fastText comparison runs on single-label data only")
    return fasttext


def _line(p: PreparedDataset, i: int) -> str:
    return " ".join(word_tokens(p.text(int(i))))


def _write(p: PreparedDataset, docs: np.ndarray, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in docs:
            label = p.label_names[int(p.targets[i])].replace(" ", "_")
            fh.write(f"__label__{label} {_line(p, i)}\n")


def _predict(model: Any, p: PreparedDataset, split: str) -> np.ndarray:
    index = {n.replace(" ", "_"): k for k, n in enumerate(p.label_names)}
    labels, _ = model.predict([_line(p, i) for i in p.split_indices(split)])
    return np.array([index[ls[0].removeprefix("__label__")] for ls in labels], dtype=np.int64)


def _result(
    model: Any, p: PreparedDataset, name: str, seconds: float, epochs: int, detail: str = ""
) -> BenchResult:
    val_acc, val_f1 = split_scores(p, "valid", _predict(model, p, "valid"))
    test_acc, test_f1 = split_scores(p, "test", _predict(model, p, "test"))
    docs = len(p.train_idx) * epochs
    tokens = int(np.diff(p.offsets)[p.train_idx].sum()) * epochs
    return BenchResult(
        name, seconds, docs / seconds, tokens / seconds, val_acc, val_f1, test_acc, test_f1,
        [(seconds, val_acc)], detail=detail,
    )  # fmt: skip


def run_fasttext(
    p: PreparedDataset, name: str, epochs: int = 5, word_ngrams: int = 1, threads: int = 0
) -> BenchResult:
    """Train fastText with its defaults except ``epochs``/``word_ngrams``; times training only."""
    fasttext = _fasttext(p)
    threads = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        _write(p, p.train_idx, path)
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
    return _result(model, p, name, seconds, epochs)


AUTOTUNE_CHILD = Path(__file__).with_name("autotune_child.py")


def _child_command(spec: Path, out: Path) -> list[str]:
    """The command that runs one autotune search in its own process."""
    return [sys.executable, str(AUTOTUNE_CHILD), str(spec), str(out)]


def _last_words(log: str) -> str:
    """What a crashed child said last, without autotune's progress lines."""
    lines = [ln.strip() for ln in log.replace("\r", "\n").splitlines() if ln.strip()]
    for line in reversed(lines):
        if "terminate called" in line:  # may follow a progress line without a newline
            return line[line.index("terminate called") :][:200]
        if not line.startswith(("Progress:", "Training again")):
            return line[:200]
    return ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _run_child(command: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """Run ``command``; its JSON result, or StudioError when it crashed or ran too long."""
    with tempfile.TemporaryFile() as log:  # its stderr: autotune's progress, or last words
        try:
            proc = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=timeout,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise StudioError(
                f"fastText's search ran on past its budget; stopped after {timeout:.0f} s"
            ) from None
        log.seek(0)
        said = _last_words(log.read()[-8000:].decode("utf-8", errors="replace"))
    rc = proc.returncode
    if rc != 0 or not out.exists():
        how = f"signal {_signal_name(-rc)}" if rc < 0 else f"exit status {rc}"
        raise StudioError(f"fastText's search crashed ({how})" + (f": {said}" if said else ""))
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def run_fasttext_autotune(
    p: PreparedDataset, name: str, seconds: int = 120, threads: int = 0
) -> BenchResult:
    """fastText's own search (``autotuneValidationFile``) for ``seconds``, then its best model.

    The search tunes on the validation split only; the test split is scored once after. It
    runs in a child process (:mod:`studio.bench.autotune_child`): "Encountered NaN" on a
    diverging trial, or a trial that aborts the process, raises StudioError (the runner
    reports a failed row) rather than retrying a search of minutes or ending the bench.
    """
    _fasttext(p)
    threads = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train, valid = folder / "train.txt", folder / "valid.txt"
        _write(p, p.train_idx, train)
        _write(p, p.valid_idx, valid)
        texts = {s: [_line(p, i) for i in p.split_indices(s)] for s in ("valid", "test")}
        spec = {"train": str(train), "valid": str(valid), "seconds": int(seconds),
                "threads": threads, "texts": texts}  # fmt: skip
        (folder / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        out = folder / "out.json"
        # fastText checks its budget between trials only: one trial with a large epoch,
        # dim and bucket draw can run for minutes past a budget of seconds (measured: over
        # 6 minutes on a 2-second search), so the child is stopped at 3x the budget + 60 s
        # and the row reported as failed
        result = _run_child(_child_command(folder / "spec.json", out), out, 3 * seconds + 60)
    if "error" in result:
        raise StudioError(f"fastText's search stopped: {result['error']}")
    index = {n.replace(" ", "_"): k for k, n in enumerate(p.label_names)}

    def decided(split: str) -> np.ndarray:
        labels = result["predicted"][split]
        return np.array([index[lb.removeprefix("__label__")] for lb in labels], dtype=np.int64)

    val, test = split_scores(p, "valid", decided("valid")), split_scores(p, "test", decided("test"))
    took, chosen = float(result["seconds"]), result["args"]
    docs = len(p.train_idx) * int(chosen["epoch"])
    tokens = int(np.diff(p.offsets)[p.train_idx].sum()) * int(chosen["epoch"])
    detail = "autotune chose " + " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in chosen.items()
    )
    return BenchResult(
        name, took, docs / took, tokens / took, *val, *test, [(took, val[0])], detail=detail
    )
