"""The Label issues page's short jobs, run on its task thread (they import the engine):
read a run's review back, write a corrected copy, prepare a retrain on one. Each returns a
frozen payload the page reads on the GUI thread."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.config import StudioConfig, load_config
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.label_review import Findings
    from studio.engine.data.corrected import Corrected

__all__ = [
    "CopyWritten",
    "RetrainRequest",
    "ReviewRead",
    "read_review",
    "retrain_copy",
    "write_copy",
]


@dataclass(frozen=True)
class RetrainRequest:
    """Train ``config`` (the reviewed run's setup on its corrected copy), then compare the
    new run with ``compare_with``."""

    config: StudioConfig
    compare_with: str


@dataclass(frozen=True)
class ReviewRead:
    """A run's setup, its saved findings (None: never searched) and decisions, a line for
    the status, and the flagged documents per (given, suggested) pair (single-label)."""

    run_dir: str
    config: StudioConfig
    findings: Findings | None
    decisions: dict[int, str] = field(default_factory=dict)
    note: str = ""
    pairs: Any = None  # int64 [labels, labels], or None


@dataclass(frozen=True)
class CopyWritten:
    """A corrected copy was written; ``retrain`` when it is to be trained on."""

    written: Corrected
    retrain: RetrainRequest | None = None


def read_review(run_dir: str) -> ReviewRead:
    from studio.engine.analysis.label_review import (
        dataset_fingerprint,
        load_decisions,
        load_findings,
    )

    config = load_config(Path(run_dir) / "config.toml")
    findings = load_findings(run_dir)
    if findings is None:
        return ReviewRead(run_dir, config, None, note="Not reviewed yet: Find label issues.")
    try:
        changed = dataset_fingerprint(findings.dataset) != findings.fingerprint
    except StudioError:
        changed = True
    note = (
        f"<b>{findings.dataset} changed or is gone since these issues were found</b>: "
        "find them again before saving a copy."
        if changed
        else f"{len(findings.issues):,} likely label issues among {findings.documents:,} "
        f"documents ({findings.folds} folds)"
    )
    decisions: dict[int, str] = dict(load_decisions(run_dir, findings).items())
    return ReviewRead(run_dir, config, findings, decisions, note, _pairs(findings))


def _pairs(findings: Findings) -> Any:
    if findings.multi_label:
        return None
    import numpy as np

    index = {name: i for i, name in enumerate(findings.label_names)}
    counts = np.zeros((len(index), len(index)), dtype=np.int64)
    for issue in findings.issues:
        counts[index[issue.given_labels[0]], index[issue.suggested_labels[0]]] += 1
    return counts


def write_copy(
    config: StudioConfig, findings: Findings, decisions: Mapping[int, str], path: str
) -> CopyWritten:
    """The corrected copy at ``path`` (the dataset is only read)."""
    from studio.engine.analysis.label_review import write_reviewed

    return CopyWritten(write_reviewed(config, findings, decisions, path))  # type: ignore[arg-type]


def retrain_copy(
    config: StudioConfig, findings: Findings, decisions: Mapping[int, str], run_dir: str
) -> CopyWritten:
    """A fresh corrected copy inside the run's review folder, and the run to train on it."""
    from studio.engine.analysis.label_review import REVIEW_DIR, corrected_name

    out = Path(run_dir) / REVIEW_DIR / corrected_name(findings.dataset).name
    if out.is_dir():
        shutil.rmtree(out)  # this page's own earlier copy, inside the run folder
    written = write_copy(config, findings, decisions, str(out)).written
    data = {"path": str(out), "valid_path": None, "test_path": None}
    return CopyWritten(written, RetrainRequest(config.with_overrides(data=data), run_dir))
