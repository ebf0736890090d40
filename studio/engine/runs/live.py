"""A run's live validation predictions: the files another process reads after each epoch.

A run started with ``studio train --live-predictions`` (the window's child runs) writes,
under ``<run>/live/``, the validation split's document ids, targets and label names once,
then each epoch's class probabilities as ``valid-probs-<epoch>.npy``: every file is written
whole and renamed into place, and only the latest two epochs are kept. :func:`read_epoch`
is the reader's side (numpy only, never unpickling). The folder is scratch: whoever asked
for it removes it when the run is over (:func:`remove_live`).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

__all__ = [
    "LIVE_DIR",
    "LiveEpoch",
    "probs_file",
    "read_epoch",
    "remove_live",
]

LIVE_DIR: Final = "live"
DOCS_FILE: Final = "valid-docs.npy"
TARGETS_FILE: Final = "valid-targets.npy"
LABELS_FILE: Final = "labels.json"
#: Epoch files kept: the newest and the one before, which a reader may still be opening.
KEEP_EPOCHS: Final = 2


def probs_file(live_dir: Path, epoch: int) -> Path:
    """``valid-probs-0003.npy`` for epoch 3."""
    return live_dir / f"valid-probs-{epoch:04d}.npy"


@dataclass(frozen=True)
class LiveEpoch:
    """One epoch's validation predictions as a child run wrote them."""

    epoch: int
    probs: np.ndarray  # [n_valid, n_labels] float32
    y_true: np.ndarray  # class ids [n_valid], or 0/1 rows [n_valid, n_labels]
    doc_ids: np.ndarray  # the documents' indices in the prepared dataset
    label_names: tuple[str, ...]
    multi_label: bool


def read_epoch(run_dir: Path, epoch: int) -> LiveEpoch | None:
    """Epoch ``epoch``'s predictions, or None while (or if) its files are not all there."""
    live = Path(run_dir) / LIVE_DIR
    try:
        probs = np.load(probs_file(live, epoch), allow_pickle=False)
        docs = np.load(live / DOCS_FILE, allow_pickle=False)
        targets = np.load(live / TARGETS_FILE, allow_pickle=False)
        labels = json.loads((live / LABELS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not written yet, or already replaced by newer epochs
        return None
    names = tuple(str(n) for n in labels.get("label_names", ()))
    if len(probs) != len(docs) or len(targets) != len(docs):
        return None
    return LiveEpoch(epoch, probs, targets, docs, names, bool(labels.get("multi_label")))


def remove_live(run_dir: Path) -> None:
    """Remove the run's ``live/`` folder (the run is over; nothing reads it any more)."""
    shutil.rmtree(Path(run_dir) / LIVE_DIR, ignore_errors=True)
