#!/usr/bin/env python3
"""Build a labelled text dataset from the Debian package index that apt keeps on this machine.

Each document is one Debian package description: its synopsis line followed by its long
description, as one line of plain text.  The label is the package's archive section
(``python``, ``libs``, ``devel``, ``doc`` ...) with any ``contrib/``, ``non-free/`` or
``non-free-firmware/`` prefix removed.  The package name is never part of the text (names such
as ``python3-*`` or ``lib*`` would give the label away).

Source: the apt list files under ``/var/lib/apt/lists`` (``--lists``): the ``*_Packages``
files give ``Package``, ``Section``, ``Description`` (the synopsis) and ``Description-md5``;
the ``*_i18n_Translation-en`` files give the long descriptions, joined by ``Description-md5``.
Plain, ``.gz``, ``.xz`` and ``.bz2`` lists are read with the standard library; ``.lz4`` and
``.zst`` lists (apt's usual on-disk format) are decompressed with apt's own
``apt-helper cat-file``, or the ``lz4``/``zstd`` programs, and skipped with a warning where
none is installed.  Many binary packages share one description: the dataset keeps one document
per ``Description-md5`` (the first package by name), so that no text is both in training and
in validation data; texts that still come out identical are kept once as well.

Debian images often set ``Acquire::Languages "none"``, so their lists hold no
``Translation-en`` files and every text would be a synopsis only (the script warns).  apt can
fetch them into a separate folder without touching the system lists::

    mkdir -p /tmp/apt-lists-en/partial
    apt-get update -o Dir::State::Lists=/tmp/apt-lists-en -o Acquire::Languages=en
    python scripts/build_debian_descriptions.py --lists /tmp/apt-lists-en

Licence: package descriptions are part of Debian's archive metadata, written by the packages'
maintainers, and are redistributed under the terms of the respective packages and of the Debian
archive.  This dataset is generated locally from the machine's own apt lists and is not bundled
with Embedding Studio.

Output: a UTF-8 TSV with the header ``package<TAB>section<TAB>text``, sorted by (section,
package), written with Python's ``csv`` module (a field containing a double quote is quoted).
The script uses the standard library only and is deterministic: two runs over the same lists
give byte-identical files.

    python scripts/build_debian_descriptions.py [--lists DIR] [--out PATH] [--top 20]
        [--min-words 5]
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import hashlib
import io
import lzma
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LISTS = Path("/var/lib/apt/lists")
DEFAULT_OUT = Path("/tmp/debian-descriptions.tsv")
HEADER = ("package", "section", "text")
STDLIB_OPENERS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda data: data,
    ".gz": gzip.decompress,
    ".xz": lzma.decompress,
    ".lzma": lzma.decompress,
    ".bz2": bz2.decompress,
}
# compressions the standard library cannot read: apt's helper first, then the plain tools
EXTERNAL_DECODERS: dict[str, tuple[tuple[str, ...], ...]] = {
    ".lz4": (("/usr/lib/apt/apt-helper", "cat-file"), ("lz4", "-dc"), ("lz4cat",)),
    ".zst": (("/usr/lib/apt/apt-helper", "cat-file"), ("zstd", "-dc")),
}
# apt names a list after its URI with "/" as "_"; these end the name before any compression
PACKAGES_MARK = "_Packages"
TRANSLATION_MARK = "_i18n_Translation-en"
SUFFIX_PREFERENCE = ("", ".gz", ".xz", ".bz2", ".lzma", ".lz4", ".zst")


@dataclass(frozen=True)
class PackageEntry:
    """One stanza of a Packages file, reduced to what the dataset needs."""

    name: str
    section: str
    synopsis: str
    md5: str
    inline_long: str  # a long description kept in the Packages file itself (rare)


@dataclass(frozen=True)
class Document:
    """One row of the dataset."""

    package: str
    section: str
    text: str


class ListsMissingError(Exception):
    """The lists folder holds no readable Packages file."""


# ---- reading apt list files -------------------------------------------------------------------


def compression_suffix(path: Path) -> str:
    """The compression extension of a list file ('' for a plain one)."""
    suffix = path.suffix
    return suffix if suffix in STDLIB_OPENERS or suffix in EXTERNAL_DECODERS else ""


def decode_external(path: Path, suffix: str) -> bytes | None:
    """Decompress with apt-helper or the lz4/zstd programs; None when none of them works."""
    for command in EXTERNAL_DECODERS[suffix]:
        if shutil.which(command[0]) is None:
            continue
        result = subprocess.run(
            [*command, str(path)], capture_output=True, check=False, timeout=600
        )
        if result.returncode == 0:
            return result.stdout
    return None


def read_list_text(path: Path) -> str | None:
    """The decompressed text of one list file, or None when its compression cannot be read."""
    suffix = compression_suffix(path)
    if suffix in STDLIB_OPENERS:
        data: bytes | None = STDLIB_OPENERS[suffix](path.read_bytes())
    else:
        data = decode_external(path, suffix)
    return None if data is None else data.decode("utf-8", errors="replace")


def find_list_files(lists_dir: Path, mark: str) -> list[Path]:
    """The list files whose name ends in ``mark`` (plus a compression), one per list, sorted."""
    best: dict[str, Path] = {}
    for path in sorted(lists_dir.glob(f"*{mark}*")):
        suffix = compression_suffix(path)
        base = path.name[: len(path.name) - len(suffix)] if suffix else path.name
        if not base.endswith(mark) or suffix not in SUFFIX_PREFERENCE:
            continue
        current = best.get(base)
        if current is None or SUFFIX_PREFERENCE.index(suffix) < SUFFIX_PREFERENCE.index(
            compression_suffix(current)
        ):
            best[base] = path
    return [best[base] for base in sorted(best)]


def parse_stanzas(text: str) -> Iterator[dict[str, str]]:
    """The stanzas of a deb822 file; continuation lines are kept, joined with newlines."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, key = {}, ""
        elif line[0] in " \t":
            if key:
                fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    if fields:
        yield fields


