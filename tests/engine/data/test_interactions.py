"""Interaction files: columns found by name in every format, bad rows named by file, line and
column; per-user splits that never hold out what the user trains on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.engine.data.interaction_split import min_count_filter, split_interactions
from studio.engine.data.interactions import read_interactions
from studio.errors import DatasetError, StudioError

CSV = "userId,movieId,rating,timestamp\nann,m1,4,300\nann,m2,5,100\nbob,m1,3,200\nann,m3,2,200\n"


def test_columns_are_found_in_csv_tsv_jsonl_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "a.tsv").write_text(CSV.replace(",", "\t"), encoding="utf-8")
    rows = [dict(zip(["userId", "movieId", "rating", "timestamp"], line.split(","), strict=True))
            for line in CSV.splitlines()[1:]]  # fmt: skip
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    for name in ("a.csv", "a.tsv", "a.jsonl", "a.parquet"):
        d = read_interactions(tmp_path / name)
        assert d.columns == {"user": "userId", "item": "movieId", "weight": "rating",
                             "time": "timestamp"}, name  # fmt: skip
        assert d.user_names == ("ann", "bob") and d.item_names == ("m1", "m2", "m3")
        assert d.users.tolist() == [0, 0, 1, 0] and d.items.tolist() == [0, 1, 0, 2]
        assert d.weights.tolist() == [4, 5, 3, 2] and d.times is not None
    assert read_interactions(tmp_path / "a.csv").lines.tolist() == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("text", "kw", "message"),
    [
        ("who,what\na,b\n", {}, "no user column found among who, what; name it with --user-col"),
        (
            "user,item,rating\na,b,5\na,c,lots\n",
            {},
            "line 3, column 'rating': weight must be a number",
        ),
        ("user,item,ts\na,b,yesterday\n", {}, "time must be a number or an ISO date"),
        ("user,item\na,b\n,c\n", {}, "line 3, column 'user': empty user"),
        ("user,item\na,b\n", {"item_column": "sku"}, "no column 'sku' (columns: user, item)"),
        ("user,item\na,b,c\n", {}, "line 2: expected 2 fields like the header, found 3"),
    ],
)
def test_bad_input_names_the_file_line_and_column(
    tmp_path: Path, text: str, kw: dict[str, str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        read_interactions(path, **kw)  # type: ignore[arg-type]
    assert str(path) in str(err.value) and message in str(err.value)


def test_iso_dates_order_the_leave_last_split(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "user,item,date\na,x,2024-03-01\na,y,2024-01-01T10:00\na,z,2024-02-01\nb,x,2024-01-01\n",
        encoding="utf-8",
    )
    d = read_interactions(path)
    split = split_interactions(d, "last")
    assert [d.item_names[i] for i in d.items[split.test_idx]] == ["x"]  # a's latest
    assert sorted(d.items[split.train_idx].tolist()) == [0, 1, 2]  # b's only row trains


def _random_data(tmp_path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path = tmp_path / "r.csv"
    lines = ["user,item,time"]
    for _ in range(3000):  # repeats of a (user, item) pair included
        lines.append(f"u{rng.integers(0, 80)},i{rng.integers(0, 60)},{rng.integers(0, 10**6)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("holdout", ["last", "random"])
def test_held_out_items_never_appear_in_that_users_training_rows(
    tmp_path: Path, holdout: str
) -> None:
    d = read_interactions(_random_data(tmp_path))
    split = split_interactions(d, holdout, share=0.3, seed=4)  # type: ignore[arg-type]
    assert len(np.intersect1d(split.train_idx, split.test_idx)) == 0
    assert len(split.train_idx) + len(split.test_idx) == len(d)
    train_pairs = set(zip(d.users[split.train_idx].tolist(), d.items[split.train_idx].tolist(),
                          strict=True))  # fmt: skip
    for u, i in zip(
        d.users[split.test_idx].tolist(), d.items[split.test_idx].tolist(), strict=True
    ):
        assert (u, i) not in train_pairs
    held_users = np.unique(d.users[split.test_idx])
    assert set(held_users) <= set(d.users[split.train_idx])  # nobody loses every item
    if holdout == "last" and d.times is not None:
        for u in held_users[:10]:
            test_t = d.times[split.test_idx][d.users[split.test_idx] == u]
            train_t = d.times[split.train_idx][d.users[split.train_idx] == u]
            held_item = d.items[split.test_idx][d.users[split.test_idx] == u][0]
            others = d.items[split.train_idx][d.users[split.train_idx] == u] != held_item
            assert test_t.max() >= train_t[others].max()


def test_minimum_count_keeps_the_k_core(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("user,item\na,x\na,y\nb,x\nb,y\nc,x\nc,z\n", encoding="utf-8")
    d = read_interactions(path)
    keep = min_count_filter(d, 2)
    # z has one interaction: it goes, then c has one left and goes too
    assert [(d.user_names[u], d.item_names[i]) for u, i in
            zip(d.users[keep], d.items[keep], strict=True)] == [
        ("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]  # fmt: skip
    with pytest.raises(StudioError, match="no interactions are left"):
        split_interactions(d, min_count=5)


def test_the_bundled_interactions_read_as_their_readme_says() -> None:
    from studio.config import SAMPLE_INTERACTIONS

    d = read_interactions(SAMPLE_INTERACTIONS)  # columns found by name: package, depends
    assert d.columns["user"] == "package" and d.columns["item"] == "depends"
    assert (len(d), d.n_users, d.n_items) == (159_649, 16_572, 5_209)
    readme = (SAMPLE_INTERACTIONS.parent / "README.md").read_text(encoding="utf-8")
    assert "159,649 links, 16,572 packages, 5,209 distinct" in " ".join(readme.split())
    users = np.bincount(d.users)
    items = np.bincount(d.items)
    assert users.min() >= 5 and items.min() >= 5  # the 5-core


def test_the_items_holdout_keeps_every_row_of_a_held_out_item_out_of_training(
    tmp_path: Path,
) -> None:
    rows = ["user,item"] + [f"u{u},i{(u * 7 + t) % 30}" for u in range(50) for t in range(5)]
    path = tmp_path / "plays.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = read_interactions(path)
    split = split_interactions(data, "items", share=0.2, seed=3)
    cold = set(data.items[split.test_idx].tolist())
    assert len(cold) == 6  # 20% of 30 items
    assert not cold & set(data.items[split.train_idx].tolist())
    assert len(split.train_idx) + len(split.test_idx) == len(data)
    assert split.unseen_items == 6
    again = split_interactions(data, "items", share=0.2, seed=3)
    np.testing.assert_array_equal(again.test_idx, split.test_idx)  # seeded
