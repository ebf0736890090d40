"""How much the window costs: launch time, GUI-thread timer lateness, docs/s vs the CLI.

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_window.py [--repeats 3] [--epochs 10]
                                                                 [--data PATH]

1. launch -> window shown: ``python -m studio --report-startup`` in a fresh process, from
   spawn to the first event-loop turn after ``show()`` (median of ``repeats``).
2. a 16 ms QTimer on the GUI thread while the window trains at full speed on CPU:
   lateness = actual interval - 16 ms, p50 / p95 / max.
3. training docs/s in the window vs ``studio train --json`` with the same settings, run
   alternately ``repeats`` times; medians and their ratio.
2 and 3 are measured for both ways the window can train a single-device run: in a child
process (the default) and on a worker thread of the GUI process (``child_runs = False``).
Nothing here asserts a speed; it prints figures for the README and closing notes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.config import SAMPLE_DATASET

SAMPLE = SAMPLE_DATASET


def launch_seconds(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "--report-startup"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("shown"):
            elapsed = time.perf_counter() - t0
            break
    proc.kill()
    proc.wait()
    return elapsed


def window_run(
    epochs: int, runs_dir: str, data: Path = SAMPLE, child: bool = True
) -> tuple[float, np.ndarray, float]:
    """Train in the window (in a child process, or on its thread); returns (docs/s, timer
    lateness in ms, the window process's CPU seconds per second from start to end)."""
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

    from studio.ui.app import make_app
    from studio.ui.main_window import MainWindow
    from studio.ui.workers.payloads import RunEnded, RunFinished

    app = make_app()
    settings = QSettings(str(Path(runs_dir) / "s.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, runs_dir=runs_dir)
    win.controller.child_runs = child
    win.resize(1280, 800)
    win.show()
    intervals: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(16)
    timer.setTimerType(timer.timerType().PreciseTimer)

    def tick() -> None:
        intervals.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    timer.timeout.connect(tick)
    results: list[RunEnded] = []
    cpu: list[float] = []

    ready: set[str] = set()

    def start_when(what: str) -> None:
        """Train once the dataset is loaded and the devices are listed: the window's
        start-up work (the device list imports torch off the GUI thread) is then over, and
        the figures are those of training, not of a launch."""
        ready.add(what)
        if ready != {"loaded", "devices"}:
            return
        win.setup_page.epochs.setValue(epochs)
        cpu.extend((time.process_time(), time.perf_counter()))
        win.start_training()
        clock.start()
        timer.start()

    def done(r: RunEnded) -> None:
        timer.stop()
        cpu[:] = [(time.process_time() - cpu[0]) / (time.perf_counter() - cpu[1])]
        results.append(r)
        win.close()

    win.dataset_page.sig_loaded.connect(lambda _p: start_when("loaded"))
    win.setup_page.sig_devices_listed.connect(lambda _d: start_when("devices"))
    win.sig_training_done.connect(done)
    win.open_path(str(data))
    app.exec()
    lateness = np.asarray(intervals[1:]) - 16.0
    finished = results[0]
    assert isinstance(finished, RunFinished), finished
    return finished.docs_per_second, lateness, cpu[0]


def cli_run(epochs: int, env: dict[str, str], data: Path = SAMPLE) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "studio", "train", str(data), "--epochs", str(epochs),
         "--json", "--quiet"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    return float(json.loads(out.strip().splitlines()[-1])["docs_per_second"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--data", type=Path, default=SAMPLE, help="dataset (default: the sample)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="studio-bench-")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "STUDIO_RUNS_DIR": tmp, "STUDIO_CACHE_DIR": str(Path(tmp) / "cache")}  # fmt: skip
    os.environ.update(env)
    cli_run(1, env, args.data)  # warm the dataset cache for both

    launches = [launch_seconds(env) for _ in range(args.repeats)]
    print(f"launch -> window shown: median {statistics.median(launches):.3f} s "
          f"({', '.join(f'{x:.3f}' for x in launches)})")  # fmt: skip

    modes = {"child process": True, "thread": False}
    window: dict[str, list[float]] = {m: [] for m in modes}
    late: dict[str, list[np.ndarray]] = {m: [] for m in modes}
    busy: dict[str, list[float]] = {m: [] for m in modes}
    cli: list[float] = []
    for _ in range(args.repeats):
        for mode, child in modes.items():
            docs_s, lateness, cpu_share = window_run(args.epochs, tmp, args.data, child)
            window[mode].append(docs_s)
            late[mode].append(lateness)
            busy[mode].append(cpu_share)
        cli.append(cli_run(args.epochs, env, args.data))
        shown = "   ".join(f"{m} {v[-1]:,.0f}" for m, v in window.items())
        print(f"  window: {shown} docs/s   cli {cli[-1]:,.0f} docs/s")
    c = statistics.median(cli)
    print(f"studio train: median {c:,.0f} docs/s")
    for mode in modes:
        all_late = np.concatenate(late[mode])
        p50, p95 = np.percentile(all_late, [50, 95])
        w = statistics.median(window[mode])
        print(f"window, {mode}: docs/s median {w:,.0f}, ratio to studio train {w / c:.2f}; "
              f"16 ms timer lateness p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"max {all_late.max():.1f} ms over {len(all_late)} ticks; the window "
              f"process's CPU {statistics.median(busy[mode]):.2f} s per second "
              "(with the child: the window alone)")  # fmt: skip


if __name__ == "__main__":
    main()
