"""``studio``: the window with no arguments, or the engine from the terminal.

User errors (bad data, options, run folders) print one line on stderr and exit with
status 2; no traceback. Heavy imports (torch) happen inside the commands that need them,
so ``studio --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio import __version__
from studio.config import StudioConfig, apply_preset, load_config
from studio.errors import StudioError

if TYPE_CHECKING:
    from rich.console import Console

    from studio.engine.train.events import FitResult

EXIT_USAGE = 2
SAMPLE_DATASET = Path(__file__).resolve().parent.parent / "resources" / "manpages" / "manpages.tsv"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="studio",
        description="Embedding Studio: train text classifiers with an embedding layer.",
    )
    p.add_argument("--version", action="version", version=f"studio {__version__}")
    p.add_argument("--open", metavar="PATH", help="open the window with this dataset loaded")
    p.add_argument("--screenshot", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--report-startup", action="store_true", help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model and save it as a run")
    t.add_argument("data", nargs="?", help="dataset file or folder (default: config's data.path)")
    t.add_argument("--config", help="TOML config file (the window saves the same format)")
    t.add_argument("--preset", choices=["default", "seed"], help="seed = the original Keras model")
    t.add_argument("--text-col", help="text column name (default: auto-detect)")
    t.add_argument("--label-col", help="label column name (default: auto-detect)")
    t.add_argument("--label-delimiter", help="split labels on this for multi-label data")
    t.add_argument("--valid", help="validation file (default: a stratified split)")
    t.add_argument("--tokenizer", choices=["words", "bpe"])
    t.add_argument("--vocab-size", type=int)
    t.add_argument("--min-freq", type=int)
    t.add_argument("--ngram-buckets", type=int, help="hashed word-bigram rows (0 = none)")
    t.add_argument("--embed-dim", type=int)
    t.add_argument("--hidden", help="hidden layer widths, e.g. 128,64 (empty = none)")
    t.add_argument("--batch-size", help="documents per step, or 'auto': largest that fits")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--optimizer", choices=["adamw", "adam", "sgd"])
    t.add_argument("--device", help="cpu, cuda, cuda:N, mps or auto")
    t.add_argument("--seed", type=int)
    t.add_argument("--runs-dir", help="where run folders go (default: user data dir)")
    t.add_argument("--run-dir", help="write the run into exactly this new (or empty) folder")
    t.add_argument(
        "--nproc",
        type=int,
        default=1,
        metavar="N",
        help="train in N processes on this machine (torch.distributed: NCCL on GPUs, one "
        "GPU each, chosen with CUDA_VISIBLE_DEVICES; gloo on CPU); batch-size is the total",
    )
    t.add_argument(
        "--dist-timeout",
        type=float,
        metavar="SECONDS",
        help="distributed runs: how long a rank waits for a silent peer before the whole "
        "run stops with an error (default 300)",
    )
    t.add_argument("--save-config", metavar="FILE", help="write the effective config and exit")
    t.add_argument("--json", action="store_true", help="end stdout with one JSON summary line")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a stopped, failed or killed run from its last epoch checkpoint "
        "(uses the run's config.toml; other training options are ignored)",
    )

    e = sub.add_parser("eval", help="evaluate a run on a labelled dataset")
    e.add_argument("run", help="run folder")
    e.add_argument("data", help="labelled dataset file")
    e.add_argument("--text-col")
    e.add_argument("--label-col")
    e.add_argument("--json", action="store_true")

    pr = sub.add_parser("predict", help="predict the label of a text with a run's model")
    pr.add_argument("run", help="run folder")
    pr.add_argument("text", nargs="+", help="text to classify")
    pr.add_argument("--json", action="store_true")

    r = sub.add_parser("runs", help="list the runs in the runs directory")
    r.add_argument("--runs-dir")
    r.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="the studio engine against the seed loop and fastText")
    b.add_argument("data", nargs="?", help="dataset (default: the bundled sample)")
    b.add_argument("--text-col")
    b.add_argument("--label-col")
    b.add_argument("--config", help="TOML config for the studio rows (default preset otherwise)")
    b.add_argument("--device", help="cpu, cuda, cuda:N or mps (for the studio rows)")
    b.add_argument("--repeats", type=int, default=3, help="runs of each contender (medians)")
    b.add_argument("--seed-epochs", type=int, default=2, help="epochs of the seed-style loop")
    b.add_argument("--json", action="store_true")

    d = sub.add_parser("devices", help="list CPU, CUDA and MPS devices")
    d.add_argument("--json", action="store_true")

    x = sub.add_parser("export", help="export a run's model, embeddings or training curves")
    x.add_argument("run", help="run folder")
    x.add_argument(
        "--format",
        required=True,
        # studio.engine.export.FORMATS (not imported here: it would load torch for --help)
        choices=["onnx", "torchscript", "word2vec", "projector", "tensorboard", "csv"],
        help="onnx/torchscript: the classifier (plus PATH.json: vocabulary, labels, how to "
        "feed it); word2vec/projector: the vocabulary's vectors; tensorboard/csv: the "
        "training curves",
    )
    x.add_argument("--out", required=True, metavar="PATH", help="file or folder to write")
    x.add_argument("--overwrite", action="store_true", help="replace existing output")
    return p


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    spec = {
        "data": {"path": args.data, "text_column": args.text_col, "label_column": args.label_col,
                 "label_delimiter": args.label_delimiter, "valid_path": args.valid},
        "tokenizer": {"kind": args.tokenizer, "vocab_size": args.vocab_size,
                      "min_freq": args.min_freq, "ngram_buckets": args.ngram_buckets},
        "model": {"embed_dim": args.embed_dim},
        "train": {"batch_size": _batch_size(args.batch_size), "epochs": args.epochs, "lr": args.lr,
                  "optimizer": args.optimizer, "seed": args.seed},
        "device": {"device": args.device},
    }  # fmt: skip
    out = {s: {k: v for k, v in kv.items() if v is not None} for s, kv in spec.items()}
    if args.hidden is not None:
        try:
            out["model"]["hidden"] = tuple(int(w) for w in args.hidden.split(",") if w.strip())
        except ValueError:
            raise StudioError(
                f"--hidden: expected widths like 128,64; got {args.hidden!r}"
            ) from None
    return {s: kv for s, kv in out.items() if kv}


def _batch_size(value: str | None) -> int | None:
    if value is None or value == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise StudioError(f"--batch-size: expected a number or 'auto', got {value!r}") from None


def _train_config(args: argparse.Namespace) -> StudioConfig:
    config = load_config(args.config) if args.config else StudioConfig()
    if args.preset:
        config = apply_preset(config, args.preset)
    config = config.with_overrides(**_overrides(args))
    if not config.data.path:
        if not SAMPLE_DATASET.exists():
            raise StudioError("no dataset given: pass DATA or a --config with data.path")
        config = config.with_overrides(
            data={"path": str(SAMPLE_DATASET), "text_column": "text", "label_column": "section"}
        )
    return config


def cmd_train(args: argparse.Namespace) -> int:
    if args.nproc < 1:
        raise StudioError(f"--nproc: must be at least 1, got {args.nproc}")
    if args.dist_timeout is not None and not args.dist_timeout > 0:
        raise StudioError(f"--dist-timeout: must be above 0 seconds, got {args.dist_timeout}")
    if args.resume:
        if args.nproc > 1 or _rank() is not None:
            raise StudioError("--resume continues a run in one process; leave out --nproc")
        return _resume_train(args)
    config = _train_config(args)
    if args.save_config:
        from studio.config import save_config

        save_config(config, args.save_config)
        print(args.save_config)
        return 0
    if args.nproc > 1:
        return _launch_ranks(args, config)
    from rich.console import Console

    from studio.console import ProgressBar
    from studio.engine.train.control import TrainControl
    from studio.engine.train.session import train_run

    err = Console(stderr=True)
    rank = _rank()
    quiet = args.quiet or (rank is not None and rank > 0)  # only rank 0 reports
    callbacks = [] if quiet else [ProgressBar(err)]
    if args.batch_size == "auto" and rank is not None:
        raise StudioError("--batch-size auto: finds a size for one device; give a number")
    if args.batch_size == "auto":
        from studio.engine.data.prepare import prepare_dataset
        from studio.engine.runs.layout import default_cache_dir
        from studio.engine.train.batch_finder import find_batch_size

        prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=default_cache_dir())
        size = find_batch_size(config, prepared)
        err.print(f"batch size: {size:,} (the largest power of two that fits)")
        config = config.with_overrides(train={"batch_size": size})

    def progress(message: str, _fraction: float) -> None:
        if not quiet:
            err.print(f"[dim]{message}…[/]")

    control = TrainControl()
    _stop_on_sigterm(control)
    extra: dict[str, Any] = {}
    if args.dist_timeout is not None:
        extra["dist_timeout"] = args.dist_timeout
    result = train_run(
        config,
        callbacks,
        control,
        runs_dir=args.runs_dir,
        run_dir=args.run_dir,
        progress=progress,
        **extra,
    )
    if rank is not None and rank > 0:
        return 0
    return _report_train(args, result, err)


def _rank() -> int | None:
    """This process's rank when torchrun or Slurm started it as part of a job."""
    from studio.engine.train.distributed import topology_from_env

    topo = topology_from_env()
    return None if topo is None else topo.rank


