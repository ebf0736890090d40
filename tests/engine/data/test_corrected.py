"""The corrected copy of a dataset: in the source's format, read back by the same reader with
the new labels and without the excluded documents; every other record byte for byte as it
was; the source itself untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from studio.config import DataConfig
from studio.engine.data.corrected import write_corrected
from studio.engine.data.readers import read_dataset
from studio.errors import StudioError


def _digest(path: Path) -> str:
    if path.is_dir():
        return hashlib.sha256(
            b"".join(
                p.read_bytes() + str(p).encode() for p in sorted(path.rglob("*")) if p.is_file()
            )
        ).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _by_line(path: Path, **kw: str) -> dict[int, tuple[str, tuple[str, ...]]]:
    raw = read_dataset(path, **kw)  # type: ignore[arg-type]
    return {
        line: (text, labels)
        for line, text, labels in zip(raw.lines, raw.texts, raw.labels, strict=True)
    }


def _check(
    src: Path, out: Path, relabel: dict[int, tuple[str, ...]], exclude: set[int], **kw: str
) -> None:
    """The copy has every source document but the excluded, relabelled as asked."""
    before = _digest(src)
    data = DataConfig(path=str(src), **kw)  # type: ignore[arg-type]
    source = _by_line(src, **{k: v for k, v in kw.items() if k != "format"})
    result = write_corrected(data, relabel, exclude, out)
    assert _digest(src) == before  # the user's file is only read
    copy = read_dataset(out, **{k: v for k, v in kw.items() if k != "format"})  # type: ignore[arg-type]
    expected = [
        (text, relabel.get(line, labels)) for line, (text, labels) in sorted(source.items())
        if line not in exclude
    ]  # fmt: skip
    assert sorted(zip(copy.texts, copy.labels, strict=True)) == sorted(expected)
    assert (result.documents, result.relabelled, result.excluded) == (
        len(expected),
        len(relabel),
        len(exclude),
    )


CSV = (
    "text,label,id\n"
    '"a quoted text, with a comma",sports,1\n'
    '"spans\ntwo lines",science,2\n'
    "plain words here,arts,3\n"
    "\n"
    "last one,sports,4\n"
)


def test_csv_keeps_untouched_records_byte_for_byte(tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(CSV.encode())
    out = tmp_path / "data.corrected.csv"
    _check(src, out, {3: ("arts",)}, {7}, label_column="label", text_column="text")
    body = out.read_text()
    assert body.startswith(
        'text,label,id\n"a quoted text, with a comma",sports,1\n"spans\ntwo lines",arts,2\n'
    )
    assert body.endswith("plain words here,arts,3\n\n")  # the blank line stays, line 7 is out


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(b"\xef\xbb\xbf" + CSV.replace("\n", "\r\n").encode())
    out = tmp_path / "out.csv"
    _check(
        src, out, {2: ("science",), 7: ("arts",)}, set(), label_column="label", text_column="text"
    )
    body = out.read_bytes()
    assert body.startswith(b"\xef\xbb\xbftext,label,id\r\n") and b"\n" not in body.replace(
        b"\r\n", b""
    )
    assert b'"a quoted text, with a comma",science,1\r\n' in body


def test_unquoted_tsv_and_multi_label(tmp_path: Path) -> None:
    src = tmp_path / "data.tsv"
    src.write_text('text\ttags\n"C" Language notes\ta|b\nsecond\tb\nthird\ta\n', encoding="utf-8")
    out = tmp_path / "out.tsv"
    _check(src, out, {2: ("b", "c"), 3: ("a",)}, {4}, label_delimiter="|")
    assert out.read_text(encoding="utf-8") == 'text\ttags\n"C" Language notes\tb|c\nsecond\ta\n'


def test_jsonl_keeps_the_label_shape(tmp_path: Path) -> None:
    src = tmp_path / "data.jsonl"
    rows = [
        {"text": "one", "label": 3, "extra": "é"},
        {"text": "two", "label": ["x", "y"]},
        {"text": "three", "label": "z"},
        {"text": "four", "label": "x"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    _check(src, out, {1: ("7",), 2: ("z",)}, {3})
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"text": "one", "label": 7, "extra": "é"}  # a number stays a number
    assert lines[1]["label"] == ["z"] and len(lines) == 3
    assert out.read_text(encoding="utf-8").splitlines()[2] == json.dumps(rows[3])


def test_fasttext(tmp_path: Path) -> None:
    src = tmp_path / "data.txt"
    src.write_text(
        "__label__a  first text\n__label__b __label__c second\n__label__a third\n", encoding="utf-8"
    )
    out = tmp_path / "out.txt"
    _check(src, out, {1: ("b",)}, {3}, format="fasttext")
    assert (
        out.read_text(encoding="utf-8") == "__label__b first text\n__label__b __label__c second\n"
    )


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "data.parquet"
    pq.write_table(
        pa.table({"text": ["a b", "c d", "e f", "g h"], "label": ["x", "y", "x", "y"]}), src
    )
    _check(src, tmp_path / "out.parquet", {2: ("x",)}, {1})


def test_folder_of_class_folders(tmp_path: Path) -> None:
    src = tmp_path / "data"
    for label, names in {"cats": ["1.txt", "2.txt"], "dogs": ["1.txt", "3.txt"]}.items():
        (src / label).mkdir(parents=True)
        for name in names:
            (src / label / name).write_text(f"{label} {name}", encoding="utf-8")
    out = tmp_path / "data-corrected"
    _check(src, out, {1: ("dogs",)}, {4})  # cats/1.txt meets dogs/1.txt: renamed, not lost
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == [
        "cats/2.txt", "dogs/1-2.txt", "dogs/1.txt",
    ]  # fmt: skip


def test_refuses_to_write_over_the_source_or_to_stale_lines(tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_bytes(CSV.encode())
    data = DataConfig(path=str(src), label_column="label", text_column="text")
    with pytest.raises(StudioError, match="the dataset itself"):
        write_corrected(data, {2: ("arts",)}, set(), tmp_path / "." / "data.csv")
    with pytest.raises(StudioError, match="no document at line 4"):
        write_corrected(data, {4: ("arts",)}, set(), tmp_path / "out.csv")  # inside a record
    assert src.read_bytes() == CSV.encode() and not (tmp_path / "out.csv").exists()
