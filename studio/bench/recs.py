"""The recommendation benchmark: the user/item tables against the popularity baseline and,
when it is installed, ``implicit``'s ALS (at its defaults, at two other fixed settings, and
tuned by a timed random search on a validation split), on the same per-user split; and
training speed on generated interactions.

``studio bench --suite recs [DATA]`` runs :func:`run_recs_bench`;
``python tests/bench/bench_recs.py`` is the same with every knob, including ``--sweep``
(the settings the defaults were chosen from, scored on a validation split).
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from studio.engine.data.interaction_split import InteractionSplit, split_interactions
from studio.engine.data.interactions import Interactions, read_interactions
from studio.engine.train.als import als_scorer
from studio.engine.train.ranking import RankMetrics, popularity_scores, rank_metrics
from studio.engine.train.recs import RecSettings, fit_recs

LOSSES: tuple[Literal["softmax", "bpr"], ...] = ("softmax", "bpr")

__all__ = ["SWEEP", "RecsBenchOptions", "compare", "run_recs_bench", "speed", "sweep"]


@dataclass(frozen=True)
class RecsBenchOptions:
    data: str
    user_col: str | None = None
    item_col: str | None = None
    holdout: Literal["last", "random"] = "random"
    epochs: int = RecSettings().epochs
    generated: int = 1_000_000
    batch_sizes: tuple[int, ...] = (1024, 4096, 16384)
    repeats: int = 3
    als_minutes: float = 5.0
    als_grid: tuple[tuple[int, float], ...] = ((64, 0.1), (200, 0.01))
    sweep: bool = False


def run_recs_bench(
    opts: RecsBenchOptions, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Every row of the benchmark, and the ratios its targets are stated in: the defaults'
    recall against popularity's and ALS's (defaults and tuned), interactions/s against 1M."""
    say = progress or (lambda _m: None)
    say(f"scoring popularity, the studio and ALS on {Path(opts.data).name}")
    rows = compare(opts)
    say(f"training speed on {opts.generated:,} generated interactions")
    speeds = speed(opts)
    recall = {r["model"]: r["recall@10"] for r in rows}
    ours = next(v for k, v in recall.items() if k.startswith("studio defaults"))
    ratios = {"recall@10 / popularity's": ours / max(recall["popularity"], 1e-12)}
    for name, value in recall.items():
        if name.startswith("implicit ALS factors=100") or name.startswith("implicit ALS tuned"):
            ratios[f"recall@10 / {name.split(':')[0].split(' on ')[0]}'s"] = ours / max(
                value, 1e-12
            )
    default = RecSettings().batch_size
    for r in speeds:
        if r["loss"] == "softmax" and r["batch_size"] == default:
            ratios["interactions/s / 1M (default batch)"] = (
                r["interactions_per_second_median"] / 1e6
            )
    return {"data": Path(opts.data).name, "rows": rows, "speed": speeds, "ratios": ratios}


def _row(name: str, m: RankMetrics, train_s: float, wall_s: float) -> dict[str, Any]:
    return {"model": name, "recall@10": round(m.recall, 4), "ndcg@10": round(m.ndcg, 4),
            "hit@10": round(m.hit_rate, 4), "train_s": round(train_s, 2),
            "wall_s": round(wall_s, 2)}  # fmt: skip


def _als(
    data: Interactions, split: InteractionSplit, factors: int, reg: float, alpha: float = 1.0
) -> Any:
    train = (data.users[split.train_idx], data.items[split.train_idx])
    return als_scorer(train, data.n_users, data.n_items, factors=factors, regularization=reg,
                      alpha=alpha, binary=False)  # fmt: skip


def compare(args: RecsBenchOptions) -> list[dict[str, Any]]:
    data = read_interactions(args.data, user_column=args.user_col, item_column=args.item_col)
    split = split_interactions(data, args.holdout, seed=0)
    train = (data.users[split.train_idx], data.items[split.train_idx])
    test = (data.users[split.test_idx], data.items[split.test_idx])
    out = []
    start = time.perf_counter()
    pop = rank_metrics(popularity_scores(train[1], data.n_items), train, test)
    out.append(_row("popularity", pop, 0.0, time.perf_counter() - start))
    for name, settings in (("studio defaults (softmax)", RecSettings(epochs=args.epochs)),
                           ("studio BPR", RecSettings(epochs=args.epochs, loss="bpr",
                                                      batch_size=1024, lr=0.2))):  # fmt: skip
        start = time.perf_counter()
        last = fit_recs(data, split, settings).history[-1]
        out.append(_row(f"{name}, {args.epochs} epochs", last.metrics, last.seconds,
                        time.perf_counter() - start))  # fmt: skip
    try:
        import implicit  # noqa: F401
    except ImportError:
        return out  # implicit is not installed: no ALS rows
    for factors, reg in [(100, 0.01), *args.als_grid]:
        start = time.perf_counter()
        scorer = _als(data, split, factors, reg)
        fitted = time.perf_counter() - start
        m = rank_metrics(scorer, train, test)
        out.append(_row(f"implicit ALS factors={factors} reg={reg}", m, fitted,
                        time.perf_counter() - start))  # fmt: skip
    if args.als_minutes > 0:
        out.append(_tuned_als(data, split, args.als_minutes * 60))
    return out


