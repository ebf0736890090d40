"""``studio bench``: the seed loop, TF-IDF baselines, fastText and the studio engine on one split.

Every contender trains on the same prepared training split, may use the validation split
(early stopping, fastText's autotune) and is scored on the test split, which nothing tuned
on, by one scoring function (:func:`~studio.bench.result.split_scores`). Contenders run
alternately, ``repeats`` times, in one process, so machine noise hits all of them alike; the
report gives medians and ratios of medians. Wall seconds are each contender's whole call
(writing its input, features, training, validation and scoring); train seconds only its
training.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from studio.bench.fasttext_loop import fasttext_available, run_fasttext, run_fasttext_autotune
from studio.bench.result import BenchResult, split_scores
from studio.bench.seed_loop import run_seed_loop
from studio.bench.tfidf_loop import run_tfidf
from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.baseline import CHARS, WORDS
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitResult
from studio.engine.train.loop import fit
from studio.engine.train.recipe import resolve_recipe
from studio.errors import StudioError

FASTTEXT_REFERENCE = "fastText 25 epochs, bigrams"
TFIDF_WORDS = "TF-IDF words + LinearSVC"
TFIDF_CHARS = "TF-IDF char 1-4 + LinearSVC"
NO_NGRAMS = "studio default, char n-grams off"
FASTTEXT_50 = "fastText 50 epochs, bigrams"
EMBEDDING_ONLY = "studio embedding model only"
FASTTEXT_AUTOTUNE = "fastText autotune"
SCORES = ("val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1")


class _History(Callback):
    """Validation accuracy over training time, and the trained model at the end."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.ctx: FitContext | None = None

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        self.points.append((event.elapsed, event.val_accuracy))

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self.ctx = ctx  # the final (best, when restored) weights

    def decided(self, p: PreparedDataset, split: str) -> np.ndarray:
        """The trained model's decisions on ``split`` of ``p``."""
        from studio.engine.analysis.inference import LoadedRun
        from studio.engine.analysis.report import predict_split

        c = self.ctx
        assert c is not None, "fit ended without on_fit_end"
        run = LoadedRun(Path(), c.config, c.encoder, c.label_names, c.multi_label, c.spec, c.model)
        return predict_split(run, p, split).predicted()


def run_engine(p: PreparedDataset, config: StudioConfig, name: str) -> BenchResult:
    history = _History()
    r = fit(config, [history], prepared=p)
    val = split_scores(p, "valid", history.decided(p, "valid"))
    test = split_scores(p, "test", history.decided(p, "test"))
    return BenchResult(
        name, r.train_seconds, r.docs_per_second, r.tokens_per_second, *val, *test,
        history.points, detail=_detail(r),
    )  # fmt: skip


def _detail(r: FitResult) -> str:
    """The run's epochs and, with ``model.kind`` not "embedding", which model it kept."""
    detail = f"{r.epochs} epochs, best {r.best_epoch}"
    if r.linear_seconds:
        detail += f", kept {r.model_kind} (linear fit {r.linear_seconds:.1f} s)"
    return detail


