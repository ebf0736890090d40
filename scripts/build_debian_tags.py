#!/usr/bin/env python3
"""Build a multi-label text dataset from the Debian package index: descriptions and debtags.

Each document is one Debian package description, its synopsis line followed by its long
description as one line of plain text, exactly as ``build_debian_descriptions.py`` makes it
(this script reuses that script's list reading).  Its labels are the package's debtags, the
``Tag:`` field of the ``*_Packages`` files (``devel::lang:python, role::program, ...``), kept
when at least ``--min-count`` documents carry them; a package with no kept tag is left out.
The package name is never part of the text.

Source: the apt list files under ``--lists`` (``*_Packages`` for ``Package``, ``Tag``,
``Description`` and ``Description-md5``; ``*_i18n_Translation-en`` for the long descriptions).
Debian images often set ``Acquire::Languages "none"``; apt fetches the translations into a
separate folder without touching the system lists::

    mkdir -p /tmp/apt-lists-en/partial
    apt-get update -o Dir::State::Lists=/tmp/apt-lists-en -o Acquire::Languages=en
    python scripts/build_debian_tags.py --lists /tmp/apt-lists-en

Many binary packages share one description: the dataset keeps one document per
``Description-md5`` (the first package by name, with that package's tags), and texts that
still come out identical once, so that no text is both in training and in validation data.
Tags are counted over those documents, so every kept tag labels at least ``--min-count`` rows.

Licence: package descriptions and tags are part of Debian's archive metadata, written by the
packages' maintainers and the debtags contributors, and are redistributed under the terms of
the respective packages and of the Debian archive.  The dataset is generated locally from the
machine's own apt lists and is not bundled with Embedding Studio.

Output: a UTF-8 TSV with the header ``package<TAB>tags<TAB>text``, the tags sorted and
separated by single spaces (train with ``--label-delimiter " "``), rows sorted by package,
written with Python's ``csv`` module (a field containing a double quote is quoted).  Standard
library only, deterministic: two runs over the same lists give byte-identical files.

    python scripts/build_debian_tags.py [--lists DIR] [--out PATH] [--min-count 20]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import build_debian_descriptions as apt
except ModuleNotFoundError:  # loaded by path (as the tests do): this folder is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_debian_descriptions as apt

DEFAULT_OUT = Path("/tmp/debian-tags.tsv")
HEADER = ("package", "tags", "text")


@dataclass(frozen=True)
class TaggedDocument:
    """One row of the dataset."""

    package: str
    tags: tuple[str, ...]  # sorted
    text: str


def parse_tags(value: str) -> tuple[str, ...]:
    """The tags of a ``Tag:`` field (comma-separated, over continuation lines), sorted, once."""
    return tuple(sorted({tag.strip() for tag in value.split(",") if tag.strip()}))


def read_tagged_packages(
    texts: Sequence[str],
) -> tuple[list[apt.PackageEntry], dict[str, tuple[str, ...]]]:
    """The Packages files' entries (one per package name, the first file wins) and their tags."""
    entries: dict[str, apt.PackageEntry] = {}
    tags: dict[str, tuple[str, ...]] = {}
    for text in texts:
        for stanza in apt.parse_stanzas(text):
            entry = apt.entry_from_stanza(stanza)
            if entry is not None and entry.name not in entries:
                entries[entry.name] = entry
                tags[entry.name] = parse_tags(stanza.get("Tag", ""))
    return [entries[name] for name in sorted(entries)], tags


def tag_documents(
    documents: Sequence[apt.Document], tags: dict[str, tuple[str, ...]], min_count: int
) -> list[TaggedDocument]:
    """The documents with their tags used by at least ``min_count`` documents, sorted by
    package; documents left without a tag are dropped."""
    counts = Counter(tag for d in documents for tag in tags.get(d.package, ()))
    kept = {tag for tag, n in counts.items() if n >= min_count}
    out = []
    for d in sorted(documents, key=lambda d: d.package):
        mine = tuple(tag for tag in tags.get(d.package, ()) if tag in kept)
        if mine:
            out.append(TaggedDocument(d.package, mine, d.text))
    return out


def to_tsv(documents: Sequence[TaggedDocument]) -> bytes:
    """The dataset as UTF-8 TSV with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows((d.package, " ".join(d.tags), d.text) for d in documents)
    return buffer.getvalue().encode("utf-8")


def load(lists_dir: Path) -> tuple[list[apt.Document], dict[str, tuple[str, ...]], list[Path]]:
    """The deduplicated documents, every package's tags and the list files used."""
    marks = (apt.PACKAGES_MARK, apt.TRANSLATION_MARK)
    package_files = apt.find_list_files(lists_dir, marks[0]) if lists_dir.is_dir() else []
    package_texts, used = apt.read_lists(package_files)
    if not package_texts:
        raise apt.ListsMissingError(f"no readable *{marks[0]} file in {lists_dir}")
    translation_texts, used_translations = apt.read_lists(apt.find_list_files(lists_dir, marks[1]))
    if not translation_texts:
        print(
            f"warning: no *{marks[1]} file in {lists_dir}: texts are synopses only "
            "(see this script's docstring to fetch them)",
            file=sys.stderr,
        )
    entries, tags = read_tagged_packages(package_texts)
    documents = apt.build_documents(entries, apt.read_translations(translation_texts))
    return documents, tags, [*used, *used_translations]


def report(
    documents: Sequence[TaggedDocument], used: Sequence[Path], out: Path, data: bytes
) -> None:
    """Size, the most used tags, the source list files with their dates, the output's digest."""
    counts = Counter(tag for d in documents for tag in d.tags)
    n_tags = sum(len(d.tags) for d in documents)
    print("most used tags:")
    for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        print(f"  {tag:<28} {n:>6}")
    mean = n_tags / len(documents) if documents else 0.0
    print(f"total: {len(documents)} documents, {len(counts)} tags, {mean:.2f} tags per document")
    print("apt list files used:")
    for path in used:
        print(f"  {path.name}  (Date: {apt.release_date(path) or 'unknown'})")
    print(f"wrote {out} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=Path, default=apt.DEFAULT_LISTS, help="apt lists folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="TSV file to write")
    parser.add_argument(
        "--min-count", type=int, default=20, help="keep tags that label at least N documents"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the dataset; 0 on success, 2 when there are no apt lists to read."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        documents, tags, used = load(args.lists)
    except apt.ListsMissingError as error:
        print(f"error: {error}: run `apt-get update` first", file=sys.stderr)
        return 2
    tagged = tag_documents(documents, tags, args.min_count)
    data = to_tsv(tagged)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    report(tagged, used, args.out, data)
    print(f"took {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
