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
from typing import Any

from studio.cli.label_issues import cmd_label_issues
from studio.cli.recs import cmd_recommend, cmd_recs
from studio.cli.train import cmd_train
from studio.cli.tune import cmd_tune
from studio.config import SAMPLE_DATA, DataConfig, StudioConfig, load_config
from studio.errors import StudioError

__all__ = ["COMMANDS", "EXIT_USAGE", "open_window"]

EXIT_USAGE = 2


def cmd_eval(args: argparse.Namespace) -> int:
    from studio.engine.analysis.inference import evaluate_run, load_run

    if args.baseline:
        return _eval_with_baseline(args)
    if args.split:
        raise StudioError("--split goes with --baseline (eval scores every document of DATA)")
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


def _baseline_data(data: DataConfig, args: argparse.Namespace) -> tuple[DataConfig, bool]:
    """The run's data settings with ``args.data`` as the file; and whether it is the run's."""
    from dataclasses import replace

    own = bool(data.path) and Path(data.path).resolve() == Path(args.data).resolve()
    changes: dict[str, Any] = {
        "text_column": args.text_col or data.text_column,
        "label_column": args.label_col or data.label_column,
    }
    if not own:  # another file: split by fractions (the run's valid/test files are not its)
        changes.update(
            path=args.data,
            valid_path=None,
            test_path=None,
            valid_fraction=data.valid_fraction or DataConfig.valid_fraction,
        )
    return replace(data, **changes), own