def release_date(list_file: Path) -> str | None:
    """The ``Date:`` of the InRelease/Release file that the list file belongs to."""
    candidates: list[tuple[int, Path]] = []
    for release in list_file.parent.glob("*Release"):
        for tail in ("InRelease", "Release"):
            if release.name.endswith("_" + tail):
                prefix = release.name[: -len(tail)]
                if list_file.name.startswith(prefix):
                    candidates.append((len(prefix), release))
    if not candidates:
        return None
    # the longest matching prefix; InRelease before Release at equal length (sorted by name)
    _, release = max(candidates, key=lambda item: (item[0], item[1].name.startswith("In")))
    for line in release.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Date:"):  # the first one is the header stanza's
            return line.partition(":")[2].strip()
    return None


# ---- text -------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """One line of text: every run of whitespace (tabs, newlines included) is one space."""
    return " ".join(text.split())


def join_long_description(continuation: str) -> str:
    """The long description as one line: " ." paragraph breaks dropped, lines joined."""
    lines = [line.strip() for line in continuation.splitlines()]
    return normalise(" ".join(line for line in lines if line and line != "."))


def split_description(value: str) -> tuple[str, str]:
    """A Description field's (synopsis, long description)."""
    synopsis, _, rest = value.partition("\n")
    return normalise(synopsis), join_long_description(rest)


def strip_section(section: str) -> str:
    """The section without its archive-area prefix: ``contrib/net`` -> ``net``."""
    return section.strip().rsplit("/", 1)[-1]


def word_count(text: str) -> int:
    """Whitespace-separated words in a text."""
    return len(text.split())


# ---- building the dataset ---------------------------------------------------------------------


def entry_from_stanza(stanza: dict[str, str]) -> PackageEntry | None:
    """A PackageEntry from one Packages stanza, or None when a needed field is missing."""
    name, section, description = (stanza.get(k, "") for k in ("Package", "Section", "Description"))
    if not (name and section and description):
        return None
    synopsis, inline_long = split_description(description)
    md5 = stanza.get("Description-md5") or hashlib.md5(description.encode()).hexdigest()
    return PackageEntry(name, strip_section(section), synopsis, md5, inline_long)


def read_packages(texts: Sequence[str]) -> list[PackageEntry]:
    """The entries of the Packages files, one per package name (the first file wins)."""
    entries: dict[str, PackageEntry] = {}
    for text in texts:
        for stanza in parse_stanzas(text):
            entry = entry_from_stanza(stanza)
            if entry is not None and entry.name not in entries:
                entries[entry.name] = entry
    return [entries[name] for name in sorted(entries)]


