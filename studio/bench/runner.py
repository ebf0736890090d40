"""``studio bench``: the seed loop, fastText and the studio engine on one data split.

Every contender trains on the same prepared training split and is scored on the same
validation split. Contenders run alternately, ``repeats`` times, in one process, so machine
noise hits all of them alike; the report gives medians and ratios of medians.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.bench.fasttext_loop import fasttext_available, run_fasttext
from studio.bench.result import BenchResult
from studio.bench.seed_loop import run_seed_loop
from studio.config import DataConfig, StudioConfig
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd
from studio.engine.train.loop import fit
from studio.errors import StudioError

FASTTEXT_REFERENCE = "fastText 25 epochs, bigrams"


class _History(Callback):
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        self.points.append((event.elapsed, event.val_accuracy))


def run_engine(p: PreparedDataset, config: StudioConfig, name: str) -> BenchResult:
    history = _History()
    r = fit(config, [history], prepared=p)
    return BenchResult(
        name, r.train_seconds, r.docs_per_second, r.tokens_per_second,
        r.history[-1].val_accuracy, r.history[-1].val_macro_f1, history.points,
    )  # fmt: skip


@dataclass
class BenchReport:
    data: str
    device: str
    n_train: int
    n_valid: int
    repeats: int
    rows: dict[str, list[BenchResult]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def median(self, name: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.rows[name])

    def seconds_to_reach(self, name: str, accuracy: float) -> float | None:
        times = [r.seconds_to_reach(accuracy) for r in self.rows[name]]
        reached = [t for t in times if t is not None]
        return statistics.median(reached) if len(reached) == len(times) else None

    def summary(self) -> dict[str, Any]:
        target = None
        if self.rows.get(FASTTEXT_REFERENCE):
            target = self.median(FASTTEXT_REFERENCE, "val_accuracy")
        out: dict[str, Any] = {
            "data": self.data, "device": self.device, "n_train": self.n_train,
            "n_valid": self.n_valid, "repeats": self.repeats,
            "fasttext_reference_accuracy": target, "rows": {},
        }  # fmt: skip
        for name in self.rows:
            row: dict[str, float | None] = {
                attr: self.median(name, attr)
                for attr in ("docs_per_second", "tokens_per_second", "train_seconds",
                             "val_accuracy", "val_macro_f1")
            }  # fmt: skip
            if name == FASTTEXT_REFERENCE:  # the reference: its own training time
                row["seconds_to_fasttext_accuracy"] = row["train_seconds"]
            elif target is not None:
                row["seconds_to_fasttext_accuracy"] = self.seconds_to_reach(name, target)
            out["rows"][name] = row
        ratios: dict[str, float] = {}
        for name in self.rows:
            if name.startswith("studio"):
                docs = self.median(name, "docs_per_second")
                if "seed-style loop" in self.rows:
                    ratios[f"{name} / seed docs/s"] = docs / self.median(
                        "seed-style loop", "docs_per_second"
                    )
                if self.rows.get(FASTTEXT_REFERENCE):
                    ratios[f"{name} / fastText docs/s"] = docs / self.median(
                        FASTTEXT_REFERENCE, "docs_per_second"
                    )
        out["ratios"] = ratios
        out["failures"] = dict(self.failures)
        return out


def contenders(
    config: StudioConfig, seed_epochs: int, with_fasttext: bool
) -> list[tuple[str, Callable[[PreparedDataset], BenchResult]]]:
    """The rows of the benchmark, in the order they run within each repeat."""
    seed_size = config.with_overrides(
        tokenizer={"vocab_size": 10_000, "ngram_buckets": 0}, model={"embed_dim": 128, "hidden": ()}
    )
    rows: list[tuple[str, Callable[[PreparedDataset], BenchResult]]] = [
        ("seed-style loop", lambda p: run_seed_loop(p, epochs=seed_epochs)),
        ("studio default", lambda p: run_engine(p, config, "studio default")),
        ("studio @ seed size", lambda p: run_engine(p, seed_size, "studio @ seed size")),
    ]
    if with_fasttext:
        rows += [
            ("fastText defaults", lambda p: run_fasttext(p, "fastText defaults")),
            (FASTTEXT_REFERENCE, lambda p: run_fasttext(p, FASTTEXT_REFERENCE, 25, 2)),
        ]
    return rows


def run_bench(
    data: DataConfig,
    config: StudioConfig,
    repeats: int = 3,
    seed_epochs: int = 2,
    progress: Callable[[str], None] | None = None,
    cache_dir: str | None = None,
) -> BenchReport:
    say = progress or (lambda _m: None)
    config = config.with_overrides(
        data={k: getattr(data, k) for k in ("path", "text_column", "label_column")}
    )
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=cache_dir)
    report = BenchReport(
        data.path, config.device.device, len(p.train_idx), len(p.valid_idx), repeats
    )
    rows = contenders(config, seed_epochs, fasttext_available() and not p.multi_label)
    for k in range(repeats):
        for name, run in rows:
            if name in report.failures:
                continue
            say(f"repeat {k + 1}/{repeats}: {name}")
            try:
                result = run(p)
            except StudioError as exc:  # e.g. fastText diverging on a tiny dataset
                report.failures[name] = str(exc)
                report.rows.pop(name, None)
                say(f"{name} failed: {exc}")
                continue
            report.rows.setdefault(name, []).append(result)
    return report
