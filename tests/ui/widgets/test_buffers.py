"""The plot buffers: growing numpy arrays and the incremental EMA."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from studio.ui.widgets.buffers import EmaTracker, GrowingBuffer, ema


def _ema_loop(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty_like(x)
    acc = x[0]
    for i, v in enumerate(x):
        acc = v if i == 0 else alpha * v + (1.0 - alpha) * acc
        out[i] = acc
    return out


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
