"""The callback that writes a run folder as training goes (see :mod:`runstore`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from studio.config import dumps_config
from studio.engine.atomic import sync_file, write_atomic, write_text_atomic
from studio.engine.runs.checkpoint import save_weights
from studio.engine.runs.layout import (
    METRICS_FILE,
    RUN_FILE,
    read_json,
    read_metrics,
    run_settings,
    write_json,
)
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd, FitResult, FitStart, StepEnd
from studio.engine.train.model import ModelSpec
from studio.engine.train.resume import TrainState, checkpoint_history, save_train_state
from studio.engine.train.snapshots import save_snapshot
from studio.engine.train.threshold import validation_threshold
from studio.errors import RunError


def _publish(src: Path, dst: Path) -> None:
    """Atomically make ``dst`` the same file as ``src``: a hard link, else a copy."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        write_atomic(dst, lambda t: shutil.copyfile(src, t))
        return
    os.replace(tmp, dst)


class RunRecorder(Callback):
    """Writes config, vocabulary, labels, metrics, checkpoints and the final model.

    ``metrics.jsonl`` is append-only and flushed at most every ``flush_seconds`` and at
    every epoch end; checkpoints and JSON files are replaced atomically. At each epoch end
    it also writes a resume checkpoint (see :mod:`studio.engine.train.resume`). Checkpoints
    are not flushed to the disk as they are written (``fsync`` was 0.3 s of each epoch's
    0.7 s of checkpointing at 720k table rows): they survive a killed process, and the
    final model, which is one of them, is flushed once at the end.

    With ``resume_epoch`` it continues an existing run folder: ``run.json`` is updated,
    not replaced, and ``metrics.jsonl`` gets a ``{"type": "resume", "epoch": N}`` record
    instead of a ``start`` one. Step records of the epoch the previous process was in
    when it died stay in the file before that record; the epoch records that follow it
    continue from epoch N + 1 (the partial epoch is redone from its start).
    """

    def __init__(
        self,
        run_dir: Path,
        dataset: str,
        flush_seconds: float = 0.5,
        *,
        resume_epoch: int | None = None,
        extra_meta: dict[str, Any] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.extra_meta = dict(extra_meta or {})
        self.dataset = dataset
        self.flush_seconds = flush_seconds
        self.resume_epoch = resume_epoch
        self._state: TrainState | None = None
        # (step, epoch) of the weights in checkpoints/last and best, written by this process
        self._last: tuple[int, int] | None = None
        self._best: tuple[int, int] | None = None
        self._fh: IO[str] | None = None
        self._last_flush = 0.0
        self._meta: dict[str, Any] = {}
        self._t0 = 0.0
        self._checkpoint_spec: ModelSpec | None = None  # what checkpoints/model.json says

    # -- helpers -----------------------------------------------------------------------
    def _append(self, record: dict[str, Any], force_flush: bool = False) -> None:
        if self._fh is None:
            return
        self._fh.write(json.dumps(record) + "\n")
        now = time.monotonic()
        if force_flush or now - self._last_flush >= self.flush_seconds:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._last_flush = now

    def _write_meta(self, **changes: Any) -> None:
        self._meta.update(changes)
        write_json(self.run_dir / RUN_FILE, self._meta)

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            self._fh.close()
            self._fh = None

    # -- hooks -------------------------------------------------------------------------
    def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
        self._t0 = time.monotonic()
        (self.run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.run_dir / "config.toml", dumps_config(ctx.config))
        write_text_atomic(self.run_dir / "vocab.json", ctx.encoder.dumps())
        write_json(
            self.run_dir / "labels.json",
            {"labels": list(ctx.label_names), "multi_label": ctx.multi_label},
        )
        if ctx.encoder.bpe_json:
            write_text_atomic(self.run_dir / "tokenizer.json", ctx.encoder.bpe_json)
        write_json(self.run_dir / "model.json", ctx.spec.to_json())
        # the checkpoints' own spec: model.kind may end the run with another model
        write_json(self.run_dir / "checkpoints" / "model.json", ctx.spec.to_json())
        self._checkpoint_spec = ctx.spec
        if self.resume_epoch is not None:
            self._start_resumed(info)
            return
        self._meta = {
            "format": 1,
            "status": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().isoformat(timespec="seconds"),
            "dataset": self.dataset,
            "device": info.device,
            "settings": run_settings(ctx.config),
            "n_train": info.n_train,
            "n_valid": info.n_valid,
            "parameters": info.parameters,
            "pretrained_found": info.pretrained_found,
            **self.extra_meta,
        }
        self._write_meta()
        self._fh = open(self.run_dir / METRICS_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._append(
            {"type": "start", "total_steps": info.total_steps, "epochs": info.epochs}, True
        )

    def _start_resumed(self, info: FitStart) -> None:
        try:
            self._meta = dict(read_json(self.run_dir / RUN_FILE))
        except RunError:
            self._meta = {"format": 1, "dataset": self.dataset, "device": info.device}
        for stale in ("finished", "summary", "error"):
            self._meta.pop(stale, None)
        resumed = list(self._meta.get("resumed") or [])
        resumed.append(datetime.now().isoformat(timespec="seconds"))
        self._write_meta(
            status="running", pid=os.getpid(), host=socket.gethostname(), resumed=resumed
        )
        path = self.run_dir / METRICS_FILE
        # epochs checkpointed but not yet logged when the process died
        logged = {r.get("epoch") for r in read_metrics(self.run_dir) if r.get("type") == "epoch"}
        missing = [e for e in checkpoint_history(self.run_dir) if e.epoch not in logged]
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        if torn:  # end the half-written line of the killed process: readers skip it
            self._fh.write("\n")
        for e in missing:
            self._append({"type": "epoch", "time": round(e.elapsed, 4), **e.__dict__})
        self._append(
            {
                "type": "resume",
                "epoch": self.resume_epoch,
                "total_steps": info.total_steps,
                "epochs": info.epochs,
            },
            True,
        )

    def on_train_state(self, ctx: FitContext, state: TrainState) -> None:
        self._state = state

    def on_notice(self, ctx: FitContext, message: str) -> None:
        self._append({"type": "notice", "message": message}, force_flush=True)

    def on_step_end(self, ctx: FitContext, event: StepEnd) -> None:
        self._append(
            {
                "type": "step",
                "step": event.step,
                "epoch": event.epoch,
                "loss": event.loss,
                "lr": event.lr,
                "time": round(time.monotonic() - self._t0, 4),
            }
        )

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        record = {"type": "epoch", "time": round(time.monotonic() - self._t0, 4)}
        record.update({k: v for k, v in event.__dict__.items()})
        meta = {"epoch": str(event.epoch), "step": str(event.step), "metrics": json.dumps(record)}
        checkpoints = self.run_dir / "checkpoints"
        train_state, self._state = self._state, None
        if train_state is not None and train_state.epoch == event.epoch:
            # the weights file of the resume checkpoint doubles as last (and best)
            weights = save_train_state(checkpoints, train_state, meta, durable=False)
            _publish(weights, checkpoints / "last.safetensors")
            if event.is_best:
                _publish(weights, checkpoints / "best.safetensors")
        else:
            state = ctx.cpu_state()
            save_weights(checkpoints / "last.safetensors", state, meta, durable=False)
            if event.is_best:
                save_weights(checkpoints / "best.safetensors", state, meta, durable=False)
        if ctx.spec != self._checkpoint_spec:  # the network the checkpoints hold
            write_json(checkpoints / "model.json", ctx.spec.to_json())
            self._checkpoint_spec = ctx.spec
        save_snapshot(ctx, self.run_dir, event.epoch)
        self._last = (event.step, event.epoch)
        if event.is_best:
            self._best = self._last
        self._append(record, force_flush=True)

    def _final_checkpoint(self, ctx: FitContext, result: FitResult) -> Path | None:
        """The checkpoint that holds the final weights already, if one does: best when the
        fit restored it, else last when no step ran after it."""
        checkpoints = self.run_dir / "checkpoints"
        if ctx.config.train.early_stopping_patience > 0:  # the fit restored the best epoch
            if self._best is not None and self._best[1] == result.best_epoch:
                return checkpoints / "best.safetensors"
            return None
        if self._last is not None and self._last[0] == result.steps:
            return checkpoints / "last.safetensors"
        return None

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        threshold = validation_threshold(ctx)
        if threshold is not None:  # multi-label: the decision threshold chosen on validation
            write_json(
                self.run_dir / "labels.json",
                {"labels": list(ctx.label_names), "multi_label": True, "threshold": threshold},
            )
        # the final model is a checkpoint's file when one holds its weights (a hard link:
        # a 2M-bucket table is 512 MB a file, written once), else written now
        final = self._final_checkpoint(ctx, result)
        if result.model_kind == "linear":  # model.kind chose the linear model at the end
            write_json(self.run_dir / "model.json", ctx.spec.to_json())
            final = None
        if final is not None and final.is_file():
            sync_file(final)  # the checkpoints are not flushed as they are written
            _publish(final, self.run_dir / "model.safetensors")
        else:
            save_weights(
                self.run_dir / "model.safetensors",
                ctx.cpu_state(),
                {"best_epoch": str(result.best_epoch)},
            )
        summary = result.summary()
        summary["run_dir"] = str(self.run_dir)
        self._append({"type": "end", **summary}, force_flush=True)
        self._close()
        self._write_meta(
            status=result.status,
            finished=datetime.now().isoformat(timespec="seconds"),
            summary=summary,
        )

    def on_exception(self, ctx: FitContext, error: BaseException) -> None:
        self._append({"type": "error", "message": str(error)}, force_flush=True)
        self._close()
        status = "stopped" if isinstance(error, KeyboardInterrupt) else "failed"
        self._write_meta(status=status, error=str(error) or type(error).__name__)
