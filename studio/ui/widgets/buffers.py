"""Growing numpy buffers and an incremental exponential moving average for the live plots.

Plain numpy, no Qt: the plot widgets append batches of rows here and redraw from
:meth:`GrowingBuffer.view` on a timer (pyqtgraph's ``examples/scrollingPlots.py`` pattern).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np  # noqa: TID253  (only imported by the plot widgets, after the window is up)

__all__ = ["EmaTracker", "GrowingBuffer", "ema"]

# Block length cap for the blocked EMA scan; also bounded so that c**-block stays finite.
_MAX_BLOCK = 1024
# log(largest scale factor) allowed inside one block: keeps c**-k well below float64 overflow.
_MAX_LOG_SCALE = 600.0


class GrowingBuffer:
    """A preallocated ``(capacity, ncols)`` float64 array that doubles when full.

    The array is stored column-major, so each column of :meth:`view` is contiguous: plotting
    ``view()[:, j]`` hands pyqtgraph a contiguous array without a copy.
    """

    def __init__(self, ncols: int, capacity: int = 1024) -> None:
        if ncols < 1:
            raise ValueError(f"ncols must be >= 1, got {ncols}")
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._ncols = ncols
        self._initial = capacity
        self._data = np.empty((capacity, ncols), dtype=np.float64, order="F")
        self._n = 0

    @property
    def ncols(self) -> int:
        """Number of columns."""
        return self._ncols

    @property
    def capacity(self) -> int:
        """Rows allocated (filled or not)."""
        return int(self._data.shape[0])

    def __len__(self) -> int:
        return self._n

    def append(self, rows: np.ndarray | Sequence[float] | Sequence[Sequence[float]]) -> None:
        """Append one row (1-D, ``ncols`` long) or many rows (``(k, ncols)``) at once."""
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim == 1:
            if self._ncols == 1 and arr.shape[0] != 1:
                arr = arr.reshape(-1, 1)  # a 1-column buffer takes a flat sequence of values
            else:
                arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != self._ncols:
            raise ValueError(f"expected rows with {self._ncols} columns, got shape {arr.shape}")
        k = arr.shape[0]
        if k == 0:
            return
        end = self._n + k
        if end > self._data.shape[0]:
            self._grow(end)
        self._data[self._n : end] = arr
        self._n = end

    def _grow(self, needed: int) -> None:
        capacity = self._data.shape[0]
        while capacity < needed:
            capacity *= 2
        data = np.empty((capacity, self._ncols), dtype=np.float64, order="F")
        data[: self._n] = self._data[: self._n]
        self._data = data

    def view(self) -> np.ndarray:
        """The filled rows, shape ``(len(self), ncols)``; a view, not a copy."""
        return self._data[: self._n]

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` of the filled rows (a contiguous view)."""
        return self._data[: self._n, j]

    def clear(self) -> None:
        """Forget all rows and release the memory (views handed out earlier stay valid)."""
        self._data = np.empty((self._initial, self._ncols), dtype=np.float64, order="F")
        self._n = 0


