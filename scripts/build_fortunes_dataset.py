#!/usr/bin/env python3
"""Build a labelled text dataset from Debian's fortune cookie files: quotes, jokes, aphorisms.

Each document is one fortune (the text that ``fortune(6)`` prints), as one line of plain text;
the label is the name of the fortune file it comes from, which is its topic: ``computers``,
``love``, ``science``, ``politics``, ``startrek`` ...  Attribution lines (``-- Mark Twain``)
are part of the fortune and stay in the text.

Source: the Debian packages ``fortunes`` and ``fortunes-min`` (source package ``fortune-mod``,
Debian 12 has ``1:1.99.1-7.3``), which install one file per category in
``/usr/share/games/fortunes/``; fortunes in a file are separated by lines holding only ``%``.
The ``<category>.dat`` files next to them are ``strfile(1)`` binary indexes and the
``<category>.u8`` files are symbolic links to the category files (a UTF-8 alias); both are
ignored, as is every name that contains a dot.  Offensive fortunes are in the separate
``fortunes-off`` package, which is not used.

The script reads either the two ``.deb`` files (``--debs DIR``: an ``.deb`` is an ``ar``
archive whose ``control.tar.*`` and ``data.tar.*`` members are read with the standard library;
a ``.zst`` member needs Python 3.14's ``compression.zstd``, the ``zstd`` program or
``dpkg-deb``) or a tree they were unpacked into (``--root DIR``).  It prints the package
versions it read: from the ``.deb`` control files, or from the first line of
``usr/share/doc/<package>/changelog.Debian.gz`` in an unpacked tree (the source version, which
is the binary version for these architecture-independent packages).

How each document is made: the ``ascii-art`` category is left out (pictures, not prose; the
``art`` category is prose about the arts and is kept).  Overstruck text (``_`` backspace
``x``, the old way to underline) keeps the letters, other control characters (bells) are
removed, text that was UTF-8-encoded twice (``Ã¢Â\\x80Â\\x99``) is decoded back (``’``), and the
fortune's lines are joined with single spaces, all whitespace collapsed.  Fortunes of fewer
than ``--min-words`` (3) words are dropped; a text that occurs more than once is kept once, in
the first category by name; then categories with fewer than ``--min-docs`` (50) documents are
dropped (and reported), repeating the de-duplication over the categories left until no
category is below the limit.

Licence: ``fortune-mod`` is under the BSD licence of the Regents of the University of
California (see ``/usr/share/doc/fortunes/copyright``, which also names the authors of some
files, e.g. Karl Lehenbauer for ``cookie``); the fortunes themselves are quotations and jokes
collected from many sources over decades and each keeps its author's rights.  They are
redistributed by Debian in ``main``.  This dataset is generated locally from those packages and
is not bundled with Embedding Studio.

Output: a UTF-8 TSV with the header ``category<TAB>text``, sorted by (category, position of the
fortune in its file), written with Python's ``csv`` module (tab delimiter, minimal quoting: a
text containing a double quote is quoted).  The script uses the standard library only and is
deterministic: two runs over the same packages give byte-identical files.  Bad input (no
fortune files, an unreadable ``.deb``) prints one ``error:`` line and exits with status 2.

Reproduce (``apt-get download`` needs no root, only ``apt-get update`` done once)::

    mkdir -p /tmp/fort && cd /tmp/fort && apt-get download fortunes fortunes-min && cd -
    python scripts/build_fortunes_dataset.py --debs /tmp/fort --out /tmp/fortunes.tsv

or, from an unpacked tree::

    for deb in /tmp/fort/*.deb; do dpkg-deb -x "$deb" /tmp/fort/x; done
    python scripts/build_fortunes_dataset.py --root /tmp/fort/x --out /tmp/fortunes.tsv

    python scripts/build_fortunes_dataset.py (--debs DIR | --root DIR) [--out PATH]
        [--min-words 3] [--min-docs 50] [--exclude ascii-art]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib
import io
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PACKAGES = ("fortunes", "fortunes-min")
FORTUNE_DIR = PurePosixPath("usr/share/games/fortunes")
DEFAULT_OUT = Path("/tmp/fortunes.tsv")
DEFAULT_EXCLUDE = "ascii-art"
HEADER = ("category", "text")
AR_MAGIC = b"!<arch>\n"
AR_HEADER_SIZE = 60
STDLIB_TAR_SUFFIXES = ("", ".gz", ".xz", ".bz2")
NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
CHANGELOG_VERSION = re.compile(r"^\S+ \(([^)]+)\)")


class InputError(Exception):
    """The input holds no usable fortune files (the message is one line)."""


@dataclass(frozen=True)
class Document:
    """One row of the dataset: a fortune, its category and its position in the file."""

    category: str
    index: int
    text: str


@dataclass
class Source:
    """The raw category files (name -> bytes) and where they came from."""

    files: dict[str, bytes] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # package -> "version (origin)"


@dataclass(frozen=True)
class Selection:
    """The documents kept and what was left out on the way."""

    documents: list[Document]
    excluded: list[str]
    short: int
    duplicates: int  # texts dropped from the kept categories as seen before
    dropped: dict[str, int]  # category -> documents it had when it was dropped


# ---- reading .deb files -----------------------------------------------------------------------


def ar_members(data: bytes, name: str) -> dict[str, bytes]:
    """The members of an ``ar`` archive (the .deb container), by name."""
    if not data.startswith(AR_MAGIC):
        raise InputError(f"{name}: not a Debian package (no ar archive header)")
    members: dict[str, bytes] = {}
    offset = len(AR_MAGIC)
    while offset + AR_HEADER_SIZE <= len(data):
        header = data[offset : offset + AR_HEADER_SIZE]
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as error:
            raise InputError(f"{name}: damaged ar member header at byte {offset}") from error
        member = header[:16].decode("ascii", errors="replace").strip().rstrip("/")
        start = offset + AR_HEADER_SIZE
        members[member] = data[start : start + size]
        offset = start + size + (size % 2)  # members are padded to an even length
    return members


def zstd_decompress(data: bytes) -> bytes | None:
    """Decompress zstd data with Python 3.14's module or the zstd program; None without both."""
    try:
        module = importlib.import_module("compression.zstd")
    except ImportError:
        module = None
    if module is not None:
        return bytes(module.decompress(data))
    if shutil.which("zstd") is None:
        return None
    result = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def member_tar(deb: Path, members: dict[str, bytes], stem: str) -> tarfile.TarFile:
    """The ``control.tar*`` or ``data.tar*`` member of a .deb, opened as a tar archive."""
    for suffix in (*STDLIB_TAR_SUFFIXES, ".zst"):
        data = members.get(stem + suffix)
        if data is None:
            continue
        if suffix == ".zst":
            data = zstd_decompress(data) or dpkg_deb_tar(deb, stem)
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    raise InputError(f"{deb.name}: no {stem} member")