def _eval_with_baseline(args: argparse.Namespace) -> int:
    """``studio eval RUN DATA --baseline``: the run and the TF-IDF baseline side by side."""
    from rich.console import Console

    from studio.engine.analysis.baseline import BASELINES, compare_with_baseline
    from studio.engine.analysis.inference import load_run
    from studio.engine.data.prepare import cache_key, prepare_dataset
    from studio.engine.runs.layout import default_cache_dir

    run = load_run(args.run)
    data, own = _baseline_data(run.config.data, args)
    err = Console(stderr=True)
    if not own:
        err.print(
            f"[yellow]note:[/] {args.data} is not the file this run was trained on "
            f"({run.config.data.path or 'unknown'}); the baseline trains on its own split of it"
        )
    tok = run.config.tokenizer
    prepared = prepare_dataset(data, tok, cache_dir=default_cache_dir())
    comparison = compare_with_baseline(
        run, prepared, args.split or "test", BASELINES[args.baseline_features],
        dataset_key=cache_key(data, tok), progress=lambda m, _f: err.print(f"[dim]{m}[/]"),
    )  # fmt: skip
    run_scores, base = comparison.run, comparison.baseline
    diffs = comparison.f1_differences()
    if args.json:
        print(json.dumps({
            "split": comparison.split, "documents": base.n_docs, "n_train": base.n_train,
            "run": {k: v for k, v in run_scores.__dict__.items() if k != "n_docs"},
            "baseline": {**base.to_json(), "name": base.options.name, "cached": base.cached},
            "per_class_f1_difference": [
                {"label": n, "run": r, "baseline": b, "difference": d} for n, r, b, d in diffs
            ],
        }))  # fmt: skip
        return 0
    from studio.console import table

    console = Console()
    console.print(
        f"{comparison.split} split of {Path(data.path).name}: {base.n_docs:,} documents; "
        f"{base.options.name} trained on {base.n_train:,} in {base.train_seconds:.2f} s"
        + (" (cached)" if base.cached else "")
    )
    metrics = [("accuracy", "accuracy"), ("macro-F1", "macro_f1"), ("weighted-F1", "weighted_f1")]
    if run_scores.micro_f1 is not None:
        metrics.append(("micro-F1", "micro_f1"))
    rows = [
        [label, f"{getattr(run_scores, a):.4f}", f"{getattr(base, a):.4f}",
         f"{getattr(run_scores, a) - getattr(base, a):+.4f}"]
        for label, a in metrics
    ]  # fmt: skip
    console.print(table("run vs baseline", ["", "run", "baseline", "run − baseline"], rows))
    per_class = [[n, f"{r:.3f}", f"{b:.3f}", f"{d:+.3f}"] for n, r, b, d in diffs]
    title = "per-class F1, run − baseline (baseline furthest ahead first)"
    console.print(table(title, ["label", "run F1", "baseline F1", "run − baseline"], per_class))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from studio.engine.analysis.inference import load_run

    run = load_run(args.run)
    ranked = run.predict(" ".join(args.text))
    if run.multi_label:  # every label at or above the run's threshold (chosen on validation)
        chosen = [label for label, p in ranked if p >= run.threshold]
        head: dict[str, object] = {"labels": chosen, "threshold": run.threshold}
        first = " ".join(chosen) or f"(no label at or above {run.threshold:g})"
    else:
        head, first = {"label": ranked[0][0]}, ranked[0][0]
    if args.json:
        print(json.dumps({**head, "probabilities": dict(ranked)}))
    else:
        print(first)
        for label, p in ranked[:10]:
            print(f"  {p:7.2%}  {label}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from studio.engine.runs.layout import RunInfo, default_runs_dir
    from studio.engine.runs.listing import list_runs, resume_hint

    runs_dir = Path(args.runs_dir) if args.runs_dir else default_runs_dir()
    runs = list_runs(runs_dir)
    if args.json:
        listed = [{**r.__dict__, "path": str(r.path), "resume": resume_hint(r)} for r in runs]
        print(json.dumps(listed))
        return 0
    from rich.console import Console

    from studio.console import table

    def score(r: RunInfo) -> str:
        if r.kind == "recs":
            return "" if r.val_recall is None else f"{r.val_recall:.2%} R@{r.k}"
        return "" if r.val_accuracy is None else f"{r.val_accuracy:.2%}"

    rows = [
        [r.name, r.status, r.started.replace("T", " "), Path(r.dataset).name,
         str(r.settings.get("vocab_size", "")), str(r.settings.get("embed_dim", "")),
         str(r.settings.get("batch_size", "")), str(r.epochs), score(r)]
        for r in runs
    ]  # fmt: skip
    cols = ["run", "status", "started", "dataset", "vocab", "dim", "batch", "epochs", "best val"]
    console = Console()
    console.print(table(f"{len(runs)} runs in {runs_dir}", cols, rows))
    for r in runs:
        if r.status == "killed":  # died without a word: say how to go on
            console.print(f"{r.name}: its process died; {resume_hint(r)}", markup=False)
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
    if args.autotune_seconds < 0:
        raise StudioError("--autotune-seconds must be 0 (no autotune row) or more")
    err = Console(stderr=True)
    if args.suite == "recs":
        return _recs_bench(args, err)
    if args.suite == "speed":
        from studio.bench.speed import run_speed

        speed = run_speed(data, config, args.repeats, lambda m: err.print(f"[dim]{m}[/]"))
        print(json.dumps(speed) if args.json else _speed_text(speed))
        return 0
    report = run_bench(
        data, config, args.repeats, args.seed_epochs, lambda m: err.print(f"[dim]{m}[/]"),
        autotune_seconds=args.autotune_seconds,
    )  # fmt: skip
    summary = report.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    _print_bench(summary)
    return 0


def _recs_bench(args: argparse.Namespace, err: Any) -> int:
    from studio.bench.recs import RecsBenchOptions, run_recs_bench
    from studio.config import SAMPLE_INTERACTIONS

    opts = RecsBenchOptions(
        data=str(args.data or SAMPLE_INTERACTIONS), user_col=args.user_col,
        item_col=args.item_col, repeats=args.repeats, als_minutes=args.als_seconds / 60,
        generated=args.generated,
    )  # fmt: skip
    report = run_recs_bench(opts, lambda m: err.print(f"[dim]{m}[/]"))
    if args.json:
        print(json.dumps(report))
        return 0
    lines = [f"{report['data']}: recall/NDCG/hit@10 on the held-out interactions"]
    for r in report["rows"]:
        lines.append(f"  {r['model']}: {r['recall@10']:.4f} / {r['ndcg@10']:.4f} / "
                     f"{r['hit@10']:.4f} ({r['train_s']:.1f} s training)")  # fmt: skip
    for r in report["speed"]:
        per_s = r["interactions_per_second_median"]
        lines.append(f"  {r['loss']} at batch {r['batch_size']:,}: {per_s:,} interactions/s")
    lines += [f"  {name}: {ratio:.2f}x" for name, ratio in report["ratios"].items()]
    print("\n".join(lines))
    return 0


def _speed_text(speed: dict[str, Any]) -> str:
    """The speed suite's medians, one line a row, then the ratios."""
    lines = [f"{speed['data']}: {speed['n_train']:,} train docs, medians of {speed['repeats']}"]
    for name, r in speed["rows"].items():
        if "outside_seconds" in r:
            lines.append(
                f"  {name}: {r['outside_seconds']:.2f} s outside training "
                f"({r['wall_seconds']:.2f} s wall, {r['train_seconds']:.2f} s training)"
            )
        else:
            lines.append(
                f"  {name}: {r['docs_per_second']:,.0f} docs/s per epoch, "
                f"test accuracy {r['test_accuracy']:.4f}"
            )
    lines += [f"  {name}: {ratio:.2f}x" for name, ratio in speed["ratios"].items()]
    return "\n".join(lines)


def _print_bench(summary: dict[str, Any]) -> None:
    """The bench table: one row per contender (failed ones say so), then ratios and notes."""
    from rich.console import Console

    from studio.console import table

    def num(x: float | None, fmt: str) -> str:
        return "—" if x is None else format(x, fmt)

    rows = [
        [name, num(r["docs_per_second"], ",.0f"), num(r["tokens_per_second"], ",.0f"),
         num(r["train_seconds"], ".2f"), num(r["wall_seconds"], ".2f"),
         num(r["test_accuracy"], ".4f"), num(r["test_macro_f1"], ".4f"),
         num(r["val_accuracy"], ".4f"), num(r.get("seconds_to_fasttext_accuracy"), ".2f")]
        for name, r in summary["rows"].items()
    ]  # fmt: skip
    rows += [[name, "failed", *["—"] * 7] for name in summary["failures"]]
    title = (
        f"{summary['data']}: {summary['n_train']:,} train / {summary['n_valid']:,} validation / "
        f"{summary['n_test']:,} test docs, device {summary['device']}, "
        f"medians of {summary['repeats']}; scored on test"
    )
    cols = [
        "contender",
        "docs/s",
        "tokens/s",
        "train s",
        "wall s",
        "test acc",
        "test macro-F1",
        "val acc",
        "s to fastText val acc",
    ]
    console = Console()
    if not console.is_terminal:  # a file or pipe: wide enough that no cell wraps
        console = Console(width=160)
    t = table(title, cols, rows)
    t.columns[0].no_wrap = True
    console.print(t)
    for name, ratio in summary["ratios"].items():
        console.print(f"{name}: {ratio:.2f}x")
    for name, r in summary["rows"].items():
        if r.get("detail"):
            console.print(f"[dim]{name}: {r['detail']}[/]")
    for name, message in summary["failures"].items():
        console.print(f"[red]{name} failed:[/] {message}")


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
    "tune": cmd_tune,
    "eval": cmd_eval,
    "predict": cmd_predict,
    "runs": cmd_runs,
    "devices": cmd_devices,
    "bench": cmd_bench,
    "export": cmd_export,
    "label-issues": cmd_label_issues,
    "recs": cmd_recs,
    "recommend": cmd_recommend,
}
