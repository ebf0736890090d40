"""A run's label review, kept beside the run in ``label-issues/``: what the finder flagged
(``issues.json``) and what the user decided about each document (``decisions.json``,
rewritten as each decision is made). The dataset itself is never written to. Reading and
writing the review needs no torch (the window does it on its GUI thread).

Decisions are keyed by the document's line in the dataset file (as the readers number
them), so they stay right when the issues are found again on the same file. Both files
record a fingerprint of the dataset; a review of a file that has changed since is refused
rather than applied to the wrong documents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from studio.config import StudioConfig
from studio.engine.atomic import write_text_atomic
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.label_issues import FoldStart
    from studio.engine.data.corrected import Corrected
    from studio.engine.train.control import TrainControl
    from studio.engine.train.events import Callback

__all__ = [
    "ACTIONS",
    "REVIEW_DIR",
    "Action",
    "Findings",
    "LabelIssue",
    "corrected_name",
    "corrections",
    "dataset_fingerprint",
    "find_and_save",
    "load_decisions",
    "load_findings",
    "save_decisions",
    "write_reviewed",
]

REVIEW_DIR = "label-issues"
Action = Literal["accept", "keep", "exclude"]
ACTIONS: tuple[Action, ...] = ("accept", "keep", "exclude")
_VERSION = 1


@dataclass(frozen=True)
class LabelIssue:
    """One document whose given label the out-of-fold model doubts."""

    doc: int
    line: int  # its line in the source file (as the readers number lines)
    text: str
    given_labels: tuple[str, ...]  # one label, or a multi-label document's labels
    suggested_labels: tuple[str, ...]  # the out-of-fold model's choice
    quality: float  # cleanlab's label quality score, 0 (surely wrong) to 1

    @property
    def given(self) -> str:
        return ", ".join(self.given_labels)

    @property
    def suggested(self) -> str:
        return ", ".join(self.suggested_labels)

    def as_json(self) -> dict[str, object]:
        """For ``--json`` and the review file: labels as text, and as lists when multi-label."""
        return {
            "doc": self.doc, "line": self.line, "text": self.text, "given": self.given,
            "suggested": self.suggested, "quality": self.quality,
            "given_labels": list(self.given_labels),
            "suggested_labels": list(self.suggested_labels),
        }  # fmt: skip


@dataclass(frozen=True)
class Findings:
    """What the out-of-fold finder flagged in one dataset, most likely wrong first."""

    dataset: str
    fingerprint: str
    folds: int
    documents: int
    seconds: float
    multi_label: bool
    label_names: tuple[str, ...]
    issues: tuple[LabelIssue, ...]


def dataset_fingerprint(path: str | Path) -> str:
    """SHA-256 of the file, or of a folder's listing (each file's name, size and mtime)."""
    path = Path(path)
    digest = hashlib.sha256()
    try:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                stat = file.stat()
                digest.update(
                    f"{file.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
                )
            return "dir:" + digest.hexdigest()
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise StudioError(f"cannot read {path} ({exc.strerror or exc})") from None
    return digest.hexdigest()


def _dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / REVIEW_DIR


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(f"{path}: not a readable review file ({exc})") from None
    if not isinstance(value, dict) or value.get("version") != _VERSION:
        raise StudioError(f"{path}: not a review file of this version")
    return value


def find_and_save(
    config: StudioConfig,
    run_dir: str | Path,
    folds: int = 5,
    *,
    callbacks: Sequence[Callback] = (),
    control: TrainControl | None = None,
    on_fold: FoldStart | None = None,
    clock: Callable[[], float] | None = None,
) -> Findings:
    """Find the label issues of ``config``'s dataset with its setup and save them in
    ``run_dir``; earlier decisions are kept when the dataset is unchanged, else dropped."""
    import time

    from studio.engine.analysis.label_issues import find_issues, main_file_config, out_of_fold
    from studio.engine.data.prepare import prepare_dataset
    from studio.engine.runs.layout import default_cache_dir

    tick = clock or time.perf_counter
    start = tick()
    config = main_file_config(config)
    prepared = prepare_dataset(config.data, config.tokenizer, cache_dir=default_cache_dir())
    oof = out_of_fold(
        config, prepared, folds, callbacks=callbacks, control=control, on_fold=on_fold
    )
    findings = Findings(
        config.data.path, dataset_fingerprint(config.data.path), folds, prepared.n_docs,
        round(tick() - start, 3), prepared.multi_label, tuple(prepared.label_names),
        tuple(find_issues(oof)),
    )  # fmt: skip
    save_findings(run_dir, findings)
    old = _read_json(_dir(run_dir) / "decisions.json")
    if old is not None and old.get("fingerprint") != findings.fingerprint:
        save_decisions(run_dir, findings, {})
    return findings


def save_findings(run_dir: str | Path, findings: Findings) -> None:
    folder = _dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "version": _VERSION, "dataset": findings.dataset, "fingerprint": findings.fingerprint,
        "folds": findings.folds, "documents": findings.documents,
        "seconds": round(findings.seconds, 3), "multi_label": findings.multi_label,
        "label_names": list(findings.label_names),
        "issues": [issue.as_json() for issue in findings.issues],
    }  # fmt: skip
    write_text_atomic(folder / "issues.json", json.dumps(body, ensure_ascii=False))


def load_findings(run_dir: str | Path) -> Findings | None:
    """The run's saved findings; None when the finder has not run for it."""
    path = _dir(run_dir) / "issues.json"
    body = _read_json(path)
    if body is None:
        return None
    try:
        issues = tuple(_issue(i) for i in body["issues"])
        return Findings(
            str(body["dataset"]), str(body["fingerprint"]), int(body["folds"]),
            int(body["documents"]), float(body["seconds"]), bool(body["multi_label"]),
            tuple(body["label_names"]), issues,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise StudioError(f"{path}: a field is missing or malformed ({exc})") from None


def _issue(i: dict[str, Any]) -> LabelIssue:
    return LabelIssue(
        int(i["doc"]), int(i["line"]), str(i["text"]), tuple(i["given_labels"]),
        tuple(i["suggested_labels"]), float(i["quality"]),
    )  # fmt: skip


def save_decisions(
    run_dir: str | Path, findings: Findings, decisions: Mapping[int, Action]
) -> None:
    """Write every decision (line -> action) at once, atomically: a crash keeps the last."""
    folder = _dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "version": _VERSION, "dataset": findings.dataset, "fingerprint": findings.fingerprint,
        "decisions": {str(line): action for line, action in sorted(decisions.items())},
    }  # fmt: skip
    write_text_atomic(folder / "decisions.json", json.dumps(body, indent=1))


