"""The Playground: type text, see the prediction and each token's part in it."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QTextBlock, QTextCharFormat, QTextCursor, QTextDocument, QTextFragment
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.charts import BarChart
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.workers.tasks import TaskRunner

DEBOUNCE_MS = 250


ShownToken = tuple[str, bool, float, int]
"""A token as the page shows it: text, maps to <unk>, contribution, character n-gram rows."""


def token_html(tokens: Sequence[ShownToken]) -> str:
    """Tokens as HTML spans: green pushes toward the class, red away.

    A word outside the vocabulary that has character n-grams still has a vector (theirs): it
    keeps its colour and is underlined (drawn dotted by :func:`dot_underlines`). One with
    nothing but ``<unk>`` is struck out in grey.
    """
    peak = max((abs(c) for _, _, c, _ in tokens), default=0.0) or 1.0
    spans = []
    for token, oov, contribution, subwords in tokens:
        strength = min(abs(contribution) / peak, 1.0)
        alpha = int(40 + 180 * strength)
        colour = f"rgba(46,157,91,{alpha})" if contribution >= 0 else f"rgba(200,66,59,{alpha})"
        style = f"background-color:{colour}; padding:1px 2px;"
        title = f"{contribution:+.4f}"
        if oov and subwords:
            style += " text-decoration:underline;"
            grams = "1 character n-gram" if subwords == 1 else f"{subwords} character n-grams"
            title += f" · not in the vocabulary: its vector is composed of {grams} (and <unk>)"
        elif oov:
            style = (
                "color:gray; text-decoration:line-through; border:1px dashed gray; padding:1px 2px;"
            )
            title = "out of vocabulary, no character n-grams: read as <unk>"
        spans.append(
            f'<span style="{style}" title="{html.escape(title)}">{html.escape(token)}</span>'
        )
    return " ".join(spans)


def dot_underlines(document: QTextDocument) -> None:
    """Draw the document's underlines dotted (Qt's HTML subset has no dotted underline)."""
    ranges = []
    block = document.begin()
    while block.isValid():
        for fragment in _fragments(block):
            if fragment.charFormat().fontUnderline():
                ranges.append((fragment.position(), fragment.position() + fragment.length()))
        block = block.next()
    dotted = QTextCharFormat()
    dotted.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    cursor = QTextCursor(document)
    for start, end in ranges:
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(dotted)


def _fragments(block: QTextBlock) -> Iterator[QTextFragment]:
    it = block.begin()
    while not it.atEnd():
        yield it.fragment()
        it += 1


EMPTY_INPUT = (
    "Type or paste a text on the left: the model's labels and each token's part in the "
    "decision appear as you type."
)


class PlaygroundPage(QWidget):
    """Predictions update as you type (debounced), computed off the GUI thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prediction_tasks = TaskRunner("prediction_tasks", self)
        self.prediction_tasks.sig_result.connect(self._on_result)
        self.prediction_tasks.sig_error.connect(self._on_error)
        self.run_combo = QComboBox()
        self.run_combo.setToolTip("Which trained model answers")
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton("Refresh runs")
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Type or paste a text to classify…")
        self.chart = BarChart(value_label="probability")
        self.tokens = QTextBrowser()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.legend = QLabel(
            "Tokens as the model saw them: "
            "<span style='background:rgba(46,157,91,160)'>&nbsp;for&nbsp;</span> "
            "or <span style='background:rgba(200,66,59,160)'>&nbsp;against&nbsp;</span> "
            "the predicted label; <u>underlined</u> = not in the vocabulary, its vector composed "
            "of its character n-grams; <s>struck out</s> = not in the vocabulary and no "
            "n-grams (read as &lt;unk&gt;)."
        )
        self.legend.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.refresh_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.chart, 2)
        right_layout.addWidget(self.legend)
        right_layout.addWidget(self.tokens, 1)
        splitter = QSplitter()
        splitter.addWidget(self.input)
        splitter.addWidget(right)
        splitter.setSizes([500, 700])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.predict_now)
        self.input.textChanged.connect(self._debounce.start)
        self.run_combo.currentIndexChanged.connect(self._debounce.start)
        self.runs_dir: str | None = None
        self._cache: dict[str, Any] = {}  # run path -> LoadedRun, touched only by the worker
        self.last_explanation: Any = None
        name_after_attributes(self)

    def current_run(self) -> str | None:
        """The folder of the run that answers, if any."""
        data = self.run_combo.currentData()
        return str(data) if data else None

    def set_runs_dir(self, runs_dir: str | None) -> None:
        """The runs folder the model list shows (None: the default one)."""
        self.runs_dir = runs_dir

    @Slot()
    def ensure_runs_listed(self) -> None:
        """List the runs when the model list is still empty (the page is being shown)."""
        if self.run_combo.count() == 0:
            self.refresh_runs()

    @Slot()
    def refresh_runs(self) -> None:
        """Fill the model list with the finished runs of the runs directory."""
        from pathlib import Path

        from studio.engine.runs.layout import default_runs_dir
        from studio.engine.runs.listing import list_runs

        current = self.current_run()
        runs = list_runs(Path(self.runs_dir) if self.runs_dir else default_runs_dir())
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for r in runs:
            if (r.path / "model.safetensors").exists():
                acc = f" · {r.val_accuracy:.1%}" if r.val_accuracy is not None else ""
                self.run_combo.addItem(f"{r.name}{acc}", str(r.path))
        self.run_combo.blockSignals(False)
        if current:
            self.select_run(current)
        if self.run_combo.count() == 0:
            self.status.setText("No trained model yet: train one first.")

    def select_run(self, path: str) -> None:
        """Let the run at ``path`` answer (added to the list when it is not there yet)."""
        self._cache.pop(path, None)  # the run may have been retrained or replaced
        index = self.run_combo.findData(path)
        if index < 0:
            from pathlib import Path

            self.run_combo.addItem(Path(path).name, path)
            index = self.run_combo.count() - 1
        self.run_combo.setCurrentIndex(index)
        self._debounce.start()

    @Slot()
    def predict_now(self) -> None:
        """Predict the typed text now (typing waits for a pause first)."""
        run_path = self.current_run()
        text = self.input.toPlainText()
        if not run_path:
            return
        if not text.strip():  # nothing to classify: say so, rather than score ""
            self.prediction_tasks.cancel()
            self.last_explanation = None
            self.chart.set_data([], [])
            self.tokens.clear()
            self.status.setText(EMPTY_INPUT)
            return
        cache = self._cache

        def work() -> Any:
            from studio.engine.analysis.explain import explain
            from studio.engine.analysis.inference import load_run

            run = cache.get(run_path)
            if run is None:
                run = cache[run_path] = load_run(run_path)
            return explain(run, text)

        self.prediction_tasks.submit(work)

    @Slot(object)
    def _on_result(self, e: Any) -> None:
        self.last_explanation = e
        labels = [name for name, _ in e.probabilities][:20]
        values = [p for _, p in e.probabilities][:20]
        self.chart.set_data(labels, values)
        shown = [(t.token, t.oov, t.contribution, t.subwords) for t in e.tokens]
        self.tokens.setHtml(token_html(shown))
        dot_underlines(self.tokens.document())
        oov = sum(t.oov for t in e.tokens)
        covered = sum(t.oov and t.subwords > 0 for t in e.tokens)
        by_grams = f" ({covered} covered by character n-grams)" if covered else ""
        method = "exact (linear head over the mean)" if e.method == "exact" else "occlusion"
        self.status.setText(
            f"Predicted <b>{html.escape(e.target)}</b> · {len(e.tokens)} tokens, {oov} out of "
            f"vocabulary{by_grams} · contributions: {method}"
        )

    @Slot(str, str)
    def _on_error(self, message: str, _details: str) -> None:
        self.status.setText(f"<b>Cannot predict:</b> {html.escape(message)}")

    def shutdown(self) -> None:
        """Stop the prediction thread (the main window's shutdown calls it)."""
        self.prediction_tasks.shutdown()
