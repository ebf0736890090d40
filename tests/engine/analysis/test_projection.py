"""The projector's engine side: settings, UMAP with progress and cancel, Procrustes
alignment, and the per-epoch snapshots a run writes for the animation."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine import train_run
from studio.engine.analysis.embeddings import epoch_snapshots
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.projection import (
    ProjectionCancelled,
    ProjectionSettings,
    aligned_frames,
    epoch_maps,
    procrustes,
    project,
)
from studio.engine.data.word_vectors import word_vectors
from studio.engine.runs.layout import SNAPSHOT_WORDS
from studio.errors import StudioError
from tests.conftest import write_topics_csv


def _blobs(
    n_per: int = 80, k: int = 4, dim: int = 16, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(k, dim))
    labels = np.repeat(np.arange(k), n_per)
    return (centres[labels] + rng.normal(size=(len(labels), dim))).astype(np.float32), labels


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("method", "tsne", "unknown projection"),
        ("neighbours", 1, "neighbours must be 2 to 200"),
        ("min_dist", 1.0, "min_dist must be"),
        ("metric", "hamming", "unknown metric"),
    ],
)
def test_bad_settings_say_which_field(field: str, value: object, message: str) -> None:
    with pytest.raises(StudioError, match=message):
        ProjectionSettings(**{field: value})  # type: ignore[arg-type]


def test_procrustes_undoes_a_rotation_reflection_scale_and_shift() -> None:
    rng = np.random.default_rng(1)
    target = rng.normal(size=(50, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirrored = (target @ rotation) * np.array([1.0, -1.0]) * 3.5 + np.array([10.0, -4.0])
    np.testing.assert_allclose(procrustes(mirrored, target), target, atol=1e-5)
    frames = aligned_frames([mirrored, target * 2 + 1, target])
    for frame in frames:
        np.testing.assert_allclose(frame, target, atol=1e-5)


def test_umap_keeps_clusters_apart_reports_progress_and_can_be_stopped() -> None:
    x, labels = _blobs()
    seen: list[tuple[float | None, str]] = []
    xy = project(x, ProjectionSettings("umap", neighbours=10), lambda f, p: seen.append((f, p)))
    assert xy.shape == (len(x), 2) and np.isfinite(xy).all()
    # each point's nearest other point on the map is from its own blob
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.95
    fractions = [f for f, phase in seen if phase == "layout" and f is not None]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0
    phases = [p for f, p in seen if f is None][:2]
    assert phases[0] == "loading umap-learn" and phases[1].startswith("nearest neighbours")
    calls = {"n": 0}

    def stop_after_a_few() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(ProjectionCancelled):
        project(x, ProjectionSettings("umap", neighbours=10), None, stop_after_a_few)
    # the stop leaves tqdm's process-wide lock free (tqdm's refresh() holds it without a
    # try/finally around our file's write), so the next map, on any thread, does not hang
    from tqdm import tqdm

    locks = tqdm.get_lock().locks
    got: list[bool] = []

    def take_and_give_back() -> None:
        got.extend(lk.acquire(timeout=5) for lk in locks)
        for lk, taken in zip(reversed(locks), reversed(got), strict=True):
            if taken:
                lk.release()

    probe = threading.Thread(target=take_and_give_back)
    probe.start()
    probe.join()
    assert got == [True] * len(locks)


def test_few_points_fall_back_to_pca() -> None:
    x, _ = _blobs(n_per=2, k=3)
    np.testing.assert_array_equal(project(x, ProjectionSettings("umap", neighbours=15)), project(x))


def test_each_epoch_writes_a_snapshot_that_the_animation_aligns(tmp_path: Path) -> None:
    csv = write_topics_csv(tmp_path / "topics.csv")
    config = StudioConfig(data=DataConfig(path=str(csv))).with_overrides(
        train={"epochs": 3, "lr": 0.05}, tokenizer={"char_ngrams": (3, 4)}
    )
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    epochs, frames = epoch_snapshots(result.run_dir)
    assert epochs == [1, 2, 3]
    run = load_run(result.run_dir)
    n = min(SNAPSHOT_WORDS, run.encoder.vocab_size - 2)
    assert all(f.shape == (n, run.spec.embed_dim) for f in frames)
    assert not np.allclose(frames[0], frames[-1])  # training moved the words
    # the last epoch's frame is the final model's composed word vectors (float16 kept)
    final = word_vectors(run.model.embedding.weight, run.encoder)[2 : 2 + n]
    np.testing.assert_allclose(frames[-1], final, rtol=2e-3, atol=2e-3)
    maps = epoch_maps(frames, progress=None)
    assert len(maps) == 3 and all(m.shape == (n, 2) for m in maps)
    # aligning never moves the last map, and brings the others closer to it
    np.testing.assert_allclose(maps[-1], project(frames[-1]), atol=1e-5)
    raw_gap = float(np.abs(project(frames[0]) - maps[-1]).mean())
    assert float(np.abs(maps[0] - maps[-1]).mean()) <= raw_gap + 1e-6
    assert torch.is_tensor(run.model.embedding.weight)


def test_a_run_without_snapshots_has_no_frames(tmp_path: Path) -> None:
    assert epoch_snapshots(tmp_path) == ([], [])


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "correlation"])
def test_exact_neighbours_are_sklearns_with_each_point_first(metric: str) -> None:
    from sklearn.neighbors import NearestNeighbors

    from studio.engine.analysis.knn import exact_knn

    x, _ = _blobs(n_per=700, k=3)  # 2,100 points: more than one chunk of 1,024
    found = exact_knn(x, 8, metric)
    assert found is not None
    idx, dist = found
    want_d, want_i = (
        NearestNeighbors(n_neighbors=8, metric=metric, algorithm="brute")
        .fit(x.astype(np.float64))
        .kneighbors()
    )
    assert (idx[:, 0] == np.arange(len(x))).all() and (dist[:, 0] == 0).all()
    np.testing.assert_allclose(dist[:, 1:], want_d[:, :7], rtol=1e-3, atol=1e-4)
    assert (idx[:, 1:] == want_i[:, :7]).mean() > 0.99  # ties may swap
    assert exact_knn(x, 8, "manhattan") is None  # left to umap-learn
