"""``studio tune``: the tables and JSON, one-line errors, and a study resumed after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.cli import main
from studio.config import StudioConfig, save_config
from studio.engine.tune import load_trials
from tests.conftest import ROOT, write_topics_csv


def _fast_config(path: Path) -> Path:
    """A base config whose long trials end early (patience 1) on small tables: with 4,000
    character n-gram rows most draws fit under a few hundred thousand parameters (the
    default 500,000 rows put nearly every draw over the cap, each one a skipped trial)."""
    config = StudioConfig().with_overrides(
        train={"early_stopping_patience": 1, "batch_size": 64},
        model={"embed_dim": 16},
        tokenizer={"char_buckets": 4000},
        device={"threads": 1},
    )
    save_config(config, path)
    return path


def test_tune_prints_trials_and_chosen_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_topics_csv(tmp_path / "topics.csv", n=300)
    study = tmp_path / "study"
    config = _fast_config(tmp_path / "base.toml")
    args = ["tune", str(data), "--trials", "2", "--seed", "4", "--max-params", "300k",
            "--config", str(config), "--study-dir", str(study)]  # fmt: skip
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "trial   0" in err and "skipped" in err  # the default 200k buckets are over 300k
    assert "trials (* = the base config's values)" in out
    assert "parameter" in out and "default" in out and "best validation accuracy" in out
    assert (study / "best.toml").is_file() and (study / "study.db").is_file()
    assert main(["tune", "--resume", str(study), "--trials", "3", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["ended_by"] == "trials" and summary["best_config"].endswith("best.toml")
    assert sum(t["state"] in ("complete", "pruned", "failed") for t in summary["trials"]) == 3
    assert summary["best"]["score"] == max(
        t["score"] for t in summary["trials"] if t["state"] == "complete"
    )


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--budget", "5x"], "--budget: expected a duration like 90s, 10m or 1h; got '5x'"),
        (["--trials", "0"], "--trials: must be at least 1, got 0"),
        (["--max-params", "lots"], "--max-params: expected a number"),
        (["--max-params", "10"], "even the smallest model searched has"),
        (["--resume", "no-such-study"], "--resume: no study 'no-such-study'"),
        (["--resume", "x", "--seed", "1"], "--resume: the study keeps its own data"),
    ],
)
def test_bad_tune_options_exit_2_with_one_line(
    args: list[str], expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_topics_csv(tmp_path / "topics.csv", n=100)
    positional = [] if "--resume" in args else [str(data)]
    runs = tmp_path / "runs"
    assert main(["tune", *positional, *args, "--runs-dir", str(runs)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines[-1].startswith("studio: error: ") and expect in lines[-1], err
    assert "Traceback" not in err and not out
    assert not (runs / "studies").exists() or not any((runs / "studies").iterdir())


def _finished(db: Path) -> int:
    """Trials the study database records as complete (read directly, as another process)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            row = con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return 0
    return int(row[0])


def test_study_killed_with_sigkill_resumes_keeping_every_finished_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_topics_csv(tmp_path / "topics.csv", n=400)
    study = tmp_path / "study"
    cmd = [sys.executable, "-m", "studio", "tune", str(data), "--trials", "6", "--seed", "0",
           "--max-params", "300k", "--config", str(_fast_config(tmp_path / "base.toml")),
           "--study-dir", str(study), "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "child.log"
    with open(log, "wb") as err:
        child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 300
    try:
        while _finished(study / "study.db") < 2:  # a bounded poll of the database
            assert child.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the child recorded no 2 complete trials"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    trials = load_trials(study)
    before = [t for t in trials if t.state not in ("running", "waiting")]
    running = [t.number for t in trials if t.state == "running"]
    assert sum(t.state == "complete" for t in before) >= 2
    assert sum(t.counted for t in before) < 6, "the child finished before it was killed"
    assert (study / "running.json").exists()  # left behind by the killed process

    assert main(["tune", "--resume", str(study), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    after = load_trials(study)
    by_number = {t.number: t for t in after}
    for t in before:  # every trial finished before the kill is kept as it was
        assert by_number[t.number] == t
    assert sum(t.counted for t in after) == 6 and summary["ended_by"] == "trials"
    assert not any(t.state == "running" for t in after)
    for number in running:  # the trial the kill interrupted is kept as stopped, not counted
        assert by_number[number].state == "stopped" and "interrupted" in by_number[number].message
    assert not (study / "running.json").exists()
