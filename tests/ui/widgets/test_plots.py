"""The plot widgets and their buffers (offscreen, pytest-qt)."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QSlider
from pytestqt.qtbot import QtBot

from studio.ui.widgets.buffers import EmaTracker, GrowingBuffer, ema
from studio.ui.widgets.plots import BarChart, CoverageChart, HistogramChart, TrainingPlots


def _ema_loop(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty_like(x)
    acc = x[0]
    for i, v in enumerate(x):
        acc = v if i == 0 else alpha * v + (1.0 - alpha) * acc
        out[i] = acc
    return out


def _step_rows(start: int, n: int, steps_per_epoch: int = 10) -> np.ndarray:
    step = np.arange(start, start + n, dtype=np.float64)
    loss = 1.0 + np.sin(step / 7.0) * 0.1 + 1.0 / step
    return np.column_stack([step, step / steps_per_epoch, step * 0.5, loss])


@pytest.fixture
def plots(qtbot: QtBot) -> TrainingPlots:
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    return widget


# -- buffers ------------------------------------------------------------------------------


def test_growing_buffer_doubles_and_views_the_filled_rows() -> None:
    buf = GrowingBuffer(3, capacity=4)
    buf.append([1.0, 2.0, 3.0])  # one row
    buf.append(np.arange(6.0).reshape(2, 3))
    assert len(buf) == 3 and buf.capacity == 4
    more = np.arange(18.0).reshape(6, 3) + 100
    buf.append(more)  # needs 9 rows: 4 -> 8 -> 16
    assert len(buf) == 9 and buf.capacity == 16
    expected = np.vstack([[1.0, 2.0, 3.0], np.arange(6.0).reshape(2, 3), more])
    np.testing.assert_array_equal(buf.view(), expected)
    view = buf.view()
    assert view.shape == (9, 3)
    assert np.shares_memory(view, buf.view())  # a view of the storage, not a copy
    assert buf.column(2).flags.c_contiguous
    np.testing.assert_array_equal(buf.column(1), expected[:, 1])
    buf.append(np.empty((0, 3)))
    assert len(buf) == 9
    with pytest.raises(ValueError, match="3 columns"):
        buf.append(np.zeros((2, 4)))
    buf.clear()
    assert len(buf) == 0 and buf.view().shape == (0, 3) and buf.capacity == 4
    np.testing.assert_array_equal(view, expected)  # views handed out earlier stay intact


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.1, 0.01])
def test_ema_matches_the_recurrence(alpha: float) -> None:
    x = np.random.default_rng(1).normal(size=3000) + 2.0
    np.testing.assert_allclose(ema(x, alpha), _ema_loop(x, alpha), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("alpha", [1.0, 0.3, 0.05, 0.001])
def test_ema_incremental_equals_full_recompute(alpha: float) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=20_000)
    x[rng.random(x.size) < 0.01] = np.nan  # a diverging step now and then
    tracker = EmaTracker(alpha, capacity=8)
    i = 0
    while i < x.size:
        k = int(rng.integers(1, 700))
        tracker.extend(x[i : i + k])
        i += k
    full = ema(x, alpha)
    np.testing.assert_allclose(tracker.values(), full, rtol=1e-9, atol=1e-12)
    assert np.isfinite(full).all()  # non-finite inputs are skipped, not propagated
    tracker.set_alpha(0.2, x)
    np.testing.assert_allclose(tracker.values(), ema(x, 0.2), rtol=1e-9, atol=1e-12)


def test_ema_of_a_million_points_is_fast() -> None:
    x = np.random.default_rng(3).random(1_000_000)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        ema(x, 0.1)
        best = min(best, time.perf_counter() - start)
    assert best < 0.1


def test_ema_rejects_a_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha"):
        ema([1.0, 2.0], 0.0)


# -- TrainingPlots --------------------------------------------------------------------------


def test_controls_and_plots_have_their_object_names(plots: TrainingPlots) -> None:
    assert isinstance(plots.findChild(QSlider, "smoothingSlider"), QSlider)
    assert isinstance(plots.findChild(QCheckBox, "logYCheck"), QCheckBox)
    combo = plots.findChild(QComboBox, "xAxisCombo")
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Steps", "Epochs", "Wall time"]
    assert isinstance(plots.findChild(pg.PlotWidget, "lossPlot"), pg.PlotWidget)
    assert isinstance(plots.findChild(pg.PlotWidget, "valPlot"), pg.PlotWidget)
    assert plots.smoothing_alpha() == pytest.approx(0.1)


def test_appended_steps_reach_the_curves_through_the_timer(
    qtbot: QtBot, plots: TrainingPlots
) -> None:
    raw, smooth = plots.raw_curve, plots.smooth_curve
    items = plots.lossPlot.getPlotItem().listDataItems()
    rows = _step_rows(1, 100)
    plots.append_steps(rows)
    assert plots.is_dirty()
    qtbot.waitUntil(lambda: not plots.is_dirty(), timeout=2000)
    x, y = raw.getData()
    np.testing.assert_array_equal(x, rows[:, 0])
    np.testing.assert_array_equal(y, rows[:, 3])
    np.testing.assert_allclose(smooth.getData()[1], ema(rows[:, 3], 0.1))

    more = _step_rows(101, 50)
    plots.append_steps(more)
    plots.redraw()
    assert plots.raw_curve is raw and plots.smooth_curve is smooth
    assert plots.lossPlot.getPlotItem().listDataItems() == items  # one item per series
    assert len(items) == 2
    x, y = raw.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(1.0, 151.0))
    np.testing.assert_array_equal(y, np.vstack([rows, more])[:, 3])
    np.testing.assert_allclose(smooth.getData()[1], ema(y, 0.1))


def test_appends_are_coalesced_into_one_redraw(
    qtbot: QtBot, plots: TrainingPlots, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = plots.raw_curve.setData

    def counting(*args: object, **kwargs: object) -> None:
        calls.append(1)
        original(*args, **kwargs)

    monkeypatch.setattr(plots.raw_curve, "setData", counting)
    for start in range(1, 500, 100):
        plots.append_steps(_step_rows(start, 100))
    qtbot.waitUntil(lambda: not plots.is_dirty(), timeout=2000)
    assert len(calls) == 1
    assert len(plots.raw_curve.getOriginalDataset()[0]) == 500


def test_live_curves_downsample_and_clip(plots: TrainingPlots) -> None:
    for curve in (plots.raw_curve, plots.smooth_curve):
        assert curve.opts["autoDownsample"] is True
        assert curve.opts["downsampleMethod"] == "peak"
        assert curve.opts["clipToView"] is True
        assert curve.opts["pen"].width() <= 1


def test_x_axis_switches_between_steps_epochs_and_wall_time(plots: TrainingPlots) -> None:
    plots.set_steps_per_epoch(10)
    rows = _step_rows(1, 40)
    rows[:, 1] = np.floor(rows[:, 1])  # integer epochs from the caller: derived from steps
    plots.append_steps(rows)
    plots.append_epoch(1, 10, 5.0, 0.9, 0.5, True)
    plots.append_epoch(2, 20, 10.0, 0.8, 0.6, True)
    plots.redraw()
    bottom = plots.lossPlot.getPlotItem().getAxis("bottom")
    assert bottom.labelText == "step"

    plots.xAxisCombo.setCurrentText("Epochs")
    assert plots.x_mode() == "Epochs" and bottom.labelText == "epoch"
    np.testing.assert_allclose(plots.raw_curve.getData()[0], rows[:, 0] / 10)
    np.testing.assert_allclose(plots.smooth_curve.getData()[0], rows[:, 0] / 10)
    np.testing.assert_array_equal(plots.val_loss_curve.getData()[0], [1.0, 2.0])
    np.testing.assert_array_equal(plots.val_acc_curve.getData()[0], [1.0, 2.0])

    plots.xAxisCombo.setCurrentText("Wall time")
    np.testing.assert_allclose(plots.raw_curve.getData()[0], rows[:, 2])
    np.testing.assert_array_equal(plots.val_loss_curve.getData()[0], [5.0, 10.0])
    assert plots.valPlot.getPlotItem().getAxis("bottom").labelText == "wall time (s)"

    plots.set_x_mode("Steps")
    assert plots.xAxisCombo.currentText() == "Steps"
    np.testing.assert_array_equal(plots.raw_curve.getData()[0], rows[:, 0])
    with pytest.raises(ValueError, match="unknown x axis"):
        plots.set_x_mode("Tokens")


def test_first_paint_after_an_x_switch_or_a_reset_shows_all_data(plots: TrainingPlots) -> None:
    plots.set_steps_per_epoch(1000)
    plots.append_steps(_step_rows(1, 20_000, steps_per_epoch=1000))
    plots.redraw()
    plots.grab()
    view = plots.lossPlot.getPlotItem().vb
    plots.set_x_mode("Epochs")
    plots.grab()  # one paint: auto-downsampling must not use the stale 20,000-step range
    (x0, x1), _ = view.viewRange()
    assert x0 <= 0.001 and x1 >= 20.0
    plots.reset()
    plots.set_x_mode("Steps")
    rows = _step_rows(1, 50)
    plots.append_steps(rows)
    plots.redraw()
    plots.grab()
    (x0, x1), _ = view.viewRange()
    assert x0 <= 1.0 and 50.0 <= x1 < 100.0
    np.testing.assert_array_equal(plots.raw_curve.getData()[0], rows[:, 0])  # not thinned


def test_log_y_toggles_the_loss_axis(plots: TrainingPlots) -> None:
    rows = _step_rows(1, 30)
    plots.append_steps(rows)
    plots.redraw()
    plots.logYCheck.setChecked(True)
    item = plots.lossPlot.getPlotItem()
    assert item.ctrl.logYCheck.isChecked()
    assert plots.raw_curve.opts["logMode"] == [False, True]
    np.testing.assert_allclose(plots.raw_curve.getData()[1], np.log10(rows[:, 3]))
    image = plots.grab()  # paints with log axes
    assert not image.isNull()
    plots.set_log_y(False)
    assert not plots.logYCheck.isChecked()
    assert plots.raw_curve.opts["logMode"] == [False, False]
    np.testing.assert_allclose(plots.raw_curve.getData()[1], rows[:, 3])


def test_smoothing_slider_recomputes_the_ema_once(
    plots: TrainingPlots, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _step_rows(1, 200)
    plots.append_steps(rows)
    plots.redraw()
    recomputes: list[float] = []
    original = EmaTracker.set_alpha

    def counting(self: EmaTracker, alpha: float, history: np.ndarray) -> None:
        recomputes.append(alpha)
        original(self, alpha, history)

    monkeypatch.setattr(EmaTracker, "set_alpha", counting)
    for value in (80, 70, 50):  # a drag: several valueChanged before the next redraw
        plots.smoothingSlider.setValue(value)
    plots.redraw()
    assert recomputes == [pytest.approx(0.5)]
    np.testing.assert_allclose(plots.smooth_curve.getData()[1], ema(rows[:, 3], 0.5))
    plots.smoothingSlider.setValue(0)  # alpha 1: the raw values
    plots.redraw()
    np.testing.assert_allclose(plots.smooth_curve.getData()[1], rows[:, 3])


def test_best_epoch_marker_follows_the_best_epoch(plots: TrainingPlots) -> None:
    plots.redraw()
    assert not plots.best_line.isVisible() and not plots.best_val_line.isVisible()
    plots.append_epoch(1, 100, 12.5, 0.9, 0.60, True)
    plots.append_epoch(2, 200, 25.0, 0.7, 0.70, True)
    plots.append_epoch(3, 300, 37.5, 0.8, 0.72, False)
    plots.redraw()
    assert plots.best_line.isVisible() and plots.best_val_line.isVisible()
    assert plots.best_line.value() == 200
    assert plots.best_val_line.value() == 200
    plots.set_x_mode("Epochs")
    assert plots.best_line.value() == 2
    plots.set_x_mode("Wall time")
    assert plots.best_line.value() == 25.0
    np.testing.assert_array_equal(plots.val_acc_curve.getData()[1], [0.60, 0.70, 0.72])


def test_reset_empties_every_series(plots: TrainingPlots) -> None:
    plots.append_steps(_step_rows(1, 50))
    plots.append_epoch(1, 10, 5.0, 0.9, 0.5, True)
    plots.redraw()
    plots.reset()
    for curve in (plots.raw_curve, plots.smooth_curve, plots.val_loss_curve, plots.val_acc_curve):
        assert curve.getOriginalDataset() == (None, None)
    assert plots.step_count() == 0 and not plots.is_dirty()
    assert not plots.best_line.isVisible()
    rows = _step_rows(1, 5)
    plots.append_steps(rows)  # a new run starts from scratch
    plots.redraw()
    np.testing.assert_array_equal(plots.raw_curve.getData()[0], rows[:, 0])
    np.testing.assert_allclose(plots.smooth_curve.getData()[1], ema(rows[:, 3], 0.1))


def test_non_finite_losses_do_not_break_the_smoothed_curve(plots: TrainingPlots) -> None:
    rows = _step_rows(1, 20)
    rows[5, 3] = np.nan
    rows[6, 3] = np.inf
    plots.append_steps(rows)
    plots.redraw()
    assert np.isfinite(plots.smooth_curve.getData()[1]).all()


def test_append_steps_rejects_bad_shapes(plots: TrainingPlots) -> None:
    with pytest.raises(ValueError, match=r"\(k, 4\)"):
        plots.append_steps(np.zeros((3, 3)))
    plots.append_steps(np.empty((0, 4)))
    assert not plots.is_dirty()


def test_colours_follow_the_palette(plots: TrainingPlots) -> None:
    pal = QPalette(plots.palette())
    pal.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    plots.setPalette(pal)
    for plot in (plots.lossPlot, plots.valPlot):
        assert plot.backgroundBrush().color() == QColor("#202020")
        axis = plot.getPlotItem().getAxis("left")
        assert axis.textPen().color() == QColor("#e0e0e0")
    dark_loss = plots.smooth_curve.opts["pen"].color()
    assert dark_loss.lightness() > 128  # a light line on the dark background


# -- dataset charts --------------------------------------------------------------------------


def test_coverage_marker_label_interpolates_on_log_sizes(qtbot: QtBot) -> None:
    chart = CoverageChart()
    qtbot.addWidget(chart)
    chart.set_marker(3000)  # before the curve: the line moves, the rates are unknown
    assert chart.marker_values() is None
    sizes = np.array([100.0, 1_000.0, 10_000.0, 100_000.0])
    train = np.array([0.30, 0.20, 0.10, 0.05])
    valid = np.array([0.35, 0.24, 0.13, 0.07])
    chart.set_curve(sizes, train, valid)
    values = chart.marker_values()
    assert values is not None
    expected_train = np.interp(math.log10(3000), np.log10(sizes), train)
    expected_valid = np.interp(math.log10(3000), np.log10(sizes), valid)
    assert values[0] == pytest.approx(expected_train)
    assert values[1] == pytest.approx(expected_valid)
    text = chart.marker_label.text()
    assert text == (
        f"OOV at 3,000: train {expected_train * 100:.1f}%, valid {expected_valid * 100:.1f}%"
    )
    assert chart.marker_line.value() == pytest.approx(math.log10(3000))  # log-x view units
    assert chart.marker_line.isVisible()
    chart.set_marker(20_000)
    values = chart.marker_values()
    assert values is not None
    assert values[0] == pytest.approx(np.interp(math.log10(20_000), np.log10(sizes), train))
    chart.set_curve(sizes, train)  # no validation split
    assert chart.marker_label.text().startswith("OOV at 20,000: train ")
    assert "valid" not in chart.marker_label.text()


def test_bar_chart_with_fifty_labels(qtbot: QtBot) -> None:
    chart = BarChart()
    qtbot.addWidget(chart)
    chart.resize(500, 800)
    labels = [f"label_{i:02d}_with_a_rather_long_name" for i in range(50)]
    values = [float((i * 37) % 101 + 1) for i in range(50)]
    chart.set_data(labels, values)
    assert chart.values() == values
    assert chart.labels() == labels
    np.testing.assert_array_equal(chart.bars.opts["width"], values)
    levels = chart._tick_levels()  # every label once, coarse levels first
    positions = sorted(int(pos) for level in levels for pos, _ in level)
    assert positions == list(range(50))
    assert len(levels[0]) <= BarChart.MAJOR_LABELS
    axis = chart.plot.getPlotItem().getAxis("left")
    assert axis.style["maxTextLevel"] >= len(levels) - 1  # all levels may be drawn
    shown = [text for level in levels for _, text in level]
    assert all(t.endswith("…") and len(t) <= BarChart.MAX_LABEL_CHARS for t in shown)
    assert not chart.grab().isNull()
    assert chart.warning_label.isHidden()
    chart.set_warning("label_07 has 50x fewer documents than label_03")
    assert not chart.warning_label.isHidden()
    chart.set_warning("")
    assert chart.warning_label.isHidden()
    chart.set_data([], [])
    assert chart.values() == []
    with pytest.raises(ValueError, match="labels"):
        chart.set_data(["a"], [1.0, 2.0])


def test_histogram_chart_is_step_mode(qtbot: QtBot) -> None:
    chart = HistogramChart()
    qtbot.addWidget(chart)
    values = np.random.default_rng(4).lognormal(3.0, 0.8, size=5000)
    chart.set_data(values, bins=25)
    counts, edges = chart.histogram()
    assert counts.sum() == 5000 and len(edges) == 26
    x, y = chart.curve.getOriginalDataset()
    np.testing.assert_array_equal(x, edges)
    np.testing.assert_array_equal(y, counts)
    assert chart.curve.opts["stepMode"] == "center"
    assert chart.curve.opts["fillLevel"] == 0
    assert chart.plot.getPlotItem().getAxis("bottom").labelText == "tokens per document"
    chart.set_data(np.array([]))
    assert chart.curve.getOriginalDataset() == (None, None)
