"""``studio label-issues DATA``: out-of-fold predictions for every document, and the ones
whose label confident learning doubts, with a suggested label."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from studio.cli.tune import base_config
from studio.errors import StudioError

__all__ = ["add_label_issues", "cmd_label_issues"]


def add_label_issues(sub: Any) -> None:
    """The ``label-issues`` subcommand's options."""
    p = sub.add_parser(
        "label-issues",
        help="find likely mislabelled documents (cross-validated, cleanlab's confident learning)",
    )
    p.add_argument("data", nargs="?", help="dataset file or folder (default: config's data.path)")
    p.add_argument("--folds", type=int, default=5, help="one model per fold (default: 5)")
    p.add_argument("--config", help="TOML setup every fold trains with (default: defaults)")
    p.add_argument("--text-col", help="text column name (default: auto-detect)")
    p.add_argument("--label-col", help="label column name (default: auto-detect)")
    p.add_argument("--label-delimiter", help="split labels on this for multi-label data")
    p.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto")
    p.add_argument("--seed", type=int, help="seeds the folds' training")
    p.add_argument("--top", type=int, default=20, help="issues to print (default: 20)")
    p.add_argument("--json", action="store_true", help="every issue, as JSON")


def cmd_label_issues(args: argparse.Namespace) -> int:
    """Train ``--folds`` models, rank the issues, print them (a table or JSON)."""
    from rich.console import Console

    from studio.console import table
    from studio.engine.analysis.label_issues import find_issues, main_file_config, out_of_fold
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.runs.layout import default_cache_dir

    if args.folds < 2:  # before preparing the data, which can take a while
        raise StudioError(f"--folds must be at least 2, got {args.folds}")
    config = main_file_config(base_config(args))
    err = Console(stderr=True)
    start = time.perf_counter()
    prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=default_cache_dir())

    def on_fold(k: int, folds: int) -> None:
        err.print(f"[dim]fold {k} of {folds}[/]")

    oof = out_of_fold(config, prepared, args.folds, on_fold=on_fold)
    issues = find_issues(oof)
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({
            "data": config.data.path, "folds": args.folds, "documents": prepared.n_docs,
            "flagged": len(issues), "seconds": round(seconds, 2),
            "issues": [i.as_json() for i in issues],
        }))  # fmt: skip
        return 0
    rows = [
        [str(i.line), i.given, i.suggested, f"{i.quality:.3f}", _short(i.text)]
        for i in issues[: max(args.top, 0)]
    ]
    title = (
        f"{len(issues):,} likely label issues among {prepared.n_docs:,} documents "
        f"({args.folds} folds, {seconds:.1f} s); the first {len(rows)}"
    )
    Console().print(table(title, ["line", "given", "suggested", "quality", "text"], rows))
    return 0


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
