"""Redraw cost of the live loss curves with a million steps (offscreen, 1000x600).

Run:  QT_QPA_PLATFORM=offscreen /work/venv/bin/python tests/bench/bench_plot_redraw.py

One redraw = ``TrainingPlots.redraw()`` (``setData`` of the raw and smoothed curves from the
buffer views, 1M points each) + ``QWidget.grab()`` (a forced paint of both PlotWidgets).
Three cases, 20 timed redraws each (after 3 warm-up redraws):

* ``static``: the same 1M rows are pushed again (the view range does not move);
* ``live``: 1,000 new rows are appended (untimed) before each redraw, so the x range grows
  and auto-downsampling runs a second time after the auto-range, as during training;
  once grabbing the whole TrainingPlots (both plots), once only the loss PlotWidget.

Wall-clock median/p95 and the median process CPU time are printed (CPU time is the steadier
figure on a busy machine).

The budget is 30 ms (median) per redraw.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from studio.ui.widgets.training_plots import TrainingPlots

BUDGET_MS = 30.0


def _rows(start: int, n: int, steps_per_epoch: int, rng: np.random.Generator) -> np.ndarray:
    step = np.arange(start, start + n, dtype=np.float64)
    loss = 2.0 * np.exp(-step / 300_000.0) + 0.05 + 0.2 * rng.random(n)
    return np.column_stack([step, step / steps_per_epoch, step * 0.004, loss])


def _stats(times: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1e3 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return statistics.median(ms), p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--log-y", action="store_true", help="bench with the log-y axis on")
    args = parser.parse_args()

    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until exit
    platform = QGuiApplication.platformName()
    rng = np.random.default_rng(0)
    spe = 1_000
    plots = TrainingPlots()
    plots.resize(1000, 600)
    plots.set_steps_per_epoch(spe)
    rows = _rows(1, args.points, spe, rng)
    t0 = time.perf_counter()
    plots.append_steps(rows)
    append_ms = (time.perf_counter() - t0) * 1e3
    for epoch in range(1, args.points // spe + 1, max(1, args.points // spe // 20)):
        plots.append_epoch(epoch, epoch * spe, epoch * spe * 0.004, 1.0 / epoch, 0.5, epoch < 8)
    plots.set_log_y(args.log_y)
    next_step = args.points + 1

    def run(live: bool, target: QWidget) -> tuple[list[float], list[float]]:
        nonlocal next_step
        wall, cpu = [], []
        for i in range(3 + args.repeats):  # 3 warm-up runs
            if live:
                plots.append_steps(_rows(next_step, 1_000, spe, rng))  # untimed, O(new rows)
                next_step += 1_000
            else:
                plots._steps_dirty = True  # bench only: push the same 1M points again
            w0, c0 = time.perf_counter(), time.process_time()
            plots.redraw()
            target.grab()
            if i >= 3:
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
        return wall, cpu

    cases = {
        "static, grab(TrainingPlots)": run(False, plots),
        "live,   grab(TrainingPlots)": run(True, plots),
        "live,   grab(lossPlot)     ": run(True, plots.loss_plot),
    }

    t0 = time.perf_counter()
    plots.smoothing_slider.setValue(plots.smoothing_slider.value() - 1)
    plots.redraw()
    smoothing_ms = (time.perf_counter() - t0) * 1e3

    shown_x = plots.raw_curve.getData()[0]
    shown = 0 if shown_x is None else len(shown_x)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Qt platform: {platform}, CPUs: {os.cpu_count()}, load average: {load}")
    print(f"points: {plots.step_count():,}, widget 1000x600, log y: {args.log_y}")
    print(f"append {args.points:,} rows (buffer + EMA): {append_ms:.1f} ms")
    print(f"raw curve points drawn after peak downsampling: {shown:,}")
    ok = True
    for name, (wall, cpu) in cases.items():
        median, p95 = _stats(wall)
        cpu_median, _ = _stats(cpu)
        ok &= median < BUDGET_MS
        print(
            f"redraw {name} x{len(wall)}: median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(CPU median {cpu_median:.1f} ms)"
        )
    print(
        f"smoothing change (EMA recompute of all points + setData, no paint): {smoothing_ms:.1f} ms"
    )
    print("median within budget" if ok else f"median OVER the {BUDGET_MS:.0f} ms budget")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
