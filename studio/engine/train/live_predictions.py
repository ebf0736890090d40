"""The writer of a run's live validation predictions (``studio train --live-predictions``).

The window trains a single-device run in a child process and shows each epoch's validation
report while it trains; this callback is how the child hands over what the thread worker
reads off the :class:`~studio.engine.train.context.FitContext`. The files and the reader
are :mod:`studio.engine.runs.live`.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from studio.engine.atomic import write_atomic, write_text_atomic
from studio.engine.runs.live import (
    DOCS_FILE,
    KEEP_EPOCHS,
    LABELS_FILE,
    LIVE_DIR,
    TARGETS_FILE,
    probs_file,
)
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, EpochEnd


def _save_npy(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would add ".npy" to a name
            np.save(f, array, allow_pickle=False)

    write_atomic(path, write, durable=False)  # scratch for a reader now, not for a power cut


class LivePredictions(Callback):
    """After each validated epoch: write ``<run>/live/valid-probs-<epoch>.npy`` (and, the
    first time, the split's document ids, targets and label names)."""

    def __init__(self) -> None:
        self._started = False

    def on_epoch_end(self, ctx: FitContext, event: EpochEnd) -> None:
        if ctx.run_dir is None or ctx.val_probs is None or ctx.valid_docs is None:
            return
        if ctx.prepared is None:
            return
        live = Path(ctx.run_dir) / LIVE_DIR
        if not self._started:
            live.mkdir(exist_ok=True)
            docs = np.asarray(ctx.valid_docs, dtype=np.int64)
            _save_npy(live / DOCS_FILE, docs)
            _save_npy(live / TARGETS_FILE, np.asarray(ctx.prepared.targets[docs]))
            labels = {"label_names": list(ctx.label_names), "multi_label": ctx.multi_label}
            write_text_atomic(live / LABELS_FILE, json.dumps(labels))
            self._started = True
        _save_npy(probs_file(live, event.epoch), np.asarray(ctx.val_probs, dtype=np.float32))
        old = event.epoch - KEEP_EPOCHS
        if old >= 0:
            with contextlib.suppress(OSError):
                probs_file(live, old).unlink(missing_ok=True)