def _stop_on_sigterm(control: Any) -> None:
    """SIGTERM (a launcher's or a job scheduler's shutdown) stops training gracefully."""
    import signal

    def handler(_signum: int, _frame: object) -> None:
        control.request_stop()

    signal.signal(signal.SIGTERM, handler)


def _launch_ranks(args: argparse.Namespace, config: StudioConfig) -> int:
    """``--nproc N``: check what can be checked here, prepare once, then start N ranks."""
    if args.batch_size == "auto":
        raise StudioError("--batch-size auto: finds a size for one device; give a number")
    if _rank() is not None:
        raise StudioError("--nproc: this process is already one rank of a distributed run")
    from rich.console import Console

    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.runs.layout import default_cache_dir
    from studio.engine.train.devices import resolve_device
    from studio.engine.train.launch import launch

    device = resolve_device(config.device.device)
    if device.type == "cuda":
        import torch

        if config.device.device.startswith("cuda:"):
            raise StudioError(
                f"--device {config.device.device}: names one GPU; with --nproc use 'cuda' "
                "and choose the GPUs with CUDA_VISIBLE_DEVICES"
            )
        if args.nproc > torch.cuda.device_count():
            raise StudioError(
                f"--nproc {args.nproc}: only {torch.cuda.device_count()} GPU(s) visible"
            )
    elif device.type == "mps":
        raise StudioError("--nproc: Apple MPS has no distributed backend; use one process")
    err = Console(stderr=True)
    if not args.quiet:
        err.print(f"[dim]preparing the dataset once for {args.nproc} processes…[/]")
    # into the cache, so every rank only opens it; bad data fails here, once
    prepare_dataset(config.data, config.tokenizer, cache_dir=default_cache_dir())
    return launch(args.nproc, _without_nproc(args.argv))


