"""The training loop: ``fit(config, callbacks, control)``. No Qt; runs headless anywhere.

The whole training split is moved to the device once as flat arrays; each epoch is one
gather with a seeded permutation, each batch a slice. Callbacks (progress bar, live plot,
run store, early stopping) observe the loop; ``control`` pauses or stops it between steps.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from studio.config import StudioConfig
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.data.pretrained import load_vectors
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.train.batching import Batch, DeviceData, shard_bounds, shard_counts
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.devices import resolve_device
from studio.engine.train.distributed import (
    ProcessGroup,
    ReplicatedModel,
    is_peer_failure,
    peer_failure,
)
from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd
from studio.engine.train.mapped import MappedData, encode_docs, split_data
from studio.engine.train.metrics import multi_label_metrics, single_label_metrics
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.resume import (
    TrainState,
    TrainStateSink,
    clone_optimizer_state,
    load_train_state,
    optimizer_state_cpu,
)
from studio.engine.train.table_optim import RowwiseAdagrad
from studio.errors import DatasetError, StudioError


class TrainingError(StudioError):
    """Training cannot go on (for example the loss became NaN)."""


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def build_encoder(p: PreparedDataset, config: StudioConfig) -> TextEncoder:
    size = p.effective_vocab_size(config.tokenizer.vocab_size, config.tokenizer.min_freq)
    return TextEncoder(
        kind=p.tokenizer_kind,
        lowercase=p.lowercase,
        tokens=tuple(p.tokens[:size]),
        ngram_buckets=config.tokenizer.ngram_buckets,
        bpe_json=p.bpe_json,
    )


def build_spec(config: StudioConfig, encoder: TextEncoder, p: PreparedDataset) -> ModelSpec:
    n_labels = len(p.label_names)
    binary = not p.multi_label and n_labels == 2
    return ModelSpec(
        num_embeddings=encoder.table_rows,
        embed_dim=config.model.embed_dim,
        num_outputs=1 if binary else n_labels,
        pooling=config.model.pooling,
        hidden=config.model.hidden,
        dropout=config.model.dropout,
        sigmoid=binary or p.multi_label,
    )


def encoded_split(
    p: PreparedDataset, encoder: TextEncoder, docs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids (vocabulary-capped, bigrams added), offsets and targets of some documents."""
    ids, offsets = encode_docs(p.ids, p.offsets, docs, encoder)
    return ids, offsets, np.asarray(p.targets[docs])


def loss_function(spec: ModelSpec) -> nn.Module:
    return nn.BCEWithLogitsLoss() if spec.sigmoid else nn.CrossEntropyLoss()