@dataclass
class BenchReport:
    data: str
    device: str
    n_train: int
    n_valid: int
    n_test: int
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
            "n_valid": self.n_valid, "n_test": self.n_test, "repeats": self.repeats,
            "fasttext_reference_accuracy": target, "rows": {},
        }  # fmt: skip
        for name in self.rows:
            row: dict[str, Any] = {
                attr: self.median(name, attr)
                for attr in ("docs_per_second", "tokens_per_second", "train_seconds",
                             "wall_seconds", *SCORES)
            }  # fmt: skip
            details = dict.fromkeys(r.detail for r in self.rows[name] if r.detail)
            row["detail"] = "; ".join(details)
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
    config: StudioConfig, seed_epochs: int, with_fasttext: bool, autotune_seconds: int = 120
) -> list[tuple[str, Callable[[PreparedDataset], BenchResult]]]:
    """The rows of the benchmark, in the order they run within each repeat.

    ``autotune_seconds`` bounds fastText's autotune search (0 leaves that row out).
    """
    seed_size = config.with_overrides(
        tokenizer={"vocab_size": 10_000, "ngram_buckets": 0, "char_ngrams": (0, 0)},
        model={"embed_dim": 128, "hidden": (), "kind": "embedding"},
    )
    embedding = config.with_overrides(model={"kind": "embedding"})
    words_only = config.with_overrides(tokenizer={"char_ngrams": (0, 0)})
    rows: list[tuple[str, Callable[[PreparedDataset], BenchResult]]] = [
        ("seed-style loop", lambda p: run_seed_loop(p, epochs=seed_epochs)),
        ("studio default", lambda p: run_engine(p, config, "studio default")),
        (EMBEDDING_ONLY, lambda p: run_engine(p, embedding, EMBEDDING_ONLY)),
        ("studio @ seed size", lambda p: run_engine(p, seed_size, "studio @ seed size")),
        (NO_NGRAMS, lambda p: run_engine(p, words_only, NO_NGRAMS)),
        (TFIDF_WORDS, lambda p: run_tfidf(p, TFIDF_WORDS, WORDS)),
        (TFIDF_CHARS, lambda p: run_tfidf(p, TFIDF_CHARS, CHARS)),
    ]
    if with_fasttext:
        rows += [
            ("fastText defaults", lambda p: run_fasttext(p, "fastText defaults")),
            (FASTTEXT_REFERENCE, lambda p: run_fasttext(p, FASTTEXT_REFERENCE, 25, 2)),
            (FASTTEXT_50, lambda p: run_fasttext(p, FASTTEXT_50, 50, 2)),
        ]
        if autotune_seconds > 0:
            rows.append(
                (FASTTEXT_AUTOTUNE,
                 lambda p: run_fasttext_autotune(p, FASTTEXT_AUTOTUNE, autotune_seconds))
            )  # fmt: skip
    return rows


def run_bench(
    data: DataConfig,
    config: StudioConfig,
    repeats: int = 3,
    seed_epochs: int = 2,
    progress: Callable[[str], None] | None = None,
    cache_dir: str | None = None,
    autotune_seconds: int = 120,
) -> BenchReport:
    """Run every contender ``repeats`` times on ``data`` (split as ``config.data`` says)."""
    say = progress or (lambda _m: None)
    config = config.with_overrides(
        data={k: getattr(data, k) for k in ("path", "text_column", "label_column")}
    )
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=cache_dir)
    if len(p.test_idx) == 0:
        raise StudioError(
            "studio bench scores a test split that nothing tunes on: set data.test_fraction "
            "above 0 or data.test_path in --config"
        )
    report = BenchReport(
        data.path, config.device.device, len(p.train_idx), len(p.valid_idx), len(p.test_idx),
        repeats,
    )  # fmt: skip
    with_fasttext = fasttext_available() and not p.multi_label
    rows = contenders(config, seed_epochs, with_fasttext, autotune_seconds)
    if resolve_recipe(config, p).tokenizer.char_ngrams == (0, 0):  # "auto" chose none here
        rows = [row for row in rows if row[0] != NO_NGRAMS]
    # imported once up front, so no row's first wall time carries a one-off import
    import sklearn.feature_extraction.text
    import sklearn.svm  # noqa: F401

    for k in range(repeats):
        for name, run in rows:
            if name in report.failures:
                continue
            say(f"repeat {k + 1}/{repeats}: {name}")
            t0 = time.perf_counter()
            try:
                result = run(p)
            except StudioError as exc:  # e.g. fastText diverging on a tiny dataset
                report.failures[name] = str(exc)
                report.rows.pop(name, None)
                say(f"{name} failed: {exc}")
                continue
            wall = time.perf_counter() - t0
            report.rows.setdefault(name, []).append(replace(result, wall_seconds=wall))
    return report
