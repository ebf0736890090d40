"""The live training curves (offscreen, pytest-qt)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QSlider
from pytestqt.qtbot import QtBot

from studio.ui.widgets.buffers import EmaTracker, ema
from studio.ui.widgets.training_plots import TrainingPlots


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


def test_controls_and_plots_have_their_object_names(plots: TrainingPlots) -> None:
    assert isinstance(plots.findChild(QSlider, "smoothing_slider"), QSlider)
    assert isinstance(plots.findChild(QCheckBox, "log_y_check"), QCheckBox)
    combo = plots.findChild(QComboBox, "x_axis_combo")
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Steps", "Epochs", "Wall time"]
    assert isinstance(plots.findChild(pg.PlotWidget, "loss_plot"), pg.PlotWidget)
    assert isinstance(plots.findChild(pg.PlotWidget, "val_plot"), pg.PlotWidget)
    assert plots.smoothing_alpha() == pytest.approx(0.1)


def test_appended_steps_reach_the_curves_through_the_timer(
    qtbot: QtBot, plots: TrainingPlots
) -> None:
    raw, smooth = plots.raw_curve, plots.smooth_curve
    items = plots.loss_plot.getPlotItem().listDataItems()
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
    assert plots.loss_plot.getPlotItem().listDataItems() == items  # one item per series
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
    bottom = plots.loss_plot.getPlotItem().getAxis("bottom")
    assert bottom.labelText == "step"

    plots.x_axis_combo.setCurrentText("Epochs")
    assert plots.x_mode() == "Epochs" and bottom.labelText == "epoch"
    np.testing.assert_allclose(plots.raw_curve.getData()[0], rows[:, 0] / 10)
    np.testing.assert_allclose(plots.smooth_curve.getData()[0], rows[:, 0] / 10)
    np.testing.assert_array_equal(plots.val_loss_curve.getData()[0], [1.0, 2.0])
    np.testing.assert_array_equal(plots.val_acc_curve.getData()[0], [1.0, 2.0])

    plots.x_axis_combo.setCurrentText("Wall time")
    np.testing.assert_allclose(plots.raw_curve.getData()[0], rows[:, 2])
    np.testing.assert_array_equal(plots.val_loss_curve.getData()[0], [5.0, 10.0])
    assert plots.val_plot.getPlotItem().getAxis("bottom").labelText == "wall time (s)"

    plots.set_x_mode("Steps")
    assert plots.x_axis_combo.currentText() == "Steps"
    np.testing.assert_array_equal(plots.raw_curve.getData()[0], rows[:, 0])
    with pytest.raises(ValueError, match="unknown x axis"):
        plots.set_x_mode("Tokens")


def test_first_paint_after_an_x_switch_or_a_reset_shows_all_data(plots: TrainingPlots) -> None:
    plots.set_steps_per_epoch(1000)
    plots.append_steps(_step_rows(1, 20_000, steps_per_epoch=1000))
    plots.redraw()
    plots.grab()
    view = plots.loss_plot.getPlotItem().vb
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
    plots.log_y_check.setChecked(True)
    item = plots.loss_plot.getPlotItem()
    assert item.ctrl.logYCheck.isChecked()
    assert plots.raw_curve.opts["logMode"] == [False, True]
    np.testing.assert_allclose(plots.raw_curve.getData()[1], np.log10(rows[:, 3]))
    image = plots.grab()  # paints with log axes
    assert not image.isNull()
    plots.set_log_y(False)
    assert not plots.log_y_check.isChecked()
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
        plots.smoothing_slider.setValue(value)
    plots.redraw()
    assert recomputes == [pytest.approx(0.5)]
    np.testing.assert_allclose(plots.smooth_curve.getData()[1], ema(rows[:, 3], 0.5))
    plots.smoothing_slider.setValue(0)  # alpha 1: the raw values
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
    pal.setColor(QPalette.ColorRole.Window, QColor("#181818"))  # a dark palette: dark window
    pal.setColor(QPalette.ColorRole.Base, QColor("#202020"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    plots.setPalette(pal)
    for plot in (plots.loss_plot, plots.val_plot):
        assert plot.backgroundBrush().color() == QColor("#202020")
        axis = plot.getPlotItem().getAxis("left")
        assert axis.textPen().color() == QColor("#e0e0e0")
    dark_loss = plots.smooth_curve.opts["pen"].color()
    assert dark_loss.lightness() > 128  # a light line on the dark background


def test_the_module_states_the_redraw_rate_its_timer_has() -> None:
    import studio.ui.widgets.training_plots as module

    doc = module.__doc__ or ""
    interval = module.REDRAW_INTERVAL_MS
    assert f"{interval} ms: at most {1000 // interval} redraws a second" in doc
    assert "30 redraws" not in doc and "33 ms" not in doc


def test_the_redraw_timer_fires_at_the_stated_interval(plots: TrainingPlots) -> None:
    from studio.ui.widgets.training_plots import REDRAW_INTERVAL_MS

    plots.append_steps(_step_rows(1, 3))
    assert plots._timer.isSingleShot() and plots._timer.interval() == REDRAW_INTERVAL_MS == 100
