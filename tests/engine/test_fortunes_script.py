"""scripts/build_fortunes_dataset.py on a tiny fake fortune tree and fake .deb files."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Literal

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_fortunes_dataset.py"
FORTUNES = "usr/share/games/fortunes"

CATEGORIES = {
    # the last fortune of a file may end without a "%" line, as in the real files
    "alpha": "One two three four\n%\nShort one\n%\n_\bI like\tit\n   well\n%\nShared text here\n",
    "beta": (
        'Beta says "quoted" things\n%\nShared text here\n%\n'
        "It\u00e2\u0080\u0099s fine\x07 really\n%\n"
    ),
    "gamma": "Shared text here\n%\nGamma has its own text\n%\n",  # one left after de-duplication
    "tiny": "Only one fortune here\n%\n",
    "ascii-art": "  /\\_/\\  ( o.o )  > ^ <\n%\n  |__|  |__|  |__|\n%\n",
}
VERSIONS = {"fortunes": "1:9.9-1", "fortunes-min": "1:9.9-1"}
PACKAGE_FILES = {"fortunes": ("alpha", "ascii-art", "gamma", "tiny"), "fortunes-min": ("beta",)}

EXPECTED = [
    ["category", "text"],
    ["alpha", "One two three four"],
    ["alpha", "I like it well"],
    ["alpha", "Shared text here"],
    ["beta", 'Beta says "quoted" things'],
    ["beta", "It\u2019s fine really"],
]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_fortunes_dataset", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def make_root(root: Path) -> Path:
    folder = root / FORTUNES
    folder.mkdir(parents=True)
    for name, text in CATEGORIES.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / f"{name}.dat").write_bytes(b"\x00\x00\x00\x02binary index")
        (folder / f"{name}.u8").symlink_to(name)
    for package, version in VERSIONS.items():
        doc = root / "usr" / "share" / "doc" / package
        doc.mkdir(parents=True)
        line = f"fortune-mod ({version}) unstable; urgency=medium\n"
        (doc / "changelog.Debian.gz").write_bytes(gzip.compress(line.encode(), mtime=0))
    return root


def tar_bytes(files: dict[str, bytes], mode: Literal["w", "w:gz", "w:xz"]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-c"], input=data, capture_output=True, check=True).stdout


def ar_bytes(members: dict[str, bytes]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n"
        out += header.encode("ascii") + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def make_debs(folder: Path, *, zst: bool = False) -> Path:
    folder.mkdir()
    for package, names in PACKAGE_FILES.items():
        control = f"Package: {package}\nVersion: {VERSIONS[package]}\nArchitecture: all\n"
        data = {f"./{FORTUNES}/{name}": CATEGORIES[name].encode() for name in names}
        data |= {f"./{FORTUNES}/{name}.dat": b"\x00index" for name in names}
        control_tar = tar_bytes({"./control": control.encode()}, "w" if zst else "w:gz")
        data_tar = tar_bytes(data, "w" if zst else "w:xz")
        members = {"debian-binary": b"2.0\n"}
        if zst:
            members |= {"control.tar.zst": zstd(control_tar), "data.tar.zst": zstd(data_tar)}
        else:
            members |= {"control.tar.gz": control_tar, "data.tar.xz": data_tar}
        deb = ar_bytes(members)
        (folder / f"{package}_1%3a9.9-1_all.deb").write_bytes(deb)
    (folder / "unrelated_1.0_all.deb").write_bytes(b"not read: another package")
    return folder


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def run(script: ModuleType, option: str, folder: Path, out: Path) -> int:
    return script.main([option, str(folder), "--out", str(out), "--min-docs", "2"])


def test_builds_cleaned_deduplicated_rows(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "fortunes.tsv"
    assert run(script, "--root", make_root(tmp_path / "root"), out) == 0
    assert read_rows(out) == EXPECTED
    assert b'beta\t"Beta says ""quoted"" things"\n' in out.read_bytes()
    printed = capsys.readouterr().out
    assert "fortunes      1:9.9-1 (from usr/share/doc/fortunes/changelog.Debian.gz)" in printed
    assert "category files: 5; excluded: ascii-art" in printed
    assert "dropped: 1 fortunes outside the word limits, 1 duplicates" in printed
    assert "categories dropped for too few documents: gamma (1), tiny (1)" in printed
    assert "total: 5 documents in 2 categories, median 4 words per document" in printed


def test_max_words_keeps_only_short_fortunes(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "short.tsv"
    root = make_root(tmp_path / "root")
    code = script.main(["--root", str(root), "--out", str(out), "--min-docs", "1",
                        "--max-words", "3"])  # fmt: skip
    assert code == 0
    # of EXPECTED's fortunes only the three-word ones are short enough
    assert read_rows(out)[1:] == [["alpha", "Shared text here"], ["beta", "It\u2019s fine really"]]


def test_debs_give_the_same_file_as_the_unpacked_tree(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from_root, from_debs = tmp_path / "root.tsv", tmp_path / "debs.tsv"
    assert run(script, "--root", make_root(tmp_path / "root"), from_root) == 0
    assert run(script, "--debs", make_debs(tmp_path / "debs"), from_debs) == 0
    assert from_debs.read_bytes() == from_root.read_bytes()
    printed = capsys.readouterr().out
    assert "fortunes-min  1:9.9-1 (fortunes-min_1%3a9.9-1_all.deb, sha256 " in printed


@pytest.mark.skipif(shutil.which("zstd") is None, reason="needs the zstd program to compress")
def test_zstd_compressed_debs_are_read(script: ModuleType, tmp_path: Path) -> None:
    from_root, from_debs = tmp_path / "root.tsv", tmp_path / "debs.tsv"
    assert run(script, "--root", make_root(tmp_path / "root"), from_root) == 0
    assert run(script, "--debs", make_debs(tmp_path / "debs", zst=True), from_debs) == 0
    assert from_debs.read_bytes() == from_root.read_bytes()


def test_output_is_byte_identical_across_runs(script: ModuleType, tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    first, second = tmp_path / "a.tsv", tmp_path / "b.tsv"
    assert run(script, "--root", root, first) == 0
    assert run(script, "--root", root, second) == 0
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("case", ["missing-root", "empty-root", "bad-deb", "missing-deb"])
def test_bad_input_exits_2_with_one_line(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    option, folder = "--root", tmp_path / "nowhere"
    if case == "empty-root":
        (tmp_path / "empty" / FORTUNES).mkdir(parents=True)
        folder = tmp_path / "empty"
    elif case in ("bad-deb", "missing-deb"):
        option, folder = "--debs", make_debs(tmp_path / "debs")
        deb = folder / "fortunes-min_1%3a9.9-1_all.deb"
        if case == "bad-deb":
            deb.write_bytes(b"PK\x03\x04 a zip file")
        else:
            deb.unlink()
    out = tmp_path / "out.tsv"
    assert run(script, option, folder, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def test_too_high_min_docs_is_bad_input(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root(tmp_path / "root")
    argv = ["--root", str(root), "--out", str(tmp_path / "out.tsv"), "--min-docs", "10"]
    assert script.main(argv) == 2
    assert capsys.readouterr().err == "error: no category has --min-docs 10 documents\n"


def test_text_helpers(script: ModuleType) -> None:
    assert script.resolve_overstrike("*____\b\b\b\bonly*") == "*only*"
    assert script.resolve_overstrike("B\bBo\bol\bld\bd x\b_") == "Bold x"
    assert script.repair_mojibake("don\u00c3\u00a2\u00c2\u0080\u00c2\u0099t") == "don\u2019t"
    assert script.repair_mojibake("caf\u00e9 \u00a3") == "caf\u00e9 \u00a3"  # real Latin-1
    assert script.split_fortunes("a\n%\n\n%\nb\r\n%\r\n%x\n") == ["a", "b", "%x"]
    assert script.clean("  tab\there\n\tnext\x07 line ") == "tab here next line"