def _without_nproc(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out


def _resume_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from studio.console import ProgressBar
    from studio.engine.train.session import resume_run

    err = Console(stderr=True)
    callbacks = [] if args.quiet else [ProgressBar(err)]

    def progress(message: str, _fraction: float) -> None:
        if not args.quiet:
            err.print(f"[dim]{message}…[/]")

    result = resume_run(args.resume, callbacks, progress=progress)
    return _report_train(args, result, err)


def _report_train(args: argparse.Namespace, result: FitResult, err: Console) -> int:
    if result.status != "finished":
        err.print(f"training {result.status} after {result.epochs} epoch(s)")
    print(result.run_dir)
    if args.json:
        print(json.dumps(_finite(result.summary())))
    else:
        err.print(
            f"validation accuracy {result.val_accuracy:.4f}, macro-F1 {result.val_macro_f1:.4f} "
            f"(epoch {result.best_epoch}); {result.docs_per_second:,.0f} docs/s, "
            f"{result.train_seconds:.1f} s training"
        )
    return 0


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: report missing numbers as null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


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
    from studio.config import DataConfig

    config = load_config(args.config) if args.config else StudioConfig()
    if args.device:
        config = config.with_overrides(device={"device": args.device})
    if args.data:
        data = DataConfig(path=args.data, text_column=args.text_col, label_column=args.label_col)
    else:
        data = DataConfig(path=str(SAMPLE_DATASET), text_column="text", label_column="section")
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
    from studio.engine.export.formats_all import export_run

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


COMMANDS = {
    "train": cmd_train,
    "eval": cmd_eval,
    "predict": cmd_predict,
    "runs": cmd_runs,
    "devices": cmd_devices,
    "bench": cmd_bench,
    "export": cmd_export,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command is None:
            return open_window(args.open, args.screenshot, args.report_startup)
        return COMMANDS[args.command](args)
    except StudioError as exc:
        if not getattr(exc, "quiet", False):
            print(f"studio: error: {_rank_prefix(str(exc))}{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130


def _rank_prefix(message: str) -> str:
    """``rank N: `` in a distributed run's ranks other than 0 (cheap: no torch import)."""
    import os

    rank = os.environ.get("RANK") or os.environ.get("SLURM_PROCID")
    world = os.environ.get("WORLD_SIZE") or os.environ.get("SLURM_NTASKS")
    if rank and world and world != "1" and rank != "0" and not message.startswith("rank "):
        return f"rank {rank}: "
    return ""


if __name__ == "__main__":
    sys.exit(main())