def read_translations(texts: Sequence[str]) -> dict[str, str]:
    """Long descriptions by Description-md5 from the Translation-en files (the first wins)."""
    long_by_md5: dict[str, str] = {}
    for text in texts:
        for stanza in parse_stanzas(text):
            md5, description = stanza.get("Description-md5"), stanza.get("Description-en")
            if md5 and description and md5 not in long_by_md5:
                long_by_md5[md5] = split_description(description)[1]
    return long_by_md5


def build_documents(entries: Sequence[PackageEntry], long_by_md5: dict[str, str]) -> list[Document]:
    """One document per Description-md5 and per text: the first package by name keeps it.

    Descriptions with different md5s can still normalise to the same text (whitespace only);
    those are dropped too, so that no text can be in both training and validation data.
    """
    seen_md5: set[str] = set()
    documents: dict[str, Document] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.md5 in seen_md5:
            continue
        seen_md5.add(entry.md5)
        long = long_by_md5.get(entry.md5) or entry.inline_long
        text = normalise(f"{entry.synopsis} {long}")
        documents.setdefault(text, Document(entry.name, entry.section, text))
    return list(documents.values())


def select_documents(documents: Sequence[Document], top: int, min_words: int) -> list[Document]:
    """Documents of at least ``min_words`` words in the ``top`` most frequent sections, sorted."""
    long_enough = [d for d in documents if word_count(d.text) >= min_words]
    counts = Counter(d.section for d in long_enough)
    ranked = sorted(counts, key=lambda section: (-counts[section], section))
    kept = set(ranked[:top] if top > 0 else ranked)
    return sorted(
        (d for d in long_enough if d.section in kept), key=lambda d: (d.section, d.package)
    )


def to_tsv(documents: Sequence[Document]) -> bytes:
    """The dataset as UTF-8 TSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows((d.package, d.section, d.text) for d in documents)
    return buffer.getvalue().encode("utf-8")


# ---- command line -----------------------------------------------------------------------------


def read_lists(paths: Sequence[Path]) -> tuple[list[str], list[Path]]:
    """The texts of the readable list files and the files they came from (others warned)."""
    texts: list[str] = []
    used: list[Path] = []
    for path in paths:
        text = read_list_text(path)
        if text is None:
            print(f"warning: cannot decompress {path.name}; skipped", file=sys.stderr)
            continue
        texts.append(text)
        used.append(path)
    return texts, used


def load(lists_dir: Path) -> tuple[list[PackageEntry], dict[str, str], list[Path]]:
    """Entries, long descriptions and the list files used; ListsMissingError if none."""
    package_files = find_list_files(lists_dir, PACKAGES_MARK) if lists_dir.is_dir() else []
    package_texts, used = read_lists(package_files)
    if not package_texts:
        raise ListsMissingError(f"no readable *{PACKAGES_MARK} file in {lists_dir}")
    translation_texts, used_translations = read_lists(find_list_files(lists_dir, TRANSLATION_MARK))
    if not translation_texts:
        print(
            f"warning: no *{TRANSLATION_MARK} file in {lists_dir}: texts are synopses only "
            "(see this script's docstring to fetch them)",
            file=sys.stderr,
        )
    return (
        read_packages(package_texts),
        read_translations(translation_texts),
        [
            *used,
            *used_translations,
        ],
    )


def report(documents: Sequence[Document], used: Sequence[Path], out: Path, data: bytes) -> None:
    """Per-class counts, total, the source list files with their dates, the output's digest."""
    counts = Counter(d.section for d in documents)
    print("documents per section:")
    for section in sorted(counts, key=lambda s: (-counts[s], s)):
        print(f"  {section:<16} {counts[section]:>6}")
    print(f"total: {len(documents)} documents in {len(counts)} sections")
    print("apt list files used:")
    for path in used:
        print(f"  {path.name}  (Date: {release_date(path) or 'unknown'})")
    print(f"wrote {out} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS, help="apt lists folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="TSV file to write")
    parser.add_argument("--top", type=int, default=20, help="keep the N largest sections (0: all)")
    parser.add_argument("--min-words", type=int, default=5, help="drop shorter texts")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the dataset; 0 on success, 2 when there are no apt lists to read."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        entries, long_by_md5, used = load(args.lists)
    except ListsMissingError as error:
        print(f"error: {error}: run `apt-get update` first", file=sys.stderr)
        return 2
    documents = select_documents(build_documents(entries, long_by_md5), args.top, args.min_words)
    data = to_tsv(documents)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    report(documents, used, args.out, data)
    print(f"took {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
