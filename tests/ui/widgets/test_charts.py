"""The dataset charts: labelled bars, the length histogram, OOV coverage (offscreen)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from studio.ui.widgets.charts import BarChart, CoverageChart, HistogramChart


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
    clipped, _, _ = chart.clipped()
    p99 = np.percentile(values, 99)
    expected = int((values > p99).sum()) if values.max() > 3 * p99 else 0
    assert counts.sum() + clipped == 5000 and len(edges) == 26 and clipped == expected
    x, y = chart.curve.getOriginalDataset()
    np.testing.assert_array_equal(x, edges)
    np.testing.assert_array_equal(y, counts)
    assert chart.curve.opts["stepMode"] == "center"
    assert chart.curve.opts["fillLevel"] == 0
    assert chart.plot.getPlotItem().getAxis("bottom").labelText == "tokens per document"
    chart.set_data(np.array([]))
    assert chart.curve.getOriginalDataset() == (None, None)
    assert chart.clipped() == (0, 0.0, 0.0) and chart.note.isHidden()


def test_histogram_clips_outliers_and_counts_them_in_a_note(qtbot: QtBot) -> None:
    chart = HistogramChart()
    qtbot.addWidget(chart)
    chart.show()
    rng = np.random.default_rng(5)
    lengths = np.concatenate([rng.integers(20, 120, size=9_990), [14_000, 9_000] + [3_000] * 8])
    chart.set_data(lengths, bins=40)
    counts, edges = chart.histogram()
    n, drawn_up_to, top = chart.clipped()
    assert n == (lengths > np.percentile(lengths, 99)).sum() and n >= 10
    assert counts.sum() == len(lengths) - n
    assert edges[-1] == drawn_up_to < 200  # the bars span the typical lengths, not 14,000
    assert top == 14_000
    assert chart.note.isVisible() and f"{n:,} longer documents" in chart.note.text()
    assert "14,000" in chart.note.text()
    chart.set_data(np.full(100, 7.0))  # no outliers: nothing clipped, no note
    assert chart.clipped() == (0, 0.0, 0.0) and not chart.note.isVisible()
    # a long tail without outliers (the longest under 3x the 99th percentile) is drawn whole
    tail = np.concatenate([rng.integers(20, 200, size=990), rng.integers(200, 400, size=10)])
    chart.set_data(tail)
    assert chart.clipped() == (0, 0.0, 0.0) and chart.histogram()[0].sum() == 1000
