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
        run, probs, docs, prepared = ctx.run_dir, ctx.val_probs, ctx.valid_docs, ctx.prepared
        if run is None or probs is None or docs is None or prepared is None:
            return  # no run folder, or an epoch that did not validate
        live = Path(run) / LIVE_DIR
        if not self._started:
            live.mkdir(exist_ok=True)
            ids = np.asarray(docs, dtype=np.int64)
            _save_npy(live / DOCS_FILE, ids)
            _save_npy(live / TARGETS_FILE, np.asarray(prepared.targets[ids]))
            labels = {"label_names": list(ctx.label_names), "multi_label": ctx.multi_label}
            write_text_atomic(live / LABELS_FILE, json.dumps(labels))
            self._started = True
        _save_npy(probs_file(live, event.epoch), np.asarray(probs, dtype=np.float32))
        old = event.epoch - KEEP_EPOCHS
        if old >= 0:
            with contextlib.suppress(OSError):
                probs_file(live, old).unlink(missing_ok=True)
