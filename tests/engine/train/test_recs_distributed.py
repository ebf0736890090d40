"""Recommendation training on torch.distributed: two processes take the same steps as one
(the tables replicas, equal to the one-process tables up to float rounding), rank 0 alone
saves and reports, and a batch's share is whole softmax blocks."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.engine.runs.checkpoint import load_weights
from studio.engine.train.rec_sync import shard_rows


@pytest.mark.parametrize(("n", "world"), [(4096, 2), (4096, 3), (1000, 2), (100, 2), (300, 4)])
def test_shares_are_whole_blocks_that_cover_the_batch_once(n: int, world: int) -> None:
    shares = [shard_rows(n, 128, rank, world) for rank in range(world)]
    assert shares[0].start == 0 and shares[-1].stop == n
    for a, b in itertools.pairwise(shares):
        assert a.stop == b.start  # contiguous, no row twice
    for share in shares[:-1]:
        assert share.start % 128 == 0 and share.stop % 128 in (0, n % 128)


def test_two_processes_train_the_tables_one_process_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(8)
    rows = ["user,item"]
    for u in range(300):  # 7 distinct items each: 6 train rows, 1,800 in all
        rows += [f"u{u},i{(u % 6) * 15 + int(i)}" for i in rng.choice(15, 7, replace=False)]
    data = tmp_path / "plays.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # three whole batches of 600, ten blocks of 60 each: five blocks per rank
    common = ["recs", str(data), "--epochs", "3", "--dim", "16", "--batch-size", "600",
              "--block", "60", "--tower", "mlp", "--json"]  # fmt: skip
    assert main([*common, "--runs-dir", str(tmp_path / "one")]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main([*common, "--runs-dir", str(tmp_path / "two"), "--nproc", "2"]) == 0
    runs = list((tmp_path / "two").iterdir())
    assert len(runs) == 1  # rank 0 alone saved the run
    two = json.loads((runs[0] / "recs.json").read_text())
    assert [h["epoch"] for h in two["history"]] == [1, 2, 3]
    assert one["train"] == 1800
    for a, b in zip(one["history"], two["history"], strict=True):
        assert b["recall"] == pytest.approx(a["recall"], abs=1e-9)
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5)
    ta = load_weights(Path(one["run_dir"]) / "tables.safetensors")
    tb = load_weights(runs[0] / "tables.safetensors")
    for name in ("users", "items", "tower.hidden.weight"):
        assert torch.allclose(ta[name], tb[name], atol=1e-5), name  # the same steps
    assert not torch.allclose(ta["users"], torch.zeros_like(ta["users"]))
