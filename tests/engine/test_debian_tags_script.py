"""scripts/build_debian_tags.py on a tiny fake apt lists folder."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from studio.engine.data.readers import read_dataset

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_debian_tags.py"
PREFIX = "deb.example.org_debian_dists_test_"

PACKAGES = """\
Package: clips
Section: devel
Tag: devel::interpreter, implemented-in::c,
 role::program
Description: "C" Language Integrated Production System
Description-md5: aaaa0000000000000000000000000001

Package: python3-foo
Section: python
Tag: devel::lang:python, devel::library, role::program
Description: parser for the foo format
Description-md5: bbbb0000000000000000000000000002

Package: python3-foo-doc
Section: doc
Tag: made-of::html, role::documentation
Description: parser for the foo format
Description-md5: bbbb0000000000000000000000000002

Package: libbar1
Section: libs
Tag: devel::library, role::shared-lib
Description: bar runtime library
Description-md5: cccc0000000000000000000000000003

Package: untagged-tool
Section: utils
Description: a tool nobody has tagged
Description-md5: dddd0000000000000000000000000004

Package: rare-thing
Section: misc
Tag: works-with::rare-stuff
Description: a package with only a rare tag
Description-md5: eeee0000000000000000000000000005
"""

TRANSLATION = """\
Package: clips
Description-md5: aaaa0000000000000000000000000001
Description-en: "C" Language Integrated Production System
 CLIPS is an expert
 system tool.

Package: python3-foo
Description-md5: bbbb0000000000000000000000000002
Description-en: parser for the foo format
 Reads and writes foo.
"""

EXPECTED = [
    ["package", "tags", "text"],
    [
        "clips",
        "role::program",
        '"C" Language Integrated Production System CLIPS is an expert system tool.',
    ],
    ["libbar1", "devel::library", "bar runtime library"],
    [
        "python3-foo",
        "devel::library role::program",
        "parser for the foo format Reads and writes foo.",
    ],
]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_debian_tags", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def make_lists(folder: Path) -> Path:
    folder.mkdir()
    (folder / f"{PREFIX}InRelease").write_text(
        "Origin: Debian\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n"
    )
    (folder / f"{PREFIX}main_binary-amd64_Packages").write_text(PACKAGES)
    (folder / f"{PREFIX}main_i18n_Translation-en").write_text(TRANSLATION)
    return folder


def build(script: ModuleType, lists: Path, out: Path, min_count: int = 2) -> int:
    return script.main(["--lists", str(lists), "--out", str(out), "--min-count", str(min_count)])


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def test_builds_tagged_rows(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "tags.tsv"
    assert build(script, make_lists(tmp_path / "lists"), out) == 0
    # one document per Description-md5 (python3-foo-doc shares python3-foo's), tags used by
    # fewer than 2 documents dropped, then documents without a tag (rare-thing, untagged-tool)
    assert read_rows(out) == EXPECTED
    printed = capsys.readouterr().out
    assert "total: 3 documents, 2 tags, 1.33 tags per document" in printed
    assert "Date: Sat, 11 Jul 2026 10:16:37 UTC" in printed


def test_every_tag_with_min_count_one(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "tags.tsv"
    assert build(script, make_lists(tmp_path / "lists"), out, min_count=1) == 0
    rows = {row[0]: row[1] for row in read_rows(out)[1:]}
    assert rows["clips"] == "devel::interpreter implemented-in::c role::program"
    assert rows["rare-thing"] == "works-with::rare-stuff" and "untagged-tool" not in rows


def test_output_is_deterministic_and_reads_as_multi_label(
    script: ModuleType, tmp_path: Path
) -> None:
    lists = make_lists(tmp_path / "lists")
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    assert build(script, lists, first) == 0 and build(script, lists, second) == 0
    assert first.read_bytes() == second.read_bytes()
    raw = read_dataset(first, text_column="text", label_column="tags", label_delimiter=" ")
    assert raw.multi_label and raw.labels[2] == ("devel::library", "role::program")
    assert raw.texts[0].startswith('"C" Language')  # the quoted field, read back whole


def test_tag_field_over_continuation_lines(script: ModuleType) -> None:
    assert script.parse_tags("b::x, a::y,\n c::z, a::y") == ("a::y", "b::x", "c::z")
    assert script.parse_tags("") == ()


def test_missing_lists_exit_2(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert build(script, tmp_path / "nowhere", tmp_path / "out.tsv") == 2
    assert "run `apt-get update` first" in capsys.readouterr().err
    assert not (tmp_path / "out.tsv").exists()