def load_decisions(run_dir: str | Path, findings: Findings) -> dict[int, Action]:
    """The saved decisions about ``findings`` (none when they were about another file)."""
    path = _dir(run_dir) / "decisions.json"
    body = _read_json(path)
    if body is None or body.get("fingerprint") != findings.fingerprint:
        return {}
    try:
        found = {int(line): str(action) for line, action in body["decisions"].items()}
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise StudioError(f"{path}: the decisions are malformed ({exc})") from None
    bad = sorted(a for a in found.values() if a not in ACTIONS)
    if bad:
        raise StudioError(f"{path}: unknown decision {bad[0]!r} (expected {', '.join(ACTIONS)})")
    return {line: action for line, action in found.items() if action in ACTIONS}  # type: ignore[misc]


def corrections(
    findings: Findings, decisions: Mapping[int, Action]
) -> tuple[dict[int, tuple[str, ...]], set[int]]:
    """The relabelling (line -> suggested labels) and the lines left out that the decisions
    ask for; kept and undecided documents are unchanged."""
    by_line = {issue.line: issue for issue in findings.issues}
    relabel = {
        line: by_line[line].suggested_labels
        for line, action in decisions.items()
        if action == "accept" and line in by_line
    }
    exclude = {line for line, action in decisions.items() if action == "exclude"}
    return relabel, exclude


def corrected_name(dataset: str | Path) -> Path:
    """The copy's default name beside the dataset: ``reviews.csv`` -> ``reviews.corrected.csv``."""
    path = Path(dataset)
    if path.is_dir():
        return path.with_name(path.name + "-corrected")
    return path.with_name(f"{path.stem}.corrected{path.suffix}")


def write_reviewed(
    config: StudioConfig, findings: Findings, decisions: Mapping[int, Action], out: str | Path
) -> Corrected:
    """The corrected copy of the reviewed dataset (refused when the file changed since)."""
    from studio.engine.analysis.label_issues import main_file_config
    from studio.engine.data.corrected import write_corrected

    data = main_file_config(config).data
    if dataset_fingerprint(data.path) != findings.fingerprint:
        raise StudioError(
            f"{data.path} changed since its label issues were found; find them again first"
        )
    relabel, exclude = corrections(findings, decisions)
    return write_corrected(data, relabel, exclude, out)