def _loss(spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if not spec.sigmoid:
        return fn(logits, y)
    if spec.num_outputs == 1:
        return fn(logits.squeeze(-1), y.float())
    return fn(logits, y.float())


def _optimizers(model: TextClassifier, config: StudioConfig) -> list[torch.optim.Optimizer]:
    tc = config.train
    table = [p for p in model.embedding.parameters() if p.requires_grad]
    rest = list(model.head.parameters())
    sparse = model.embedding.sparse
    if tc.optimizer == "sgd":
        return [
            torch.optim.SGD(table + rest, lr=tc.lr, weight_decay=0.0 if sparse else tc.weight_decay)
        ]
    dense_cls = torch.optim.AdamW if tc.optimizer == "adamw" else torch.optim.Adam
    opts: list[torch.optim.Optimizer] = [dense_cls(rest, lr=tc.lr, weight_decay=tc.weight_decay)]
    if table:
        opts.append(
            torch.optim.SparseAdam(table, lr=tc.lr) if sparse else dense_cls(table, lr=tc.lr)
        )
    return opts


def _lr_factor(schedule: str, step: int, total: int) -> float:
    progress = min(step / max(total, 1), 1.0)
    if schedule == "linear":
        return max(1.0 - progress, 0.0)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def _clip(params: list[nn.Parameter], max_norm: float) -> None:
    """Clip the global gradient norm, dense and sparse gradients alike."""
    norms = []
    for p in params:
        if p.grad is None:
            continue
        g = p.grad.coalesce() if p.grad.is_sparse else p.grad
        if p.grad.is_sparse:
            p.grad = g
        norms.append(torch.linalg.vector_norm(g._values() if g.is_sparse else g))
    if not norms:
        return
    total = torch.linalg.vector_norm(torch.stack(norms))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in params:
        if p.grad is not None:
            p.grad.mul_(coef)


@torch.no_grad()
def predict_logits(
    model: TextClassifier, data: DeviceData | MappedData, batch_size: int = 4096
) -> torch.Tensor:
    """Logits of every document of ``data``, in order."""
    model.eval()
    out = [model(b.ids, b.offsets) for b in data.batches(batch_size)]
    model.train()
    if not out:
        return torch.zeros((0, model.spec.num_outputs), device=data.device)
    return torch.cat(out).float()


def evaluate_split(
    model: TextClassifier,
    data: DeviceData | MappedData,
    multi_label: bool,
    group: ProcessGroup | None = None,
    targets: torch.Tensor | None = None,
) -> tuple[float, dict[str, float], np.ndarray]:
    """Loss, metrics and probabilities on a prepared split.

    In a distributed run ``data`` is this rank's part of the split: the logits of every
    part are gathered, so each rank computes the same metrics over the whole split
    (``targets``), and early-stopping decisions agree.
    """
    logits = predict_logits(model, data)
    if group is not None and targets is not None:
        logits = group.gather_rows(logits, shard_counts(len(targets), group.world_size))
        return _score(model, logits, targets, multi_label)
    return _score(model, logits, data.targets, multi_label)


def _score(
    model: TextClassifier, logits: torch.Tensor, targets: torch.Tensor, multi_label: bool
) -> tuple[float, dict[str, float], np.ndarray]:
    spec = model.spec
    if len(targets) == 0:
        return (
            float("nan"),
            {"accuracy": 0.0, "macro_f1": 0.0, "weighted_f1": 0.0},
            np.zeros((0, 0)),
        )
    loss = float(_loss(spec, loss_function(spec), logits, targets))
    probs = model.probabilities(logits).cpu().numpy()
    y = targets.cpu().numpy()
    if multi_label:
        metrics = multi_label_metrics(y, probs >= 0.5)
    else:
        metrics = single_label_metrics(y, probs.argmax(axis=1), probs.shape[1])
    return loss, metrics, probs


class _Meter:
    """Training time and counts, with pauses and evaluation left out."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.docs = 0
        self.tokens = 0
        self._t = 0.0

    def start(self) -> None:
        self._t = time.perf_counter()

    def stop(self) -> None:
        self.seconds += time.perf_counter() - self._t

    def now(self) -> float:
        return self.seconds + time.perf_counter() - self._t

    def rates(self, elapsed: float) -> tuple[float, float]:
        if elapsed <= 0:
            return 0.0, 0.0
        return self.docs / elapsed, self.tokens / elapsed


def fit(
    config: StudioConfig,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    *,
    prepared: PreparedDataset | None = None,
    cache_dir: str | Path | None = None,
    run_dir: str | None = None,
    resume_from: str | None = None,
    group: ProcessGroup | None = None,
) -> FitResult:
    """Train a classifier as ``config`` says. Blocks until done, stopped or failed.

    ``resume_from`` is a run folder with a complete resume checkpoint (see
    :mod:`studio.engine.train.resume`): weights, optimizer and RNG states, counters and history
    are restored and training continues with the epoch after the checkpoint's, so a
    seeded run ends exactly as an uninterrupted one would. ``config`` must be the run's.

    ``group`` makes this one rank of a distributed run (see
    :mod:`studio.engine.train.distributed`); every rank calls ``fit`` with the same arguments.
    """
    control = control or TrainControl()
    if config.device.threads:
        torch.set_num_threads(config.device.threads)
    device = group.device if group is not None else resolve_device(config.device.device)
    p = prepared or prepare_dataset(config.data, config.tokenizer, cache_dir=cache_dir)
    if len(p.train_idx) == 0:
        raise DatasetError("the training split is empty", path=p.source)
    if len(p.valid_idx) == 0:
        raise DatasetError(
            "the validation split is empty; add documents or a valid_path", path=p.source
        )

    seed_everything(config.train.seed)
    encoder = build_encoder(p, config)
    spec = build_spec(config, encoder, p)
    fused = uses_fused_table(config)
    # under DDP a trainable unfused table has dense gradients (NCCL reduces no sparse ones)
    sparse = not fused and not config.model.freeze_embeddings and group is None
    model = TextClassifier(spec, sparse=sparse).to(device)
    found = _init_pretrained(model, config, encoder)
    if config.model.freeze_embeddings or fused:
        model.embedding.weight.requires_grad_(False)
    if group is not None:
        with torch.no_grad():
            group.broadcast_(model.embedding.weight)  # one table, replicated

    if config.device.compile:
        # the dense layers only: the table's update is already fused by hand
        model.head = torch.compile(model.head)  # type: ignore[assignment]
    train = split_data(p, np.asarray(p.train_idx), encoder, device)
    valid_idx = np.asarray(p.valid_idx)
    if group is not None:  # each rank scores its part; the logits are gathered
        a, b = shard_bounds(len(valid_idx), group.world_size, group.rank)
        valid = split_data(p, valid_idx[a:b], encoder, device)
        valid_targets = torch.from_numpy(np.asarray(p.targets[valid_idx])).to(device)
    else:
        valid = split_data(p, valid_idx, encoder, device)
        valid_targets = valid.targets
    ctx = FitContext(config, model, spec, encoder, p.label_names, p.multi_label, device)
    ctx.run_dir, ctx.prepared, ctx.valid_docs = run_dir, p, valid_idx
    resume = load_train_state(resume_from) if resume_from is not None else None
    try:
        return _run(
            ctx, train, valid, list(callbacks), control, found, resume, group, valid_targets
        )
    except BaseException as exc:
        if group is not None and is_peer_failure(exc):
            exc = peer_failure(exc, group.topo)
        for cb in callbacks:
            with contextlib.suppress(Exception):
                cb.on_exception(ctx, exc)
        if isinstance(exc, StudioError):
            raise exc from None
        raise


def uses_fused_table(config: StudioConfig) -> bool:
    """Row-wise Adagrad for the table: when asked for, trainable, and mean/sum pooled."""
    return (
        config.train.table_optimizer == "adagrad"
        and not config.model.freeze_embeddings
        and config.model.pooling in ("mean", "sum")
    )


def _init_pretrained(
    model: TextClassifier, config: StudioConfig, encoder: TextEncoder
) -> int | None:
    path = config.model.pretrained_vectors
    if not path:
        return None
    rows, vectors = load_vectors(
        path, {t: i for i, t in enumerate(encoder.tokens)}, config.model.embed_dim
    )
    with torch.no_grad():
        weight = model.embedding.weight
        weight[torch.from_numpy(rows).to(weight.device)] = torch.from_numpy(vectors).to(
            weight.device
        )
    return len(rows)


OOM_MIN_BATCH = 8  # below this, running out of memory is an error


def _forward(
    model: TextClassifier | ReplicatedModel,
    table: RowwiseAdagrad | None,
    ids: torch.Tensor,
    offsets: torch.Tensor,
    amp: bool,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits of one training batch (and the pooled leaf when the table is fused)."""
    if table is not None:
        pooled = table.pooled(ids, offsets)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            return model.head(pooled), pooled
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        return model(ids, offsets), None


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc)
    )


