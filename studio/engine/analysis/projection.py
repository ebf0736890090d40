"""2-D maps of embedding vectors: PCA (exact) and UMAP (umap-learn), with settings chosen
before computing, progress while it runs, and cancellation; and the alignment that keeps
maps of successive epochs comparable (orthogonal Procrustes on the shared rows)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from studio.errors import StudioError

Method = Literal["pca", "umap"]
Metric = Literal["cosine", "euclidean", "correlation", "manhattan"]
METHODS: Final = ("pca", "umap")
METRICS: Final = ("cosine", "euclidean", "correlation", "manhattan")

#: ``progress(fraction or None, phase)``: None while the phase's length is unknown.
Progress = Callable[[float | None, str], None]
#: Returns True when the user asked to stop; checked between UMAP's epochs.
Cancelled = Callable[[], bool]


class ProjectionCancelled(StudioError):
    """The user stopped a projection before it finished."""


@dataclass(frozen=True)
class ProjectionSettings:
    """How to place vectors on the map. UMAP's knobs are umap-learn's own:
    ``neighbours`` (2-200: local detail against global shape), ``min_dist`` (0-0.99: how
    tightly points pack) and ``metric``."""

    method: Method = "pca"
    neighbours: int = 15
    min_dist: float = 0.1
    metric: Metric = "cosine"
    #: None: not reproducible, but umap-learn then runs its layout on every core (100k
    #: points on 2 cores: 102 s against 128 s seeded); a seed makes it single-threaded.
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise StudioError(f"unknown projection {self.method!r}; expected one of pca, umap")
        if not 2 <= self.neighbours <= 200:
            raise StudioError(f"neighbours must be 2 to 200, got {self.neighbours}")
        if not 0.0 <= self.min_dist < 1.0:
            raise StudioError(f"min_dist must be at least 0 and under 1, got {self.min_dist}")
        if self.metric not in METRICS:
            raise StudioError(f"unknown metric {self.metric!r}; expected one of {METRICS}")


def available_methods() -> list[str]:
    """Projection methods usable here: ``pca`` always, ``umap`` when umap-learn imports."""
    import importlib.util

    return ["pca", "umap"] if importlib.util.find_spec("umap") is not None else ["pca"]


def project(
    vectors: np.ndarray,
    settings: ProjectionSettings | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> np.ndarray:
    """``[n, 2]`` float32 coordinates of ``vectors`` ``[n, dim]``.

    PCA is exact and deterministic (each component's sign makes its largest-magnitude
    loading positive). UMAP reports its epochs through ``progress`` and stops with
    :class:`ProjectionCancelled` when ``cancelled()`` turns true.
    """
    settings = settings or ProjectionSettings()
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got shape {x.shape}")
    if settings.method == "pca" or len(x) <= settings.neighbours + 1:
        return pca_2d(x)
    return _umap(x, settings, progress or (lambda _f, _p: None), cancelled or (lambda: False))


def project_2d(vectors: np.ndarray, method: str = "pca", seed: int | None = 0) -> np.ndarray:
    """:func:`project` with the default settings of ``method``."""
    return project(vectors, ProjectionSettings(method=method, seed=seed))  # type: ignore[arg-type]


def pca_2d(x: np.ndarray) -> np.ndarray:
    """The first two principal components (zeros past the data's rank)."""
    x = np.asarray(x, dtype=np.float64)
    n, dim = x.shape
    out = np.zeros((n, 2), dtype=np.float32)
    if n < 2 or dim == 0:
        return out
    centred = x - x.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)  # eigenvalues ascending
    k = min(2, dim)
    components = vectors[:, ::-1][:, :k]
    biggest = np.abs(components).argmax(axis=0)
    signs = np.sign(components[biggest, np.arange(k)])
    components = components * np.where(signs == 0, 1.0, signs)
    out[:, :k] = centred @ components
    return out


class _EpochCounter:
    """A file for umap-learn's tqdm bar: turns its ``n/total`` into progress, and stops the
    optimisation (by raising) when the user cancels."""

    _COUNT: Final = re.compile(r"(\d+)/(\d+)")

    def __init__(self, progress: Progress, cancelled: Cancelled) -> None:
        self.progress, self.cancelled = progress, cancelled

    def write(self, text: str) -> int:
        if self.cancelled():
            raise ProjectionCancelled("projection stopped")
        found = self._COUNT.findall(text)
        if found:
            done, total = (int(v) for v in found[-1])
            self.progress(done / max(total, 1), "layout")
        return len(text)

    def flush(self) -> None:
        return None


