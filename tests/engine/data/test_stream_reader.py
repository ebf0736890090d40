"""Reading in chunks gives what reading whole gives: documents, or the same error."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from studio.engine.data.readers import STREAM_FORMATS, iter_chunks, read_dataset, resolve_format
from studio.errors import DatasetError

Result = tuple[str, object]


def whole(path: Path, **options: object) -> Result:
    try:
        raw = read_dataset(path, **options)  # type: ignore[arg-type]
    except DatasetError as error:
        return "error", str(error)
    return "ok", (raw.texts, raw.labels, raw.lines, raw.multi_label)


def chunked(path: Path, block: int, docs: int, chars: int = 10**6, **options: object) -> Result:
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    lines: list[int] = []
    multi = False
    try:
        chunks = iter_chunks(path, block=block, docs=docs, chars=chars, **options)  # type: ignore[arg-type]
        for chunk in chunks:
            assert 0 < len(chunk.texts) <= docs and chunk.bytes_read <= chunk.size
            assert sum(map(len, chunk.texts[:-1])) < chars
            texts += chunk.texts
            labels += chunk.labels
            lines += chunk.lines
            multi = chunk.multi_label
    except DatasetError as error:
        return "error", str(error)
    return "ok", (texts, labels, lines, multi)


def same_or_first_fault(a: Result, b: Result) -> bool:
    """Equal, or both errors where the whole read reports bad bytes found later in the file."""
    if a == b:
        return True
    return a[0] == b[0] == "error" and ("not valid" in str(a[1]) or "decode" in str(a[1]))


_pieces = ["a", "b", "é", "x y", "Don't", "\n", "\r\n", "\r", '"', ",", "\t", " ", "|", "\u2028"]
_texts = st.lists(st.sampled_from(_pieces), max_size=6).map("".join)
_labels = st.sampled_from(["a", "b", "c", "a|b"] * 6 + [" ", ""])  # a few empty labels
_damage = [b"\xff", b"\x00", b"\n", b'"', b",", b"\xef\xbb\xbf", b"\xc3"]


def _render(fmt: str, rows: list[tuple[str, str]], line_end: str) -> str:
    if fmt in ("csv", "tsv"):
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator=line_end)
        writer.writerows([("text", "label"), *rows])
        return out.getvalue()
    if fmt == "jsonl":
        return "".join(json.dumps({"text": t, "label": lab}) + line_end for t, lab in rows)
    return "".join(f"__label__{lab} {t}".replace("\n", " ") + line_end for t, lab in rows)


@settings(max_examples=120, deadline=None)
@given(
    fmt=st.sampled_from(STREAM_FORMATS),
    rows=st.lists(st.tuples(_texts, _labels), max_size=25),
    line_end=st.sampled_from(["\n", "\r\n", "\r", "\n\n"]),
    damage=st.sampled_from([b""] * len(_damage) + _damage),  # inserted at damage_at
    damage_at=st.integers(0, 400),
    bom=st.booleans(),
    block=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]),
    docs=st.sampled_from([1, 2, 5, 1000]),
    chars=st.sampled_from([1, 10, 10**6]),
    delimiter=st.sampled_from([None, "|"]),
)  # fmt: skip
def test_chunks_match_the_whole_read(
    fmt: str,
    rows: list[tuple[str, str]],
    line_end: str,
    damage: bytes,
    damage_at: int,
    bom: bool,
    block: int,
    docs: int,
    chars: int,
    delimiter: str | None,
) -> None:
    data = _render(fmt, [("one", "a"), *rows, ("two", "b")], line_end).encode("utf-8")
    at = damage_at % (len(data) + 1)
    data = data[:at] + damage + data[at:]
    if bom:
        data = b"\xef\xbb\xbf" + data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"d.{'txt' if fmt == 'fasttext' else fmt}"
        path.write_bytes(data)
        options = {"format": fmt, "label_delimiter": delimiter}
        a, b = whole(path, **options), chunked(path, block, docs, chars, **options)
        assert same_or_first_fault(a, b), (a, b)


@settings(max_examples=60, deadline=None)
@given(
    content=st.binary(max_size=200),
    fmt=st.sampled_from([*STREAM_FORMATS, "auto"]),
    encoding=st.sampled_from([None, "latin-1", "utf-16", "ascii"]),
    block=st.sampled_from([1, 3, 1 << 20]),
)
@example(content=b"PAR1", fmt="auto", encoding=None, block=1)  # Parquet's magic: not streamed
def test_random_bytes_give_the_same_error(
    content: bytes, fmt: str, encoding: str | None, block: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.bin"
        path.write_bytes(content)
        with contextlib.suppress(DatasetError):  # bytes detected as Parquet are never streamed
            assume(resolve_format(path, fmt, encoding) in STREAM_FORMATS)
        options = {"format": fmt, "encoding": encoding}
        a, b = whole(path, **options), chunked(path, block, 3, **options)
        assert same_or_first_fault(a, b), (a, b)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_bad_utf8_across_blocks_names_line_and_byte(tmp_path: Path) -> None:
    data = b"text,label\n" + b"caf\xc3\xa9 ok,a\n" * 50 + b"bad \xc3(,b\n"
    path = _write(tmp_path, "d.csv", data)
    bad = data.index(b"\xc3(")
    for block in (1, 2, 5, 4096):
        kind, message = chunked(path, block, 7)
        assert kind == "error" and message == whole(path)[1]
        assert f"line 52, byte offset {bad}" in str(message)


def test_long_blank_start_and_bare_cr_line_ends(tmp_path: Path) -> None:
    blank = _write(tmp_path, "blank.csv", b" \n\t\r\n" * 40)
    assert chunked(blank, 8, 5) == whole(blank) == ("error", f"{blank}: the file is empty")
    late = _write(tmp_path, "late.csv", b"\n" * 40 + b"text,label\nx,a\ny,b\n")
    assert chunked(late, 8, 5) == whole(late) and whole(late)[0] == "ok"
    old_mac = _write(tmp_path, "mac.csv", b"text,label\rx,a\ry,b\r")
    assert chunked(old_mac, 4, 1) == whole(old_mac) and whole(old_mac)[0] == "ok"


def test_utf16_with_and_without_bom(tmp_path: Path) -> None:
    body = "text,label\nä,x\nö,y\n"
    for name, data in (("bom.csv", body.encode("utf-16")), ("le.csv", body.encode("utf-16-le"))):
        path = _write(tmp_path, name, data)
        assert chunked(path, 3, 1, encoding="utf-16") == whole(path, encoding="utf-16")
        assert whole(path, encoding="utf-16")[0] == "ok"


def test_both_kinds_of_tsv_chunked_as_whole(tmp_path: Path) -> None:
    from studio.engine.data.readers._csv import TSV_SNIFF_CHARS

    filler = "".join(f"plain text {i}\t{'ab'[i % 2]}\n" for i in range(TSV_SNIFF_CHARS // 16))
    assert len(filler) > TSV_SNIFF_CHARS
    unquoted = 'text\tlabel\n"C" Language\ta\n' + filler + '"x y\tb\n'
    quoted = 'text\tlabel\n"one\ttab"\ta\n' + filler + '"a ""C"" b"\tb\n'
    # a quoted field over several lines that the sniffed start cuts
    start = filler[: filler.rindex("\n", 0, TSV_SNIFF_CHARS - 30) + 1]
    long = "two\n\n\n" + "x" * 40 + " lines"
    cut = 'text\tlabel\n"a"\tb\n' + start + f'"{long}"\ta\n'
    assert cut.index('"two') < TSV_SNIFF_CHARS < cut.index('lines"')
    for name, body in (("unquoted", unquoted), ("quoted", quoted), ("cut", cut)):
        path = _write(tmp_path, f"{name}.tsv", body.encode("utf-8"))
        kind, (texts, *_rest) = whole(path)  # type: ignore[misc]
        assert kind == "ok", name
        for block in (7, 1 << 16):
            assert chunked(path, block, 500) == whole(path), name
        if name == "unquoted":
            assert texts[0] == '"C" Language' and texts[-1] == '"x y'
        elif name == "quoted":
            assert texts[0] == "one\ttab" and texts[-1] == 'a "C" b'
        else:
            assert texts[-1] == long
