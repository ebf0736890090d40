"""Sampling a dataset's start: its columns and the text/label guess, from the first rows only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.engine.data.sample import (
    SAMPLE_ROWS,
    ColumnInfo,
    head_text,
    inspect_columns,
    jsonl_sample,
    table_sample,
)
from studio.errors import DatasetError


def test_inspect_columns(tmp_path: Path, sample_path: Path) -> None:
    assert inspect_columns(sample_path).columns == ("page", "section", "text")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        '{"id": 1, "body": "hello there", "y": "a"}\n{"id": 2, "body": "bye", "y": "b", "z": 1}\n',
        encoding="utf-8",
    )
    info = inspect_columns(jsonl)
    assert info.columns == ("id", "body", "y", "z")
    assert (info.text_column, info.label_column) == ("body", "y")
    (tmp_path / "folder" / "a").mkdir(parents=True)
    assert inspect_columns(tmp_path / "folder").columns == ()


def test_the_bundled_dataset_is_guessed(sample_path: Path) -> None:
    info = inspect_columns(sample_path)
    assert info == ColumnInfo(
        str(sample_path), "tsv", ("page", "section", "text"), "text", "section"
    )


def test_a_cut_last_row_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text,label\nfirst row,a\nsecond row,b\n", encoding="utf-8")
    text, truncated = head_text(path, None, limit=len("text,label\nfirst row,a\nsecond"))
    assert truncated and text.endswith("second")
    assert table_sample(text, truncated, tsv=False) == (["text", "label"], [["first row", "a"]])
    whole, cut = head_text(path, None)
    assert not cut
    assert table_sample(whole, cut, tsv=False)[1] == [["first row", "a"], ["second row", "b"]]


def test_head_text_drops_the_bom_and_decodes_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbftext,label\n")
    assert head_text(path, None) == ("text,label\n", False)
    path.write_bytes("texte,étiquette\n".encode("latin-1"))
    assert head_text(path, "latin-1")[0] == "texte,étiquette\n"
    with pytest.raises(DatasetError, match="unknown encoding"):
        head_text(path, "no-such-codec")


def test_samples_stop_at_sample_rows(tmp_path: Path) -> None:
    rows = "".join(f"doc {i},{'ab'[i % 2]}\n" for i in range(SAMPLE_ROWS + 50))
    names, sample = table_sample("text,label\n" + rows, False, tsv=False)
    assert names == ["text", "label"] and len(sample) == SAMPLE_ROWS
    lines = "".join(f'{{"t": "doc {i}", "y": "a"}}\n' for i in range(SAMPLE_ROWS + 50))
    assert len(jsonl_sample(lines, False)[1]) == SAMPLE_ROWS


def test_jsonl_sample_stops_at_the_first_bad_line() -> None:
    names, rows = jsonl_sample('{"t": "a", "y": null}\nnot json\n{"t": "b"}\n', False)
    assert names == ["t", "y"] and rows == [["a", ""]]


def test_parquet_columns(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"body": ["hello there", "bye"], "y": ["a", "b"]}), path)
    info = inspect_columns(path)
    assert (info.format, info.columns) == ("parquet", ("body", "y"))
    assert (info.text_column, info.label_column) == ("body", "y")
    fake = tmp_path / "b.parquet"
    fake.write_bytes(b"not parquet at all")
    with pytest.raises(DatasetError, match="PAR1"):
        inspect_columns(fake, format="parquet")


def test_formats_without_columns_and_unknown_formats(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("__label__a some text\n__label__b more text\n", encoding="utf-8")
    assert inspect_columns(path) == ColumnInfo(str(path), "fasttext", ())
    with pytest.raises(DatasetError, match="unknown format"):
        inspect_columns(path, format="xlsx")


def test_sampling_imports_neither_torch_nor_numpy() -> None:
    import subprocess

    script = (
        "import sys; from studio.engine.data.sample import inspect_columns; "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_tsv_sample_reads_quotes_as_the_readers_do(tmp_path: Path) -> None:
    unquoted = 'name\ttext\tlabel\nclips\t"C" Language Integrated\tdevel\nx\t"half\tmisc\n'
    assert table_sample(unquoted, False, tsv=True)[1] == [
        ["clips", '"C" Language Integrated', "devel"],
        ["x", '"half', "misc"],
    ]
    quoted = 'text\tlabel\n"one\ttab"\ta\n"two\nlines"\tb\n'
    assert table_sample(quoted, False, tsv=True)[1] == [["one\ttab", "a"], ["two\nlines", "b"]]
    path = tmp_path / "d.tsv"
    path.write_text(unquoted, encoding="utf-8")
    info = inspect_columns(path)
    assert info.columns == ("name", "text", "label") and info.text_column == "text"