def dpkg_deb_tar(deb: Path, stem: str) -> bytes:
    """The uncompressed control or data tar of a .deb from ``dpkg-deb``."""
    option = "--ctrl-tarfile" if stem == "control.tar" else "--fsys-tarfile"
    if shutil.which("dpkg-deb") is None:
        raise InputError(f"{deb.name}: zstd member needs Python 3.14, zstd or dpkg-deb")
    result = subprocess.run(["dpkg-deb", option, str(deb)], capture_output=True, check=False)
    if result.returncode != 0:
        raise InputError(f"{deb.name}: dpkg-deb {option} failed")
    return result.stdout


def control_fields(tar: tarfile.TarFile, name: str) -> dict[str, str]:
    """The ``Package`` and ``Version`` fields of a .deb's control file."""
    for member in tar.getmembers():
        if member.isfile() and PurePosixPath(member.name) == PurePosixPath("control"):
            handle = tar.extractfile(member)
            text = handle.read().decode("utf-8", errors="replace") if handle else ""
            fields: dict[str, str] = {}
            for line in text.splitlines():
                key, sep, value = line.partition(":")
                if sep and line[:1] not in (" ", "\t"):
                    fields[key.strip()] = value.strip()
            if fields.get("Package") and fields.get("Version"):
                return fields
    raise InputError(f"{name}: no control file with Package and Version")


def is_category_name(name: str) -> bool:
    """A fortune category file's name: no dot (``.dat`` indexes, ``.u8`` aliases left out)."""
    return bool(name) and "." not in name


def fortune_files(tar: tarfile.TarFile) -> dict[str, bytes]:
    """The regular category files under the fortune folder of a data tar, by name."""
    files: dict[str, bytes] = {}
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        if member.isfile() and path.parent == FORTUNE_DIR and is_category_name(path.name):
            handle = tar.extractfile(member)
            if handle is not None:
                files[path.name] = handle.read()
    return files


