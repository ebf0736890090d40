"""A run whose process died is listed as killed, alike by ``studio runs`` and the Runs page,
with the last epoch it recorded and its best accuracy so far; Resume in the window ends it
exactly as an uninterrupted seeded run; a run of another machine stays "running"."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from studio.cli import main
from studio.ui.models.runs_table import RunsTableModel
from studio.ui.pages.runs import RunsPage
from tests.conftest import ROOT, write_topics_csv
from tests.ui.conftest import make_window

# one training thread: Hogwild threads would make the resumed and the reference runs differ
ARGS = [
    "--epochs",
    "6",
    "--batch-size",
    "64",
    "--seed",
    "5",
    "--device",
    "cpu",
    "--workers",
    "1",
    "--ngram-buckets",
    "20000",
    "--char-buckets",
    "20000",
]  # small tables: small checkpoints


def _epochs(run: Path) -> dict[int, dict[str, Any]]:
    """The complete epoch records of ``metrics.jsonl`` (a torn last line is not one)."""
    records: dict[int, dict[str, Any]] = {}
    for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n") and json.loads(line).get("type") == "epoch":
            records[json.loads(line)["epoch"]] = json.loads(line)
    return records


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run folder, dataset): ``studio train`` in a child process, SIGKILLed once its
    second epoch is recorded."""
    root = tmp_path_factory.mktemp("killed")
    data = write_topics_csv(root / "big.csv", n=20000)
    runs = root / "runs"
    command = [sys.executable, "-m", "studio", "train", str(data), "--runs-dir", str(runs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [*command, *ARGS, "--quiet"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline, run = time.monotonic() + 120, None
        while time.monotonic() < deadline:  # waiting on another process's files
            found = list(runs.glob("*/metrics.jsonl")) if runs.exists() else []
            if found and len(_epochs(found[0].parent)) >= 2:
                run = found[0].parent
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
        assert run is not None, "the training process recorded no two epochs in time"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return run, data


@pytest.fixture
def page(qtbot: QtBot) -> Iterator[RunsPage]:
    widget = RunsPage(poll_interval_ms=50)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()


def _row(page: RunsPage, qtbot: QtBot, runs_dir: Path, name: str) -> int:
    page.set_runs_dir(runs_dir)
    qtbot.waitUntil(lambda: name in [r.name for r in page.runs()], timeout=10_000)
    return [r.name for r in page.runs()].index(name)


def _cell(page: RunsPage, row: int, column: int) -> str:
    return str(page.model.data(page.model.index(row, column)))


def test_the_cli_and_the_runs_page_list_a_killed_run_alike(
    killed: tuple[Path, Path], page: RunsPage, qtbot: QtBot, capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = killed
    records = _epochs(run)
    last, best = max(records), max(r["val_accuracy"] for r in records.values())
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # as it died

    assert main(["runs", "--runs-dir", str(run.parent), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["epochs"], listed["val_accuracy"]) == ("killed", last, best)
    assert f"after epoch {last}" in listed["resume"] and "--resume" in listed["resume"]
    assert main(["runs", "--runs-dir", str(run.parent)]) == 0
    assert f"{run.name}: its process died; continue it after epoch {last}" in " ".join(
        capsys.readouterr().out.split()
    )

    row = _row(page, qtbot, run.parent, run.name)
    assert _cell(page, row, RunsTableModel.STATUS) == "killed"
    assert _cell(page, row, RunsTableModel.EPOCHS) == f"{last} / 6"
    assert _cell(page, row, RunsTableModel.ACCURACY) == f"{best:.2%}"
    page.select_runs([run])
    assert page.resume_run_button.isEnabled()


def test_resume_from_the_window_ends_as_an_uninterrupted_run(
    killed: tuple[Path, Path], qtbot: QtBot, tmp_path: Path
) -> None:
    source, data = killed
    run = Path(shutil.copytree(source, tmp_path / "runs" / source.name))
    window = make_window(qtbot, tmp_path)
    window.tabs.setCurrentWidget(window.runs_page)
    qtbot.waitUntil(lambda: len(window.runs_page.runs()) == 1, timeout=10_000)
    window.runs_page.select_runs([run])
    with qtbot.waitSignal(window.sig_training_done, timeout=300_000):
        window.runs_page.resume_run_button.click()
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    reference = tmp_path / "reference"  # trained as the killed run was: by the CLI
    command = [sys.executable, "-m", "studio", "train", str(data), "--runs-dir", str(reference)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([*command, *ARGS, "--quiet"], cwd=ROOT, env=env, check=True, timeout=300)
    got, want = _epochs(run), _epochs(next(reference.iterdir()))
    assert sorted(got) == sorted(want) == [1, 2, 3, 4, 5, 6]
    for epoch, record in want.items():
        for key in ("step", "train_loss", "val_loss", "val_accuracy", "val_macro_f1"):
            assert got[epoch][key] == record[key], (epoch, key)
    window.shutdown()


def test_a_run_of_another_machine_stays_running(
    page: RunsPage, qtbot: QtBot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "runs" / "remote"
    run.mkdir(parents=True)
    meta = {"status": "running", "pid": 999_999_999, "host": "a-gpu-box-elsewhere",
            "started": "2030-01-01T00:00:00", "settings": {"epochs": 40}}  # fmt: skip
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    (run / "metrics.jsonl").write_text(
        json.dumps({"type": "epoch", "epoch": 1, "val_accuracy": 0.5}) + "\n", encoding="utf-8"
    )
    assert main(["runs", "--runs-dir", str(run.parent), "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["status"], listed["epochs"], listed["resume"]) == ("running", 1, None)
    row = _row(page, qtbot, run.parent, "remote")
    assert _cell(page, row, RunsTableModel.STATUS) == "running"
    page.select_runs([run])
    assert not page.resume_run_button.isEnabled()
