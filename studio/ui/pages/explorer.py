"""The Embedding explorer: a 2D map of frequent tokens, nearest neighbours, pinned tokens."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import style_plot
from studio.ui.workers.tasks import TaskRunner

NEIGHBOURS = 10


def _tip(x: float, y: float, data: Any) -> str:
    return str(data)


class ExplorerPage(QWidget):
    """All computation (loading, projecting, neighbour search) runs off the GUI thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explorer_tasks = TaskRunner("explorer_tasks", self)
        self.explorer_tasks.sig_result.connect(self._on_result)
        self.explorer_tasks.sig_error.connect(self._on_error)
        self.pin_tasks = TaskRunner("pin_tasks", self)
        self.pin_tasks.sig_result.connect(self._on_pinned)
        self.pin_tasks.sig_error.connect(self._on_error)

        self.run_label = QLabel("No model yet.")
        self.count = QSpinBox()
        self.count.setRange(10, 20_000)
        self.count.setValue(1000)
        self.count.setSingleStep(500)
        self.count.setToolTip("How many of the most frequent tokens to place on the map")
        self.method = QComboBox()
        self.method.addItems(["PCA", "UMAP"])
        self.method.setToolTip("UMAP needs the optional 'umap-learn' package")
        self.project_button = QPushButton("Project")
        self.project_button.clicked.connect(self.project)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "component 1")
        self.plot.setLabel("left", "component 2")
        self.scatter = pg.ScatterPlotItem(size=6, pen=None, hoverable=True, tip=_tip, hoverSize=10)
        self.plot.addItem(self.scatter)
        style_plot(self.plot, self.palette())
        self.legend = self.plot.addLegend(offset=(10, 10))
        self._legend_items: list[pg.ScatterPlotItem] = []

        self.search = QLineEdit()
        self.search.setPlaceholderText("token…")
        self.search.setToolTip(
            "Nearest neighbours by cosine similarity; a model with character n-grams accepts "
            "any word (composed from its n-grams, as fastText does)"
        )
        self.neighbours = QListWidget()
        self.pin_button = QPushButton("Pin")
        self.pin_button.setToolTip("Keep this token's neighbours in view; refreshed every epoch")
        self.pin_button.clicked.connect(self.pin_current)
        self.pinned = QTreeWidget()
        self.pinned.setHeaderLabels(["pinned token / neighbour", "cosine"])
        self.pinned.setColumnWidth(0, 220)
        self.status = QLabel()
        self.status.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(self.run_label, 1)
        controls.addWidget(QLabel("Tokens"))
        controls.addWidget(self.count)
        controls.addWidget(self.method)
        controls.addWidget(self.project_button)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.pin_button)
        side_layout.addLayout(row)
        side_layout.addWidget(self.neighbours, 1)
        side_layout.addWidget(QLabel("Pinned (refreshed at each epoch end while training)"))
        side_layout.addWidget(self.pinned, 1)
        splitter = QSplitter()
        splitter.addWidget(self.plot)
        splitter.addWidget(side)
        splitter.setSizes([800, 350])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.find_neighbours)
        self.search.textChanged.connect(self._debounce.start)
        self.run_dir: str | None = None
        self.pinned_tokens: list[str] = []
        self.points: list[str] = []
        self._cache: dict[str, Any] = {}  # touched only on the worker threads
        name_after_attributes(self)

    def set_run(self, run_dir: str, project: bool = True) -> None:
        """Show the embeddings of the run at ``run_dir`` (projected now unless told not to)."""
        self.run_dir = run_dir
        self._cache.clear()
        self.run_label.setText(f"Model: <b>{html.escape(Path(run_dir).name)}</b>")
        if project:
            self.project()

    def _index(self, run_dir: str) -> Any:
        """The run's neighbour index (built once per run, on a worker thread)."""
        key = f"index:{run_dir}"
        if key not in self._cache:
            from studio.engine.analysis.embeddings import vocabulary_vectors, word_index
            from studio.engine.analysis.inference import load_run

            run = load_run(run_dir)
            matrix = vocabulary_vectors(run)  # with n-grams: composed, as fastText's
            self._cache[f"run:{run_dir}"] = run
            self._cache[f"matrix:{run_dir}"] = matrix
            self._cache[key] = word_index(run.model.embedding.weight, run.encoder, matrix)
        return self._cache[key]

    @Slot()
    def ensure_projection(self) -> None:
        """Project the run's tokens when a run is set but its map is still empty."""
        if self.run_dir and not self.points:
            self.project()

    @Slot()
    def project(self) -> None:
        """Place the most frequent tokens on the 2-D map (off the GUI thread)."""
        run_dir = self.run_dir
        if not run_dir:
            return
        n, method = self.count.value(), self.method.currentText().lower()
        self.status.setText("Projecting…")

        def work() -> Any:
            from studio.engine.analysis.embeddings import (
                frequent_token_ids,
                project_2d,
                token_classes,
            )

            self._index(run_dir)
            run = self._cache[f"run:{run_dir}"]
            matrix = self._cache[f"matrix:{run_dir}"]
            ids = frequent_token_ids(run, n)
            xy = project_2d(matrix[ids], method=method)
            classes, _conf = token_classes(run, ids)
            tokens = [run.encoder.tokens[i] for i in ids]
            return ("projection", xy, classes, tokens, list(run.labels))

        self.explorer_tasks.submit(work)

    @Slot()
    def find_neighbours(self) -> None:
        """List the nearest neighbours of the searched token (with n-grams: any word)."""
        query, run_dir = self.search.text().strip(), self.run_dir
        if not query or not run_dir:
            self.neighbours.clear()
            return

        def work() -> Any:
            index = self._index(run_dir)
            return ("neighbours", query, index.query(query, NEIGHBOURS), index.composes(query))

        self.explorer_tasks.submit(work)

    @Slot()
    def pin_current(self) -> None:
        """Pin the searched token: its neighbours stay listed and follow training."""
        token = self.search.text().strip()
        if token and token not in self.pinned_tokens:
            self.pinned_tokens.append(token)
            self.refresh_pinned()

    def refresh_pinned(self, from_checkpoint: bool = False) -> None:
        """Neighbours of every pinned token, from the final model or the latest checkpoint."""
        run_dir, tokens = self.run_dir, list(self.pinned_tokens)
        if not run_dir or not tokens:
            return

        def work() -> Any:
            from studio.engine.analysis.embeddings import checkpoint_index

            index = checkpoint_index(run_dir) if from_checkpoint else self._index(run_dir)
            out = []
            for t in tokens:
                try:
                    out.append((t, index.query(t, NEIGHBOURS)))
                except Exception as exc:
                    out.append((t, [(str(exc), 0.0)]))
            return out

        self.pin_tasks.submit(work)

    @Slot(str)
    def on_epoch_end(self, run_dir: str) -> None:
        """During training: follow the run and refresh pinned tokens from its checkpoint."""
        if run_dir != self.run_dir:
            self.run_dir = run_dir
            self._cache.clear()
            self.run_label.setText(f"Training: <b>{html.escape(Path(run_dir).name)}</b>")
        self.refresh_pinned(from_checkpoint=True)

    # -- results -------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: Any) -> None:
        if result[0] == "projection":
            _, xy, classes, tokens, labels = result
            self._show_projection(xy, classes, tokens, labels)
        elif result[0] == "neighbours":
            _, query, pairs, composed = result
            self.neighbours.clear()
            for token, score in pairs:
                self.neighbours.addItem(f"{score:+.3f}  {token}")
            note = (
                " (not in the vocabulary: its vector is composed from its character n-grams)"
                if composed
                else ""
            )
            self.status.setText(f"Nearest neighbours of “{html.escape(query)}”{note}")

    def _show_projection(self, xy: Any, classes: Any, tokens: list[str], labels: list[str]) -> None:
        n_labels = max(len(labels), 1)
        brushes = [pg.mkBrush(pg.intColor(i, hues=n_labels, alpha=170)) for i in range(n_labels)]
        self.points = tokens
        self.scatter.setData(
            x=xy[:, 0], y=xy[:, 1], data=tokens, brush=[brushes[int(c)] for c in classes]
        )
        self.legend.clear()
        self._legend_items = []
        for i, name in enumerate(labels[:30]):
            sample = pg.ScatterPlotItem(size=8, pen=None, brush=brushes[i])
            self._legend_items.append(sample)
            self.legend.addItem(sample, name)
        self.plot.autoRange()
        self.status.setText(
            f"{len(tokens):,} most frequent tokens, coloured by the label each one most supports "
            "on its own. Hover a point for its token."
        )

    @Slot(object)
    def _on_pinned(self, rows: list[tuple[str, list[tuple[str, float]]]]) -> None:
        self.pinned.clear()
        for token, pairs in rows:
            top = QTreeWidgetItem([token, ""])
            for neighbour, score in pairs:
                QTreeWidgetItem(top, [neighbour, f"{score:+.3f}"])
            self.pinned.addTopLevelItem(top)
            top.setExpanded(True)

    @Slot(str, str)
    def _on_error(self, message: str, _details: str) -> None:
        self.status.setText(f"<b>Error:</b> {html.escape(message)}")

    def shutdown(self) -> None:
        """Stop both task threads (the main window's shutdown calls it)."""
        self.explorer_tasks.shutdown()
        self.pin_tasks.shutdown()
