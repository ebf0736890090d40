"""The Embeddings page: a projector over the vocabulary (PCA or UMAP, settings first),
nearest neighbours from the whole table, box/lasso selection to list, pin or export, and
the pinned tokens' map animated across epochs."""

from __future__ import annotations

import csv
import html
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.class_list import ClassList
from studio.ui.widgets.empty_state import EmptyState, with_empty_state
from studio.ui.widgets.epoch_player import EpochPlayer
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.projection_controls import ProjectionControls
from studio.ui.widgets.projector_plot import ProjectorPlot, Tool
from studio.ui.widgets.token_panels import TokenPanels
from studio.ui.workers.tasks import TaskRunner
from studio.ui.workers.threads import Job

NEIGHBOURS = 10


class ExplorerPage(QWidget):
    """All computation (loading, projecting, neighbour search) runs off the GUI thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explorer_tasks = TaskRunner("explorer_tasks", self)
        self.explorer_tasks.sig_result.connect(self._on_result)
        self.explorer_tasks.sig_error.connect(self._on_error)
        self.projection_tasks = TaskRunner("projection_tasks", self)
        self.projection_tasks.sig_result.connect(self._on_result)
        self.projection_tasks.sig_error.connect(self._on_error)
        self.projection_tasks.sig_partial.connect(self._on_progress)
        self.projection_tasks.sig_busy.connect(self._on_busy)
        self.pin_tasks = TaskRunner("pin_tasks", self)
        self.pin_tasks.sig_result.connect(self._on_pinned)
        self.pin_tasks.sig_error.connect(self._on_error)
        self._build()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.find_neighbours)
        self.search.textChanged.connect(self._debounce.start)
        self.run_dir: str | None = None
        self.pinned_tokens: list[str] = []
        self.points: list[str] = []
        self.labels: list[str] = []
        self._map: tuple[Any, Any, list[str]] | None = None  # the projection (xy, classes, tokens)
        self._frames: tuple[list[int], list[Any], Any, list[str]] | None = None
        self._cache: dict[str, Any] = {}  # touched only on the worker threads
        name_after_attributes(self)

    # -- construction ------------------------------------------------------------------
    def _build(self) -> None:
        self.run_label = QLabel("No model yet.")
        self.controls = ProjectionControls()
        self.controls.sig_project.connect(self.project)
        self.controls.sig_stop.connect(self.stop_projection)
        self.map_plot = ProjectorPlot()
        self.map_plot.sig_selection.connect(self._on_selection)
        self.class_list = ClassList()
        self.class_list.sig_shown.connect(self.map_plot.set_visible_classes)
        self.tools = QButtonGroup(self)
        tool_row = QHBoxLayout()
        tools: tuple[tuple[Tool, str], ...] = (
            ("pan", "Drag to pan, wheel to zoom (P)"),
            ("box", "Drag a box to select the tokens in it (B)"),
            ("lasso", "Draw around the tokens to select (L)"),
        )
        for name, tip in tools:
            button = QPushButton(name.capitalize())
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setShortcut(name[0].upper())
            button.setObjectName(f"{name}_tool")
            button.toggled.connect(partial(self._tool_toggled, name))
            self.tools.addButton(button)
            tool_row.addWidget(button)
            if name == "pan":
                button.setChecked(True)
        self.animate_button = QPushButton("Animate epochs")
        self.animate_button.setToolTip(
            "Map each epoch's snapshot of the most frequent words (same method), aligned "
            "onto the last epoch, and play the training; pinned tokens are labelled"
        )
        self.animate_button.clicked.connect(self.animate)
        self.player = EpochPlayer()
        self.player.sig_frame.connect(self._show_frame)
        self.back_button = QPushButton("Back to the map")
        self.back_button.setToolTip("Leave the animation and show the projection again")
        self.back_button.clicked.connect(self._show_map)
        tool_row.addSpacing(16)
        for w in (self.animate_button, self.player, self.back_button):
            tool_row.addWidget(w, 1 if w is self.player else 0)
        self.side = TokenPanels()
        self.search, self.neighbours, self.pinned = (
            self.side.search,
            self.side.neighbours,
            self.side.pinned,
        )
        self.side.pin_button.clicked.connect(self.pin_current)
        self.side.pin_selection_button.clicked.connect(self.pin_selection)
        self.side.export_button.clicked.connect(self.export_dialog)
        self.side.unpin_button.clicked.connect(self.unpin_all)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.class_list)
        self.splitter.addWidget(self.map_plot)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 800, 320])
        self.status = QLabel()
        self.status.setWordWrap(True)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(tool_row)
        inner.addWidget(self.splitter, 1)
        self.empty = EmptyState(
            "No model to explore yet",
            "Train a model (<b>Training → Train</b>, Ctrl+Return) or open a finished run from the "
            "<b>Runs</b> page; its embedding table appears here as a map you can search, "
            "select and animate.",
        )
        self.stack = with_empty_state(content, self.empty)
        self._content = content
        layout = QVBoxLayout(self)
        layout.addWidget(self.run_label)
        layout.addWidget(self.controls)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        self.back_button.hide()

    def _tool_toggled(self, name: Tool, on: bool) -> None:
        if on:
            self.map_plot.set_tool(name)

    # -- public ------------------------------------------------------------------------
    def set_run(self, run_dir: str, project: bool = True) -> None:
        """Show the embeddings of the run at ``run_dir`` (projected now unless told not to)."""
        self.run_dir = run_dir
        self._cache.clear()
        self._frames = None
        self.run_label.setText(f"Model: <b>{html.escape(Path(run_dir).name)}</b>")
        self.stack.setCurrentWidget(self._content)
        if project:
            self.project()

    def _space(self, run_dir: str) -> Any:
        """The run's words or items with their neighbour index (read once per run, on a
        worker thread; :func:`studio.engine.analysis.spaces.load_space`)."""
        key = f"space:{run_dir}"
        if key not in self._cache:
            from studio.engine.analysis.spaces import load_space

            self._cache[key] = load_space(run_dir)
        return self._cache[key]

    @Slot()
    def ensure_projection(self) -> None:
        """Project the run's tokens when a run is set but its map is still empty."""
        if self.run_dir and not self.points and not self.projection_tasks.is_busy():
            self.project()

    @Slot()
    def project(self) -> None:
        """Place the most frequent tokens on the 2-D map (off the GUI thread)."""
        run_dir = self.run_dir
        if not run_dir:
            return
        request = self.controls.values()
        n = request.pop("count")

        def work(job: Job) -> Any:
            from studio.engine.analysis.projection import ProjectionSettings, project

            job.partial((None, "loading the model"))
            space = self._space(run_dir)
            ids = space.ranked(n)
            settings = ProjectionSettings(**request)
            xy = project(space.vectors(ids), settings, _throttled(job), job.is_cancelled)
            classes, labels = space.classes(ids)
            return ("projection", xy, classes, space.names(ids), labels, space.limit,
                    space.description, space.kind)  # fmt: skip

        self.projection_tasks.submit_job(work)

    @Slot()
    def stop_projection(self) -> None:
        """Stop the projection or animation that is running (the map keeps what it had)."""
        if self.projection_tasks.cancel():
            self.status.setText("Projection stopped.")

    @Slot()
    def animate(self) -> None:
        """Map every epoch's snapshot (same settings), aligned onto the last epoch."""
        run_dir = self.run_dir
        if not run_dir:
            return
        request = self.controls.values()
        request.pop("count")

        def work(job: Job) -> Any:
            import numpy as np

            from studio.engine.analysis.embeddings import epoch_snapshots
            from studio.engine.analysis.projection import ProjectionSettings, epoch_maps

            space = self._space(run_dir)
            if space.kind != "words":
                return ("no-frames", 0)
            job.partial((None, "reading the snapshots"))
            epochs, frames = epoch_snapshots(run_dir)
            if len(frames) < 2:
                return ("no-frames", len(frames))
            settings = ProjectionSettings(**request)
            maps = epoch_maps(frames, settings, _throttled(job), job.is_cancelled)
            ids = np.arange(2, 2 + len(frames[0]))
            return ("frames", epochs, maps, space.classes(ids)[0], space.names(ids))

        self.projection_tasks.submit_job(work)

    @Slot()
    def find_neighbours(self) -> None:
        """List the nearest neighbours of the searched token (with n-grams: any word)."""
        query, run_dir = self.search.text().strip(), self.run_dir
        if not query or not run_dir:
            self.neighbours.clear()
            return

        def work() -> Any:
            index = self._space(run_dir).index
            return ("neighbours", query, index.query(query, NEIGHBOURS), index.composes(query))

        self.explorer_tasks.submit(work)

    @Slot()
    def pin_current(self) -> None:
        """Pin the searched token: labelled on the map, its neighbours listed."""
        self.pin_tokens([self.search.text().strip()])

    @Slot()
    def pin_selection(self) -> None:
        """Pin every selected token."""
        self.pin_tokens([self.map_plot.tokens[i] for i in self.map_plot.selected])

    def pin_tokens(self, tokens: list[str]) -> None:
        """Add ``tokens`` to the pinned ones (each once) and refresh their neighbours."""
        new = [t for t in tokens if t and t not in self.pinned_tokens]
        if new:
            self.pinned_tokens.extend(new)
            self._mark_pinned()
            self.refresh_pinned()

    @Slot()
    def unpin_all(self) -> None:
        """Forget every pinned token."""
        self.pinned_tokens = []
        self.pinned.clear()
        self._mark_pinned()

    def refresh_pinned(self, from_checkpoint: bool = False) -> None:
        """Neighbours of every pinned token, from the final model or the latest checkpoint."""
        run_dir, tokens = self.run_dir, list(self.pinned_tokens)
        if not run_dir or not tokens:
            return

        def work() -> Any:
            from studio.engine.analysis.embeddings import checkpoint_index

            index = checkpoint_index(run_dir) if from_checkpoint else self._space(run_dir).index
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
            self.stack.setCurrentWidget(self._content)
        self.refresh_pinned(from_checkpoint=True)

    @Slot()
    def export_dialog(self) -> None:
        """Ask where to save the selection as CSV."""
        path, _ = QFileDialog.getSaveFileName(
            self, "Export selection", "selection.csv", "CSV (*.csv)"
        )
        if path:
            self.export_selection(path)

    def export_selection(self, path: str) -> int:
        """Write the selected tokens (token, x, y, class, frequency rank) to ``path``."""
        plot, rows = self.map_plot, self.map_plot.selected
        try:
            with open(path, "w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh)
                out.writerow(["token", "x", "y", "class", "rank"])
                for i in rows:
                    label = self.labels[plot.classes[i]] if self.labels else ""
                    out.writerow(
                        [
                            plot.tokens[i],
                            f"{plot.xy[i, 0]:.6g}",
                            f"{plot.xy[i, 1]:.6g}",
                            label,
                            int(i) + 1,
                        ]
                    )
        except OSError as exc:
            self.status.setText(
                f"<b>Error:</b> cannot write {html.escape(path)}: {html.escape(str(exc))}"
            )
            return 0
        self.status.setText(f"Saved {len(rows):,} tokens to {html.escape(path)}")
        return len(rows)

    # -- results -------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: Any) -> None:
        kind = result[0]
        if kind == "projection":
            _, xy, classes, tokens, labels, limit, described, kind = result
            self.controls.set_limit(limit, "Items" if kind == "items" else "Tokens")
            self.search.setPlaceholderText("item…" if kind == "items" else "token…")
            self._map = (xy, classes, tokens)
            self.labels = labels
            self._show_map()
            self.status.setText(
                f"{len(tokens):,} {described}. Hover a point for its name; Box or Lasso to select."
            )
        elif kind == "frames":
            _, epochs, maps, classes, tokens = result
            self._frames = (epochs, maps, classes, tokens)
            self.player.set_epochs(epochs)
            self.back_button.show()
            self._show_frame(len(maps) - 1)
            self._list_classes(classes)
            known = set(tokens)
            missing = [t for t in self.pinned_tokens if t not in known]
            outside = (
                f" Not in the snapshots (only the {len(tokens):,} most frequent words are kept "
                f"each epoch): {html.escape(', '.join(missing[:10]))}."
                if missing
                else ""
            )
            self.status.setText(
                f"{len(tokens):,} most frequent words over {len(epochs)} epochs, each map "
                f"aligned onto the last; press Play.{outside}"
            )
        elif kind == "no-frames":
            self.status.setText(
                "This run has no per-epoch snapshots to animate (text runs keep them from "
                "this version on, one per epoch; it needs at least two epochs; "
                "recommendation runs keep none)."
            )
        elif kind == "neighbours":
            _, query, pairs, composed = result
            self.neighbours.clear()
            for token, score in pairs:
                self.neighbours.addItem(f"{score:+.3f}  {token}")
            note = (
                " (not in the vocabulary: composed from its character n-grams)" if composed else ""
            )
            self.status.setText(f"Nearest neighbours of “{html.escape(query)}”{note}")

    @Slot()
    def _show_map(self) -> None:
        self.back_button.hide()
        if self._map is None:
            return
        xy, classes, tokens = self._map
        self.points = tokens
        self.map_plot.set_points(xy, classes, tokens, len(self.labels))
        self._list_classes(classes)
        self._mark_pinned()

    def _list_classes(self, classes: Any) -> None:
        """The class list's counts are those of the points shown (the map or the frames)."""
        shown = self.class_list.shown()
        self.class_list.set_classes(
            self.labels, self.map_plot.colors, _counts(classes, len(self.labels))
        )
        if shown and shown != set(range(len(self.labels))):  # keep what the user hid
            for r in range(self.class_list.classes.count()):
                item = self.class_list.classes.item(r)
                if r not in shown:
                    item.setCheckState(Qt.CheckState.Unchecked)
        self.map_plot.set_visible_classes(self.class_list.shown())

    @Slot(int)
    def _show_frame(self, index: int) -> None:
        if self._frames is None:
            return
        _epochs, maps, classes, tokens = self._frames
        self.map_plot.set_points(
            maps[index], classes, tokens, len(self.labels), keep_view=index != len(maps) - 1
        )
        self._mark_pinned()

    def _mark_pinned(self) -> None:
        import numpy as np

        where = {t: i for i, t in enumerate(self.map_plot.tokens)}
        found = [where[t] for t in self.pinned_tokens if t in where]
        self.map_plot.set_pinned(np.asarray(found, dtype=np.int64))

    @Slot(object)
    def _on_selection(self, indices: Any) -> None:
        self.side.show_selection([self.map_plot.tokens[i] for i in indices])

    @Slot(object)
    def _on_progress(self, value: Any) -> None:
        fraction, phase = value
        self.controls.show_progress(fraction, phase)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.controls.set_running(busy)
        self.animate_button.setEnabled(not busy)

    @Slot(object)
    def _on_pinned(self, rows: list[tuple[str, list[tuple[str, float]]]]) -> None:
        self.pinned.clear()
        for token, pairs in rows:
            top = QTreeWidgetItem([token, ""])
            for neighbour, score in pairs:
                QTreeWidgetItem(top, [neighbour, f"{score:+.3f}"])
            self.pinned.addTopLevelItem(top)
            top.setExpanded(len(rows) <= 5)

    @Slot(str, str)
    def _on_error(self, message: str, _details: str) -> None:
        self.status.setText(f"<b>Error:</b> {html.escape(message)}")

    def shutdown(self) -> None:
        """Stop the task threads (the main window's shutdown calls it)."""
        self.explorer_tasks.shutdown()
        self.projection_tasks.shutdown()
        self.pin_tasks.shutdown()


def _throttled(job: Job) -> Any:
    """A progress callback that reports each whole percent (or phase) once."""
    last: list[tuple[int | None, str]] = []

    def report(fraction: float | None, phase: str) -> None:
        key = (None if fraction is None else int(fraction * 100), phase)
        if not last or last[0] != key:
            last[:] = [key]
            job.partial((fraction, phase))

    return report


def _counts(classes: Any, n: int) -> list[int]:
    import numpy as np

    return [int(c) for c in np.bincount(np.asarray(classes, dtype=np.int64), minlength=n)[:n]]
