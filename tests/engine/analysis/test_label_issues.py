"""Out-of-fold label issues: no document is predicted by a model that trained on it, and
the ranking finds injected label flips (cleanlab's confident learning)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.config import DataConfig, StudioConfig
from studio.engine.analysis import label_issues
from studio.engine.analysis.label_issues import assign_folds, find_issues, out_of_fold
from studio.engine.data.prepare import prepare_dataset
from studio.errors import StudioError
from tests.conftest import write_topics_csv

FAST = {
    "train": {"epochs": 3, "lr": 0.05},
    "tokenizer": {"ngram_buckets": 0, "char_ngrams": (0, 0)},
}


def _noisy_copy(tmp_path: Path, share: float, seed: int = 1) -> tuple[Path, set[int]]:
    """The topics CSV with ``share`` of its labels flipped (seeded); the flipped lines
    (1-based file lines, the header being line 1)."""
    lines = write_topics_csv(tmp_path / "clean.csv", n=900).read_text().splitlines()
    labels = sorted({line.rsplit(",", 1)[1] for line in lines[1:]})
    rng = random.Random(seed)
    flipped = set(rng.sample(range(1, len(lines)), round(share * (len(lines) - 1))))
    out = [lines[0]]
    for i, line in enumerate(lines[1:], 1):
        text, label = line.rsplit(",", 1)
        if i in flipped:
            label = rng.choice([x for x in labels if x != label])
        out.append(f"{text},{label}")
    path = tmp_path / "noisy.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path, {i + 1 for i in flipped}


def _setup(path: Path, tmp_path: Path) -> tuple[StudioConfig, Any]:
    config = StudioConfig(data=DataConfig(path=str(path))).with_overrides(**FAST)
    return config, prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")


def test_no_document_is_predicted_by_a_model_that_saw_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _noisy_copy(tmp_path, 0.05)
    config, prepared = _setup(path, tmp_path)
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    real = label_issues.train_run

    def spy(config: StudioConfig, callbacks: Any, control: Any, **kw: Any) -> Any:
        part = kw["prepared"]
        seen.append((part.train_idx, part.valid_idx, part.test_idx))
        return real(config, callbacks, control, **kw)

    monkeypatch.setattr(label_issues, "train_run", spy)
    folds: list[tuple[int, int]] = []
    oof = out_of_fold(config, prepared, 4, on_fold=lambda k, n: folds.append((k, n)))
    assert folds == [(1, 4), (2, 4), (3, 4), (4, 4)] and len(seen) == 4
    held = np.concatenate([test for _, _, test in seen])
    assert sorted(held.tolist()) == list(range(prepared.n_docs))  # each document once
    for k, (train, valid, test) in enumerate(seen):
        assert not set(test) & (set(train) | set(valid))
        assert (oof.fold[test] == k).all()
    np.testing.assert_allclose(oof.probs.sum(axis=1), 1.0, rtol=1e-5)
    # the folds keep each class's share (round-robin within each class)
    y = np.asarray(prepared.targets)
    for cls in np.unique(y):
        sizes = np.bincount(oof.fold[y == cls], minlength=4)
        assert sizes.max() - sizes.min() <= 1


def test_the_ranking_finds_most_injected_flips(tmp_path: Path) -> None:
    path, flipped = _noisy_copy(tmp_path, 0.05)
    config, prepared = _setup(path, tmp_path)
    issues = find_issues(out_of_fold(config, prepared, 5))
    lines = [i.line for i in issues]
    k = len(flipped)
    top = set(lines[:k])
    assert len(top & flipped) / k >= 0.8  # precision at k = number flipped
    assert len(set(lines) & flipped) / k >= 0.8  # recall of everything flagged
    first = issues[0]
    assert first.suggested != first.given and 0.0 <= first.quality <= 1.0
    assert first.text in path.read_text(encoding="utf-8")
    qualities = [i.quality for i in issues]
    assert all(0.0 <= q <= 1.0 for q in qualities)


def test_folds_must_fit_the_data(tmp_path: Path) -> None:
    _, prepared = _setup(write_topics_csv(tmp_path / "t.csv", n=60), tmp_path)
    with pytest.raises(StudioError, match="--folds must be 2 to 60"):
        assign_folds(prepared, 1, 0)


def test_the_cli_prints_the_issues_as_json(tmp_path: Path) -> None:
    path, flipped = _noisy_copy(tmp_path, 0.05)
    config = tmp_path / "setup.toml"
    config.write_text(
        "[train]\nepochs = 3\nlr = 0.05\n[tokenizer]\nngram_buckets = 0\nchar_ngrams = [0, 0]\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "studio", "label-issues", str(path), "--folds", "3",
         "--config", str(config), "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["documents"] == 900 and report["folds"] == 3
    assert report["flagged"] == len(report["issues"]) > 0
    assert {"line", "given", "suggested", "quality", "text"} <= set(report["issues"][0])
    assert len({i["line"] for i in report["issues"]} & flipped) >= 0.7 * len(flipped)
    assert "fold 3 of 3" in done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "studio", "label-issues", str(path), "--folds", "1"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "studio: error: --folds must be at least 2, got 1"
    )


def test_multi_label_data_gets_cleanlabs_multi_label_ranking(tmp_path: Path) -> None:
    path, flipped = _noisy_copy(tmp_path, 0.05)
    rows = path.read_text(encoding="utf-8").splitlines()
    # a second label on a tenth of the documents keeps the data truly multi-label
    both = [r + "|common" if i % 10 == 0 else r for i, r in enumerate(rows[1:])]
    path.write_text("\n".join([rows[0], *both]) + "\n", encoding="utf-8")
    config = StudioConfig(data=DataConfig(path=str(path), label_delimiter="|")).with_overrides(
        **FAST
    )
    prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    assert prepared.multi_label
    issues = find_issues(out_of_fold(config, prepared, 4))
    lines = [i.line for i in issues]
    assert len(set(lines[: len(flipped)]) & flipped) / len(flipped) >= 0.6
    for issue in issues:  # the given labels are the file's, both of them where there are two
        written = both[issue.line - 2].rsplit(",", 1)[1].split("|")
        assert set(issue.given.split(", ")) == set(written)
