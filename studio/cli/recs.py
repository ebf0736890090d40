"""``studio recs DATA``: user and item embeddings from an interactions file, scored each
epoch against the popularity baseline; ``studio recommend RUN USER``: a user's top items."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

__all__ = ["add_recs", "cmd_recommend", "cmd_recs"]


def add_recs(sub: Any) -> None:
    """The ``recs`` and ``recommend`` subcommands' options."""
    r = sub.add_parser("recs", help="train user and item embeddings for recommendation")
    r.add_argument("data", help="interactions file (CSV, TSV, JSON Lines or Parquet)")
    for role in ("user", "item", "weight", "time"):
        r.add_argument(f"--{role}-col", help=f"the {role} column (default: found by name)")
    r.add_argument("--no-cache", action="store_true",
                   help="read the file again instead of the memory-mapped cache of it")  # fmt: skip
    r.add_argument("--item-text", metavar="FILE",
                   help="each item's text (an id and a text column): its words' vectors "
                   "are added to the item's; items seen little or never are placed by "
                   "their text")  # fmt: skip
    r.add_argument("--item-id-col", help="--item-text's id column (default: found by name)")
    r.add_argument("--item-text-col", help="--item-text's text column (default: found by name)")
    r.add_argument("--holdout", choices=["last", "random", "items"], default="last",
                   help="per user: the last interaction (by time) or a random share; or "
                   "items: a share of the items, all their interactions (cold start)")  # fmt: skip
    r.add_argument("--share", type=float, default=0.2,
                   help="held-out share for --holdout random or items")  # fmt: skip
    r.add_argument("--min-count", type=int, default=1, help="drop users and items seen less")
    r.add_argument("--dim", type=int, default=64, help="embedding dimension (default: 64)")
    r.add_argument("--epochs", type=int, default=20)
    r.add_argument("--batch-size", type=int, default=4096)
    r.add_argument("--lr", type=float, default=0.05, help="row-wise Adagrad step (default: 0.05)")
    r.add_argument("--loss", choices=["softmax", "bpr"], default="softmax",
                   help="softmax over in-batch negatives, or BPR on sampled ones")  # fmt: skip
    r.add_argument("--block", type=int, default=128,
                   help="softmax: in-batch negatives per interaction")  # fmt: skip
    r.add_argument("--tower", choices=["dot", "mlp"], default="dot",
                   help="dot product, or the user's vector through an MLP first")  # fmt: skip
    r.add_argument("--negatives", choices=["uniform", "popularity"], default="uniform",
                   help="BPR: how its negatives are drawn")  # fmt: skip
    r.add_argument("--exclude-positives", choices=["auto", "on", "off"], default="auto",
                   help="never use a user's own items as its negatives (auto: on for BPR, "
                   "off for the softmax, where it measured worse)")  # fmt: skip
    r.add_argument("-k", type=int, default=10, help="metrics at k (default: 10)")
    r.add_argument("--eval-users", type=int, default=50_000, metavar="N",
                   help="score at most N held-out users each epoch, a seeded sample (0: "
                   "all; default 50000)")  # fmt: skip
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    r.add_argument("--run-dir", metavar="DIR",
                   help="an empty folder for this run (instead of a new one in the runs "
                   "directory); DIR/STOP appearing stops it after its current step")  # fmt: skip
    r.add_argument("--runs-dir", help="where the run folder goes (default: the runs directory)")
    r.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train in N processes on this machine (torch.distributed; each "
                   "takes whole softmax blocks of every batch; batch-size is the "
                   "total)")  # fmt: skip
    r.add_argument("--dist-timeout", type=float, metavar="SECONDS",
                   help="with --nproc: how long a rank waits for a silent peer "
                   "(default 300)")  # fmt: skip
    r.add_argument("--json", action="store_true", help="the run's figures as JSON")
    q = sub.add_parser("recommend", help="a user's top items from a recommendation run")
    q.add_argument("run", help="a run folder made by studio recs")
    q.add_argument("user", nargs="?", help="the user's id as in the interactions file")
    q.add_argument("-k", type=int, default=10, help="items to list (default: 10)")
    q.add_argument("--like", metavar="ITEM", help="instead: the items nearest to ITEM (cosine)")
    q.add_argument("--vectors", metavar="FILE", help="instead: item vectors as word2vec text")
    q.add_argument("--onnx", metavar="FILE",
                   help="instead: the scoring towers as ONNX, and FILE.json")  # fmt: skip
    q.add_argument("--overwrite", action="store_true", help="with --onnx: replace FILE")
    q.add_argument("--json", action="store_true")


