"""The ``studio`` subcommands other than ``train``, and opening the window.

Each ``cmd_*`` takes the parsed arguments and returns the exit status; the engine, rich and
the window are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from studio.cli.train import cmd_train
from studio.config import SAMPLE_DATA, DataConfig, StudioConfig, load_config
from studio.errors import StudioError

__all__ = ["COMMANDS", "EXIT_USAGE", "open_window"]

EXIT_USAGE = 2


def cmd_eval(args: argparse.Namespace) -> int:
    from studio.engine.analysis.inference import evaluate_run, load_run

    run = load_run(args.run)
    result = evaluate_run(run, args.data, args.text_col, args.label_col)
    if args.json:
        print(json.dumps(result))
        return 0
    from rich.console import Console

    from studio.console import table

    console = Console()
    console.print(
        f"{result['documents']:,} documents: accuracy {result['accuracy']:.4f}, "
        f"macro-F1 {result['macro_f1']:.4f}, weighted-F1 {result['weighted_f1']:.4f}"
    )
    rows = [
        [
            name,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            f"{int(m['support'])}",
        ]
        for name, m in result["per_class"].items()
    ]
    console.print(table("per class", ["label", "precision", "recall", "F1", "support"], rows))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from studio.engine.analysis.inference import load_run

    run = load_run(args.run)
    ranked = run.predict(" ".join(args.text))
    if args.json:
        print(json.dumps({"label": ranked[0][0], "probabilities": dict(ranked)}))
    else:
        print(ranked[0][0])
        for label, p in ranked[:10]:
            print(f"  {p:7.2%}  {label}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from studio.engine.runs.layout import default_runs_dir, list_runs

    runs_dir = Path(args.runs_dir) if args.runs_dir else default_runs_dir()
    runs = list_runs(runs_dir)
    if args.json:
        print(json.dumps([{**r.__dict__, "path": str(r.path)} for r in runs]))
        return 0
    from rich.console import Console

    from studio.console import table

    def pct(x: float | None) -> str:
        return "" if x is None else f"{x:.2%}"

    rows = [
        [r.name, r.status, r.started.replace("T", " "), Path(r.dataset).name,
         str(r.settings.get("vocab_size", "")), str(r.settings.get("embed_dim", "")),
         str(r.settings.get("batch_size", "")), str(r.epochs), pct(r.val_accuracy)]
        for r in runs
    ]  # fmt: skip
    cols = ["run", "status", "started", "dataset", "vocab", "dim", "batch", "epochs", "val acc"]
    Console().print(table(f"{len(runs)} runs in {runs_dir}", cols, rows))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from studio.bench.runner import run_bench

    config = load_config(args.config) if args.config else StudioConfig()
    if args.device:
        config = config.with_overrides(device={"device": args.device})
    if args.data:
        data = DataConfig(path=args.data, text_column=args.text_col, label_column=args.label_col)
    else:
        data = SAMPLE_DATA
    if args.repeats < 1 or args.seed_epochs < 1:
        raise StudioError("--repeats and --seed-epochs must be at least 1")
    err = Console(stderr=True)
    report = run_bench(
        data, config, args.repeats, args.seed_epochs, lambda m: err.print(f"[dim]{m}[/]")
    )
    summary = report.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    from studio.console import table

    def num(x: float | None, fmt: str) -> str:
        return "—" if x is None else format(x, fmt)

    rows = [
        [name, num(r["docs_per_second"], ",.0f"), num(r["tokens_per_second"], ",.0f"),
         num(r["train_seconds"], ".2f"), num(r["val_accuracy"], ".4f"),
         num(r["val_macro_f1"], ".4f"),
         num(r.get("seconds_to_fasttext_accuracy"), ".2f")]
        for name, r in summary["rows"].items()
    ]  # fmt: skip
    title = (
        f"{summary['data']}: {summary['n_train']:,} train / {summary['n_valid']:,} validation "
        f"docs, device {summary['device']}, medians of {summary['repeats']}"
    )
    cols = [
        "contender",
        "docs/s",
        "tokens/s",
        "train s",
        "val acc",
        "macro-F1",
        "s to fastText acc",
    ]
    console = Console()
    console.print(table(title, cols, rows))
    for name, ratio in summary["ratios"].items():
        console.print(f"{name}: {ratio:.2f}x")
    for name, message in summary["failures"].items():
        console.print(f"[red]{name} failed:[/] {message}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from studio.engine.train.devices import list_devices

    devices = list_devices()
    if args.json:
        print(json.dumps([d.__dict__ for d in devices]))
        return 0
    for d in devices:
        mem = ""
        if d.total_memory:
            free = f"{d.free_memory / 2**30:.1f} GiB free of " if d.free_memory is not None else ""
            mem = f"  {free}{d.total_memory / 2**30:.1f} GiB"
        state = "" if d.available else f"  (unavailable: {d.reason})"
        print(f"{d.name:8s} {d.label}{mem}{state}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from studio.engine.export import export_run

    print(export_run(args.run, args.format, args.out, overwrite=args.overwrite))
    return 0


def open_window(path: str | None, screenshot: str | None = None, report: bool = False) -> int:
    try:
        from studio.ui.app import run_app
    except ImportError as exc:
        print(
            f"studio: the window is not available ({exc}); "
            "use a subcommand such as 'studio train', or see 'studio --help'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return run_app(path, screenshot, report)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train,
    "eval": cmd_eval,
    "predict": cmd_predict,
    "runs": cmd_runs,
    "devices": cmd_devices,
    "bench": cmd_bench,
    "export": cmd_export,
}
