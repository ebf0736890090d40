"""Which labels a prepared dataset keeps: the ones its training split carries.

Both ways of preparing (:mod:`~studio.engine.data.in_memory`, :mod:`~studio.engine.data.streamed`)
see the documents' labels as *label sets* (each distinct tuple of labels once) and one set code
per document, and decide here, so that they decide alike:

* the label names are the labels of the training documents, sorted;
* multi-label: a label that only validation or test documents carry (say the one document with
  a rare tag went to the test split) is dropped from the label set, with one warning naming it
  and how many documents carry it; those documents keep their other labels;
* single-label: a document whose label no training document carries cannot be scored, and is
  an error, as a label a model does not know is everywhere else (``studio eval``). The
  stratified split always keeps a training document of every class of the main file, so this
  only happens with a separate validation or test file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from studio.errors import DatasetError

MAX_NAMED = 10  # dropped labels named in the warning; the rest are counted

LabelSets = Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class LabelChoice:
    """The labels kept, those dropped, and the first document that carries a dropped one."""

    names: tuple[str, ...]
    dropped: dict[str, int]  # label -> documents that carry it (none of them in training)
    first_unknown: tuple[int, str] | None  # (document, label) of the first such document

    def warnings(
        self, multi_label: bool, locate: Callable[[int], tuple[str, int]]
    ) -> tuple[str, ...]:
        """The warnings for the user (multi-label); DatasetError for a single-label document
        whose label no training document carries, at ``locate(document)``: (path, line)."""
        if self.first_unknown is None:
            return ()
        if not multi_label:
            i, label = self.first_unknown
            path, line = locate(i)
            raise DatasetError(
                f"label {label!r} does not occur in the training data", path=path, line=line
            )
        warning = self.warning()
        return () if warning is None else (warning,)

    def warning(self) -> str | None:
        """One line for the user about the dropped labels; None when none were dropped."""
        if not self.dropped:
            return None
        ranked = sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) == 1:
            label, n = ranked[0]
            which = "that document keeps its" if n == 1 else "those documents keep their"
            return (
                f"label {label!r} ({_documents(n)}) dropped: no training document carries it;"
                f" {which} other labels"
            )
        named = ", ".join(f"{label!r} ({_documents(n)})" for label, n in ranked[:MAX_NAMED])
        more = f" and {len(ranked) - MAX_NAMED} more" if len(ranked) > MAX_NAMED else ""
        return (
            f"{len(ranked)} labels dropped: no training document carries them (their documents"
            f" keep their other labels): {named}{more}"
        )


def _documents(n: int) -> str:
    return f"{n:,} document" + ("" if n == 1 else "s")


def label_codes(doc_labels: Sequence[tuple[str, ...]]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each document's label-set code (int32), and the label set of each code."""
    index: dict[tuple[str, ...], int] = {}
    codes = np.fromiter(
        (index.setdefault(labels, len(index)) for labels in doc_labels), np.int32, len(doc_labels)
    )
    return codes, list(index)


def choose_labels(sets: LabelSets, codes: np.ndarray, train_i: np.ndarray) -> LabelChoice:
    """The labels the training documents ``train_i`` carry, and what the others lose."""
    in_train = np.bincount(codes[train_i], minlength=len(sets))
    names = tuple(sorted({lab for c in np.flatnonzero(in_train).tolist() for lab in sets[c]}))
    kept = set(names)
    unknown = [next((lab for lab in labels if lab not in kept), None) for labels in sets]
    bad = np.array([lab is not None for lab in unknown], dtype=bool)
    if not bad.any():
        return LabelChoice(names, {}, None)
    docs = np.bincount(codes, minlength=len(sets))
    dropped: dict[str, int] = {}
    for c in np.flatnonzero(bad).tolist():
        for lab in sets[c]:
            if lab not in kept:
                dropped[lab] = dropped.get(lab, 0) + int(docs[c])
    first = int(np.flatnonzero(bad[codes])[0])
    label = unknown[int(codes[first])]
    assert label is not None
    return LabelChoice(names, dropped, (first, label))


def target_table(sets: LabelSets, names: Sequence[str], multi_label: bool) -> np.ndarray:
    """Each label set's targets: a uint8 row over ``names`` (multi-label; labels not in
    ``names`` left out) or the int64 index of its label (single-label)."""
    index = {name: j for j, name in enumerate(names)}
    if not multi_label:
        return np.array([index[labels[-1]] for labels in sets], dtype=np.int64)
    table = np.zeros((len(sets), len(names)), dtype=np.uint8)
    for c, labels in enumerate(sets):
        table[c, [index[lab] for lab in labels if lab in index]] = 1
    return table