def _linear_scan(u: np.ndarray, c: float, y0: float) -> np.ndarray:
    """Solve ``y[i] = c * y[i-1] + u[i]`` with ``y[-1] = y0`` for ``0 <= c < 1``, vectorised.

    Blocks of ``B`` values are solved at once with a scaled cumulative sum
    (``y[j] = c**j * (c*y0 + sum_k c**-k * u[k])``); the per-block carries form the same
    recurrence with coefficient ``c**B`` over ``n / B`` values, solved recursively.
    """
    n = u.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if c < 1e-150:  # c * y is below float64 resolution of any sensible y
        out = u.astype(np.float64, copy=True)
        out[0] += c * y0
        return out
    log_c = math.log(c)  # < 0
    block = int(min(_MAX_BLOCK, max(2, _MAX_LOG_SCALE // -log_c)))
    if n <= block:
        k = np.arange(n, dtype=np.float64)
        s = np.cumsum(u * np.exp(-k * log_c))
        s += c * y0
        s *= np.exp(k * log_c)
        return s
    m = -(-n // block)
    padded = np.zeros(m * block, dtype=np.float64)
    padded[:n] = u
    local = padded.reshape(m, block)
    k = np.arange(block, dtype=np.float64)
    local *= np.exp(-k * log_c)
    np.cumsum(local, axis=1, out=local)
    local *= np.exp(k * log_c)  # each block now solved from a zero start
    carries = _linear_scan(local[:, -1].copy(), math.exp(block * log_c), y0)
    starts = np.empty(m, dtype=np.float64)
    starts[0] = y0
    starts[1:] = carries[:-1]
    local += np.outer(starts, np.exp((k + 1.0) * log_c))
    return padded[:n]


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"EMA alpha must be in (0, 1], got {alpha}")
    return alpha


def _fill_nonfinite(x: np.ndarray, seed: float) -> np.ndarray:
    """Replace non-finite values by the last finite one before them (``seed`` before ``x[0]``)."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return x
    idx = np.where(bad, 0, np.arange(1, x.shape[0] + 1))
    np.maximum.accumulate(idx, out=idx)
    return np.concatenate(([seed], x))[idx]


def ema(values: np.ndarray | Sequence[float], alpha: float) -> np.ndarray:
    """Exponential moving average ``y[i] = alpha*x[i] + (1-alpha)*y[i-1]``, ``y[0] = x[0]``.

    A non-finite input counts as a repeat of the last finite input; leading non-finite inputs
    give NaN. Vectorised: a million points take about ten milliseconds.
    """
    alpha = _check_alpha(alpha)
    x = np.asarray(values, dtype=np.float64).ravel()
    return _ema_from(x, alpha, None, math.nan)


def _ema_from(x: np.ndarray, alpha: float, last: float | None, last_raw: float) -> np.ndarray:
    """EMA of ``x`` continuing from average ``last`` (``None``: start at the first value).

    ``last_raw`` is the last finite raw value before ``x``, used to fill non-finite inputs.
    """
    n = x.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.float64)
    x = _fill_nonfinite(x, last_raw)
    if last is None:
        finite = np.flatnonzero(np.isfinite(x))
        out = np.full(n, math.nan)
        if finite.size:
            first = int(finite[0])
            out[first:] = _linear_scan(alpha * x[first:], 1.0 - alpha, float(x[first]))
        return out
    return _linear_scan(alpha * x, 1.0 - alpha, last)


class EmaTracker:
    """Incremental EMA: :meth:`extend` smooths only the new points (O(new points)).

    The averages live in a :class:`GrowingBuffer`; :meth:`set_alpha` recomputes them all
    once, from the raw history the caller keeps.
    """

    def __init__(self, alpha: float, capacity: int = 1024) -> None:
        self._alpha = _check_alpha(alpha)
        self._buf = GrowingBuffer(1, capacity)
        self._last: float | None = None
        self._last_raw = math.nan

    @property
    def alpha(self) -> float:
        """The smoothing factor (weight of the newest point)."""
        return self._alpha

    def __len__(self) -> int:
        return len(self._buf)

    def extend(self, values: np.ndarray | Sequence[float]) -> None:
        """Smooth ``values`` (the next raw points) and append the averages."""
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.shape[0] == 0:
            return
        out = _ema_from(x, self._alpha, self._last, self._last_raw)
        self._buf.append(out.reshape(-1, 1))
        if math.isfinite(out[-1]):
            self._last = float(out[-1])
        finite = np.flatnonzero(np.isfinite(x))
        if finite.size:
            self._last_raw = float(x[finite[-1]])

    def values(self) -> np.ndarray:
        """The averages so far (a contiguous view, no copy)."""
        return self._buf.column(0)

    def set_alpha(self, alpha: float, history: np.ndarray | Sequence[float]) -> None:
        """Change alpha and recompute every average from ``history`` (all raw points)."""
        alpha = _check_alpha(alpha)
        self._alpha = alpha
        self.clear()
        self.extend(history)

    def clear(self) -> None:
        """Forget all points (alpha is kept)."""
        self._buf.clear()
        self._last = None
        self._last_raw = math.nan
