"""The Embeddings page as a projector: settings before computing, box and lasso selection
to a CSV, the class list hiding classes, and the epochs animated from the run's snapshots."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.ui.pages.explorer import ExplorerPage
from studio.ui.widgets.projector_plot import points_in_polygon

TIMEOUT = 60_000


@pytest.fixture
def page(qtbot: QtBot, run_dir: Path) -> ExplorerPage:
    page = ExplorerPage()
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.controls.method.setCurrentText("PCA")
    assert page.stack.currentWidget() is page.empty  # what to do first, before any run
    page.set_run(str(run_dir))
    qtbot.waitUntil(lambda: len(page.points) > 0, timeout=TIMEOUT)
    yield page
    page.shutdown()


def test_points_in_polygon_counts_the_inside_only() -> None:
    xy = np.array([[0.5, 0.5], [2.0, 2.0], [0.1, 0.9], [-1.0, 0.5], [0.9, 0.2]])
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert points_in_polygon(xy, square).tolist() == [True, False, True, False, True]
    triangle = np.array([[0, 0], [1, 0], [0, 1]], dtype=float)
    inside = np.array([[0.2, 0.2], [0.6, 0.6], [0.1, 0.5], [0.45, 0.45]])
    assert points_in_polygon(inside, triangle).tolist() == [True, False, True, True]
    assert not points_in_polygon(xy, square[:2]).any()


def test_box_selection_lists_pins_and_exports_the_tokens(
    page: ExplorerPage, qtbot: QtBot, tmp_path: Path
) -> None:
    plot = page.map_plot
    xy = plot.xy
    # a box over the right half of the map, drawn as the Box tool draws it
    page.findChild(type(page.controls.project_button), "box_tool").click()
    assert plot.view.tool == "box"
    mid = float(np.median(xy[:, 0]))
    corners = np.array(
        [[mid, xy[:, 1].min() - 1], [xy[:, 0].max() + 1, xy[:, 1].min() - 1],
         [xy[:, 0].max() + 1, xy[:, 1].max() + 1], [mid, xy[:, 1].max() + 1]]
    )  # fmt: skip
    with qtbot.waitSignal(plot.sig_selection):
        plot.view.sig_drawn.emit(corners)
    expected = sorted(np.nonzero(xy[:, 0] >= mid)[0].tolist())
    assert plot.selected.tolist() == expected
    assert page.side.selection_list.count() == len(expected)
    assert (
        page.side.currentIndex() == 1
        and f"{len(expected):,} tokens" in page.side.selection_label.text()
    )
    path = tmp_path / "selection.csv"
    assert page.export_selection(str(path)) == len(expected)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["token"] for r in rows] == [plot.tokens[i] for i in expected]
    assert all(r["class"] in page.labels for r in rows)
    np.testing.assert_allclose([float(r["x"]) for r in rows], xy[expected, 0], rtol=1e-5)
    page.pin_selection()
    assert page.pinned_tokens == [plot.tokens[i] for i in expected]
    assert plot.pinned.tolist() == expected and len(plot._labels) == min(len(expected), 60)
    qtbot.waitUntil(lambda: page.pinned.topLevelItemCount() == len(expected), timeout=TIMEOUT)
    page.unpin_all()
    assert plot.pinned.tolist() == [] and plot._labels == []


def test_hidden_classes_are_not_selected_and_the_list_filters(page: ExplorerPage) -> None:
    plot, classes = page.map_plot, page.class_list
    assert classes.classes.count() == len(page.labels)
    counts = [
        int(classes.classes.item(r).text().rsplit("(", 1)[1].rstrip(")"))
        for r in range(classes.classes.count())
    ]
    assert sum(counts) == len(plot.xy)
    first = classes.classes.item(0)
    first.setCheckState(Qt.CheckState.Unchecked)
    assert not plot.visible[plot.classes == 0].any() and plot.visible[plot.classes != 0].all()
    everything = np.array([[-1e9, -1e9], [1e9, -1e9], [1e9, 1e9], [-1e9, 1e9]])
    plot.view.sig_drawn.emit(everything)
    assert set(plot.classes[plot.selected].tolist()) == set(range(len(page.labels))) - {0}
    classes.filter.setText(page.labels[1][:4])
    hidden = [classes.classes.item(r).isHidden() for r in range(classes.classes.count())]
    assert not hidden[1] and any(hidden)
    classes.set_all(True)
    assert plot.visible.all()


def test_epochs_animate_aligned_frames_from_the_snapshots(page: ExplorerPage, qtbot: QtBot) -> None:
    page.pin_tokens(["goal", "match", "qwertyuiop"])
    with qtbot.waitSignal(page.projection_tasks.sig_result, timeout=TIMEOUT):
        page.animate()
    assert page._frames is not None
    epochs, maps, _classes, tokens = page._frames
    assert epochs == [1, 2, 3, 4] and len(maps) == 4
    assert page.player.isEnabled() and page.player.label.text() == "epoch 4 of 4"
    page.player.slider.setValue(0)
    np.testing.assert_allclose(page.map_plot.xy, maps[0])
    assert page.player.label.text() == "epoch 1 of 4"
    pinned = {tokens[i] for i in page.map_plot.pinned}
    assert pinned == {"goal", "match"} & set(tokens)
    assert "Not in the snapshots" in page.status.text() and "qwertyuiop" in page.status.text()
    with qtbot.waitSignal(page.player.sig_frame, timeout=TIMEOUT) as blocker:
        page.player.play_button.setChecked(True)
    assert blocker.args == [1]
    page.player.play_button.setChecked(False)
    page.back_button.click()
    assert page.map_plot.tokens == page.points and page.back_button.isHidden()


def test_umap_settings_go_to_the_projection(
    page: ExplorerPage, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's wiring: settings in, progress shown, Stop works. UMAP itself is the
    engine test's (test_projection.py); here a stand-in reports as umap-learn does, so
    the test does not wait for numba's first compilation (a minute in a fresh install)."""
    import threading

    from studio.engine.analysis import projection

    seen: list[object] = []
    release = threading.Event()

    def fake_project(vectors, settings, progress, cancelled):  # type: ignore[no-untyped-def]
        seen.append(settings)
        progress(None, "nearest neighbours")
        progress(0.5, "layout")
        release.wait(30)
        if cancelled():
            raise projection.ProjectionCancelled("projection stopped")
        progress(1.0, "layout")
        return projection.pca_2d(vectors)[:, ::-1].copy()

    monkeypatch.setattr(projection, "project", fake_project)
    c = page.controls
    c.method.setCurrentText("UMAP")
    assert c.neighbours.isEnabled() and c.min_dist.isEnabled()
    c.neighbours.setValue(5)
    c.min_dist.setValue(0.3)
    c.distance.setCurrentText("euclidean")
    assert c.values() == {
        "count": c.count.value(),
        "method": "umap",
        "neighbours": 5,
        "min_dist": 0.3,
        "metric": "euclidean",
        "seed": None,  # unseeded: the layout on every core
    }
    before = page.map_plot.xy.copy()
    with qtbot.waitSignal(page.projection_tasks.sig_partial, timeout=TIMEOUT):
        page.project()
    assert c.stop_button.isVisible() and not c.project_button.isEnabled()
    qtbot.waitUntil(lambda: c.progress.maximum() == 100 and c.progress.value() == 50)
    assert c.phase.text() == "layout"
    with qtbot.waitSignal(page.projection_tasks.sig_result, timeout=TIMEOUT):
        release.set()
    assert seen == [projection.ProjectionSettings("umap", 5, 0.3, "euclidean", None)]
    assert not c.stop_button.isVisible() and c.project_button.isEnabled()
    np.testing.assert_allclose(page.map_plot.xy, before[:, ::-1])
    # Stop while it runs: the map keeps what it had
    release.clear()
    with qtbot.waitSignal(page.projection_tasks.sig_partial, timeout=TIMEOUT):
        page.project()
    c.stop_button.click()
    release.set()
    assert "stopped" in page.status.text() and not c.stop_button.isVisible()
    np.testing.assert_allclose(page.map_plot.xy, before[:, ::-1])
    c.method.setCurrentText("PCA")
    assert not c.neighbours.isEnabled()
