"""``studio train``: options to a config, then one process, N ranks, or a resumed run."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studio.config import SAMPLE_DATA, SAMPLE_DATASET, StudioConfig, apply_preset, load_config
from studio.errors import StudioError

if TYPE_CHECKING:
    from rich.console import Console

    from studio.engine.train.events import FitResult

__all__ = ["cmd_train"]


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    spec = {
        "data": {"path": args.data, "text_column": args.text_col, "label_column": args.label_col,
                 "label_delimiter": args.label_delimiter, "valid_path": args.valid},
        "tokenizer": {"kind": args.tokenizer, "vocab_size": args.vocab_size,
                      "min_freq": args.min_freq, "ngram_buckets": args.ngram_buckets,
                      "char_ngrams": _char_ngrams(args.char_ngrams),
                      "char_buckets": args.char_buckets},
        "model": {"embed_dim": args.embed_dim, "weighting": args.weighting,
                  "kind": args.model_kind, "pooling": args.pooling,
                  "linear_c": args.linear_c},
        "train": {"batch_size": _batch_size(args.batch_size), "epochs": args.epochs, "lr": args.lr,
                  "optimizer": args.optimizer, "seed": args.seed,
                  "class_weights": args.class_weights},
        "device": {"device": args.device, "workers": args.workers},
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


def _char_ngrams(value: str | None) -> tuple[int, int] | None:
    """``--char-ngrams 3,6`` (or ``0``: none) as the config's pair."""
    if value is None:
        return None
    if value.strip() == "0":
        return (0, 0)
    parts = value.split(",")
    try:
        minn, maxn = (int(v) for v in parts)
    except ValueError:
        raise StudioError(
            f"--char-ngrams: expected MINN,MAXN like 3,6 (or 0 for none); got {value!r}"
        ) from None
    return minn, maxn


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
            data={
                "path": SAMPLE_DATA.path,
                "text_column": SAMPLE_DATA.text_column,
                "label_column": SAMPLE_DATA.label_column,
            }
        )
    return config


def cmd_train(args: argparse.Namespace) -> int:
    """``studio train``: one process, ``--nproc`` ranks, or ``--resume``."""
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
    callbacks: list[Any] = [] if quiet else [ProgressBar(err)]
    if args.live_predictions and rank is None:
        from studio.engine.train.live_predictions import LivePredictions

        callbacks.append(LivePredictions())
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
