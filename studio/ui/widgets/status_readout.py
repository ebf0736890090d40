"""The status bar's permanent read-outs while a model trains: speed, time and GPU memory."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from studio.ui.workers.payloads import StepsBatch

__all__ = ["TrainingReadout", "format_seconds"]


def format_seconds(s: float) -> str:
    s = max(round(s), 0)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class TrainingReadout:
    """Three labels at the right of ``bar``, filled from the worker's updates."""

    def __init__(self, bar: QStatusBar) -> None:
        self.speed_label = QLabel()
        self.time_label = QLabel()
        self.gpu_label = QLabel()
        for w in (self.gpu_label, self.speed_label, self.time_label):
            bar.addPermanentWidget(w)

    def show(self, u: StepsBatch) -> None:
        if u.docs_per_second is not None:
            self.speed_label.setText(f"{u.docs_per_second:,.0f} docs/s")
            self.time_label.setText(
                f"elapsed {format_seconds(u.elapsed or 0.0)} · ETA {format_seconds(u.eta or 0.0)}"
            )
        if u.gpu_memory is not None:
            self.gpu_label.setText(f"GPU memory {u.gpu_memory / 2**20:,.0f} MiB")
