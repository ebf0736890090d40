"""Item side features: a file giving each item a text (a title, a description, tags).

The file (CSV, TSV, JSON Lines or Parquet) has an item id column, named as the
interactions' item column or ``item``/``id``/``package``…, and a text column
(``text``/``description``/``title``…; with two columns, the one that is not the id).
Items are matched to the interactions' items by id; items the file does not name get an
empty text, ids the interactions never use are ignored (both counted). Every problem is a
:class:`~studio.errors.DatasetError` naming the file, the line and the column.

:func:`item_encoder` builds the words vocabulary of those texts (words that occur in at
least two items, most frequent first: a word of one item carries nothing to another).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from studio.engine.data.interactions import COLUMN_NAMES, column_key, table_rows
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import PAD, UNK, iter_word_tokens
from studio.errors import DatasetError

__all__ = ["ItemTexts", "item_encoder", "read_item_texts"]

_ID_NAMES: Final = (*COLUMN_NAMES["item"], "id", "package", "name", "key")
_TEXT_NAMES: Final = ("text", "description", "desc", "title", "summary", "body", "content",
                      "tags", "keywords", "label")  # fmt: skip


@dataclass(frozen=True)
class ItemTexts:
    texts: tuple[str, ...]  # per dense item id; "" for an item the file does not name
    path: str
    columns: tuple[str, str]  # (id column, text column)
    matched: int  # items of the interactions that got a text
    unused: int  # rows whose id no interaction uses


def _pick(names: list[str], given: str | None, wanted: Sequence[str], path: Path,
          role: str, taken: str | None = None) -> str:  # fmt: skip
    if given is not None:
        if given not in names:
            raise DatasetError(f"no column {given!r} (columns: {', '.join(names)})",
                               path=path, column=given)  # fmt: skip
        return given
    keys = [column_key(w) for w in wanted]
    found = sorted(
        (keys.index(column_key(n)), n) for n in names if column_key(n) in keys and n != taken
    )
    if found:
        return found[0][1]
    others = [n for n in names if n != taken]
    if role == "text" and len(others) == 1:
        return others[0]
    raise DatasetError(
        f"no {role} column found among {', '.join(names)}; name it with --item-{role}-col",
        path=path,
    )


def read_item_texts(
    path: str | Path, item_names: Sequence[str], *, id_column: str | None = None,
    text_column: str | None = None, item_column: str | None = None,
) -> ItemTexts:  # fmt: skip
    """The text of each item in ``item_names`` (the interactions' items, by dense id);
    ``item_column``, the interactions' item column, is the first name looked for."""
    path = Path(path)
    names, rows = table_rows(path)
    wanted = _ID_NAMES if item_column is None else (item_column, *_ID_NAMES)
    id_col = _pick(names, id_column, wanted, path, "id")
    text_col = _pick(names, text_column, _TEXT_NAMES, path, "text", taken=id_col)
    index = {name: i for i, name in enumerate(item_names)}
    texts = [""] * len(item_names)
    seen: dict[str, int] = {}
    unused = 0
    for line, row in rows:
        raw = row.get(id_col)
        item = "" if raw is None else str(raw).strip()
        if not item:
            raise DatasetError(f"empty {id_col}", path=path, line=line, column=id_col)
        if item in seen:
            raise DatasetError(f"item {item!r} again (first on line {seen[item]})",
                               path=path, line=line, column=id_col)  # fmt: skip
        seen[item] = line
        at = index.get(item)
        if at is None:
            unused += 1
            continue
        text = row.get(text_col)
        texts[at] = "" if text is None else str(text)
    matched = sum(bool(t.strip()) for t in texts)
    if matched == 0:
        raise DatasetError(
            f"no item of the interactions is named in its {id_col!r} column "
            f"(e.g. {item_names[0]!r})",
            path=path, column=id_col,
        )  # fmt: skip
    return ItemTexts(tuple(texts), str(path), (id_col, text_col), matched, unused)


def item_encoder(texts: Sequence[str], max_words: int = 50_000, min_items: int = 2) -> TextEncoder:
    """A words encoder (lower-cased) over the words found in at least ``min_items`` texts."""
    counts: Counter[str] = Counter()
    for words in iter_word_tokens(texts, True):
        counts.update(set(words))
    kept = [w for w, n in counts.most_common() if n >= min_items][:max_words]
    return TextEncoder("words", True, (PAD, UNK, *kept))