def _settings(args: argparse.Namespace) -> Any:
    from studio.engine.train.recs import RecSettings

    return RecSettings(
        dim=args.dim, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        loss=args.loss, block=args.block, tower=args.tower, negatives=args.negatives,
        exclude_positives={"auto": None, "on": True, "off": False}[args.exclude_positives],
        k=args.k, seed=args.seed, device=args.device, eval_users=args.eval_users,
    )  # fmt: skip


def _read(args: argparse.Namespace, err: Any) -> tuple[Any, Any, Any]:
    """The interactions, their split and the item texts (None without --item-text)."""
    from studio.engine.data.interaction_cache import open_interactions
    from studio.engine.data.interaction_split import split_interactions
    from studio.engine.data.item_text import read_item_texts
    from studio.engine.runs.layout import default_cache_dir

    data = open_interactions(
        args.data, user_column=args.user_col, item_column=args.item_col,
        weight_column=args.weight_col, time_column=args.time_col,
        cache_dir=None if args.no_cache else default_cache_dir(),
    )  # fmt: skip
    split = split_interactions(data, args.holdout, args.share, args.min_count, args.seed)
    texts = None
    if args.item_text:
        texts = read_item_texts(args.item_text, data.item_names, id_column=args.item_id_col,
                                text_column=args.item_text_col,
                                item_column=data.columns["item"])  # fmt: skip
        err.print(f"[dim]{texts.matched:,} of {data.n_items:,} items have a text in "
                  f"{args.item_text} ({texts.unused:,} rows name no item in use)[/]")  # fmt: skip
    _check_memory(args, data.n_users + data.n_items + 2)
    err.print(
        f"[dim]{len(data):,} interactions, {data.n_users:,} users, {data.n_items:,} items; "
        f"{len(split.train_idx):,} train, {len(split.test_idx):,} held out "
        f"({split.unseen_items:,} held-out items never seen in training)[/]"
    )
    return data, split, texts


def _check_memory(args: argparse.Namespace, rows: int) -> None:
    """StudioError, before any training, when the CPU tables would not fit the free memory."""
    from studio.engine.train.table_files import available_memory, table_bytes
    from studio.errors import StudioError

    need, free = table_bytes(rows, args.dim), available_memory()
    if args.device == "cpu" and need > 0.8 * free:
        raise StudioError(
            f"the user and item tables ({rows:,} rows at dim {args.dim}) need "
            f"{need / 2**30:.1f} GB and {free / 2**30:.1f} GB of memory is free: lower --dim, "
            "or raise --min-count to drop rare users and items"
        )


def _group(args: argparse.Namespace) -> Any:
    """This process's group when torchrun (``--nproc``) or Slurm started it as a rank."""
    from studio.engine.train.distributed import ProcessGroup, rank_device, topology_from_env

    topo = topology_from_env()
    if topo is None:
        return None
    import torch

    device = torch.device(rank_device(args.device, topo))
    return ProcessGroup(topo, device, args.dist_timeout or 300.0)


def cmd_recs(args: argparse.Namespace) -> int:
    from rich.console import Console

    from studio.errors import StudioError

    if args.nproc < 1:
        raise StudioError(f"--nproc: must be at least 1, got {args.nproc}")
    start = time.perf_counter()
    if args.nproc > 1:
        from studio.cli.train import _without_nproc
        from studio.engine.train.distributed import topology_from_env
        from studio.engine.train.launch import launch

        if topology_from_env() is not None:
            raise StudioError("--nproc: this process is already one rank of a distributed run")
        _read(args, Console(stderr=True))  # bad data fails here, once
        return launch(args.nproc, _without_nproc(args.argv))
    group = _group(args)
    try:
        main = group is None or group.rank == 0
        err = Console(stderr=True, quiet=not main)
        data, split, texts = _read(args, err)
        run = _fit(args, err, data, split, texts, group)
    finally:
        if group is not None:
            group.close()
    if run is None:
        return 0  # a rank other than 0: rank 0 saves and reports
    meta = json.loads((run / "recs.json").read_text(encoding="utf-8"))
    meta["wall_seconds"] = round(time.perf_counter() - start, 2)
    meta["run_dir"] = str(run)
    meta["processes"] = 1 if group is None else group.world_size
    return _report(args, meta)


