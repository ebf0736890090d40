"""Window stability: twenty start/stop training cycles in one window do not leak memory.

Resident memory (``/proc/self/statm``) after a ``gc.collect()`` is read after each cycle.
The baseline is cycle 3, not cycle 1: the first cycles still warm caches that stay for
the process's life (torch's CPU kernels and allocator pools, pyqtgraph's plot items, Qt's
font/glyph caches, the prepared-dataset cache, the Runs page's first rows), so cycle 1 to 2
grows by design. Cycle 20 must be within 5 % of cycle 3.
"""

from __future__ import annotations

import gc
import os
import sys

import pytest
from PySide6.QtWidgets import QComboBox, QSpinBox

from studio.ui.main_window import MainWindow

CYCLES = 20
BASELINE = 3  # 1-based cycle whose RSS is the reference (see the module docstring)
TOLERANCE = 0.05

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/statm"
)


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        resident_pages = int(fh.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _spin(win: MainWindow, name: str) -> QSpinBox:
    spin = win.findChild(QSpinBox, name)
    assert spin is not None, name
    return spin


def test_twenty_start_stop_cycles_keep_memory_flat(loaded: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    win = loaded
    _spin(win, "vocab_size").setValue(500)
    _spin(win, "embed_dim").setValue(16)
    # the fixture's short texts get character n-grams ("auto"): keep their table small, so
    # a cycle's transient copies of it (checkpoints) stay far below the tolerance
    _spin(win, "char_buckets").setValue(10_000)
    _spin(win, "epochs").setValue(500)  # far more than a cycle lasts: every run is stopped
    _spin(win, "batch_size").setValue(4)
    combo = win.findChild(QComboBox, "device_combo")
    combo.setCurrentIndex(combo.findData("cpu"))
    rss: list[int] = []
    for cycle in range(1, CYCLES + 1):
        assert win.can_train(), f"cycle {cycle}: cannot start"
        with qtbot.waitSignal(win.sig_training_update, timeout=30_000):
            win.start_training()
        assert win.controller.is_running()
        with qtbot.waitSignal(win.sig_training_done, timeout=30_000) as done:
            win.stop_training()
        assert done.args[0].status == "stopped", f"cycle {cycle}: {done.args[0]}"
        qtbot.waitUntil(lambda: not win.controller.is_running(), timeout=10_000)
        gc.collect()
        rss.append(_rss_bytes())
    mib = [round(r / 2**20, 1) for r in rss]
    base, last = rss[BASELINE - 1], rss[-1]
    print(
        f"RSS MiB per cycle: {mib}; cycle {BASELINE} {mib[BASELINE - 1]}, cycle {CYCLES} "
        f"{mib[-1]} ({(last - base) / base:+.2%})"
    )
    assert last <= base * (1 + TOLERANCE), (
        f"resident memory grew {(last - base) / base:+.1%} from cycle {BASELINE} to {CYCLES}: "
        f"{mib} MiB"
    )
    assert last >= base * (1 - TOLERANCE), mib  # a big drop would mean a broken measure
