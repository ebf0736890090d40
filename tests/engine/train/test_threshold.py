"""The multi-label decision threshold: chosen on validation, saved, and used to decide."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from studio.config import DataConfig, StudioConfig
from studio.engine import prepare_dataset
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.report import evaluation_report, predict_split
from studio.engine.train.session import train_run
from studio.engine.train.threshold import DEFAULT, choose_threshold, micro_f1


def test_micro_f1_counts_every_label_decision() -> None:
    y = np.array([[1, 0, 1], [0, 1, 0]], dtype=np.uint8)
    decided = np.array([[1, 1, 0], [0, 1, 0]], dtype=bool)
    assert micro_f1(y, decided) == 2 * 2 / (2 * 2 + 2)  # tp 2, one false +, one false -
    assert micro_f1(y, np.zeros_like(decided)) == 0.0


def test_the_threshold_with_the_best_micro_f1_is_chosen() -> None:
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.uint8)
    # true labels score 0.3 to 0.4, false ones at most 0.2: only thresholds in (0.2, 0.3] are
    # perfect, and 0.3 is the one of them nearest 0.5
    probs = np.array([[0.35, 0.1], [0.2, 0.3], [0.4, 0.32], [0.05, 0.15]])
    assert choose_threshold(y, probs) == 0.3
    assert choose_threshold(y[:0], probs[:0]) == DEFAULT
    # all thresholds equal (nothing is ever predicted right): 0.5 stays
    assert choose_threshold(np.zeros((2, 2), np.uint8), np.full((2, 2), 0.9)) == DEFAULT


def _tags_csv(path: Path, n: int = 600) -> Path:
    """Documents with one to three tags out of six, each tag told by two of its words."""
    rng = random.Random(0)
    words = {t: [f"{t}{k}" for k in range(6)] for t in "abcdef"}
    rows = []
    for _ in range(n):
        tags = rng.sample(sorted(words), rng.randint(1, 3))
        text = " ".join(w for t in tags for w in rng.sample(words[t], 2))
        noise = " ".join(rng.choice(["the", "of", "and", "x", "y"]) for _ in range(4))
        rows.append(f"{text} {noise},{'|'.join(tags)}")
    path.write_text("text,tags\n" + "\n".join(rows) + "\n")
    return path


def test_a_multi_label_run_saves_and_uses_its_threshold(tmp_path: Path) -> None:
    data = DataConfig(path=str(_tags_csv(tmp_path / "tags.csv")), label_delimiter="|")
    config = StudioConfig(data=data).with_overrides(
        model={"embed_dim": 8}, train={"epochs": 2, "lr": 0.05}
    )
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    result = train_run(config, runs_dir=tmp_path / "runs", prepared=p)
    saved = json.loads((Path(result.run_dir) / "labels.json").read_text())
    run = load_run(result.run_dir)
    assert run.multi_label and run.threshold == saved["threshold"]
    valid = predict_split(run, p, "valid")
    assert valid.threshold == run.threshold
    assert run.threshold == choose_threshold(valid.y_true, valid.probs)  # the validation pick
    assert np.array_equal(valid.predicted(), valid.probs >= run.threshold)
    report = evaluation_report(valid)  # scores the decisions at the run's threshold
    t = valid.y_true.astype(bool)
    assert report.accuracy == float((t == (valid.probs >= run.threshold)).all(axis=1).mean())


def test_single_label_runs_save_no_threshold(topics_csv: Path, tmp_path: Path) -> None:
    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        model={"embed_dim": 8}, train={"epochs": 1}
    )
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    assert "threshold" not in json.loads((Path(result.run_dir) / "labels.json").read_text())
    assert load_run(result.run_dir).threshold == DEFAULT
