"""Guards against the PySide6 release that drops references to None on every repaint.

PySide6 6.12.0 on Python < 3.12 loses a reference to ``None`` for many void Qt calls
(~170 per pyqtgraph repaint), so a live plot aborts the interpreter within minutes
("none_dealloc"). pyproject.toml excludes that release; this test fails if it comes back.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg


def test_repaints_do_not_drop_references_to_none(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    curve = widget.plot(np.arange(500.0), np.zeros(500))
    widget.grab()
    before = sys.getrefcount(None)
    for i in range(40):
        curve.setData(np.arange(500.0), np.sin(np.arange(500.0) / (i + 1)))
        widget.grab()
    assert sys.getrefcount(None) - before > -500  # 6.12.0 on 3.11: about -7,000
