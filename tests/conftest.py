"""Shared fixtures. Every test writes runs and caches under its own tmp_path."""

from __future__ import annotations

import os

# GUI tests run offscreen wherever `pytest` is started (no display needed); set before
# pytest-qt creates the QApplication
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
from pathlib import Path

import pytest
from hypothesis import settings

from studio.config import SAMPLE_DATASET

# CI replays the same examples on every run, so a landing is never decided by which random
# inputs Hypothesis drew; a developer's runs keep exploring new ones (and keep failures in
# .hypothesis/ to replay them).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = SAMPLE_DATASET

TOPICS = {
    "sport": "ball goal team match win play score coach league referee".split(),
    "tech": "code computer software bug chip data cloud server kernel compile".split(),
    "food": "eat cook bread cheese taste recipe meal soup oven spice".split(),
}
COMMON = "the a of and to in is it that was for on with as by at".split()


def write_topics_csv(path: Path, n: int = 1200, seed: int = 0) -> Path:
    """A small three-class CSV whose classes are separable by topic words."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(n):
            label = rng.choice(sorted(TOPICS))
            words = [
                rng.choice(TOPICS[label]) if rng.random() < 0.35 else rng.choice(COMMON)
                for _ in range(rng.randint(5, 25))
            ]
            fh.write(f"{' '.join(words)},{label}\n")
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` are skipped where torch sees no CUDA device."""
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def topics_csv(tmp_path: Path) -> Path:
    return write_topics_csv(tmp_path / "topics.csv")


@pytest.fixture(scope="session")
def sample_path() -> Path:
    if not SAMPLE.exists():
        pytest.fail(f"bundled sample dataset missing: {SAMPLE}")
    return SAMPLE