def _validation(data: Interactions, split: InteractionSplit) -> InteractionSplit:
    """A validation split carved from ``split``'s training rows (20% of each user's, seeded):
    what settings are chosen on, so that the test part is scored once."""
    rows = split.train_idx
    inner = split_interactions(dataclasses.replace(
        data, users=data.users[rows], items=data.items[rows], weights=data.weights[rows],
        times=None if data.times is None else data.times[rows], lines=data.lines[rows],
    ), "random", seed=1)  # fmt: skip
    return InteractionSplit(rows[inner.train_idx], rows[inner.test_idx], split.kept, 0, 0)


#: the settings --sweep scores on the validation split (how the defaults were chosen)
SWEEP: list[tuple[str, dict[str, Any]]] = [
    ("defaults (softmax, blocks of 128, batch 4096, lr 0.05)", {}),
    ("softmax, blocks of 256, batch 1024, lr 0.1", {"block": 256, "batch_size": 1024, "lr": 0.1}),
    ("softmax, one block of 1024, batch 1024, lr 0.1",
     {"block": 1024, "batch_size": 1024, "lr": 0.1}),
    ("softmax, blocks of 256, batch 1024, lr 0.1, the user's other items masked",
     {"block": 256, "batch_size": 1024, "lr": 0.1, "exclude_positives": True}),
    ("softmax, MLP user tower", {"tower": "mlp"}),
    ("BPR, batch 1024, lr 0.2", {"loss": "bpr", "batch_size": 1024, "lr": 0.2}),
]  # fmt: skip


def sweep(args: RecsBenchOptions) -> list[dict[str, Any]]:
    data = read_interactions(args.data, user_column=args.user_col, item_column=args.item_col)
    tune = _validation(data, split_interactions(data, args.holdout, seed=0))
    out = []
    for name, changes in SWEEP:
        start = time.perf_counter()
        settings = RecSettings(epochs=args.epochs, als_baseline=False, **changes)
        last = fit_recs(data, tune, settings).history[-1]
        out.append({**_row(f"validation: {name}", last.metrics, last.seconds,
                           time.perf_counter() - start),
                    "interactions_per_second": round(last.interactions_per_second)})  # fmt: skip
    return out


def _tuned_als(data: Interactions, split: InteractionSplit, budget_s: float) -> dict[str, Any]:
    """ALS tuned for ``budget_s`` on a validation split carved from the training rows (the
    same holdout again), then refit on all training rows and scored once on the test."""
    tune = _validation(data, split)
    tr = (data.users[tune.train_idx], data.items[tune.train_idx])
    va = (data.users[tune.test_idx], data.items[tune.test_idx])
    rng = np.random.default_rng(0)
    start, best, tried = time.perf_counter(), (-1.0, (100, 0.01, 1.0)), 0
    while time.perf_counter() - start < budget_s:
        setting = (int(rng.choice([16, 32, 64, 128, 256])), float(10 ** rng.uniform(-4, 1)),
                   float(10 ** rng.uniform(0, 2)))  # fmt: skip
        score = rank_metrics(_als(data, tune, *setting), tr, va).recall
        tried += 1
        best = max(best, (score, setting))
    factors, reg, alpha = best[1]
    fit_start = time.perf_counter()
    scorer = _als(data, split, factors, reg, alpha)
    fitted = time.perf_counter() - fit_start
    train = (data.users[split.train_idx], data.items[split.train_idx])
    test = (data.users[split.test_idx], data.items[split.test_idx])
    name = (f"implicit ALS tuned {budget_s / 60:g} min on validation ({tried} tried): "
            f"factors={factors} reg={reg:.3g} alpha={alpha:.3g}")  # fmt: skip
    return _row(name, rank_metrics(scorer, train, test), fitted, time.perf_counter() - start)


def speed(args: RecsBenchOptions) -> list[dict[str, Any]]:
    """Interactions/s of each loss at each batch size (the softmax's block at its default)."""
    rng = np.random.default_rng(0)
    n = args.generated
    n_users, n_items = max(n // 20, 2), max(n // 50, 2)
    items = np.minimum(rng.zipf(1.2, n) - 1, n_items - 1)
    data = Interactions(
        rng.integers(0, n_users, n), items.astype(np.int64), np.ones(n, np.float32), None,
        np.arange(n), tuple(map(str, range(n_users))), tuple(map(str, range(n_items))),
        "generated", {"user": "user", "item": "item", "weight": None, "time": None},
    )  # fmt: skip
    split = InteractionSplit(np.arange(n), np.zeros(0, np.int64), np.ones(n, bool), 0, 0)
    out = []
    for loss, batch in itertools.product(LOSSES, args.batch_sizes):
        speeds = []
        for _ in range(args.repeats):
            result = fit_recs(data, split, RecSettings(epochs=2, batch_size=batch, loss=loss))
            speeds.append(result.history[-1].interactions_per_second)
        out.append({"loss": loss, "batch_size": batch, "interactions": n,
                    "interactions_per_second_median": round(statistics.median(speeds)),
                    "runs": [round(s) for s in speeds]})  # fmt: skip
    return out
