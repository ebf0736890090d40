"""Build an interactions dataset from Debian's package index: each binary package (the
"user") and every package it depends on or recommends (the "items").

    python scripts/build_debian_depends.py [--lists /var/lib/apt/lists] [--out FILE]
        [--min-count 5] [--fields Depends,Recommends]

Reads the ``*_Packages`` indexes apt keeps (``.lz4`` ones through ``apt-helper cat-file``).
Version constraints and architecture qualifiers are dropped; of alternatives ("a | b")
the first is kept; a package's own name is never its item. With ``--fields Tag`` the
items are the package's debtags (``interface::graphical``), a second dataset of another
kind. Then packages and dependencies
with fewer than ``--min-count`` links are dropped, repeatedly (the k-core). Writes a TSV
with ``package`` and ``depends`` columns. The index is Debian archive metadata, public,
taken from each package's control file.

With ``--descriptions FILE`` it also writes the one-line description (``package``,
``description``) of each item: the item text for ``studio recs --item-text``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*)")


def _indexes(lists: Path) -> list[str]:
    texts = []
    for path in sorted(lists.glob("*_Packages*")):
        if path.suffix == ".lz4":
            done = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(path)],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            texts.append(done.stdout)
        elif path.suffix == "":
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def _links(text: str, fields: tuple[str, ...]) -> set[tuple[str, str]]:
    links: set[tuple[str, str]] = set()
    for stanza in text.split("\n\n"):
        head: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                head[key] = value.strip()
            elif line.strip() and key in ("Tag", "Depends", "Recommends"):
                head[key] += " " + line.strip()  # a continuation line
        package = head.get("Package")
        if not package:
            continue
        for field in fields:
            for part in head.get(field, "").split(","):
                if field == "Tag":  # debtags: "role::program" is the item itself
                    tag = part.strip()
                    if tag:
                        links.add((package, tag))
                    continue
                found = _NAME.match(part.split("|")[0])
                if found and found.group(1) != package:
                    links.add((package, found.group(1)))
    return links


def _descriptions(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    package = ""
    for line in text.splitlines():
        if line.startswith("Package:"):
            package = line.partition(":")[2].strip()
        elif line.startswith("Description:") and package:
            found.setdefault(package, line.partition(":")[2].strip().replace("\t", " "))
    return found


def _k_core(links: set[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    kept = sorted(links)
    while True:
        users = Counter(u for u, _ in kept)
        items = Counter(i for _, i in kept)
        left = [(u, i) for u, i in kept if users[u] >= k and items[i] >= k]
        if len(left) == len(kept):
            return left
        kept = left


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lists", type=Path, default=Path("/var/lib/apt/lists"))
    parser.add_argument("--out", type=Path, default=Path("debian-depends.tsv"))
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--fields", default="Depends,Recommends")
    parser.add_argument("--descriptions", type=Path, help="also write package descriptions")
    args = parser.parse_args()
    fields = tuple(f.strip() for f in args.fields.split(","))
    links: set[tuple[str, str]] = set()
    described: dict[str, str] = {}
    for text in _indexes(args.lists):
        links |= _links(text, fields)
        if args.descriptions:
            described |= {k: v for k, v in _descriptions(text).items() if k not in described}
    rows = _k_core(links, args.min_count)
    if args.descriptions:  # the items' (users' descriptions are not used)
        named = {i for _, i in rows}
        described = {k: v for k, v in described.items() if k in named}
        with open(args.descriptions, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("package\tdescription\n")
            fh.writelines(f"{k}\t{v}\n" for k, v in sorted(described.items()))
        print(f"{args.descriptions}: {len(described):,} package descriptions")
    column = "tag" if fields == ("Tag",) else "depends"
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"package\t{column}\n")
        fh.writelines(f"{u}\t{i}\n" for u, i in rows)
    users, items = len({u for u, _ in rows}), len({i for _, i in rows})
    print(f"{args.out}: {len(rows):,} links, {users:,} packages, {items:,} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
