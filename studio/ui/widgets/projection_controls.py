"""What a projection will be, chosen before it runs: how many tokens, PCA or UMAP and
UMAP's own settings; a progress bar and a Stop button while it runs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["ProjectionControls"]

METRICS = ("cosine", "euclidean", "correlation", "manhattan")


def _umap_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


class ProjectionControls(QWidget):
    """``values()`` is the request; ``sig_project`` / ``sig_stop`` are the buttons."""

    sig_project = Signal()
    sig_stop = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count = QSpinBox()
        self.count.setRange(10, 1_000_000)
        self.count.setValue(5000)
        self.count.setSingleStep(1000)
        self.count.setGroupSeparatorShown(True)
        self.count.setToolTip(
            "How many of the most frequent tokens to place on the map (10 to the vocabulary "
            "size; 100,000 stay responsive). Neighbours always search the whole vocabulary."
        )
        self.method = QComboBox()
        self.method.addItems(["PCA", "UMAP"])
        self.method.setCurrentText("UMAP" if _umap_installed() else "PCA")
        self.method.setToolTip(
            "PCA: exact and instant, shows the two widest directions. UMAP: keeps each "
            "token's neighbours together, so clusters show (100k tokens: about a minute)."
        )
        self.neighbours = QSpinBox()
        self.neighbours.setRange(2, 200)
        self.neighbours.setValue(15)
        self.neighbours.setToolTip(
            "UMAP neighbours (2 to 200): small values show local detail, large ones the "
            "global shape"
        )
        self.min_dist = QDoubleSpinBox()
        self.min_dist.setRange(0.0, 0.99)
        self.min_dist.setSingleStep(0.05)
        self.min_dist.setValue(0.1)
        self.min_dist.setToolTip(
            "UMAP minimum distance (0 to 0.99): how tightly points may pack; low values "
            "give dense clusters"
        )
        self.distance = QComboBox()
        self.distance.addItems(list(METRICS))
        self.distance.setToolTip("How UMAP measures closeness between vectors (cosine is usual)")
        self.project_button = QPushButton("Project")
        self.project_button.setToolTip("Compute the map with these settings (Ctrl+Shift+P)")
        self.project_button.setShortcut("Ctrl+Shift+P")
        self.project_button.clicked.connect(self.sig_project)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the projection that is running")
        self.stop_button.clicked.connect(self.sig_stop)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setTextVisible(True)
        self.phase = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._umap_widgets: list[QWidget] = []
        for text, widget in (
            ("Tokens", self.count),
            ("", self.method),
            ("Neighbours", self.neighbours),
            ("Min. distance", self.min_dist),
            ("Metric", self.distance),
        ):
            if text:
                label = QLabel(text)
                label.setBuddy(widget)
                layout.addWidget(label)
                if widget is not self.count:
                    self._umap_widgets.append(label)
                else:
                    self.count_label = label
            layout.addWidget(widget)
        self._umap_widgets += [self.neighbours, self.min_dist, self.distance]
        layout.addWidget(self.project_button)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.phase)
        layout.addStretch(1)
        self.method.currentTextChanged.connect(self._sync)
        name_after_attributes(self)
        self._sync()
        self.set_running(False)

    def values(self) -> dict[str, Any]:
        """The request: ``count`` and the keyword arguments of ProjectionSettings (no seed:
        UMAP then uses every core)."""
        return {
            "count": self.count.value(),
            "method": self.method.currentText().lower(),
            "neighbours": self.neighbours.value(),
            "min_dist": round(self.min_dist.value(), 4),
            "metric": self.distance.currentText(),
            "seed": None,  # UMAP on every core; a map need not repeat bit for bit
        }

    def set_limit(self, vocabulary: int, noun: str = "Tokens") -> None:
        """At most the vocabulary's words (its specials are not placed), or a
        recommendation run's items (``noun``: what the count counts)."""
        self.count.setMaximum(max(10, vocabulary))
        self.count_label.setText(noun)

    def set_running(self, running: bool) -> None:
        """Show the progress and Stop while a projection runs; Project otherwise."""
        self.stop_button.setVisible(running)
        self.progress.setVisible(running)
        self.phase.setVisible(running)
        self.project_button.setEnabled(not running)
        if running:
            self.show_progress(None, "starting")

    def show_progress(self, fraction: float | None, phase: str) -> None:
        """A busy bar while the length is unknown, else the percentage."""
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(100 * fraction))
        self.phase.setText(phase)

    def _sync(self) -> None:
        umap = self.method.currentText() == "UMAP"
        for widget in self._umap_widgets:
            widget.setEnabled(umap)
