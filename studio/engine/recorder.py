"""The callback that writes a run folder as training goes (see :mod:`runstore`)."""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from studio.config import dumps_config
from studio.engine.atomic import write_text_atomic
from studio.engine.callbacks import Callback, EpochEnd, FitResult, FitStart, StepEnd
from studio.engine.checkpoint import save_weights
from studio.engine.fitcontext import FitContext
from studio.engine.runstore import METRICS_FILE, RUN_FILE, write_json


class RunRecorder(Callback):
    """Writes config, vocabulary, labels, metrics, checkpoints and the final model.

    ``metrics.jsonl`` is append-only and flushed at most every ``flush_seconds`` and at
    every epoch end; checkpoints and JSON files are replaced atomically.
    """

    def __init__(self, run_dir: Path, dataset: str, flush_seconds: float = 0.5) -> None:
        self.run_dir = Path(run_dir)
        self.dataset = dataset
        self.flush_seconds = flush_seconds
        self._fh: IO[str] | None = None
        self._last_flush = 0.0
        self._meta: dict[str, Any] = {}
        self._t0 = 0.0

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
        c = ctx.config
        self._meta = {
            "format": 1,
            "status": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now().isoformat(timespec="seconds"),
            "dataset": self.dataset,
            "device": info.device,
            "settings": {
                "vocab_size": c.tokenizer.vocab_size,
                "embed_dim": c.model.embed_dim,
                "batch_size": c.train.batch_size,
                "epochs": c.train.epochs,
                "lr": c.train.lr,
                "optimizer": c.train.optimizer,
                "preset": c.model.preset,
                "ngram_buckets": c.tokenizer.ngram_buckets,
                "tokenizer": c.tokenizer.kind,
            },
            "n_train": info.n_train,
            "n_valid": info.n_valid,
            "parameters": info.parameters,
            "pretrained_found": info.pretrained_found,
        }
        self._write_meta()
        self._fh = open(self.run_dir / METRICS_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._append(
            {"type": "start", "total_steps": info.total_steps, "epochs": info.epochs}, True
        )

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
        state = ctx.cpu_state()
        save_weights(self.run_dir / "checkpoints" / "last.safetensors", state, meta)
        if event.is_best:
            save_weights(self.run_dir / "checkpoints" / "best.safetensors", state, meta)
        self._append(record, force_flush=True)

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
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