def _notify(ctx: FitContext, callbacks: list[Callback], message: str) -> None:
    for cb in callbacks:
        cb.on_notice(ctx, message)


def _run(
    ctx: FitContext,
    train: DeviceData | MappedData,
    valid: DeviceData | MappedData,
    callbacks: list[Callback],
    control: TrainControl,
    pretrained_found: int | None,
    resume: TrainState | None = None,
    group: ProcessGroup | None = None,
    valid_targets: torch.Tensor | None = None,
) -> FitResult:
    cfg, model, spec = ctx.config.train, ctx.model, ctx.spec
    device = ctx.device
    optimizers = _optimizers(model, ctx.config)
    base_lrs = [[g["lr"] for g in o.param_groups] for o in optimizers]
    table: RowwiseAdagrad | None = None
    if uses_fused_table(ctx.config):
        table = RowwiseAdagrad(model.embedding.weight, cfg.table_lr, ctx.config.model.pooling)
    # what a step calls: the model itself, or its DDP-wrapped replica in a distributed run
    net = model if group is None else ReplicatedModel(model, group, head_only=table is not None)
    rank, world = (0, 1) if group is None else (group.rank, group.world_size)
    # distributed: ranks agree on a stop request every step (CPU) or every log_every steps
    agreed_stop = False
    params = [q for q in model.parameters() if q.requires_grad]
    loss_fn = loss_function(spec)
    batch_size = cfg.batch_size
    steps_per_epoch = math.ceil(train.n_docs / batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    log_every = cfg.log_every or (1 if device.type == "cpu" else 25)
    agree_every = 1 if device.type == "cpu" else log_every

    def stopping() -> bool:
        """A stop request, as every rank sees it (single process: as the control says)."""
        return control.stop_requested if group is None else agreed_stop

    def agree(force: bool = False) -> None:
        nonlocal agreed_stop
        if group is not None and (force or step % agree_every == 0):
            agreed_stop = group.any(control.stop_requested)

    amp = ctx.config.device.amp and device.type == "cuda"
    rng = np.random.default_rng(cfg.seed)
    restore_best = cfg.early_stopping_patience > 0
    sinks = [cb for cb in callbacks if isinstance(cb, TrainStateSink)]

    meter = _Meter()
    history: list[EpochEnd] = []
    best: EpochEnd | None = None
    best_state: dict[str, torch.Tensor] | None = None
    step = 0
    start_epoch = 1

    def capture(epoch: int) -> TrainState:
        """The loop's state now, copied to the CPU (a checkpoint, or a rollback point)."""
        return TrainState(
            epoch=epoch,
            step=step,
            batch_size=batch_size,
            total_steps=total_steps,
            weights=ctx.cpu_state(),
            optimizers=[optimizer_state_cpu(o) for o in optimizers],
            table_state=None if table is None else table.state.detach().to("cpu", copy=True),
            np_rng=dict(rng.bit_generator.state),
            torch_rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            history=list(history),
            meter={"seconds": meter.seconds, "docs": meter.docs, "tokens": meter.tokens},
            restore_best=restore_best,
        )

    def restore(state: TrainState) -> None:
        nonlocal step, batch_size, total_steps, steps_per_epoch
        _load_into(model, state.weights)
        for opt, sd in zip(optimizers, state.optimizers, strict=True):
            opt.load_state_dict(clone_optimizer_state(sd))
        if table is not None and state.table_state is not None:
            table.state.copy_(state.table_state.to(table.state.device))
        rng.bit_generator.state = state.np_rng
        torch.set_rng_state(state.torch_rng)
        if state.cuda_rng is not None and device.type == "cuda":
            torch.cuda.set_rng_state(state.cuda_rng, device)
        step = state.step
        batch_size = state.batch_size
        total_steps = state.total_steps
        steps_per_epoch = math.ceil(train.n_docs / batch_size)
        meter.seconds = state.meter.get("seconds", 0.0)
        meter.docs = int(state.meter.get("docs", 0))
        meter.tokens = int(state.meter.get("tokens", 0))

    if resume is not None:
        restore(resume)
        history = list(resume.history)
        for e in history:
            if e.is_best:
                best = e
        best_state = resume.best_weights if restore_best else None
        start_epoch = resume.epoch + 1

    info = FitStart(
        n_train=train.n_docs,
        n_valid=len(valid_targets) if valid_targets is not None else valid.n_docs,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        epochs=cfg.epochs,
        device=str(device),
        label_names=ctx.label_names,
        vocab_size=ctx.encoder.vocab_size,
        table_rows=ctx.encoder.table_rows,
        parameters=sum(q.numel() for q in model.parameters()),
        pretrained_found=pretrained_found,
    )
    for cb in callbacks:
        cb.on_fit_start(ctx, info)

    status = "finished"
    pending: list[torch.Tensor] = []

    def train_epoch(epoch: int) -> tuple[torch.Tensor, int]:
        """One pass over the shuffled training split; returns the summed loss and steps."""
        nonlocal step, pending
        epoch_loss = torch.zeros((), device=device)
        epoch_steps = 0
        for batch in train.batches(batch_size, rng, rank, world):
            paused = control.checkpoint()
            meter.seconds -= paused
            agree()
            if stopping() or ctx.should_stop:
                break
            factor = _lr_factor(cfg.schedule, step, total_steps)
            for opt, lrs in zip(optimizers, base_lrs, strict=True):
                for param_group, lr in zip(opt.param_groups, lrs, strict=True):
                    param_group["lr"] = lr * factor
                opt.zero_grad(set_to_none=True)
            if table is not None:
                table.lr = cfg.table_lr * factor
            logits, pooled = _forward(net, table, batch.part_ids, batch.part_offsets, amp, device)
            if group is None:
                loss = _loss(spec, loss_fn, logits.float(), batch.targets)
                reported = loss.detach()
            else:
                loss = _part_loss(spec, loss_fn, logits.float(), batch, world)
                reported = group.sum_(loss.detach() / world)  # the global batch's mean loss
            loss.backward()
            if cfg.grad_clip > 0:
                _clip(params, cfg.grad_clip)
            for opt in optimizers:
                opt.step()
            if table is not None and pooled is not None and pooled.grad is not None:
                grad = pooled.grad
                if group is not None:  # every rank applies the whole global batch's update
                    grad = group.gather_rows(grad, batch.part_counts) / world
                table.apply(batch.ids, batch.offsets, grad)
            step += 1
            epoch_steps += 1
            meter.docs += batch.n_docs
            meter.tokens += batch.n_tokens
            epoch_loss += reported
            pending.append(reported)
            if len(pending) >= log_every:
                _emit_steps(
                    ctx,
                    callbacks,
                    pending,
                    step,
                    epoch,
                    factor * base_lrs[0][0],
                    meter,
                    total_steps,
                )
                pending = []
        if pending:
            _emit_steps(ctx, callbacks, pending, step, epoch, base_lrs[0][0], meter, total_steps)
            pending = []
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return epoch_loss, epoch_steps

    # the state at the start of the next epoch, to redo it after running out of memory
    rollback = resume if resume is not None else capture(0)
    model.train()
    epoch = start_epoch
    if (
        restore_best
        and best is not None
        and history
        and history[-1].epoch - best.epoch >= cfg.early_stopping_patience
    ):
        status, epoch = "early_stopped", cfg.epochs + 1  # resumed after the patience ran out
    while epoch <= cfg.epochs:
        meter.start()
        out_of_memory = False
        try:
            epoch_loss, epoch_steps = train_epoch(epoch)
        except RuntimeError as exc:
            if not _is_oom(exc):
                raise
            if group is not None:  # ranks cannot agree on a new batch size mid-step
                raise TrainingError(
                    f"rank {rank}: out of memory at batch size {batch_size}; "
                    "lower train.batch_size (it is split across the processes)"
                ) from None
            out_of_memory = True  # handled below, once the traceback's tensors are freed
        if out_of_memory:
            meter.stop()
            pending = []
            for opt in optimizers:
                opt.zero_grad(set_to_none=True)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            smaller = batch_size // 2
            if smaller < OOM_MIN_BATCH:
                raise TrainingError(
                    f"out of memory even at batch size {batch_size}; "
                    "use a smaller model, vocabulary or batch size"
                ) from None
            restore(rollback)  # redo this epoch from its start...
            batch_size = smaller  # ...with half the batch (and the schedule stretched)
            steps_per_epoch = math.ceil(train.n_docs / batch_size)
            total_steps = step + steps_per_epoch * (cfg.epochs - epoch + 1)
            _notify(
                ctx,
                callbacks,
                f"out of memory: batch size halved to {batch_size}; redoing epoch {epoch}",
            )
            continue
        meter.stop()
        if epoch_steps < steps_per_epoch:  # stopped mid-epoch: no validation of a partial epoch
            status = "stopped" if stopping() else "early_stopped"
            break
        train_loss = float(epoch_loss) / max(epoch_steps, 1)
        val_loss, metrics, ctx.val_probs = evaluate_split(
            model, valid, ctx.multi_label, group, valid_targets
        )
        is_best = best is None or val_loss < best.val_loss
        docs_s, tok_s = meter.rates(meter.seconds)
        event = EpochEnd(
            epoch=epoch,
            step=step,
            train_loss=train_loss,
            val_loss=val_loss,
            val_accuracy=metrics["accuracy"],
            val_macro_f1=metrics["macro_f1"],
            val_weighted_f1=metrics["weighted_f1"],
            elapsed=meter.seconds,
            docs_per_second=docs_s,
            tokens_per_second=tok_s,
            is_best=is_best,
            best_epoch=epoch if is_best else (best.epoch if best else epoch),
        )
        if not math.isfinite(train_loss):
            raise TrainingError(
                f"the training loss became {train_loss} in epoch {epoch}; lower the learning rate"
            )
        history.append(event)
        rollback = capture(epoch)
        if is_best:
            best = event
            if restore_best:
                best_state = rollback.weights
        for sink in sinks:
            sink.on_train_state(ctx, rollback)
        for cb in callbacks:
            cb.on_epoch_end(ctx, event)
        if restore_best and best is not None and epoch - best.epoch >= cfg.early_stopping_patience:
            ctx.should_stop = True
            ctx.stop_reason = (
                f"no improvement in validation loss for {cfg.early_stopping_patience} epochs"
            )
        agree(force=True)
        if stopping() or ctx.should_stop:
            status = "stopped" if stopping() else "early_stopped"
            break
        epoch += 1

    if restore_best and best_state is not None:
        _load_into(model, best_state)
    final = best if restore_best and best else (history[-1] if history else None)
    docs_s, tok_s = meter.rates(meter.seconds)
    result = FitResult(
        status=status,
        epochs=len(history),
        steps=step,
        best_epoch=final.epoch if final else 0,
        val_loss=final.val_loss if final else float("nan"),
        val_accuracy=final.val_accuracy if final else 0.0,
        val_macro_f1=final.val_macro_f1 if final else 0.0,
        val_weighted_f1=final.val_weighted_f1 if final else 0.0,
        train_seconds=meter.seconds,
        docs_per_second=docs_s,
        tokens_per_second=tok_s,
        history=history,
    )
    for cb in callbacks:
        cb.on_fit_end(ctx, result)
    return result


def _part_loss(
    spec: ModelSpec, fn: nn.Module, logits: torch.Tensor, batch: Batch, world: int
) -> torch.Tensor:
    """This rank's share of the global batch's mean loss, times the world size.

    DDP averages the ranks' gradients, so weighting each part's mean by its share of the
    batch gives exactly the gradient of the whole batch's mean loss, even for uneven parts.
    """
    n = len(batch.part_targets)
    if n == 0:  # a last batch smaller than the world: this rank still joins the all-reduce
        return logits.sum() * 0.0
    return _loss(spec, fn, logits, batch.part_targets) * (n * world / batch.n_docs)


def _load_into(model: TextClassifier, state: dict[str, torch.Tensor]) -> None:
    """Load plain-named weights, also into a torch.compile'd head."""
    compiled = hasattr(model.head, "_orig_mod")
    if compiled:
        state = {
            (k.replace("head.", "head._orig_mod.", 1) if k.startswith("head.") else k): v
            for k, v in state.items()
        }
    model.load_state_dict(state)


def _emit_steps(
    ctx: FitContext,
    callbacks: list[Callback],
    losses: list[torch.Tensor],
    last_step: int,
    epoch: int,
    lr: float,
    meter: _Meter,
    total_steps: int,
) -> None:
    """Read back the pending losses (one host sync) and report each step."""
    values = torch.stack(losses).float().cpu().tolist()
    for v in values:
        if not math.isfinite(v):
            first = last_step - len(values) + values.index(v) + 1
            raise TrainingError(
                f"the training loss became {v} at step {first}; lower the learning rate"
            )
    if not callbacks:
        return
    elapsed = meter.now()
    docs_s, tok_s = meter.rates(elapsed)
    eta = elapsed / last_step * (total_steps - last_step) if last_step else 0.0
    for i, v in enumerate(values):
        s = last_step - len(values) + i + 1
        event = StepEnd(s, epoch, v, lr, elapsed, docs_s, tok_s, eta, s / max(total_steps, 1))
        for cb in callbacks:
            cb.on_step_end(ctx, event)
