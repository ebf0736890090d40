"""The bad-input table shared by the CLI test and the window test.

Each :class:`BadInput` builds its files under ``tmp_path`` and returns the ``studio``
arguments that feed them in. ``expect`` is a substring the one-line error must contain: it
names the file, line, column, byte offset or config field at fault. ``window`` says how the
window receives the input ("dataset": ``open_path``; "setup": widget values; "config": a TOML
loaded by the setup page; "accept": a dataset that is not an error and must load; None: not
reachable from the window, with ``skip_reason``).

Decisions recorded here (they go into the closing note):

* A dataset whose texts are all empty is an error: "no document has any text" (the reader
  warns for some empty texts and refuses when none is left).
* A 10 MB single CSV row is accepted: it is read (no hang, no field-size error) and the
  dataset trains, so the CLI exits 0 (``exit_code`` 0 in the table).
* A dataset smaller than one batch (6 documents, batch 64) trains: the trainer's loader
  simply yields one short batch, so the CLI exits 0 (``exit_code`` 0 in the table).
* Tests run as root, where ``chmod 0o500`` does not stop writes; the read-only runs
  directory is then simulated by a path under a regular file (``file.txt/runs``).
* A full disk is simulated by making ``studio.engine.atomic.write_atomic`` raise ENOSPC.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import write_topics_csv

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
QUIET = ["--quiet", "--epochs", "1"]


@dataclass(frozen=True)
class BadInput:
    name: str
    make: Callable[[Path], list[str]]
    expect: str
    exit_code: int = 2
    window: str | None = "dataset"  # "dataset", "setup", "config", "accept" or None
    skip_reason: str = ""
    # setup cases: objectName -> value to set in the window
    setup: dict[str, Any] = field(default_factory=dict)
    # extra test-time patching (monkeypatch) for the in-process CLI run
    patch: Callable[[Any], None] | None = None


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def _train(path: Path, *extra: str) -> list[str]:
    return ["train", str(path), *QUIET, *extra]


def _good(tmp: Path) -> Path:
    return write_topics_csv(tmp / "good.csv", n=60)


def _csv_rows(rows: list[str]) -> str:
    return "".join(row + "\n" for row in rows)


def _two_class_rows(n: int = 4) -> list[str]:
    return [f"some words number {i},{'a' if i % 2 else 'b'}" for i in range(n)]


# --------------------------------------------------------------------------- builders
def empty_file(tmp: Path) -> list[str]:
    return _train(_write(tmp / "empty.csv", b""))


def header_only(tmp: Path) -> list[str]:
    return _train(_write(tmp / "header.csv", "text,label\n"))


def one_class(tmp: Path) -> list[str]:
    return _train(_write(tmp / "one.csv", _csv_rows(["text,label", "hi there,a", "bye now,a"])))


def text_col_missing(tmp: Path) -> list[str]:
    return _train(_write(tmp / "cols.csv", _csv_rows(["text,label", *_two_class_rows()])),
                  "--text-col", "body")  # fmt: skip


def label_col_missing(tmp: Path) -> list[str]:
    return _train(_write(tmp / "cols.csv", _csv_rows(["text,label", *_two_class_rows()])),
                  "--label-col", "category")  # fmt: skip


def ragged_row(tmp: Path) -> list[str]:
    rows = ["text,label", "fine row,a", "another,b,extra", "last,a"]
    return _train(_write(tmp / "ragged.csv", _csv_rows(rows)))


def png_bytes(tmp: Path) -> list[str]:
    return _train(_write(tmp / "picture.csv", PNG_BYTES))


def non_utf8(tmp: Path) -> list[str]:
    data = b"text,label\ncaf\xe9 noir,a\nthe end,b\n"  # latin-1 'é' at byte 14
    return _train(_write(tmp / "latin1.csv", data))


def malformed_json(tmp: Path) -> list[str]:
    lines = ['{"text": "hello", "label": "a"}', '{"text": "broken", "label": ', '{"text": "x"}']
    return _train(_write(tmp / "bad.jsonl", "\n".join(lines) + "\n"))


def json_missing_text(tmp: Path) -> list[str]:
    lines = [
        json.dumps({"text": "hello world", "label": "a"}),
        json.dumps({"text": "bye world", "label": "b"}),
        json.dumps({"label": "a"}),
    ]
    return _train(_write(tmp / "missing.jsonl", "\n".join(lines) + "\n"))


def empty_texts(tmp: Path) -> list[str]:
    rows = ["text,label", *(f'"{" " * (i % 3)}",{"ab"[i % 2]}' for i in range(20))]
    return _train(_write(tmp / "notext.csv", _csv_rows(rows)))


def empty_labels(tmp: Path) -> list[str]:
    rows = ["text,label", "some text,", "more text,", "even more,"]
    return _train(_write(tmp / "nolabel.csv", _csv_rows(rows)))


def huge_line(tmp: Path) -> list[str]:
    big = "word " * (2 * 1024 * 1024)  # 10 MB of text in one field, on one line
    rows = ["text,label", f"{big},a", *(f"ball goal {i},{'ab'[i % 2]}" for i in range(20))]
    return _train(_write(tmp / "huge.csv", _csv_rows(rows)), "--runs-dir", str(tmp / "runs"))


def duplicate_columns(tmp: Path) -> list[str]:
    return _train(_write(tmp / "dup.csv", _csv_rows(["text,text,label", "a,b,c", "d,e,f"])))


def fasttext_no_label(tmp: Path) -> list[str]:
    return _train(_write(tmp / "data.txt", "__label__a good text\njust some text here\n"))


def folder_no_classes(tmp: Path) -> list[str]:
    folder = tmp / "flat"
    _write(folder / "one.txt", "hello")
    _write(folder / "two.txt", "world")
    return _train(folder)


def class_folder_empty(tmp: Path) -> list[str]:
    folder = tmp / "classes"
    _write(folder / "sport" / "1.txt", "ball goal")
    (folder / "food").mkdir()
    return _train(folder)


def tiny_dataset(tmp: Path) -> list[str]:
    # 20 documents: the 10 % validation split needs a few; training gets ~16 < 64
    rows = ["text,label", *(f"ball goal team {i},sport" for i in range(10)),
            *(f"bread cheese soup {i},food" for i in range(10))]  # fmt: skip
    path = _write(tmp / "tiny.csv", _csv_rows(rows))
    return _train(path, "--batch-size", "64", "--runs-dir", str(tmp / "runs"))


def _good_with(*extra: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        return _train(_good(tmp), *extra)

    return make


def readonly_runs(tmp: Path) -> list[str]:
    runs = tmp / "locked"
    runs.mkdir()
    os.chmod(runs, 0o500)
    probe = runs / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        target = runs  # an ordinary user: the read-only folder blocks writes
    else:
        probe.unlink()  # root: chmod does not block writes; use a path under a regular file
        target = _write(tmp / "file.txt", "not a folder") / "runs"
    return _train(_good(tmp), "--runs-dir", str(target))


def _no_space(monkeypatch: Any) -> None:
    def full(path: Path, _write: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("studio.engine.atomic.write_atomic", full)


def full_disk(tmp: Path) -> list[str]:
    return _train(_good(tmp), "--runs-dir", str(tmp / "fullruns"))


def _config(tmp: Path, body: str) -> Path:
    return _write(tmp / "setup.toml", body)


def config_unknown_key(tmp: Path) -> list[str]:
    return _train(_good(tmp), "--config", str(_config(tmp, "[train]\nepochz = 3\n")))


def config_wrong_type(tmp: Path) -> list[str]:
    return _train(_good(tmp), "--config", str(_config(tmp, '[train]\nepochs = "five"\n')))


def pretrained_wrong_dim(tmp: Path) -> list[str]:
    vec = _write(tmp / "vectors.vec", "2 3\nball 0.1 0.2 0.3\ngoal 0.4 0.5 0.6\n")
    config = _config(tmp, f"[model]\nembed_dim = 64\npretrained_vectors = {json.dumps(str(vec))}\n")
    return _train(_good(tmp), "--config", str(config))


# --------------------------------------------------------------------------- the table
_NO_COLUMN_PICK = "the window picks columns from the file's own header (no free-text column name)"

BAD_INPUTS: list[BadInput] = [
    BadInput("empty file", empty_file, "empty.csv: the file is empty"),
    BadInput("header only", header_only, "header.csv: no documents found"),
    BadInput("one class only", one_class, "only one class ('a')"),
    BadInput("text column missing", text_col_missing, "column 'body'",
             window=None, skip_reason=_NO_COLUMN_PICK),
    BadInput("label column missing", label_col_missing, "column 'category'",
             window=None, skip_reason=_NO_COLUMN_PICK),
    BadInput("ragged CSV row", ragged_row, "line 3"),
    BadInput("binary file (PNG bytes)", png_bytes, "byte offset"),
    BadInput("non-UTF-8 bytes", non_utf8, "byte offset 14"),
    BadInput("malformed JSON line", malformed_json, "line 2"),
    BadInput("JSON line missing the text key", json_missing_text, "line 3"),
    BadInput("all texts empty", empty_texts, "no document has any text"),
    BadInput("empty labels", empty_labels, "line 2, column 'label': empty label"),
    BadInput("10 MB single line", huge_line, "", exit_code=0, window="accept"),
    BadInput("duplicate column names", duplicate_columns, "column 'text'"),
    BadInput("fastText line without __label__", fasttext_no_label, "line 2"),
    BadInput("folder with no class subfolders", folder_no_classes, "no class subfolders"),
    BadInput("class folder with no files", class_folder_empty, "food: class folder holds no"),
    BadInput("dataset smaller than one batch", tiny_dataset, "", exit_code=0, window="accept"),
    BadInput("vocab size below 3", _good_with("--vocab-size", "2"), "tokenizer.vocab_size",
             window="setup", setup={"vocab_size": 2}),
    BadInput("embedding dim 0", _good_with("--embed-dim", "0"), "model.embed_dim",
             window="setup", setup={"embed_dim": 0}),
    BadInput("embedding dim huge", _good_with("--embed-dim", "100000"), "model.embed_dim",
             window="setup", setup={"embed_dim": 100_000}),
    BadInput("negative learning rate", _good_with("--lr", "-0.1"), "train.lr",
             window="setup", setup={"learning_rate": 0.0}),
    BadInput("epochs 0", _good_with("--epochs", "0"), "train.epochs",
             window="setup", setup={"epochs": 0}),
    BadInput("hidden layer width 0", _good_with("--hidden", "0"), "model.hidden",
             window="setup", setup={"hidden_layers": "0"}),
    BadInput("unknown device string", _good_with("--device", "tpu"), "device.device",
             window=None, skip_reason="the device combo only offers listed devices"),
    BadInput("CUDA on a CPU-only build", _good_with("--device", "cuda"), "cuda",
             window=None, skip_reason="the device combo only offers available devices"),
    BadInput("read-only runs directory", readonly_runs, "cannot create a run folder",
             window=None, skip_reason="the window's runs directory is fixed at start-up"),
    BadInput("full disk", full_disk, "config.toml: cannot write the run: No space left",
             window=None, skip_reason="simulated by patching the engine; covered by the CLI test",
             patch=_no_space),
    BadInput("config TOML with an unknown key", config_unknown_key, "train.epochz",
             window="config"),
    BadInput("config TOML with a wrong type", config_wrong_type, "train.epochs",
             window="config"),
    BadInput("pretrained vectors of the wrong dimension", pretrained_wrong_dim,
             "vectors.vec, line 1", window=None,
             skip_reason="the setup page has no pretrained-vectors field"),
]  # fmt: skip

ERRORS = [case for case in BAD_INPUTS if case.exit_code != 0]
