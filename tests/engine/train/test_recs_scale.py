"""Recommendation at scale: tables drawn in blocks, the CLI says what to do before tables
overflow the memory, scoring samples the held-out users, and runs keep millions of ids as
flat arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.engine.analysis.recommend import NAMES_FILE, load_recs_run, recommend
from studio.engine.data.interaction_cache import open_interactions
from studio.engine.data.interaction_split import split_interactions
from studio.engine.data.names import Names
from studio.engine.train import table_files
from studio.engine.train.recs import RecSettings, fit_recs


def _taste_file(path: Path, users: int = 200, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 8, 150)
    lines = ["user,item"]
    for u in range(users):
        taste = np.flatnonzero(groups == rng.integers(0, 8))
        lines += [f"ü{u},i{rng.choice(taste)}" for _ in range(int(rng.integers(5, 12)))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_table_is_drawn_in_blocks_and_seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_files, "INIT_ROWS", 37)  # several blocks
    tables = [table_files.new_table(200, 16, torch.Generator().manual_seed(s), "cpu")
              for s in (5, 5, 6)]  # fmt: skip
    assert torch.equal(tables[0], tables[1]) and not torch.equal(tables[0], tables[2])
    assert tables[0][0].abs().sum() == 0 and tables[0][1:].std().item() == pytest.approx(
        0.1 / 16**0.5, rel=0.1
    )
    assert not torch.equal(tables[0][1:38], tables[0][38:75])  # each block drawn afresh


def test_the_cli_stops_before_tables_overflow_the_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.cli import main

    path = _taste_file(tmp_path / "t.csv", users=60)
    monkeypatch.setattr(table_files, "available_memory", lambda: 100)
    args = ["recs", str(path), "--epochs", "1", "--dim", "8", "--runs-dir", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "need" in err and "--dim" in err and not (tmp_path / "r").exists()
    monkeypatch.setattr(table_files, "available_memory", lambda: 10**12)
    assert main([*args, "--json"]) == 0


def test_a_run_keeps_its_ids_as_flat_arrays(tmp_path: Path) -> None:
    from studio.engine.analysis.recommend import save_recs_run

    data = open_interactions(_taste_file(tmp_path / "t.csv"), cache_dir=tmp_path / "cache")
    split = split_interactions(data, "last")
    result = fit_recs(data, split, RecSettings(dim=8, epochs=2, als_baseline=False))
    run = save_recs_run(tmp_path / "runs", data, split, RecSettings(dim=8), result)
    assert (run / NAMES_FILE).exists() and not (run / "names.json").exists()
    loaded = load_recs_run(run)
    assert isinstance(loaded.user_names, Names)
    assert list(loaded.user_names) == list(data.user_names)
    assert list(loaded.item_names) == list(data.item_names)
    found = recommend(loaded, "ü17", k=3)
    assert len(found.items) == 3 and found.already
    # a run saved before names.safetensors existed still opens
    (run / NAMES_FILE).unlink()
    names = {"users": list(data.user_names), "items": list(data.item_names)}
    (run / "names.json").write_text(json.dumps(names), encoding="utf-8")
    assert recommend(load_recs_run(run), "ü17", k=3) == found


def test_scoring_takes_a_seeded_sample_of_held_out_users(tmp_path: Path) -> None:
    data = open_interactions(_taste_file(tmp_path / "t.csv"), cache_dir=tmp_path / "cache")
    split = split_interactions(data, "last")
    held = len(np.unique(data.users[split.test_idx]))
    base = RecSettings(dim=8, epochs=1, als_baseline=False, eval_users=50)
    runs = [fit_recs(data, split, base) for _ in range(2)]
    assert held > 50 and runs[0].history[0].metrics.users == 50
    assert runs[0].popularity is not None and runs[0].popularity.users == 50
    assert runs[0].history[0].metrics == runs[1].history[0].metrics  # the same sample
    every = fit_recs(data, split, RecSettings(**{**base.__dict__, "eval_users": 0}))
    assert every.history[0].metrics.users == held