def read_deb(deb: Path) -> tuple[str, str, dict[str, bytes]]:
    """A .deb's (package, version, category files)."""
    try:
        members = ar_members(deb.read_bytes(), deb.name)
        with member_tar(deb, members, "control.tar") as control:
            fields = control_fields(control, deb.name)
        with member_tar(deb, members, "data.tar") as data:
            files = fortune_files(data)
    except (OSError, tarfile.TarError, EOFError, ValueError) as error:  # lzma/gzip errors too
        raise InputError(f"{deb.name}: cannot read: {error}") from error
    return fields["Package"], fields["Version"], files


def load_debs(folder: Path) -> Source:
    """The category files of the fortunes and fortunes-min .deb files in ``folder``."""
    if not folder.is_dir():
        raise InputError(f"--debs {folder}: not a folder")
    source = Source()
    for deb in sorted(folder.glob("*.deb")):
        if deb.name.split("_", 1)[0] not in PACKAGES:
            continue
        package, version, files = read_deb(deb)
        if package not in PACKAGES:
            continue
        if package in source.versions:
            raise InputError(f"--debs {folder}: more than one {package} .deb")
        source.versions[package] = f"{version} ({deb.name}, sha256 {sha256(deb.read_bytes())})"
        for name, data in files.items():
            source.files.setdefault(name, data)
    missing = [package for package in PACKAGES if package not in source.versions]
    if missing:
        raise InputError(
            f"--debs {folder}: no {' or '.join(missing)} .deb "
            "(get them with `apt-get download fortunes fortunes-min`)"
        )
    return source


def load_root(root: Path) -> Source:
    """The category files of an unpacked tree, with versions from the Debian changelogs."""
    folder = root.joinpath(*FORTUNE_DIR.parts)
    source = Source()
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and is_category_name(path.name):
                source.files[path.name] = path.read_bytes()
    if not source.files:
        raise InputError(f"--root {root}: no fortune files in {folder}")
    for package in PACKAGES:
        changelog = root / "usr" / "share" / "doc" / package / "changelog.Debian.gz"
        if changelog.is_file():
            with gzip.open(changelog, "rt", encoding="utf-8", errors="replace") as handle:
                match = CHANGELOG_VERSION.match(handle.readline())
            if match is not None:
                origin = changelog.relative_to(root).as_posix()
                source.versions[package] = f"{match.group(1)} (from {origin})"
    return source


