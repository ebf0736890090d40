"""A smoke run of `studio bench` (CI runs this short version only; speeds are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.bench.fasttext_loop import fasttext_available
from studio.cli import main


def test_bench_smoke(topics_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[train]\nepochs = 2\n[tokenizer]\nngram_buckets = 0\n")
    code = main(["bench", str(topics_csv), "--config", str(cfg), "--repeats", "1",
                 "--seed-epochs", "1", "--json"])  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["rows"]
    assert {"seed-style loop", "studio default", "studio @ seed size"} <= set(rows)
    for row in rows.values():
        assert row["docs_per_second"] > 0 and 0.0 <= row["val_accuracy"] <= 1.0
    assert "studio default / seed docs/s" in report["ratios"]
    if fasttext_available() and "fastText 25 epochs, bigrams" in rows:  # it may diverge here
        ref = rows["fastText 25 epochs, bigrams"]
        assert ref["seconds_to_fasttext_accuracy"] == ref["train_seconds"]
        assert "studio default / fastText docs/s" in report["ratios"]


def test_bench_text_table(topics_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(topics_csv), "--repeats", "1", "--seed-epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "seed-style" in out and "docs/s" in out  # rich wraps cells at 80 columns
