"""Choosing the labels: those the training split carries; the others dropped with one warning."""

from __future__ import annotations

import numpy as np
import pytest

from studio.engine.data.label_set import (
    MAX_NAMED,
    choose_labels,
    label_codes,
    target_table,
)
from studio.errors import DatasetError


def _where(i: int) -> tuple[str, int]:
    return "d.tsv", i + 2


def test_labels_of_the_training_documents_only() -> None:
    docs = [("a", "b"), ("a",), ("b", "rare"), ("a", "rare"), ("a", "b")]
    codes, sets = label_codes(docs)
    assert codes.tolist() == [0, 1, 2, 3, 0] and sets[2] == ("b", "rare")
    choice = choose_labels(sets, codes, np.array([0, 1, 4]))
    assert choice.names == ("a", "b")
    assert choice.dropped == {"rare": 2}
    assert choice.first_unknown == (2, "rare")
    table = target_table(sets, choice.names, multi_label=True)
    assert table[codes].tolist() == [[1, 1], [1, 0], [0, 1], [1, 0], [1, 1]]


def test_one_dropped_label_makes_one_warning_with_its_count() -> None:
    codes, sets = label_codes([("a",), ("b",), ("a", "devel::lang:pike")])
    choice = choose_labels(sets, codes, np.array([0, 1]))
    warnings = choice.warnings(True, _where)
    assert len(warnings) == 1
    assert warnings[0].startswith("label 'devel::lang:pike' (1 document) dropped")
    assert "\n" not in warnings[0]


def test_many_dropped_labels_are_one_warning_naming_the_most_carried() -> None:
    extra = MAX_NAMED + 2
    docs = [("a",), ("b",)] + [("a", f"t{k:02d}") for k in range(extra) for _ in range(k + 1)]
    codes, sets = label_codes(docs)
    choice = choose_labels(sets, codes, np.array([0, 1]))
    (warning,) = choice.warnings(True, _where)
    assert warning.startswith(f"{extra} labels dropped")
    assert f"'t{extra - 1:02d}' ({extra} documents)" in warning  # most carried first
    assert "'t01'" not in warning and "'t00'" not in warning  # past the cap: counted only
    assert warning.endswith("and 2 more")


def test_nothing_dropped_no_warning() -> None:
    codes, sets = label_codes([("a",), ("b",), ("a",)])
    choice = choose_labels(sets, codes, np.array([0, 1]))
    assert choice.dropped == {} and choice.warnings(False, _where) == ()
    assert target_table(sets, choice.names, multi_label=False)[codes].tolist() == [0, 1, 0]


def test_single_label_document_with_an_unknown_label_is_an_error() -> None:
    codes, sets = label_codes([("a",), ("b",), ("z",)])
    choice = choose_labels(sets, codes, np.array([0, 1]))
    with pytest.raises(DatasetError) as err:
        choice.warnings(False, _where)
    assert (err.value.path, err.value.line) == ("d.tsv", 4) and "'z'" in str(err.value)