def _fit(
    args: argparse.Namespace, err: Any, data: Any, split: Any, texts: Any, group: Any
) -> Path | None:
    """Train, recording the run on rank 0 (or alone); its folder, None on other ranks."""
    from studio.engine.analysis.recs_record import RecsRecorder
    from studio.engine.runs.layout import STOP_FILE, default_runs_dir
    from studio.engine.train.control import TrainControl
    from studio.engine.train.recs import RecEpoch, fit_recs
    from studio.engine.train.stopfile import StopFileWatcher

    settings = _settings(args)
    item_texts = None if texts is None else texts.texts
    if group is not None and group.rank > 0:
        fit_recs(data, split, settings, item_texts=item_texts, group=group)
        return None
    runs_dir = Path(args.runs_dir) if args.runs_dir else default_runs_dir()
    run_dir = _empty_folder(args.run_dir) if args.run_dir else None
    recorder = RecsRecorder(runs_dir, data, split, settings, texts, run_dir)
    control = TrainControl()

    def on_epoch(e: RecEpoch) -> None:
        recorder.on_epoch(e)
        m = e.metrics
        speed = f"{e.interactions_per_second:,.0f} interactions/s"
        err.print(f"[dim]epoch {e.epoch}: loss {e.loss:.4f} · recall@{m.k} {m.recall:.4f} · "
                  f"NDCG@{m.k} {m.ndcg:.4f} · {speed}[/]")  # fmt: skip

    watcher = StopFileWatcher(recorder.run_dir / STOP_FILE, control)
    try:
        with watcher:
            result = fit_recs(data, split, settings, on_epoch, control, recorder.on_baseline,
                              item_texts, group)  # fmt: skip
    except BaseException as exc:  # the folder says why it ended, as a text run's does
        recorder.fail(str(exc) or type(exc).__name__)
        raise
    return recorder.finish(result)


def _empty_folder(path: str) -> Path:
    """``--run-dir``: made if missing; StudioError if it holds anything."""
    from studio.errors import StudioError

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        used = any(folder.iterdir())
    except OSError as exc:
        raise StudioError(f"--run-dir {folder}: {exc.strerror or exc}") from None
    if used:
        raise StudioError(f"--run-dir {folder}: not empty (a run folder is never reused)")
    return folder


def _report(args: argparse.Namespace, meta: dict[str, Any]) -> int:
    from rich.console import Console

    from studio.console import table

    if args.json:
        print(json.dumps(meta))
        return 0
    models = [("user/item tables", meta["history"][-1]), *meta["baselines"].items()]
    rows = [[name, f"{m['recall']:.4f}", f"{m['ndcg']:.4f}", f"{m['hit_rate']:.4f}"]
            for name, m in models]  # fmt: skip
    k = meta["settings"]["k"]
    held = f"{meta['test']:,} held-out interactions"
    title = f"{meta['users']:,} users, {held}; saved in {meta['run_dir']}"
    Console().print(table(title, ["model", f"recall@{k}", f"NDCG@{k}", f"hit@{k}"], rows))
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from rich.console import Console

    from studio.console import table
    from studio.engine.analysis.recommend import (
        load_recs_run,
        recommend,
        similar_items,
        write_item_vectors,
    )
    from studio.errors import StudioError

    run = load_recs_run(args.run)
    if args.vectors:
        print(write_item_vectors(run, args.vectors))
        return 0
    if args.onnx:
        from studio.engine.export.recs_onnx import export_recs_onnx

        print(export_recs_onnx(run, args.onnx, overwrite=args.overwrite))
        return 0
    if args.like:
        near = similar_items(run, args.like, args.k)
        if args.json:
            print(json.dumps({"item": args.like, "similar": near}))
            return 0
        rows = [[str(n), item, f"{c:.3f}"] for n, (item, c) in enumerate(near, 1)]
        Console().print(table(f"nearest to {args.like}", ["#", "item", "cosine"], rows))
        return 0
    if args.user is None:
        raise StudioError("name a USER, or give --like ITEM or --vectors FILE")
    found = recommend(run, args.user, args.k)
    if args.json:
        print(json.dumps({"user": found.user, "items": found.items, "already": found.already}))
        return 0
    rows = [[str(rank), item, f"{score:.3f}"] for rank, (item, score) in enumerate(found.items, 1)]
    Console().print(table(f"top {len(rows)} for {found.user}", ["#", "item", "score"], rows))
    had = ", ".join(found.already[:20]) + (" …" if len(found.already) > 20 else "")
    Console().print(f"already had ({len(found.already)}): {had}", markup=False)
    return 0
