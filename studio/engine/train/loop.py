"""The training loop: ``fit(config, callbacks, control)``. No Qt; runs headless anywhere.

The training split goes to the device once, as flat arrays; each epoch is one seeded
gather, each batch a slice. Callbacks (progress bar, live plot, run store, early stopping)
observe the loop; ``control`` pauses or stops it between steps. ``fit`` builds the pieces
(:mod:`~studio.engine.train.build`) and runs a :class:`FitLoop`, which holds the state and
runs in small parts: a step, an epoch, validation, checkpoints, halving the batch after
running out of memory, the ranks' agreement on stopping, then ``model.kind``'s choice.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from studio.config import StudioConfig
from studio.engine.data.prepare import PreparedDataset, prepare_dataset
from studio.engine.train.batching import Batch, DeviceData
from studio.engine.train.build import (
    build_encoder,
    build_model,
    build_spec,
    build_splits,
    load_into,
    seed_everything,
    uses_fused_table,
)
from studio.engine.train.context import FitContext
from studio.engine.train.control import TrainControl
from studio.engine.train.devices import resolve_device
from studio.engine.train.distributed import (
    ProcessGroup,
    ReplicatedModel,
    is_peer_failure,
    peer_failure,
)
from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart
from studio.engine.train.hogwild import Hogwild
from studio.engine.train.linear_choice import choose_model
from studio.engine.train.losses import batch_loss, part_loss, training_loss
from studio.engine.train.mapped import MappedData
from studio.engine.train.model import TextClassifier
from studio.engine.train.oom import OOM_MIN_BATCH, is_oom
from studio.engine.train.optim import LrSchedule, build_optimizers, clip_gradients
from studio.engine.train.progress import Meter, fit_result, report_steps
from studio.engine.train.recipe import resolve_recipe
from studio.engine.train.resume import (
    TrainState,
    TrainStateSink,
    clone_optimizer_state,
    load_train_state,
    optimizer_state_cpu,
)
from studio.engine.train.step import forward as _forward
from studio.engine.train.table_optim import RowwiseAdagrad
from studio.engine.train.validation import evaluate_split
from studio.engine.train.weighting import fill_row_weights
from studio.errors import DatasetError, StudioError


class TrainingError(StudioError):
    """Training cannot go on (for example the loss became NaN)."""


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

    ``resume_from``: a run folder with a complete resume checkpoint (:mod:`.resume`); training
    goes on after its epoch, so a seeded run ends as an uninterrupted one would. ``config``
    must be the run's. ``group`` makes this one rank of a distributed run (:mod:`.distributed`);
    every rank calls ``fit`` with the same arguments.
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
    config = resolve_recipe(config, p)  # "auto" settings made concrete for this data
    encoder = build_encoder(p, config)
    spec = build_spec(config, encoder, p)
    model, found = build_model(config, spec, encoder, device, group)
    splits = build_splits(p, encoder, device, group)
    fill_row_weights(model, splits.train)
    ctx = FitContext(config, model, spec, encoder, p.label_names, p.multi_label, device)
    ctx.run_dir, ctx.prepared, ctx.valid_docs = run_dir, p, splits.valid_docs
    resume = load_train_state(resume_from) if resume_from is not None else None
    try:
        loop = FitLoop(
            ctx, splits.train, splits.valid, splits.valid_targets, callbacks, control, group
        )
        return loop.run(found, resume)
    except BaseException as exc:
        if group is not None and is_peer_failure(exc):
            exc = peer_failure(exc, group.topo)
        for cb in callbacks:
            with contextlib.suppress(Exception):
                cb.on_exception(ctx, exc)
        if isinstance(exc, StudioError):
            raise exc from None
        raise


class FitLoop:
    """The state of one fit and its parts: step, epoch, validation, checkpoints, stopping.
    ``run`` goes over the epochs, ``train_epoch`` over one epoch's batches (``train_steps``:
    several at once on the Hogwild threads). Step losses stay on the device and are read
    back every ``log_every`` steps (``flush``), so a step never waits for the host."""

    def __init__(
        self,
        ctx: FitContext,
        train: DeviceData | MappedData,
        valid: DeviceData | MappedData,
        valid_targets: torch.Tensor,
        callbacks: Sequence[Callback],
        control: TrainControl,
        group: ProcessGroup | None = None,
    ) -> None:
        self.ctx, self.train, self.valid, self.valid_targets = ctx, train, valid, valid_targets
        self.callbacks = list(callbacks)
        self.sinks = [cb for cb in self.callbacks if isinstance(cb, TrainStateSink)]
        self.control, self.group = control, group
        self.cfg = cfg = ctx.config.train
        self.model, self.spec, self.device = ctx.model, ctx.spec, ctx.device
        self.optimizers = build_optimizers(self.model, ctx.config)
        self.schedule = LrSchedule(cfg.schedule, self.optimizers, cfg.table_lr)
        self.table: RowwiseAdagrad | None = None
        if uses_fused_table(ctx.config):
            table, pooling = self.model.embedding.weight, ctx.config.model.pooling
            self.table = RowwiseAdagrad(table, cfg.table_lr, pooling, 1e-8, self.model.row_weight)
        # what a step calls: the model itself, or its DDP-wrapped replica in a distributed run
        self.net: TextClassifier | ReplicatedModel = self.model
        if group is not None:
            self.net = ReplicatedModel(self.model, group, head_only=self.table is not None)
        self.rank, self.world = (0, 1) if group is None else (group.rank, group.world_size)
        self.params = [q for q in self.model.parameters() if q.requires_grad]
        self.loss_fn = training_loss(cfg.class_weights, self.spec, ctx.label_names, train.targets)
        self.amp = ctx.config.device.amp and self.device.type == "cuda"
        self.rng = np.random.default_rng(cfg.seed)
        self.restore_best = cfg.early_stopping_patience > 0
        self.log_every = cfg.log_every or (1 if self.device.type == "cpu" else 25)
        # distributed: ranks agree on a stop request every step (CPU) or every log_every steps
        self.agree_every = 1 if self.device.type == "cpu" else self.log_every
        self.agreed_stop = False

        self.batch_size = cfg.batch_size
        self.steps_per_epoch = math.ceil(train.n_docs / self.batch_size)
        # several threads train at once, on CPU (see .hogwild)
        self.hogwild = Hogwild.maybe(
            ctx.config, self.device, self.model, self.table, self.optimizers, self.loss_fn,
            distributed=group is not None, steps=self.steps_per_epoch,
        )  # fmt: skip
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.step = 0
        self.start_epoch = 1
        self.meter = Meter()
        self.history: list[EpochEnd] = []
        self.best: EpochEnd | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.status = "finished"
        self.pending: list[torch.Tensor] = []  # losses of the steps not yet reported
        self.rollback: TrainState | None = None  # the state the current epoch started from

    # -- the fit ---------------------------------------------------------------------------

    def run(
        self, pretrained_found: int | None = None, resume: TrainState | None = None
    ) -> FitResult:
        """Train every epoch (from the one after ``resume``'s), then report the result."""
        if resume is not None:
            self.resume_from(resume)
        info = self.fit_start(pretrained_found)
        for cb in self.callbacks:
            cb.on_fit_start(self.ctx, info)
        # the state at the start of the next epoch, to redo it after running out of memory
        self.rollback = resume if resume is not None else self.capture(0, keep=False)
        self.model.train()
        if self.patience_ran_out(self.history[-1].epoch if self.history else 0):
            self.status = "early_stopped"  # resumed after the patience ran out
        elif self.ctx.config.model.kind != "linear":  # "linear" has no epochs (choose_model)
            try:
                self.run_epochs()
            finally:
                if self.hogwild is not None:
                    self.hogwild.close()
        if self.restore_best and self.best_state is not None:
            load_into(self.model, self.best_state)
        best = self.best if self.restore_best else None
        result = fit_result(self.status, self.history, best, self.step, self.meter)
        one = self.device.type == "cpu" and self.hogwild is None  # one thread trained
        ctx, callbacks = self.ctx, self.callbacks
        result = choose_model(ctx, self.train, self.valid, result, callbacks, self.group, one)
        for cb in self.callbacks:
            cb.on_fit_end(self.ctx, result)
        return result

    def run_epochs(self) -> None:
        """Train, validate and checkpoint each epoch until the last, or until stopped."""
        epoch = self.start_epoch
        while epoch <= self.cfg.epochs:
            trained = self.try_epoch(epoch)
            if trained is None:
                self.halve_batch(epoch)  # and redo this epoch
                continue
            if not self.end_epoch(epoch, *trained):
                return
            epoch += 1

    def fit_start(self, pretrained_found: int | None) -> FitStart:
        """What the callbacks are told before the first step."""
        return FitStart(
            n_train=self.train.n_docs,
            n_valid=len(self.valid_targets),
            steps_per_epoch=self.steps_per_epoch,
            total_steps=self.total_steps,
            epochs=self.cfg.epochs,
            device=str(self.device),
            label_names=self.ctx.label_names,
            vocab_size=self.ctx.encoder.vocab_size,
            table_rows=self.ctx.encoder.table_rows,
            parameters=sum(q.numel() for q in self.model.parameters()),
            pretrained_found=pretrained_found,
        )

    # -- one epoch -------------------------------------------------------------------------

    def try_epoch(self, epoch: int) -> tuple[torch.Tensor, int] | None:
        """Train one epoch; None when it ran out of memory (a single process only)."""
        self.meter.start()
        try:
            return self.train_epoch(epoch)
        except RuntimeError as exc:
            if not is_oom(exc):
                raise
            if self.group is not None:  # ranks cannot agree on a new batch size mid-step
                raise TrainingError(
                    f"rank {self.rank}: out of memory at batch size {self.batch_size}; "
                    "lower train.batch_size (it is split across the processes)"
                ) from None
        return None  # handled by the caller, once the traceback's tensors are freed

    def train_epoch(self, epoch: int) -> tuple[torch.Tensor, int]:
        """One pass over the shuffled training split; returns the summed loss and steps."""
        control, meter, pending, ctx = self.control, self.meter, self.pending, self.ctx
        epoch_loss = torch.zeros((), device=self.device)
        epoch_steps = 0
        # the epoch's shuffle runs here (DeviceData), before Hogwild keeps one intra-op thread
        batches = iter(self.train.batches(self.batch_size, self.rng, self.rank, self.world))
        hogwild = self.hogwild
        at_once = 1 if hogwild is None else hogwild.at_once  # steps run together
        with contextlib.nullcontext() if hogwild is None else hogwild.running():
            while group := list(itertools.islice(batches, at_once)):
                meter.seconds -= control.checkpoint()  # the time spent paused
                self.agree()
                if self.stopping() or ctx.should_stop:
                    break
                for reported in self.train_steps(group):
                    epoch_steps += 1
                    epoch_loss += reported
                    pending.append(reported)
                if len(pending) >= self.log_every:
                    self.flush(epoch)
        if pending:
            self.flush(epoch)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return epoch_loss, epoch_steps

    def train_steps(self, group: list[Batch]) -> list[torch.Tensor]:
        """One step per batch of ``group``: together on the Hogwild threads, or one by one."""
        if self.hogwild is None or len(group) == 1:
            return [self.train_step(batch) for batch in group]
        self.schedule.apply(self.step, self.total_steps, self.table)
        losses = self.hogwild.steps(group)
        self.step += len(group)
        self.meter.docs += sum(b.n_docs for b in group)
        self.meter.tokens += sum(b.n_tokens for b in group)
        return losses

    def train_step(self, batch: Batch) -> torch.Tensor:
        """One optimisation step; returns the batch's (global, in a distributed run) loss."""
        table, group = self.table, self.group
        self.schedule.apply(self.step, self.total_steps, table)
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        logits, pooled = _forward(self.net, table, batch, self.amp, self.device)
        if group is None:
            loss = batch_loss(self.spec, self.loss_fn, logits.float(), batch.targets)
            reported = loss.detach()
        else:
            loss = part_loss(self.spec, self.loss_fn, logits.float(), batch, self.world)
            reported = group.sum_(loss.detach() / self.world)  # the global batch's mean loss
        loss.backward()
        if self.cfg.grad_clip > 0:
            clip_gradients(self.params, self.cfg.grad_clip)
        for opt in self.optimizers:
            opt.step()
        if table is not None and pooled is not None and pooled.grad is not None:
            grad = pooled.grad
            if group is not None:  # every rank applies the whole global batch's update
                grad = group.gather_rows(grad, batch.part_counts) / self.world
            table.apply(batch.ids, batch.offsets, grad, batch.may_pad)
        self.step += 1
        self.meter.docs += batch.n_docs
        self.meter.tokens += batch.n_tokens
        return reported

    def flush(self, epoch: int) -> None:
        """Read back the pending losses (one host sync), check them and report each step."""
        values = torch.stack(self.pending).float().cpu().tolist()
        self.pending.clear()
        for i, v in enumerate(values):
            if not math.isfinite(v):
                raise TrainingError(
                    f"the training loss became {v} at step {self.step - len(values) + i + 1}; "
                    "lower the learning rate"
                )
        if self.callbacks:
            report_steps(
                self.ctx, self.callbacks, values, self.step, epoch, self.lr_of_step, self.meter,
                self.total_steps,
            )  # fmt: skip

    def lr_of_step(self, step: int) -> float:
        """The learning rate that (1-based) ``step`` ran with."""
        return self.schedule.reported_lr(step - 1, self.total_steps)

    # -- the end of an epoch ---------------------------------------------------------------

    def end_epoch(self, epoch: int, epoch_loss: torch.Tensor, epoch_steps: int) -> bool:
        """Validate a trained epoch, checkpoint it and tell the callbacks; False: stop."""
        self.meter.stop()
        if epoch_steps < self.steps_per_epoch:  # stopped mid-epoch: a partial epoch is not scored
            self.status = "stopped" if self.stopping() else "early_stopped"
            return False
        event = self.validate(epoch, float(epoch_loss) / max(epoch_steps, 1))
        self.history.append(event)
        self.rollback = self.capture(epoch, keep=self.restore_best and event.is_best)
        if event.is_best:
            self.best = event
            if self.restore_best:
                self.best_state = self.rollback.weights
        for sink in self.sinks:
            sink.on_train_state(self.ctx, self.rollback)
        for cb in self.callbacks:
            cb.on_epoch_end(self.ctx, event)
        if self.patience_ran_out(epoch):
            self.ctx.should_stop = True
            self.ctx.stop_reason = (
                f"no improvement in validation loss for {self.cfg.early_stopping_patience} epochs"
            )
        self.agree(force=True)
        if self.stopping() or self.ctx.should_stop:
            self.status = "stopped" if self.stopping() else "early_stopped"
            return False
        return True

    def validate(self, epoch: int, train_loss: float) -> EpochEnd:
        """Score the model on the validation split after ``epoch``."""
        ctx, best = self.ctx, self.best
        val_loss, metrics, ctx.val_probs = evaluate_split(
            self.model, self.valid, ctx.multi_label, self.group, self.valid_targets
        )
        is_best = best is None or val_loss < best.val_loss
        docs_s, tok_s = self.meter.rates(self.meter.seconds)
        if not math.isfinite(train_loss):
            raise TrainingError(
                f"the training loss became {train_loss} in epoch {epoch}; lower the learning rate"
            )
        return EpochEnd(
            epoch=epoch,
            step=self.step,
            train_loss=train_loss,
            val_loss=val_loss,
            val_accuracy=metrics["accuracy"],
            val_macro_f1=metrics["macro_f1"],
            val_weighted_f1=metrics["weighted_f1"],
            elapsed=self.meter.seconds,
            docs_per_second=docs_s,
            tokens_per_second=tok_s,
            is_best=is_best,
            best_epoch=epoch if is_best else (best.epoch if best else epoch),
        )

    def patience_ran_out(self, epoch: int) -> bool:
        """Early stopping: no better epoch than the best for ``patience`` epochs up to ``epoch``."""
        return (
            self.restore_best
            and self.best is not None
            and epoch - self.best.epoch >= self.cfg.early_stopping_patience
        )

    # -- stopping, in one process or many -------------------------------------------------

    def stopping(self) -> bool:
        """A stop request, as every rank sees it (single process: as the control says)."""
        return self.control.stop_requested if self.group is None else self.agreed_stop

    def agree(self, force: bool = False) -> None:
        """Distributed: every ``agree_every`` steps, stop when any rank was asked to."""
        if self.group is not None and (force or self.step % self.agree_every == 0):
            self.agreed_stop = self.group.any(self.control.stop_requested)

    # -- out of memory ---------------------------------------------------------------------

    def halve_batch(self, epoch: int) -> None:
        """After running out of memory: roll back to the epoch's start with half the batch."""
        self.meter.stop()
        self.pending.clear()
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        smaller = self.batch_size // 2
        if smaller < OOM_MIN_BATCH:
            raise TrainingError(
                f"out of memory even at batch size {self.batch_size}; "
                "use a smaller model, vocabulary or batch size"
            ) from None
        assert self.rollback is not None
        self.restore(self.rollback)  # redo this epoch from its start...
        self.batch_size = smaller  # ...with half the batch (and the schedule stretched)
        self.steps_per_epoch = math.ceil(self.train.n_docs / self.batch_size)
        self.total_steps = self.step + self.steps_per_epoch * (self.cfg.epochs - epoch + 1)
        message = f"out of memory: batch size halved to {smaller}; redoing epoch {epoch}"
        for cb in self.callbacks:
            cb.on_notice(self.ctx, message)

    # -- checkpoints -----------------------------------------------------------------------

    def capture(self, epoch: int, keep: bool = True) -> TrainState:
        """The loop's state now, on the CPU: a checkpoint, a rollback point. On CPU without
        ``keep`` the live weights (sinks write them at once; CPU never rolls back, see oom)."""
        meter, table, device = self.meter, self.table, self.device
        return TrainState(
            epoch=epoch,
            step=self.step,
            batch_size=self.batch_size,
            total_steps=self.total_steps,
            weights=self.ctx.cpu_state(copy=keep or device.type != "cpu"),
            optimizers=[optimizer_state_cpu(o) for o in self.optimizers],
            table_state=None if table is None else table.state.detach().to("cpu", copy=True),
            np_rng=dict(self.rng.bit_generator.state),
            torch_rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            history=list(self.history),
            meter={"seconds": meter.seconds, "docs": meter.docs, "tokens": meter.tokens},
            restore_best=self.restore_best,
        )

    def restore(self, state: TrainState) -> None:
        """Put the loop back into a captured state (weights, optimisers, RNGs, counters)."""
        load_into(self.model, state.weights)
        for opt, sd in zip(self.optimizers, state.optimizers, strict=True):
            opt.load_state_dict(clone_optimizer_state(sd))
        if self.table is not None and state.table_state is not None:
            self.table.state.copy_(state.table_state.to(self.table.state.device))
        self.rng.bit_generator.state = state.np_rng
        torch.set_rng_state(state.torch_rng)
        if state.cuda_rng is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state.cuda_rng, self.device)
        self.step = state.step
        self.batch_size = state.batch_size
        self.total_steps = state.total_steps
        self.steps_per_epoch = math.ceil(self.train.n_docs / self.batch_size)
        self.meter.seconds = state.meter.get("seconds", 0.0)
        self.meter.docs = int(state.meter.get("docs", 0))
        self.meter.tokens = int(state.meter.get("tokens", 0))

    def resume_from(self, state: TrainState) -> None:
        """Continue a run from its checkpoint: the state, the history and the best epoch."""
        self.restore(state)
        self.history = list(state.history)
        self.best = next((e for e in reversed(self.history) if e.is_best), self.best)
        self.best_state = state.best_weights if self.restore_best else None
        self.start_epoch = state.epoch + 1
