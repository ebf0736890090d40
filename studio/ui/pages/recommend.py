"""The Recommend page: user and item embeddings from an interactions file, trained off the
GUI thread with recall@k per epoch drawn against the popularity baseline on the same split,
then an item's nearest items and a user's top items (with what they already had); below,
the runs directory's recommendation runs side by side (:mod:`~studio.ui.widgets.recs_runs`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.buffers import GrowingBuffer
from studio.ui.widgets.device_picker import DevicePicker
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.plot_style import pen, style_plot
from studio.ui.widgets.recs_runs import RecsRunsPanel
from studio.ui.workers.payloads import RunFailed
from studio.ui.workers.recs_job import RecsDone, RecsEpoch, RecsJob, RecsRequest
from studio.ui.workers.tasks import TaskRunner

__all__ = ["RecommendPage"]

INTERACTIONS_FILTER = "Interactions (*.csv *.tsv *.jsonl *.parquet);;All files (*)"
#: the loss choices shown: (RecSettings.loss, RecSettings.negatives)
_LOSSES = {
    "softmax, in-batch negatives": ("softmax", "uniform"),
    "BPR, uniform negatives": ("bpr", "uniform"),
    "BPR, popular negatives": ("bpr", "popularity"),
}


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(f"{tip} ({low:,} to {high:,})")
    return box


class RecommendPage(QWidget):
    """Open an interactions file, train, then ask for neighbours and recommendations."""

    sig_running = Signal(bool)
    sig_run_ready = Signal(str)
    """A recommendation run's tables answer queries now (trained or picked): its folder."""
    """Training started (True) or its thread ended (False)."""

    def __init__(self, runs_dir: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_dir = runs_dir
        self.path: str | None = None
        self.item_text: str | None = None
        self.run_dir: str | None = None
        self.job = RecsJob(self)
        self.job.sig_running.connect(self._on_running)
        self.query_tasks = TaskRunner("recs_query_tasks", self)
        self.query_tasks.sig_result.connect(self._on_query)
        self.query_tasks.sig_error.connect(lambda message, _d: self.status.setText(message))
        self.describe_tasks = TaskRunner("recs_describe_tasks", self)
        self.describe_tasks.sig_result.connect(self._on_described)
        self.describe_tasks.sig_error.connect(
            lambda message, _d: self.summary.setText(f"<b>Cannot be read:</b> {message}")
        )
        self._curve_data = GrowingBuffer(2, 64)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_top())
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self._build_plot())
        plots.addWidget(self._build_tails())
        plots.setSizes([500, 250])
        split = QSplitter()
        split.addWidget(plots)
        split.addWidget(self._build_queries())
        split.setSizes([650, 650])
        self.runs_panel = RecsRunsPanel()
        self.runs_panel.sig_refresh.connect(self.refresh_runs)
        self.runs_panel.sig_use_run.connect(self.use_run)
        whole = QSplitter(Qt.Orientation.Vertical)
        whole.addWidget(split)
        whole.addWidget(self.runs_panel)
        whole.setSizes([700, 260])
        layout.addWidget(whole, 1)
        self.list_tasks = TaskRunner("recs_list_tasks", self)
        self.list_tasks.sig_result.connect(self._on_listed)
        self.list_tasks.sig_error.connect(lambda message, _d: self.status.setText(message))
        self._select_after_listing: str | None = None
        name_after_attributes(self)
        self._update_controls()
        self.refresh_runs()

    def _build_top(self) -> QVBoxLayout:
        self.open_button = QPushButton("Open interactions…")
        self.open_button.setToolTip("A CSV, TSV, JSON Lines or Parquet file of user, item rows")
        self.open_button.clicked.connect(self.open_dialog)
        self.sample_button = QPushButton("Open the sample")
        self.sample_button.setToolTip(
            "Debian packages and the packages they depend on (159,649 links, bundled)"
        )
        self.sample_button.clicked.connect(self.open_sample)
        self.file_label = QLabel("No interactions file open.")
        self.recs_dim = _spin(2, 1024, 64, "Embedding dimension of both tables")
        self.recs_epochs = _spin(1, 500, 20, "Passes over the training interactions")
        self.recs_batch = _spin(16, 1 << 20, 4096, "Interactions per step")
        self.recs_k = _spin(1, 1000, 10, "Metrics at k: recall, NDCG and hit rate of the top k")
        self.recs_min_count = _spin(
            1, 1000, 1, "Drop users and items with fewer interactions, repeatedly (the k-core)"
        )
        self.recs_devices = DevicePicker(name_prefix="recs_")  # CPU processes: --nproc
        self.recs_holdout = QComboBox()
        self.recs_holdout.addItems(["last", "random", "items"])
        self.recs_holdout.setToolTip(
            "Per user: hold out the last interaction, or 20% at random; or items: 20% of the "
            "items with all their interactions (cold start)"
        )
        self.recs_loss = QComboBox()
        for text, choice in _LOSSES.items():
            self.recs_loss.addItem(text, choice)
        self.recs_loss.setToolTip(
            "Softmax: each interaction against 128 others of its batch (the default, best "
            "measured). BPR: one sampled negative, never one of the user's items"
        )
        self.recs_mlp = QCheckBox("MLP user tower")
        self.recs_mlp.setToolTip(
            "Pass each user's vector through a small residual MLP before the dot product "
            "(softmax only; it helped on one bundled benchmark set and hurt on the other)"
        )
        self.recs_loss.currentIndexChanged.connect(lambda _index: self._update_controls())
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.train)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.job.stop)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.item_text_button = QPushButton("Item text…")
        self.item_text_button.setToolTip(
            "Optional: a file of item ids and texts (titles, descriptions). Each item's words "
            "are added to its vector, so items seen little or never are placed by their text"
        )
        self.item_text_button.clicked.connect(self.item_text_dialog)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.sample_button)
        row.addWidget(self.item_text_button)
        row.addWidget(self.file_label, 1)
        form = QHBoxLayout()
        fields = (
            ("dim", self.recs_dim), ("epochs", self.recs_epochs), ("batch", self.recs_batch),
            ("k", self.recs_k), ("device", self.recs_devices), ("held out", self.recs_holdout),
            ("min count", self.recs_min_count),
            ("loss", self.recs_loss), ("", self.recs_mlp),
        )  # fmt: skip
        for label, w in fields:
            if label:
                form.addWidget(QLabel(label))
            form.addWidget(w)
        form.addWidget(self.train_button)
        form.addWidget(self.stop_button)
        form.addStretch(1)
        top = QVBoxLayout()
        top.addLayout(row)
        top.addWidget(self.summary)
        top.addLayout(form)
        top.addWidget(self.status)
        return top

    def _build_plot(self) -> QWidget:
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "epoch")
        self.plot.setLabel("left", "recall@k on the held-out interactions")
        self.plot.addLegend(offset=(-10, -60))  # bottom right: the curve rises to the top right
        style_plot(self.plot, self.palette())
        self.curve = self.plot.plot(name="user/item tables", symbol="o", symbolSize=5,
                                    pen=pen("val_acc", self.palette()))  # fmt: skip
        self.baselines: dict[str, pg.InfiniteLine] = {}
        return self.plot

    def _build_tails(self) -> QWidget:
        self.tails = pg.PlotWidget()
        self.tails.setLogMode(x=True, y=True)
        self.tails.setLabel("bottom", "rank")
        self.tails.setLabel("left", "interactions")
        self.tails.addLegend(offset=(-10, 10))
        style_plot(self.tails, self.palette())
        self.item_tail = self.tails.plot(
            name="items by popularity", pen=pen("loss", self.palette())
        )
        self.user_tail = self.tails.plot(
            name="users by activity", pen=pen("val_loss", self.palette())
        )
        return self.tails

    def _build_queries(self) -> QWidget:
        self.like = QLineEdit()
        self.like.setPlaceholderText("an item id")
        self.like.setToolTip("The items whose vectors are nearest to this one's (cosine)")
        self.like.returnPressed.connect(self.find_similar)
        self.user = QLineEdit()
        self.user.setPlaceholderText("a user id")
        self.user.setToolTip("This user's top items among those they did not have")
        self.user.returnPressed.connect(self.find_recommendations)
        self.results = QTableWidget(0, 2)
        self.results.setHorizontalHeaderLabels(["item", "score"])
        self.results.horizontalHeader().setStretchLastSection(True)
        self.already = QLabel()
        self.already.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Similar to", self.like)
        form.addRow("Recommend for", self.user)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.already)
        return box

    # -- public ----------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.job.is_running()

    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open interactions", "", INTERACTIONS_FILTER)
        if path:
            self.open_path(path)

    @Slot()
    def open_sample(self) -> None:
        from studio.config import SAMPLE_INTERACTIONS

        self.open_path(str(SAMPLE_INTERACTIONS))

    @Slot()
    def item_text_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Item text", "", INTERACTIONS_FILTER)
        if path:
            self.set_item_text(path)

    def set_item_text(self, path: str | None) -> None:
        """Train with each item's text from ``path`` (None: ids only); read when training."""
        self.item_text = path
        self._show_file()

    def _show_file(self) -> None:
        if self.path is not None:
            text = f" · item text: {Path(self.item_text).name}" if self.item_text else ""
            self.file_label.setText(f"<b>{Path(self.path).name}</b> · {self.path}{text}")

    def open_path(self, path: str) -> None:
        """Take ``path`` for training, and describe it (off the GUI thread)."""
        self.path = path
        self._show_file()
        self.summary.setText("Reading the interactions…")
        self.describe_tasks.submit(lambda: _describe(path))
        self._update_controls()

    @Slot()
    def train(self) -> None:
        if self.path is None or self.job.is_running():
            return
        from studio.engine.train.recs import RecSettings

        selection = self.recs_devices.selection()
        if self.recs_devices.problem():
            self.status.setText(f"Device: {self.recs_devices.problem()}.")
            return
        loss, negatives = self.recs_loss.currentData()
        settings = RecSettings(
            device=selection.device,
            dim=self.recs_dim.value(), epochs=self.recs_epochs.value(),
            batch_size=self.recs_batch.value(), k=self.recs_k.value(),
            loss=loss, negatives=negatives,
            tower="mlp" if loss == "softmax" and self.recs_mlp.isChecked() else "dot",
        )  # fmt: skip
        request = RecsRequest(self.path, settings, self.recs_holdout.currentText(),
                              min_count=self.recs_min_count.value(),
                              runs_dir=self.runs_dir, item_text=self.item_text,
                              nproc=selection.nproc,
                              visible_gpus=selection.visible_gpus)  # fmt: skip
        worker = self.job.start(request)
        worker.sig_baseline.connect(self._on_baseline)
        worker.sig_epoch.connect(self._on_epoch)
        worker.sig_finished.connect(self._on_finished)
        worker.sig_failed.connect(self._on_failed)
        self._curve_data.clear()
        self.curve.setData([], [])
        for line in self.baselines.values():
            line.hide()
        self.status.setText("Reading and splitting the interactions…")

    @Slot()
    def find_similar(self) -> None:
        run, item, k = self.run_dir, self.like.text().strip(), self.recs_k.value()
        if run and item:
            self.query_tasks.submit(lambda: _similar(run, item, k))

    @Slot()
    def find_recommendations(self) -> None:
        run, user, k = self.run_dir, self.user.text().strip(), self.recs_k.value()
        if run and user:
            self.query_tasks.submit(lambda: _recommend(run, user, k))

    @Slot()
    def refresh_runs(self) -> None:
        """Read the recommendation runs of the runs directory again (off the GUI thread)."""
        runs_dir = self.runs_dir
        self.list_tasks.submit(lambda: _list_runs(runs_dir))

    @Slot(str)
    def use_run(self, run_dir: str) -> None:
        """Answer neighbour and recommendation queries from ``run_dir``."""
        self.run_dir = run_dir
        self.status.setText(f"Queries answered from {Path(run_dir).name}")
        self.sig_run_ready.emit(run_dir)

    @Slot(list)
    def set_devices(self, devices: list[Any]) -> None:
        """Offer ``devices`` (as the Setup page's picker listed them) in the device picker."""
        self.recs_devices.set_devices(devices)

    def shutdown(self) -> None:
        self.job.shutdown()
        self.recs_devices.shutdown()
        self.query_tasks.shutdown()
        self.describe_tasks.shutdown()
        self.list_tasks.shutdown()

    # -- results ---------------------------------------------------------------------
    @Slot(str, float)
    def _on_baseline(self, name: str, recall: float) -> None:
        """A dashed line per baseline, labelled with its name and recall."""
        line = self.baselines.get(name)
        if line is None:
            role = "val_loss" if not self.baselines else "loss"
            dashed = pen(role, self.palette(), style=Qt.PenStyle.DashLine)
            place = {"position": 0.1 + 0.3 * len(self.baselines)}
            line = pg.InfiniteLine(angle=0, movable=False, pen=dashed, labelOpts=place,
                                   label=name + " {value:.3f}")  # fmt: skip
            self.baselines[name] = line
            self.plot.addItem(line)
        line.setValue(recall)
        line.show()

    @Slot(object)
    def _on_epoch(self, e: RecsEpoch) -> None:
        self._curve_data.append([float(e.epoch), e.recall])
        view = self._curve_data.view()
        self.curve.setData(view[:, 0], view[:, 1])
        self.status.setText(
            f"epoch {e.epoch}: recall@{self.recs_k.value()} {e.recall:.4f} · NDCG {e.ndcg:.4f} · "
            f"hit rate {e.hit_rate:.4f} · {e.interactions_per_second:,.0f} interactions/s"
        )

    @Slot(object)
    def _on_listed(self, runs: list[Any]) -> None:
        self.runs_panel.set_runs(runs)
        if self._select_after_listing is not None:
            self.runs_panel.select_run(self._select_after_listing)
            self._select_after_listing = None

    @Slot(object)
    def _on_finished(self, done: RecsDone) -> None:
        self.run_dir = done.run_dir
        self._select_after_listing = done.run_dir
        self.refresh_runs()
        self.status.setText(
            f"{self.status.text()} — popularity {done.popularity_recall:.4f}. {done.users:,} "
            f"users, {done.items:,} items; saved in {done.run_dir}"
        )
        self.sig_run_ready.emit(done.run_dir)

    @Slot(object)
    def _on_failed(self, failed: RunFailed) -> None:
        self.status.setText(f"<b>No model:</b> {failed.message}")

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._update_controls()
        self.sig_running.emit(running)

    @Slot(object)
    def _on_described(self, result: _Described) -> None:
        self.summary.setText(result.summary)
        self.item_tail.setData(*result.items)
        self.user_tail.setData(*result.users)

    @Slot(object)
    def _on_query(self, result: Any) -> None:
        rows, already = result
        self.results.setRowCount(len(rows))
        for r, (item, score) in enumerate(rows):
            self.results.setItem(r, 0, QTableWidgetItem(item))
            self.results.setItem(r, 1, QTableWidgetItem(f"{score:.3f}"))
        self.already.setText(already)

    def _update_controls(self) -> None:
        running = self.job.is_running()
        self.train_button.setEnabled(self.path is not None and not running)
        self.stop_button.setEnabled(running)
        self.open_button.setEnabled(not running)
        self.item_text_button.setEnabled(not running)
        self.sample_button.setEnabled(not running)
        self.recs_mlp.setEnabled(self.recs_loss.currentData()[0] == "softmax")


