"""The label review beside a run: findings and decisions saved and read back, kept while the
dataset is unchanged and refused once it has changed; the corrected copy undoes most flips."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.label_review import (
    Action,
    corrections,
    find_and_save,
    load_decisions,
    load_findings,
    save_decisions,
    write_reviewed,
)
from studio.engine.data.readers import read_dataset
from studio.errors import StudioError
from tests.engine.analysis.test_label_issues import FAST, _noisy_copy


def _config(path: Path) -> StudioConfig:
    return StudioConfig(data=DataConfig(path=str(path))).with_overrides(**FAST)


def test_accepting_every_suggestion_undoes_most_flips(tmp_path: Path) -> None:
    noisy, flipped = _noisy_copy(tmp_path, 0.05)
    clean = read_dataset(tmp_path / "clean.csv")
    truth = dict(zip(clean.lines, clean.labels, strict=True))
    before = hashlib.sha256(noisy.read_bytes()).hexdigest()
    run = tmp_path / "run"
    findings = find_and_save(_config(noisy), run, folds=3)
    assert load_findings(run) == findings  # what the window reads back is what was found
    assert findings.documents == 900 and findings.folds == 3

    decisions: dict[int, Action] = {i.line: "accept" for i in findings.issues}
    save_decisions(run, findings, decisions)
    assert load_decisions(run, findings) == decisions
    out = tmp_path / "noisy.corrected.csv"
    result = write_reviewed(_config(noisy), findings, decisions, out)
    assert hashlib.sha256(noisy.read_bytes()).hexdigest() == before
    fixed = read_dataset(out)
    wrong = {line for line, labels in zip(fixed.lines, fixed.labels, strict=True)
             if labels != truth[line]}  # fmt: skip
    assert result.relabelled == len(findings.issues) and result.documents == 900
    assert len(wrong) <= 0.4 * len(flipped)  # most flips are undone
    relabel, exclude = corrections(findings, {**decisions, flipped.pop(): "exclude"})
    assert len(exclude) == 1 and len(relabel) >= len(decisions) - 1


def test_decisions_follow_the_file_they_were_made_on(tmp_path: Path) -> None:
    noisy, _ = _noisy_copy(tmp_path, 0.05)
    run = tmp_path / "run"
    findings = find_and_save(_config(noisy), run, folds=2)
    first = findings.issues[0].line
    save_decisions(run, findings, {first: "keep"})
    again = find_and_save(_config(noisy), run, folds=2)  # same file: the decision stays
    assert load_decisions(run, again) == {first: "keep"}

    with noisy.open("a", encoding="utf-8") as fh:
        fh.write("one more document here,sports\n")
    with pytest.raises(StudioError, match="changed since its label issues were found"):
        write_reviewed(_config(noisy), again, {first: "keep"}, tmp_path / "out.csv")
    changed = find_and_save(_config(noisy), run, folds=2)
    assert load_decisions(run, changed) == {}  # about another file: dropped, not misapplied


def test_a_damaged_decisions_file_is_named(tmp_path: Path) -> None:
    noisy, _ = _noisy_copy(tmp_path, 0.05)
    run = tmp_path / "run"
    findings = find_and_save(_config(noisy), run, folds=2)
    path = run / "label-issues" / "decisions.json"
    body = {"version": 1, "fingerprint": findings.fingerprint, "decisions": {"2": "relabel"}}
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(StudioError, match=r"decisions\.json: unknown decision 'relabel'"):
        load_decisions(run, findings)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StudioError, match=r"decisions\.json: not a readable review file"):
        load_decisions(run, findings)
