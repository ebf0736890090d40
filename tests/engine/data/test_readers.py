"""Tests for studio.engine.data.readers: every format, every error, and a fuzz property."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.engine.data.readers import FORMATS, RawDataset, detect_format, read_dataset
from studio.engine.data.readers._columns import detect_columns
from studio.engine.data.readers._csv import TSV_SNIFF_CHARS, sniff_delimiter, tsv_is_quoted
from studio.errors import DatasetError


def write(path: Path, content: str | bytes) -> Path:
    """Write text (as UTF-8) or bytes to ``path`` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def fails(path: Path, **options: object) -> DatasetError:
    """Read ``path`` expecting a DatasetError, and return it."""
    with pytest.raises(DatasetError) as info:
        read_dataset(path, **options)  # type: ignore[arg-type]
    error = info.value
    assert "\n" not in str(error)
    return error


# --- CSV / TSV -------------------------------------------------------------------------


def test_csv_comma(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\nhello world,pos\nawful film,neg\n")
    data = read_dataset(path)
    assert isinstance(data, RawDataset)
    assert data.texts == ["hello world", "awful film"]
    assert data.labels == [("pos",), ("neg",)]
    assert data.lines == [2, 3]
    assert (data.format, data.text_column, data.label_column) == ("csv", "text", "label")
    assert data.path == str(path)
    assert not data.multi_label
    assert data.warnings == ()


def test_csv_semicolon_with_commas_in_text(tmp_path: Path) -> None:
    body = "label;text\npos;good, very good, great\nneg;bad, so bad\r\n"
    data = read_dataset(write(tmp_path / "d.csv", body))
    assert data.texts == ["good, very good, great", "bad, so bad"]
    assert data.labels == [("pos",), ("neg",)]


def test_csv_pipe_and_crlf(tmp_path: Path) -> None:
    data = read_dataset(write(tmp_path / "d.csv", "text|label\r\na|x\r\nb|y\r\n"))
    assert data.texts == ["a", "b"]
    assert data.lines == [2, 3]


def test_csv_multiline_quoted_field_keeps_line_numbers(tmp_path: Path) -> None:
    body = 'text,label\n"one\ntwo\nthree",pos\n\nplain,neg\n"a ""quote""",pos\n'
    data = read_dataset(write(tmp_path / "d.csv", body))
    assert data.texts == ["one\ntwo\nthree", "plain", 'a "quote"']
    assert data.lines == [2, 6, 7]


def test_tsv(tmp_path: Path) -> None:
    path = write(tmp_path / "d.tsv", "sentence\tsentiment\nfine, ok\t1\nbad; no\t0\n")
    data = read_dataset(path)
    assert data.format == "tsv"
    assert data.texts == ["fine, ok", "bad; no"]
    assert data.labels == [("1",), ("0",)]
    assert (data.text_column, data.label_column) == ("sentence", "sentiment")


def test_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", b"\xef\xbb\xbftext,label\nx,a\ny,b\n")
    data = read_dataset(path)
    assert data.text_column == "text"
    assert data.texts == ["x", "y"]


def test_ragged_row_names_line_and_counts(tmp_path: Path) -> None:
    body = 'text,label\n"multi\nline",a\nok,b\ntoo,many,fields\n'
    path = write(tmp_path / "d.csv", body)
    error = fails(path)
    assert error.path == str(path)
    assert error.line == 5
    assert "expected 2 fields" in error.message
    assert "found 3" in error.message


def test_duplicate_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label,text\na,b,c\n")
    error = fails(path)
    assert (error.path, error.line, error.column) == (str(path), 1, "text")
    assert "duplicate" in error.message


def test_missing_named_column_lists_available(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "body,cls\na,x\nb,y\n")
    error = fails(path, text_column="review")
    assert error.column == "review"
    assert "'body', 'cls'" in error.message
    error = fails(path, label_column="label")
    assert error.column == "label"


def test_named_columns_are_used(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a,b,c\nx,1,p\ny,2,q\n")
    data = read_dataset(path, text_column="c", label_column="a")
    assert data.texts == ["p", "q"]
    assert data.labels == [("x",), ("y",)]


def test_empty_file(tmp_path: Path) -> None:
    for name in ("d.csv", "d.tsv", "d.jsonl", "d.txt"):
        path = write(tmp_path / name, "")
        error = fails(path, format="fasttext" if name == "d.txt" else "auto")
        assert error.path == str(path)
        assert "empty" in error.message


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\n")
    error = fails(path)
    assert error.path == str(path)
    assert "no documents" in error.message


def test_single_column(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.csv", "text\na\nb\n"))
    assert "at least two columns" in error.message


def test_tsv_text_starting_with_a_quoted_word_is_read_as_written(tmp_path: Path) -> None:
    body = (
        "package\ttext\tlabel\n"
        'clips\t"C" Language Integrated Production System\tdevel\n'
        'talk\tsay "hi" twice\tmisc\n'
        'open\t"half a quote\tmisc\n'
    )
    data = read_dataset(write(tmp_path / "d.tsv", body), text_column="text", label_column="label")
    assert data.texts == [
        '"C" Language Integrated Production System',
        'say "hi" twice',
        '"half a quote',
    ]
    assert data.lines == [2, 3, 4]


def test_quoted_tsv_keeps_tabs_newlines_and_quotes_in_fields(tmp_path: Path) -> None:
    import csv

    rows = [("one\ttab", "a"), ("two\nlines", "b"), ('"C" Language', "a"), ("plain", "b")]
    with open(tmp_path / "d.tsv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter="\t").writerows([("text", "label"), *rows])
    data = read_dataset(tmp_path / "d.tsv")
    assert data.texts == [text for text, _ in rows]
    assert data.labels == [(label,) for _, label in rows]
    assert data.lines == [2, 3, 5, 6]


def test_tsv_quoting_is_sniffed_from_the_start() -> None:
    assert tsv_is_quoted('text\tlabel\n"a\tb"\tx\n')
    assert tsv_is_quoted('"text"\t"label"\nplain\tx\n')  # a quoted header is enough
    assert tsv_is_quoted('text\tlabel\n"say ""hi"""\tx\n""\ty\n')  # doubled quotes, empty
    assert not tsv_is_quoted("text\tlabel\nno quotes at all\tx\n")
    assert not tsv_is_quoted('text\tlabel\nsay "hi"\tx\n')  # quotes inside a field only
    assert not tsv_is_quoted('text\tlabel\n"a"\tx\n"C" Language\ty\n')  # one bad is enough
    assert not tsv_is_quoted('text\tlabel\n"never closed\tx\n')
    # a quoted field the sample cuts counts as whole when the file goes on
    assert tsv_is_quoted('text\tlabel\n"a"\tx\n"goes on\n', cut=True)
    assert not tsv_is_quoted('text\tlabel\n"goes on\n', cut=True)  # yet no field is quoted
    late = "text\tlabel\n" + "plain\tx\n" * (TSV_SNIFF_CHARS // 8) + '"a\tb"\tx\n'
    assert not tsv_is_quoted(late)  # only the start is looked at


def test_unclosed_quote_points_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", 'text,label\nok,a\n"never closed,b\nmore,c\n')
    error = fails(path)
    assert error.line == 3
    assert "never closed" in error.message


def test_text_after_closing_quote(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.csv", 'text,label\nok,a\n"x" y,b\n'))
    assert error.line == 3
    assert "malformed CSV" in error.message


def test_empty_label_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,x\nb,  \nc,y\n")
    error = fails(path)
    assert (error.line, error.column) == (3, "label")
    assert "empty label" in error.message


def test_empty_text_is_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,x\n,y\n  ,x\nb,y\n")
    data = read_dataset(path)
    assert len(data) == 4
    assert data.warnings == ("2 documents have empty text (first at line 3)",)


def test_labels_are_stripped(tmp_path: Path) -> None:
    data = read_dataset(write(tmp_path / "d.csv", "text,label\na, x \nb,y\n"))
    assert data.labels == [("x",), ("y",)]


def test_one_class_only(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,spam\nb,spam\n")
    error = fails(path)
    assert error.path == str(path)
    assert "only one class ('spam')" in error.message
    assert "at least two" in error.message


def test_multi_label_with_delimiter(tmp_path: Path) -> None:
    body = 'text,tags\na,"x| y |x"\nb,z\nc,|y|\n'
    data = read_dataset(write(tmp_path / "d.csv", body), label_delimiter="|")
    assert data.multi_label
    assert data.labels == [("x", "y"), ("z",), ("y",)]
    assert data.label_names == ["x", "y", "z"]


def test_multi_label_row_without_labels_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,tags\na,x|y\nb, | \n")
    error = fails(path, label_delimiter="|")
    assert (error.line, error.column) == (3, "tags")


# --- encodings and raw bytes -------------------------------------------------------------


def test_invalid_utf8_reports_line_and_byte_offset(tmp_path: Path) -> None:
    content = b"text,label\nhello,pos\ncaf\xe9,neg\n"
    path = write(tmp_path / "d.csv", content)
    error = fails(path)
    assert error.path == str(path)
    assert error.line == 3
    assert error.byte_offset == content.index(b"\xe9") == 24
    assert "UTF-8" in error.message
    assert "encoding" in error.message


def test_invalid_utf8_offset_counts_the_bom(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbftext,label\n\xff,x\n"
    error = fails(write(tmp_path / "d.csv", content))
    assert (error.line, error.byte_offset) == (2, 14)


def test_explicit_latin1(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\ncafé,pos\nnaïve,neg\n".encode("latin-1"))
    data = read_dataset(path, encoding="latin-1")
    assert data.texts == ["café", "naïve"]


def test_explicit_utf16(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\nä,x\nö,y\n".encode("utf-16"))
    assert read_dataset(path, encoding="utf-16").texts == ["ä", "ö"]
    assert "UTF-16" in fails(path).message


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "text,label\na,x\n")
    error = fails(path, encoding="no-such-codec")
    assert "no-such-codec" in error.message
    assert error.path == str(path)


def test_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", b"text,label\n\x00\x01\x02garbage")
    error = fails(path)
    assert "binary file" in error.message
    assert error.byte_offset == 11


def test_binary_file_unknown_suffix(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.bin", b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert "binary file" in error.message


# --- JSON Lines --------------------------------------------------------------------------


def test_jsonl_string_labels(tmp_path: Path) -> None:
    rows = [{"id": 1, "text": "good", "label": "pos"}, {"id": 2, "text": "bad", "label": " neg "}]
    body = "\n".join(json.dumps(row) for row in rows[:1]) + "\n\n" + json.dumps(rows[1]) + "\n"
    data = read_dataset(write(tmp_path / "d.jsonl", body))
    assert data.format == "jsonl"
    assert data.texts == ["good", "bad"]
    assert data.labels == [("pos",), ("neg",)]
    assert data.lines == [1, 3]
    assert not data.multi_label


def test_jsonl_list_labels(tmp_path: Path) -> None:
    body = '{"text": "a", "labels": ["x", "y"]}\n{"text": "b", "labels": "z"}\n'
    data = read_dataset(write(tmp_path / "d.ndjson", body))
    assert data.multi_label
    assert data.labels == [("x", "y"), ("z",)]


def test_jsonl_number_and_bool_labels(tmp_path: Path) -> None:
    body = '{"text": "a", "y": 1}\n{"text": "b", "y": 0}\n{"text": "c", "y": true}\n'
    data = read_dataset(write(tmp_path / "d.json", body))
    assert data.labels == [("1",), ("0",), ("true",)]


def test_jsonl_malformed_line(tmp_path: Path) -> None:
    body = '{"text": "a", "label": "x"}\n\n{"text": "b", "label": }\n'
    path = write(tmp_path / "d.jsonl", body)
    error = fails(path)
    assert (error.path, error.line, error.column) == (str(path), 3, 24)
    assert "invalid JSON" in error.message


def test_jsonl_non_object_line(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.jsonl", '{"text": "a", "label": "x"}\n[1, 2]\n'))
    assert error.line == 2
    assert "expected a JSON object" in error.message


def test_jsonl_missing_key(tmp_path: Path) -> None:
    body = '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c"}\n'
    error = fails(write(tmp_path / "d.jsonl", body))
    assert (error.line, error.column) == (3, "label")
    assert "missing key 'label'" in error.message


def test_jsonl_bad_label_type(tmp_path: Path) -> None:
    body = '{"text": "a", "label": "x"}\n{"text": "b", "label": {"k": 1}}\n'
    error = fails(write(tmp_path / "d.jsonl", body))
    assert (error.line, error.column) == (2, "label")


def test_jsonl_array_file_gets_a_hint(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.json", '[\n  {"text": "a", "label": "x"}\n]\n'))
    assert error.line == 1
    assert "one JSON object per line" in error.message


# --- fastText ----------------------------------------------------------------------------


def test_fasttext_single(tmp_path: Path) -> None:
    body = "__label__pos great  movie\n\n__label__neg awful\r\n"
    data = read_dataset(write(tmp_path / "d.txt", body))
    assert data.format == "fasttext"
    assert data.texts == ["great  movie", "awful"]
    assert data.labels == [("pos",), ("neg",)]
    assert data.lines == [1, 3]
    assert not data.multi_label
    assert data.text_column is None


def test_fasttext_multi(tmp_path: Path) -> None:
    body = "__label__a __label__b both\n__label__c one\n"
    data = read_dataset(write(tmp_path / "d.ft", body))
    assert data.multi_label
    assert data.labels == [("a", "b"), ("c",)]
    assert data.texts == ["both", "one"]


def test_fasttext_line_without_label(tmp_path: Path) -> None:
    path = write(tmp_path / "d.txt", "__label__a x\n__label__b y\njust text\n")
    error = fails(path)
    assert (error.path, error.line) == (str(path), 3)
    assert "__label__" in error.message


def test_txt_that_is_not_fasttext_asks_for_a_format(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", "hello\nworld\n")
    error = fails(path)
    assert error.path == str(path)
    assert "format" in error.message


# --- folder ------------------------------------------------------------------------------


def test_folder(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write(root / "neg" / "b.txt", "bad")
    write(root / "neg" / "a.txt", "worse")
    write(root / "pos" / "1.txt", "good")
    write(root / "pos" / ".hidden.txt", "ignored")
    write(root / "pos" / "notes.md", "ignored")
    write(root / "pos" / "deeper" / "x.txt", "ignored")
    write(root / ".git" / "HEAD.txt", "ignored")
    write(root / "README.txt", "ignored")
    data = read_dataset(root)
    assert data.format == "folder"
    assert data.texts == ["worse", "bad", "good"]
    assert data.labels == [("neg",), ("neg",), ("pos",)]
    assert data.lines == [1, 2, 3]
    assert data.text_column is None and data.label_column is None


def test_folder_empty_text_warning_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "a" / "1.txt", "x")
    write(tmp_path / "b" / "2.txt", "")
    data = read_dataset(tmp_path)
    assert data.warnings == ("1 document has empty text (first at b/2.txt)",)


def test_folder_without_class_folders(tmp_path: Path) -> None:
    write(tmp_path / "loose.txt", "x")
    error = fails(tmp_path)
    assert error.path == str(tmp_path)
    assert "no class subfolders" in error.message


def test_class_folder_without_files(tmp_path: Path) -> None:
    write(tmp_path / "a" / "1.txt", "x")
    write(tmp_path / "b" / "1.md", "x")
    error = fails(tmp_path)
    assert error.path == str(tmp_path / "b")
    assert ".txt" in error.message


def test_folder_bad_file_is_named(tmp_path: Path) -> None:
    write(tmp_path / "a" / "1.txt", "x")
    bad = write(tmp_path / "b" / "1.txt", b"ok\n\xff")
    error = fails(tmp_path)
    assert (error.path, error.line, error.byte_offset) == (str(bad), 2, 3)


def test_folder_one_class(tmp_path: Path) -> None:
    write(tmp_path / "only" / "1.txt", "x")
    assert "only one class ('only')" in fails(tmp_path).message


# --- Parquet -----------------------------------------------------------------------------


def test_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    table = pa.table({"review": ["good", None, "bad"], "score": [1, 0, 0], "n": [5, 6, 7]})
    pq.write_table(table, path)
    data = read_dataset(path, label_column="score")
    assert data.format == "parquet"
    assert data.texts == ["good", "", "bad"]
    assert data.labels == [("1",), ("0",), ("0",)]
    assert data.lines == [1, 2, 3]
    assert data.text_column == "review"
    assert data.warnings == ("1 document has empty text (first at line 2)",)


def test_parquet_list_labels(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.pq"
    pq.write_table(pa.table({"text": ["a", "b"], "tags": [["x", "y"], ["z"]]}), path)
    data = read_dataset(path)
    assert data.multi_label
    assert data.labels == [("x", "y"), ("z",)]


def test_parquet_unreadable(tmp_path: Path) -> None:
    path = write(tmp_path / "d.parquet", b"PAR1 this is not really parquet PAR1")
    error = fails(path)
    assert error.path == str(path)
    assert "Parquet" in error.message
    assert "Parquet" in fails(write(tmp_path / "e.parquet", "text,label\n")).message


# --- format detection, paths, options ----------------------------------------------------


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(tmp_path) == "folder"
    assert detect_format(tmp_path / "x.CSV") == "csv"
    assert detect_format(tmp_path / "x.tab") == "tsv"
    assert detect_format(tmp_path / "x.ndjson") == "jsonl"
    assert detect_format(tmp_path / "x.pq") == "parquet"
    assert detect_format(write(tmp_path / "a.txt", "\n__label__x hi\n")) == "fasttext"
    assert detect_format(write(tmp_path / "a.dat", "text\tlabel\na, b\tc\n")) == "tsv"
    assert detect_format(write(tmp_path / "b.dat", "text;label\na\tb;c\n")) == "csv"
    assert detect_format(write(tmp_path / "c", '{"text": "a"}\n')) == "jsonl"
    assert set(FORMATS) == {"csv", "tsv", "jsonl", "fasttext", "folder", "parquet"}


def test_sniff_prefers_delimiter_outside_quotes() -> None:
    sample = "".join(f'{i};"text, with, commas";pos\n' for i in range(50))
    assert sniff_delimiter(sample) == ";"
    assert sniff_delimiter("a,b\n1,2\n") == ","
    assert sniff_delimiter("just words\n") is None


def test_unknown_suffix_is_read(tmp_path: Path) -> None:
    data = read_dataset(write(tmp_path / "d.data", "text\tlabel\na\tx\nb\ty\n"))
    assert data.format == "tsv"


def test_unknown_suffix_undetectable(tmp_path: Path) -> None:
    error = fails(write(tmp_path / "d.data", "just one column\nof words\n"))
    assert "pass a format" in error.message


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    error = fails(path)
    assert (error.path, error.message) == (str(path), "file not found")
    assert "not found" in fails(tmp_path / "missing.data").message
    assert "not found" in fails(tmp_path / "missing", format="folder").message


def test_folder_given_a_file_format(tmp_path: Path) -> None:
    assert "folder" in fails(tmp_path, format="csv").message


def test_unknown_format(tmp_path: Path) -> None:
    assert "unknown format 'xml'" in fails(tmp_path / "d.xml", format="xml").message


def test_forced_format_overrides_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "__label__a x\n__label__b y\n")
    assert read_dataset(path, format="fasttext").labels == [("a",), ("b",)]


# --- column detection --------------------------------------------------------------------


def test_detect_columns_by_name() -> None:
    names = ["ID", "Review", "Sentiment"]
    assert detect_columns(names, []) == ("Review", "Sentiment")
    assert detect_columns(["Tags", "BODY"], []) == ("BODY", "Tags")


def test_detect_columns_by_content() -> None:
    names = ["id", "kind", "words", "score"]
    rows = [
        ["1", "a", "a long piece of text here", "0.5"],
        ["2", "b", "another long piece of text", "0.25"],
        ["3", "a", "and a third one to be sure", "0.125"],
    ]
    assert detect_columns(names, rows) == ("words", "kind")


def test_detect_columns_keeps_given_ones() -> None:
    names = ["a", "b", "c"]
    rows = [["x", "yy", "1"], ["x", "zz", "1"], ["x", "ww", "2"]]
    assert detect_columns(names, rows, text_column="a") == ("a", "c")
    assert detect_columns(names, rows, label_column="b") == ("a", "b")
    with pytest.raises(DatasetError):
        detect_columns(names, rows, text_column="a", label_column="a")


def test_detect_columns_needs_two() -> None:
    with pytest.raises(DatasetError) as info:
        detect_columns(["text"], [["a"]])
    assert "at least two columns" in info.value.message


def test_auto_detect_columns_in_csv(tmp_path: Path) -> None:
    body = (
        "id,stars,blurb\n1,5,a truly wonderful film\n2,1,a dreadful waste of time\n3,5,loved it\n"
    )
    data = read_dataset(write(tmp_path / "d.csv", body))
    assert (data.text_column, data.label_column) == ("blurb", "stars")


# --- fuzz --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet='ab,;\t|"\n\r {}[]:_label\\ é', max_size=300).map(str.encode),
    ),
    fmt=st.sampled_from(["csv", "tsv", "jsonl", "fasttext", "auto"]),
    delimiter=st.sampled_from([None, "|"]),
)
def test_random_bytes_never_escape(content: bytes, fmt: str, delimiter: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.bin"
        path.write_bytes(content)
        try:
            result = read_dataset(path, format=fmt, label_delimiter=delimiter)
        except DatasetError as error:
            assert "\n" not in str(error)
        else:
            assert isinstance(result, RawDataset)
            assert len(result.texts) == len(result.labels) == len(result.lines)


def _only_dataset_errors(path: Path, **kwargs: object) -> None:
    try:
        result = read_dataset(path, **kwargs)  # type: ignore[arg-type]
    except DatasetError as error:
        assert "\n" not in str(error)
    else:
        assert len(result.texts) == len(result.labels) == len(result.lines)


@settings(max_examples=40, deadline=None)
@given(content=st.binary(max_size=400))
def test_random_bytes_as_parquet_never_escape(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.parquet"
        path.write_bytes(b"PAR1" + content if content[:1] == b"\x00" else content)
        _only_dataset_errors(path, format="parquet")


@settings(max_examples=30, deadline=None)
@given(
    files=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.binary(max_size=200)), max_size=8)
)
def test_random_class_folders_never_escape(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "data"
        root.mkdir()
        for k, (label, content) in enumerate(files):
            (root / label).mkdir(exist_ok=True)
            (root / label / f"{k}.txt").write_bytes(content)
        _only_dataset_errors(root, format="folder")


_cells = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=True))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(_cells, min_size=0, max_size=4), max_size=12))
def test_random_rows_in_every_tabular_format_never_escape(rows: list[list[object]]) -> None:
    import csv
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        with open(base / "d.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([["text", "label"], *rows])
        with open(base / "d.tsv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, delimiter="\t").writerows([["text", "label"], *rows])
        with open(base / "d.jsonl", "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(
                    json.dumps(dict(zip(["text", "label", "x", "y"], row, strict=False))) + "\n"
                )
        texts = [None if not r else str(r[0]) for r in rows]
        labels = [None if len(r) < 2 else str(r[1]) for r in rows]
        pq.write_table(pa.table({"text": texts, "label": labels}), base / "d.parquet")
        for name in ("d.csv", "d.tsv", "d.jsonl", "d.parquet"):
            _only_dataset_errors(base / name)
