"""A child run's epochs with their validation predictions, for the process worker.

A single-device run that the window trains in a child process (``studio train
--live-predictions``) appends each epoch's record to ``metrics.jsonl`` and writes the
validation predictions next to it (:mod:`studio.engine.runs.live`), in either order.
:class:`ChildEpochs` holds an epoch record back until its predictions can be read, so the
evaluation view gets each epoch as the thread worker gives it; the records leave in order.
The documents' texts are opened from the dataset cache the first time a view asks for one
(:class:`CachedTexts`), never for a run nobody looks at.

Nothing here imports torch; numpy and the engine's readers are imported when first needed.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from studio.config import StudioConfig
from studio.ui.workers.payloads import EpochDone, EpochPredictions

if TYPE_CHECKING:
    from studio.engine.data.dataset import PreparedDataset

__all__ = ["CachedTexts", "ChildEpochs"]

#: Polls (100 ms apart) an epoch record waits for its predictions before it goes out without.
MAX_WAIT_POLLS = 5


class CachedTexts:
    """``text(i)`` of the run's prepared dataset, opened from the cache on first use."""

    def __init__(self, config: StudioConfig) -> None:
        self.config = config
        self._prepared: PreparedDataset | None = None
        self._lock = threading.Lock()

    def text(self, i: int) -> str:
        with self._lock:
            if self._prepared is None:
                from studio.engine.data.prepare import prepare_dataset
                from studio.engine.runs.layout import default_cache_dir

                self._prepared = prepare_dataset(
                    self.config.data, self.config.tokenizer, cache_dir=default_cache_dir()
                )
        return self._prepared.text(i)


class ChildEpochs:
    """Epoch records in, epochs with predictions out: :meth:`add` on each ``epoch`` record,
    :meth:`ready` on each poll, :meth:`drain` when the child has exited."""

    def __init__(self, run_dir: Path, config: StudioConfig) -> None:
        self.run_dir = run_dir
        self.texts = CachedTexts(config)
        self._pending: list[tuple[EpochDone, int]] = []  # (record, polls waited)

    def add(self, record: EpochDone) -> list[EpochDone]:
        """Take an epoch's record; returns the epochs ready to go out now, in order."""
        self._pending.append((record, 0))
        return self.ready()

    def ready(self) -> list[EpochDone]:
        """The held epochs whose predictions are now there (or were waited for too long)."""
        out: list[EpochDone] = []
        while self._pending:
            record, polls = self._pending[0]
            done = self._with_predictions(record)
            if done is None and polls < MAX_WAIT_POLLS:
                self._pending[0] = (record, polls + 1)
                break
            self._pending.pop(0)
            out.append(done or record)
        return out

    def drain(self) -> list[EpochDone]:
        """Every held epoch, with whatever predictions were written (the child is gone)."""
        out = [self._with_predictions(record) or record for record, _ in self._pending]
        self._pending.clear()
        return out

    def _with_predictions(self, record: EpochDone) -> EpochDone | None:
        from studio.engine.runs.live import read_epoch

        live = read_epoch(self.run_dir, record.epoch)
        if live is None:
            return None
        predictions = EpochPredictions(
            probs=live.probs,
            y_true=live.y_true,
            doc_ids=live.doc_ids,
            label_names=live.label_names,
            multi_label=live.multi_label,
            prepared=self.texts,
        )
        return dataclasses.replace(record, predictions=predictions)