@dataclass(frozen=True)
class _Described:
    summary: str
    items: tuple[Any, Any]  # (rank from 1, interactions) of the items, most first
    users: tuple[Any, Any]  # the same for the users


def _describe(path: str) -> _Described:
    import numpy as np

    from studio.engine.data.interaction_cache import open_interactions
    from studio.engine.runs.layout import default_cache_dir

    d = open_interactions(path, cache_dir=default_cache_dir())
    items = np.sort(np.bincount(d.items, minlength=d.n_items))[::-1].astype(float)
    users = np.sort(np.bincount(d.users, minlength=d.n_users))[::-1].astype(float)
    ranks = np.arange(1, max(len(items), len(users)) + 1, dtype=float)
    density = len(d) / max(d.n_users * d.n_items, 1)
    columns = ", ".join(f"{role} = {name}" for role, name in d.columns.items() if name)
    summary = (
        f"{len(d):,} interactions · {d.n_users:,} users · {d.n_items:,} items · density "
        f"{density:.3%} · median {int(np.median(users))} per user · columns: {columns}"
    )
    return _Described(summary, (ranks[: len(items)], items), (ranks[: len(users)], users))


def _list_runs(runs_dir: str | None) -> list[Any]:
    from studio.engine.analysis.recommend import list_recs_runs
    from studio.engine.runs.layout import default_runs_dir

    return list_recs_runs(runs_dir or default_runs_dir())


def _similar(run_dir: str, item: str, k: int) -> tuple[list[tuple[str, float]], str]:
    from studio.engine.analysis.recommend import load_recs_run, similar_items

    return similar_items(load_recs_run(run_dir), item, k), f"nearest to {item} by cosine"


def _recommend(run_dir: str, user: str, k: int) -> tuple[list[tuple[str, float]], str]:
    from studio.engine.analysis.recommend import load_recs_run, recommend

    found = recommend(load_recs_run(run_dir), user, k)
    had = ", ".join(found.already[:30]) + (" …" if len(found.already) > 30 else "")
    return found.items, f"{user} already had ({len(found.already)}): {had}"
