"""The projector at 100,000 points: projection time, and frame time while panning.

Run:  QT_QPA_PLATFORM=offscreen python tests/bench/bench_projector.py [--points 100000]
          [--repeats 20] [--no-umap]

Vectors: ``--points`` 64-d float32 rows around 50 random centres (a stand-in for a trained
table's words; UMAP's cost depends on the count and the dimension, not on what the rows mean).

* projection: PCA, then UMAP with the page's defaults (15 neighbours, min. distance 0.1,
  cosine, no seed: the layout on every core), timed once each through
  :func:`studio.engine.analysis.projection.project`. The first UMAP of a process pays
  numba's compilation (not every umap-learn function is cached), so 300 points are
  mapped first and timed on their own;
* ``set_points``: the page's call that loads the map (colours, per-point tokens);
* pan frame: the view moves by 5% and the plot widget repaints (``viewport().repaint()``,
  a forced synchronous paint), ``--repeats`` times; median and max;
* hover lookup: ``ScatterPlotItem.pointsAt`` at random places, as a mouse move does;
* lasso: :func:`points_in_polygon` for a 64-corner polygon over all the points;
* ``--lateness``: instead of the above, UMAP runs on a worker thread (as the page runs it)
  while a 16 ms QTimer ticks on the GUI thread; its lateness p95 and max are printed.

The target: panning stays under 33 ms a frame (30 fps) at 100k points.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _vectors(n: int, dim: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(50, dim))
    classes = rng.integers(0, 50, n)
    return (centres[classes] + rng.normal(size=(n, dim))).astype(np.float32), classes


def _timed(fn: object) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - t, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-umap", action="store_true")
    parser.add_argument("--lateness", action="store_true")
    args = parser.parse_args()
    if args.lateness:
        return _lateness(args.points)

    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    from studio.engine.analysis.projection import ProjectionSettings, project
    from studio.ui.widgets.projector_plot import ProjectorPlot, points_in_polygon

    app = QApplication(sys.argv[:1])
    x, classes = _vectors(args.points)
    seconds, xy = _timed(lambda: project(x))
    print(f"PCA of {args.points:,} x 64: {seconds:.2f} s")
    if not args.no_umap:
        small = x[:300]
        seconds, _ = _timed(lambda: project(small, ProjectionSettings("umap", seed=None)))
        print(f"first UMAP of the process (300 points: numba compiles): {seconds:.1f} s")
        seconds, xy = _timed(lambda: project(x, ProjectionSettings("umap", seed=None)))
        print(f"UMAP of {args.points:,} x 64 (15 neighbours, cosine): {seconds:.1f} s")
    plot = ProjectorPlot()
    plot.resize(1000, 700)
    plot.show()
    tokens = [f"w{i}" for i in range(args.points)]
    seconds, _ = _timed(lambda: plot.set_points(xy, classes, tokens, 50))
    app.processEvents()
    print(f"set_points: {seconds * 1000:.0f} ms")
    view, frames = plot.plot.getViewBox(), []
    width = float(np.ptp(np.asarray(xy)[:, 0]))
    for _ in range(args.repeats):
        view.translateBy(x=0.05 * width)
        t = time.perf_counter()
        plot.plot.viewport().repaint()
        frames.append(time.perf_counter() - t)
    print(
        f"pan frame: median {statistics.median(frames) * 1000:.1f} ms, "
        f"max {max(frames) * 1000:.1f} ms over {args.repeats}"
    )
    rng = np.random.default_rng(1)
    lo, hi = np.asarray(xy).min(axis=0), np.asarray(xy).max(axis=0)
    hovers = []
    for _ in range(args.repeats):
        p = lo + rng.random(2) * (hi - lo)
        t = time.perf_counter()
        plot.scatter.pointsAt(QPointF(float(p[0]), float(p[1])))
        hovers.append(time.perf_counter() - t)
    print(f"hover lookup: median {statistics.median(hovers) * 1000:.1f} ms")
    angle = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    polygon = (lo + hi) / 2 + np.stack([np.cos(angle), np.sin(angle)], 1) * (hi - lo) / 4
    seconds, inside = _timed(lambda: points_in_polygon(np.asarray(xy), polygon))
    print(f"lasso (64 corners): {seconds * 1000:.0f} ms, {int(np.sum(inside)):,} selected")
    plot.close()
    return 0


def _lateness(n: int) -> int:
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.engine.analysis.projection import ProjectionSettings, project

    app = QApplication(sys.argv[:1])
    x, _ = _vectors(n)
    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append(now - last[0] - 0.016)
        last[0] = now

    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(tick)
    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (project(x, ProjectionSettings("umap", seed=None)), done.set())
    )
    t0 = time.perf_counter()
    timer.start()
    worker.start()
    while not done.is_set():
        app.processEvents()
        done.wait(0.001)
    worker.join()
    print(
        f"UMAP of {n:,} on a worker thread: {time.perf_counter() - t0:.1f} s; 16 ms timer "
        f"lateness p95 {np.percentile(late, 95) * 1000:.1f} ms, max {max(late) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