def sha256(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


# ---- text -------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """A fortune file's text: UTF-8, or Latin-1 for an old file that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text decoded as Latin-1 (once or more): ``Ã¢Â\\x80Â\\x99`` -> ``’``.

    Each run of non-ASCII characters is re-decoded while its Latin-1 bytes are valid UTF-8;
    real Latin-1 letters (``é`` alone) are not valid UTF-8 and stay as they are.
    """

    def fix(match: re.Match[str]) -> str:
        run = match.group()
        while True:
            try:
                fixed = run.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                return run
            if fixed == run:
                return run
            run = fixed

    return NON_ASCII_RUN.sub(fix, text)


def resolve_overstrike(line: str) -> str:
    """A line as a terminal shows it after backspaces: ``_\\bx`` and ``x\\b_`` give ``x``."""
    if "\b" not in line:
        return line
    cells: list[str] = []
    position = 0
    for char in line:
        if char == "\b":
            position = max(position - 1, 0)
            continue
        if position < len(cells):
            if char != "_":  # an underline mark keeps the letter under it
                cells[position] = char
        else:
            cells.append(char)
        position += 1
    return "".join(cells)


def clean(fortune: str) -> str:
    """One line of plain text: overstrikes resolved, control characters gone, spaces collapsed."""
    lines = (resolve_overstrike(line) for line in fortune.split("\n"))
    text = " ".join(lines)
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) != "Cc"
    )
    return " ".join(text.split())


def split_fortunes(text: str) -> list[str]:
    """The fortunes of one file, raw: the blocks between lines holding only ``%``."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.rstrip("\r") == "%":
            blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    blocks.append("\n".join(current))
    return [block for block in blocks if block.strip()]


def word_count(text: str) -> int:
    """Whitespace-separated words in a text."""
    return len(text.split())


# ---- building the dataset ---------------------------------------------------------------------


def parse_categories(
    files: dict[str, bytes], exclude: Iterable[str], min_words: int, max_words: int = 0
) -> tuple[list[Document], int]:
    """Every fortune of ``min_words`` to ``max_words`` (0: any) words of the categories not
    excluded, by category name and position; and how many were too short or too long."""
    skipped = set(exclude)
    documents: list[Document] = []
    short = 0
    for category in sorted(files):
        if category in skipped:
            continue
        text = repair_mojibake(decode(files[category]))
        for index, raw in enumerate(split_fortunes(text)):
            cleaned = clean(raw)
            words = word_count(cleaned)
            if words < min_words or (max_words and words > max_words):
                short += 1
            else:
                documents.append(Document(category, index, cleaned))
    return documents, short


def deduplicate(documents: Sequence[Document], kept: set[str]) -> tuple[list[Document], int]:
    """The documents of the ``kept`` categories, each text once (the first occurrence)."""
    seen: set[str] = set()
    unique: list[Document] = []
    for document in documents:
        if document.category not in kept:
            continue
        if document.text in seen:
            continue
        seen.add(document.text)
        unique.append(document)
    return unique, sum(1 for d in documents if d.category in kept) - len(unique)


def select(
    files: dict[str, bytes],
    exclude: Sequence[str],
    min_words: int,
    min_docs: int,
    max_words: int = 0,
) -> Selection:
    """De-duplicate and drop small categories until every category left has ``min_docs``."""
    candidates, short = parse_categories(files, exclude, min_words, max_words)
    kept = {d.category for d in candidates}
    dropped = {c: 0 for c in files if c not in kept and c not in exclude}
    while True:
        unique, duplicates = deduplicate(candidates, kept)
        counts = Counter(d.category for d in unique)
        small = {c for c in kept if counts[c] < min_docs}
        if not small:
            break
        dropped.update((c, counts[c]) for c in small)
        kept -= small
    excluded = sorted(c for c in files if c in exclude)
    return Selection(unique, excluded, short, duplicates, dict(sorted(dropped.items())))


def to_tsv(documents: Sequence[Document]) -> bytes:
    """The dataset as UTF-8 TSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows((d.category, d.text) for d in documents)
    return buffer.getvalue().encode("utf-8")


# ---- command line -----------------------------------------------------------------------------


def report(source: Source, selection: Selection, out: Path, data: bytes) -> None:
    """Packages read, what was left out, per-category counts, totals and the output's digest."""
    print("packages read:")
    for package in PACKAGES:
        print(f"  {package:<13} {source.versions.get(package, 'version unknown')}")
    print(f"category files: {len(source.files)}; excluded: {', '.join(selection.excluded) or '-'}")
    short, duplicates = selection.short, selection.duplicates
    print(f"dropped: {short} fortunes outside the word limits, {duplicates} duplicates")
    if selection.dropped:
        listed = ", ".join(f"{c} ({n})" for c, n in selection.dropped.items())
        print(f"categories dropped for too few documents: {listed}")
    counts = Counter(d.category for d in selection.documents)
    print("documents per category:")
    for category in sorted(counts, key=lambda c: (-counts[c], c)):
        print(f"  {category:<16} {counts[category]:>6}")
    median = statistics.median(word_count(d.text) for d in selection.documents)
    print(
        f"total: {len(selection.documents)} documents in {len(counts)} categories, "
        f"median {median:g} words per document"
    )
    print(f"wrote {out} ({len(data)} bytes, sha256 {sha256(data)})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--debs", type=Path, help="folder with the fortunes and fortunes-min .debs")
    source.add_argument("--root", type=Path, help="folder the packages were unpacked into")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="TSV file to write")
    parser.add_argument("--min-words", type=int, default=3, help="drop shorter fortunes")
    parser.add_argument(
        "--max-words",
        type=int,
        default=0,
        help="drop longer fortunes (0: keep all); --max-words 20 gives a short-text set",
    )
    parser.add_argument("--min-docs", type=int, default=50, help="drop smaller categories")
    parser.add_argument(
        "--exclude", default=DEFAULT_EXCLUDE, help="comma-separated categories to leave out"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the dataset; 0 on success, 2 on bad input (one ``error:`` line on stderr)."""
    args = parse_args(argv)
    started = time.monotonic()
    exclude = [name.strip() for name in args.exclude.split(",") if name.strip()]
    try:
        source = load_debs(args.debs) if args.debs is not None else load_root(args.root)
        selection = select(source.files, exclude, args.min_words, args.min_docs, args.max_words)
        if not selection.documents:
            raise InputError(f"no category has --min-docs {args.min_docs} documents")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    data = to_tsv(selection.documents)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    report(source, selection, args.out, data)
    print(f"took {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