def _umap(
    x: np.ndarray, s: ProjectionSettings, progress: Progress, cancelled: Cancelled
) -> np.ndarray:
    progress(None, "loading umap-learn")
    try:
        with warnings.catch_warnings():  # "Tensorflow not installed; ParametricUMAP ..."
            warnings.simplefilter("ignore", ImportWarning)
            import umap  # type: ignore[import-not-found]
    except ImportError:
        raise StudioError("UMAP needs the 'umap-learn' package (pip install umap-learn)") from None
    if cancelled():
        raise ProjectionCancelled("projection stopped")
    from studio.engine.analysis.knn import exact_knn

    # exact neighbours where they are cheap: NN-descent's numba code would be compiled in
    # each process before its first map (70 to 80 s on 2 cores, measured)
    knn = exact_knn(x, s.neighbours, s.metric, cancelled)
    if cancelled():
        raise ProjectionCancelled("projection stopped")
    slow = "" if knn is not None else " (the first UMAP of a session compiles for ~80 s)"
    progress(None, f"nearest neighbours{slow}")
    counter = _EpochCounter(progress, cancelled)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=s.neighbours,
        min_dist=s.min_dist,
        metric=s.metric,
        random_state=s.seed,
        n_jobs=-1 if s.seed is None else 1,  # a seed makes umap-learn single-threaded
        # under 4,096 points umap-learn computes all pairwise distances through sklearn,
        # calling its numba metric once per pair from Python (minutes for 2,000 points,
        # holding the GIL); NN-descent takes seconds at any size, once compiled
        force_approximation_algorithm=True,
        precomputed_knn=(None, None, None) if knn is None else (*knn, None),
        tqdm_kwds={"file": counter, "disable": False, "mininterval": 0.1, "ascii": True},
    )
    try:
        with warnings.catch_warnings():  # no transform() of new points is needed here
            warnings.filterwarnings("ignore", "precomputed_knn", UserWarning)
            xy = reducer.fit_transform(x.astype(np.float32))
    except ProjectionCancelled:
        _release_tqdm_lock()
        raise
    progress(1.0, "layout")
    return np.asarray(xy, dtype=np.float32)


def _release_tqdm_lock() -> None:
    """Free tqdm's process-wide lock if this thread still holds it. A stop raises from the
    bar's file inside ``tqdm.refresh()``, which acquires that lock without a try/finally:
    left held, every later bar in the process (the next UMAP map) would wait forever."""
    from tqdm import tqdm

    for inner in reversed(getattr(tqdm.get_lock(), "locks", [])):
        semlock = getattr(inner, "_semlock", None)  # multiprocessing.RLock
        mine = semlock._is_mine() if semlock is not None else inner._is_owned()
        if mine:
            inner.release()


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` ``[n, 2]`` rotated (or reflected), scaled and shifted onto ``target``
    ``[n, 2]`` with the least squared distance (orthogonal Procrustes)."""
    a = np.asarray(source, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    ca, cb = a - mu_a, b - mu_b
    u, sigma, vt = np.linalg.svd(ca.T @ cb)
    rotation = u @ vt
    norm = float((ca**2).sum())
    scale = float(sigma.sum()) / norm if norm > 0 else 1.0
    return (ca @ rotation * scale + mu_b).astype(np.float32)


def aligned_frames(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Each frame's 2-D map aligned onto the last (the final epoch's), so a point moves on
    screen only when its place among the others changes."""
    if not frames:
        return []
    last = frames[-1]
    return [procrustes(f, last) for f in frames[:-1]] + [np.asarray(last, dtype=np.float32)]


def epoch_maps(
    frames: list[np.ndarray],
    settings: ProjectionSettings | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> list[np.ndarray]:
    """One map per epoch of the same rows, each projected on its own and then aligned onto
    the last epoch's map (:func:`aligned_frames`)."""
    maps = []
    for i, frame in enumerate(frames):
        if cancelled is not None and cancelled():
            raise ProjectionCancelled("projection stopped")
        maps.append(project(frame, settings, None, cancelled))
        if progress is not None:
            progress((i + 1) / len(frames), "epochs")
    return aligned_frames(maps)
