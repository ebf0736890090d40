"""scripts/build_debian_descriptions.py on a tiny fake apt lists folder."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_debian_descriptions.py"
PREFIX = "deb.example.org_debian_dists_test_"

PACKAGES = """\
Package: python3-foo
Version: 1.0-1
Section: python
Description: parser for the foo format
Description-md5: aaaa0000000000000000000000000001

Package: foo-tools
Version: 1.0-1
Section: utils
Description: command-line tools for foo files
Description-md5: bbbb0000000000000000000000000002

Package: bar-tools
Version: 2.0-1
Section: utils
Description: command-line tools for foo files
Description-md5: bbbb0000000000000000000000000002

Package: netcat-x
Version: 0.1-1
Section: contrib/net
Description: TCP/IP swiss army knife
Description-md5: cccc0000000000000000000000000003

Package: zlib-thing
Version: 3-1
Section: libs
Description: compression library	runtime
Description-md5: dddd0000000000000000000000000004
"""

TRANSLATION = """\
Package: python3-foo
Description-md5: aaaa0000000000000000000000000001
Description-en: parser for the foo format
 This module reads and writes
 the foo format.
 .
 It supports streaming.

Package: bar-tools
Description-md5: bbbb0000000000000000000000000002
Description-en: command-line tools for foo files
 Convert, validate and
    inspect foo files.

Package: netcat-x
Description-md5: cccc0000000000000000000000000003
Description-en: TCP/IP swiss army knife
 A simple utility which reads and writes data across network connections.
"""

EXPECTED = [
    ["package", "section", "text"],
    ["zlib-thing", "libs", "compression library runtime"],
    [
        "netcat-x",
        "net",
        "TCP/IP swiss army knife A simple utility which reads and writes data across network "
        "connections.",
    ],
    [
        "python3-foo",
        "python",
        "parser for the foo format This module reads and writes the foo format. "
        "It supports streaming.",
    ],
    [
        "bar-tools",
        "utils",
        "command-line tools for foo files Convert, validate and inspect foo files.",
    ],
]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_debian_descriptions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def make_lists(folder: Path, *, gz: bool = False) -> Path:
    folder.mkdir()
    (folder / f"{PREFIX}InRelease").write_text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        "Origin: Debian\nSuite: test\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n"
    )
    (folder / f"{PREFIX}main_binary-amd64_Packages").write_text(PACKAGES)
    translation = folder / f"{PREFIX}main_i18n_Translation-en"
    if gz:
        translation.with_name(translation.name + ".gz").write_bytes(
            gzip.compress(TRANSLATION.encode(), mtime=0)
        )
    else:
        translation.write_text(TRANSLATION)
    return folder


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def run(script: ModuleType, lists: Path, out: Path) -> int:
    return script.main(["--lists", str(lists), "--out", str(out), "--top", "5", "--min-words", "1"])


@pytest.mark.parametrize("gz", [False, True])
def test_builds_deduplicated_sorted_rows(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], gz: bool
) -> None:
    out = tmp_path / "out" / "debian.tsv"
    assert run(script, make_lists(tmp_path / "lists", gz=gz), out) == 0
    rows = read_rows(out)
    assert rows == EXPECTED
    # foo-tools shares bar-tools' description: only the first by name is kept
    assert "foo-tools" not in [row[0] for row in rows]
    for package, _, text in rows[1:]:
        assert package not in text
        assert "\t" not in text and "\n" not in text and " . " not in text
    printed = capsys.readouterr().out
    assert "total: 4 documents in 4 sections" in printed
    assert "Date: Sat, 11 Jul 2026 10:16:37 UTC" in printed


def test_output_is_byte_identical_across_runs(script: ModuleType, tmp_path: Path) -> None:
    lists = make_lists(tmp_path / "lists")
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    assert run(script, lists, first) == 0
    assert run(script, lists, second) == 0
    assert first.read_bytes() == second.read_bytes()


def test_top_and_min_words_filter(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "debian.tsv"
    lists = make_lists(tmp_path / "lists")
    argv = ["--lists", str(lists), "--out", str(out), "--top", "1", "--min-words", "4"]
    assert script.main(argv) == 0
    # 3 sections tie at one document of 4+ words ("libs" has 3 words): the first name wins
    assert [row[:2] for row in read_rows(out)] == [["package", "section"], ["netcat-x", "net"]]


def test_missing_lists_exit_2(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(script, tmp_path / "nowhere", tmp_path / "out.tsv") == 2
    assert "run `apt-get update` first" in capsys.readouterr().err
    assert not (tmp_path / "out.tsv").exists()


def test_synopsis_only_without_translations(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = make_lists(tmp_path / "lists")
    (lists / f"{PREFIX}main_i18n_Translation-en").unlink()
    out = tmp_path / "out.tsv"
    assert run(script, lists, out) == 0
    assert "no *_i18n_Translation-en file" in capsys.readouterr().err
    assert read_rows(out)[3] == ["python3-foo", "python", "parser for the foo format"]


def test_long_description_and_section_helpers(script: ModuleType) -> None:
    assert script.join_long_description("\n one\n .\n  two\tthree \n .") == "one two three"
    assert script.strip_section("non-free-firmware/kernel") == "kernel"
    assert script.strip_section("non-free/libs") == "libs"
    assert script.strip_section("devel") == "devel"


def test_same_text_under_another_md5_is_kept_once(script: ModuleType) -> None:
    entry = script.PackageEntry
    entries = [
        entry("b-pkg", "utils", "a tool", "md5-2", ""),
        entry("a-pkg", "admin", "a tool", "md5-1", ""),
        entry("c-pkg", "utils", "another tool", "md5-3", ""),
    ]
    long_by_md5 = {"md5-1": "does  things.", "md5-2": "does things.", "md5-3": "other."}
    documents = script.build_documents(entries, long_by_md5)
    assert [(d.package, d.text) for d in documents] == [
        ("a-pkg", "a tool does things."),
        ("c-pkg", "another tool other."),
    ]
