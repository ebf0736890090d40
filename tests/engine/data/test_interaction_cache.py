"""Large interaction files: pyarrow's reading gives the exact reader's result or steps aside,
the id strings live in flat arrays, and a second open maps the cache instead of reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.engine.data import interactions as interactions_module
from studio.engine.data.fast_interactions import read_fast
from studio.engine.data.interaction_cache import interactions_key, open_interactions
from studio.engine.data.interactions import Interactions, read_interactions
from studio.engine.data.names import Names
from studio.errors import DatasetError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

NO_COLUMNS: dict[str, str | None] = {"user": None, "item": None, "weight": None, "time": None}


def _exact(path: Path, **kw: str) -> Interactions:
    """The row-by-row reader, whatever the file's size."""
    names, rows = interactions_module.table_rows(path)
    given = {**NO_COLUMNS, **{k.removesuffix("_column"): v for k, v in kw.items()}}
    chosen = interactions_module.choose_columns(names, given, path)
    return interactions_module._collect(path, rows, chosen)


def _assert_same(a: Interactions, b: Interactions) -> None:
    for name in ("users", "items", "weights", "lines"):
        got, want = getattr(a, name), getattr(b, name)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert (a.times is None) == (b.times is None)
    if a.times is not None and b.times is not None:
        assert np.array_equal(a.times, b.times)
    assert list(a.user_names) == list(b.user_names) and list(a.item_names) == list(b.item_names)
    assert a.columns == b.columns


def _generated(n: int = 3000, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    users = [f"user {u}" if u % 7 else f"ünï,{u}" for u in rng.integers(0, 300, n)]
    return [
        {"customer": u, "sku": f"0{i}", "plays": int(w), "ts": float(t)}
        for u, i, w, t in zip(
            users,
            rng.integers(0, 90, n),
            rng.integers(1, 9, n),
            rng.random(n) * 1e6,
            strict=True,
        )
    ]


def _write_csv(path: Path, rows: list[dict[str, object]], sep: str = ",") -> None:
    def cell(v: object) -> str:
        text = str(v)
        return f'"{text}"' if sep == "," and "," in text else text

    lines = [sep.join(rows[0])] + [sep.join(cell(v) for v in r.values()) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_pyarrow_reads_csv_tsv_and_parquet_exactly_as_the_row_reader(tmp_path: Path) -> None:
    rows = _generated()
    _write_csv(tmp_path / "a.csv", rows)
    _write_csv(tmp_path / "a.tsv", [{k: str(v).replace(",", ";") for k, v in r.items()}
                                    for r in rows], "\t")  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    from pyarrow import csv

    csv.write_csv(pa.Table.from_pylist(rows), tmp_path / "b.csv")  # quoted header and cells
    for name in ("a.csv", "a.tsv", "a.parquet", "b.csv"):
        fast = read_fast(tmp_path / name, NO_COLUMNS)
        assert fast is not None, name
        _assert_same(fast, _exact(tmp_path / name))
        assert fast.item_names[0] == "0" + str(rows[0]["sku"])[1:]  # ids stay strings: "07"


@pytest.mark.parametrize(
    "text",
    [
        "user,item\na,b\n\nc,d\n",  # a blank line: the source lines would shift
        'user,item\n"a\nb",c\nd,e\n',  # a quoted newline
        "user,item,ts\na,b,2024-01-02\n",  # dates: the row reader's calendar rules
        "user,item\na,b\n ,c\n",  # an empty id
        "user,item\na,b,c\n",  # a ragged row
        "user,item\na,\xff\n",  # not UTF-8
        "\ufeffuser,item\na,b\n",  # a byte-order mark
    ],
)
def test_pyarrow_steps_aside_where_it_could_differ(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(text.encode("latin-1" if "\xff" in text else "utf-8"))
    assert read_fast(path, NO_COLUMNS) is None


def test_big_files_give_the_row_readers_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions_module, "FAST_FROM_BYTES", 0)  # every file is "big"
    cases = {
        "user,item,rating\na,b,5\na,c,lots\n": "line 3, column 'rating': weight must be a number",
        "user,item\na,b\n,c\n": "line 3, column 'user': empty user",
        "who,what\na,b\n": "no user column found among who, what",
        "user,item\na,b,c\n": "line 2: expected 2 fields like the header, found 3",
    }
    for number, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"bad{number}.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DatasetError, match=message) as err:
            read_interactions(path)
        assert str(path) in str(err.value)


def test_names_index_and_decode_like_a_tuple(tmp_path: Path) -> None:
    words = ["b", "a", "ä", "", "ab", "b", "日本", "z" * 300]
    names = Names.of(words)
    assert list(names) == words and len(names) == len(words)
    assert names[2] == "ä" and names[-1] == "z" * 300 and names[1:3] == ["a", "ä"]
    assert [names.index(w) for w in words] == [words.index(w) for w in words]
    assert "日本" in names and "c" not in names
    with pytest.raises(ValueError):
        names.index("c")
    with pytest.raises(IndexError):
        names[len(words)]
    names.save(tmp_path, "user")
    loaded = Names.load(tmp_path, "user")
    assert isinstance(loaded.blob, np.memmap) and list(loaded) == words
    assert loaded.index("ab") == 4


def test_a_second_open_maps_the_cache_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "plays.csv"
    _write_csv(path, _generated(500))
    before = path.read_bytes()
    cache = tmp_path / "cache"
    first = open_interactions(path, cache_dir=cache)
    second = open_interactions(path, cache_dir=cache)
    assert isinstance(second.users, np.memmap) and isinstance(second.user_names, Names)
    _assert_same(first, _exact(path))
    _assert_same(second, _exact(path))
    assert second.path == str(path) and path.read_bytes() == before
    assert len(list(cache.iterdir())) == 1
    # another column choice is another entry; a changed file is another key
    open_interactions(path, cache_dir=cache, weight_column="ts")
    assert len(list(cache.iterdir())) == 2
    key = interactions_key(path, NO_COLUMNS)
    path.write_text(before.decode("utf-8") + "new,07,1,5.0\n", encoding="utf-8")
    assert interactions_key(path, NO_COLUMNS) != key
    assert len(open_interactions(path, cache_dir=cache)) == len(first) + 1


def test_a_damaged_cache_entry_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "plays.csv"
    _write_csv(path, _generated(200))
    cache = tmp_path / "cache"
    open_interactions(path, cache_dir=cache)
    (entry,) = cache.iterdir()
    np.save(entry / "users.npy", np.zeros(3, np.int64))  # truncated
    meta = json.loads((entry / "interactions.json").read_text(encoding="utf-8"))
    assert meta["interactions"] == 200
    _assert_same(open_interactions(path, cache_dir=cache), _exact(path))


def test_a_bad_file_is_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("user,item\na,b\n,c\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 3, column 'user': empty user"):
        open_interactions(path, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
