"""Run management: rename, delete, live status, metrics tailing and run comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.engine.runs.compare import curves, differing_settings, settings_table
from studio.engine.runs.layout import RunInfo
from studio.engine.runs.listing import list_runs
from studio.engine.runs.manage import check_run_name, delete_run, rename_run
from studio.engine.runs.status import pid_alive, run_status
from studio.engine.runs.tail import MetricsTail, runs_signature
from studio.errors import RunError

SETTINGS = {
    "vocab_size": 20000,
    "embed_dim": 64,
    "batch_size": 32,
    "epochs": 2,
    "lr": 0.001,
    "optimizer": "adamw",
    "preset": "bag",
    "ngram_buckets": 0,
    "tokenizer": "words",
}


def make_run(runs: Path, name: str, status: str = "finished", **meta: Any) -> Path:
    run = runs / name
    run.mkdir(parents=True)
    data = {
        "format": 1,
        "status": status,
        "pid": 999_999_999,
        "started": "2024-05-01T12:00:00",
        "dataset": "/data/topics.csv",
        "settings": dict(SETTINGS),
        "summary": {"epochs": 2, "val_accuracy": 0.9, "run_dir": str(run)},
    }
    data.update(meta)
    (run / "run.json").write_text(json.dumps(data), encoding="utf-8")
    (run / "metrics.jsonl").write_text('{"type": "start"}\n', encoding="utf-8")
    return run


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


# -- names and rename --------------------------------------------------------------------


def test_rename_moves_the_folder_and_updates_the_summary(tmp_path: Path) -> None:
    run = make_run(tmp_path, "20240501-120000-topics")
    new = rename_run(run, "baseline dim 64")
    assert new == tmp_path / "baseline dim 64"
    assert new.is_dir() and not run.exists()
    meta = json.loads((new / "run.json").read_text())
    assert meta["summary"]["run_dir"] == str(new)
    assert [r.name for r in list_runs(tmp_path)] == ["baseline dim 64"]
    assert rename_run(new, "baseline dim 64") == new  # same name: nothing to do


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a/b", "cannot contain '/'"),
        ("a\\b", "cannot contain"),
        ("..", "cannot start with '.'"),
        ("x..y", r"cannot contain '\.\.'"),
        (".hidden", "cannot start with '.'"),
        ("x" * 101, "at most 100 characters"),
        (" padded", "space"),
        ("tab\there", "cannot contain"),
        ("what?", "cannot contain"),
        ("trailing.", "cannot end with '.'"),
        ("con", "reserved"),
    ],
)
def test_bad_names_are_refused_with_the_reason(tmp_path: Path, name: str, problem: str) -> None:
    run = make_run(tmp_path, "run")
    with pytest.raises(RunError, match=problem):
        rename_run(run, name)
    assert run.is_dir()


def test_good_names_pass() -> None:
    for name in ("x", "x" * 100, "lr 3e-4 (dim 128)", "résumé-run_2.v1", "日本語"):
        assert check_run_name(name) == name


def test_rename_refuses_an_existing_target(tmp_path: Path) -> None:
    run = make_run(tmp_path, "a")
    make_run(tmp_path, "b")
    (tmp_path / "plain-file").write_text("x")
    with pytest.raises(RunError, match="already exists"):
        rename_run(run, "b")
    with pytest.raises(RunError, match="already exists"):
        rename_run(run, "plain-file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match="already exists"):  # POSIX rename would clobber it
        rename_run(run, "empty")
    assert run.is_dir()


def test_rename_refuses_a_run_that_is_training(tmp_path: Path) -> None:
    run = make_run(tmp_path, "live", status="running", pid=os.getpid())
    with pytest.raises(RunError, match="still training"):
        rename_run(run, "renamed")
    assert run.is_dir()


def test_rename_allows_a_crashed_running_run(tmp_path: Path, dead_pid: int) -> None:
    run = make_run(tmp_path, "crashed", status="running", pid=dead_pid)
    assert rename_run(run, "crashed-2").is_dir()


def test_rename_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(RunError, match="not a run folder"):
        rename_run(tmp_path / "notes", "x")
    with pytest.raises(RunError, match="no such run folder"):
        rename_run(tmp_path / "missing", "x")


# -- delete -------------------------------------------------------------------------------


def test_delete_for_good(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", "a")
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.safetensors").write_bytes(b"\0" * 100)
    delete_run(run, to_trash=False)
    assert not run.exists()
    assert (tmp_path / "runs").is_dir()


def test_delete_to_trash_goes_through_send2trash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trashed: list[str] = []
    monkeypatch.setattr("send2trash.send2trash", lambda path: trashed.append(str(path)))
    run = make_run(tmp_path / "runs", "a")
    delete_run(run, runs_dir=tmp_path / "runs")
    assert trashed == [str(run)]
    assert run.exists()  # the recorder moved nothing: the real trash was never touched


def test_delete_reports_a_trash_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: str) -> None:
        raise OSError("no trash on this volume")

    monkeypatch.setattr("send2trash.send2trash", refuse)
    run = make_run(tmp_path / "runs", "a")
    with pytest.raises(RunError, match="cannot move to the trash: no trash"):
        delete_run(run)
    assert run.is_dir()  # never falls back to deleting for good


def test_delete_falls_back_to_rmtree_without_send2trash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("studio.engine.runs.manage.trash_available", lambda: False)
    run = make_run(tmp_path / "runs", "a")
    delete_run(run)
    assert not run.exists()


def test_delete_refuses_what_is_not_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trashed: list[str] = []
    monkeypatch.setattr("send2trash.send2trash", lambda path: trashed.append(str(path)))
    runs = tmp_path / "runs"
    runs.mkdir()
    plain = runs / "plain"
    plain.mkdir()
    (plain / "keep.txt").write_text("x")
    with pytest.raises(RunError, match="not a run folder"):
        delete_run(plain, to_trash=False)
    with pytest.raises(RunError, match="no such run folder"):
        delete_run(runs / "missing", to_trash=False)
    (runs / "file").write_text("x")
    with pytest.raises(RunError):
        delete_run(runs / "file", to_trash=False)
    for weird in (runs / "..", Path("."), Path("/")):
        with pytest.raises(RunError):
            delete_run(weird, to_trash=False)
    # a run.json deeper inside a run folder does not make a run
    outer = make_run(runs, "outer")
    inner = outer / "inner"
    inner.mkdir()
    (inner / "run.json").write_text("{}")
    with pytest.raises(RunError, match="inside another run folder"):
        delete_run(inner, to_trash=False)
    # runs_dir given: the run must be directly inside it
    other = make_run(tmp_path / "elsewhere", "x")
    with pytest.raises(RunError, match="not inside the runs folder"):
        delete_run(other, to_trash=False, runs_dir=runs)
    assert plain.is_dir() and inner.is_dir() and other.is_dir() and trashed == []


def test_delete_refuses_symlinks(tmp_path: Path) -> None:
    target = make_run(tmp_path / "real", "run")
    runs = tmp_path / "runs"
    runs.mkdir()
    link = runs / "link"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(RunError, match="symbolic link"):
        delete_run(link, to_trash=False)
    assert link.is_symlink() and (target / "run.json").is_file()


def test_delete_refuses_a_run_that_is_training(tmp_path: Path) -> None:
    run = make_run(tmp_path, "live", status="running", pid=os.getpid())
    with pytest.raises(RunError, match="still training"):
        delete_run(run, to_trash=False)
    assert run.is_dir()


# -- status -------------------------------------------------------------------------------


def test_run_status(tmp_path: Path, dead_pid: int) -> None:
    assert run_status(make_run(tmp_path, "alive", status="running", pid=os.getpid())) == "running"
    assert run_status(make_run(tmp_path, "dead", status="running", pid=dead_pid)) == "killed"
    assert run_status(make_run(tmp_path, "nopid", status="running", pid=None)) == "killed"
    assert run_status(make_run(tmp_path, "done", status="finished", pid=dead_pid)) == "finished"
    assert run_status(make_run(tmp_path, "failed", status="failed")) == "failed"
    remote = make_run(tmp_path, "remote", status="running", pid=dead_pid, host="another-host.x")
    assert run_status(remote) == "running"  # another machine's pid cannot be checked here
    with pytest.raises(RunError, match="missing"):
        run_status(tmp_path / "nothing")


def test_pid_alive_rejects_nonsense() -> None:
    for pid in (None, 0, -1, "123", True, 1.5, 2**40, 2**70):
        assert not pid_alive(pid)
    assert pid_alive(os.getpid())


def test_pid_alive_sees_a_running_child_and_calls_a_zombie_dead() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        assert pid_alive(proc.pid)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the child reads to the end and exits
    if hasattr(os, "waitid"):  # wait for the exit without reaping: the child is a zombie
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        assert not pid_alive(proc.pid)
    proc.wait()
    assert not pid_alive(proc.pid)


def test_a_running_run_of_a_live_process_on_this_host_is_running(tmp_path: Path) -> None:
    import socket

    run = make_run(tmp_path, "live", status="running", pid=os.getpid())
    assert run_status(run) == "running"
    here = make_run(tmp_path, "here", status="running", pid=os.getpid(), host=socket.gethostname())
    assert run_status(here) == "running"
    with pytest.raises(RunError, match="still training"):
        delete_run(here, to_trash=False)


def test_run_settings_are_listed_once() -> None:
    from studio.config import StudioConfig
    from studio.engine.runs.layout import RUN_SETTINGS, run_settings

    config = StudioConfig().with_overrides(model={"embed_dim": 48}, train={"lr": 0.005})
    recorded = run_settings(config)
    assert list(recorded) == list(RUN_SETTINGS) == list(SETTINGS)  # the order run.json uses
    assert recorded["embed_dim"] == 48 and recorded["lr"] == 0.005
    assert recorded["tokenizer"] == config.tokenizer.kind
    shown = [key for key, _ in settings_table([_info("a")], only_differing=False)]
    assert shown == ["dataset", *RUN_SETTINGS]


def test_signature_changes_with_the_folder(tmp_path: Path) -> None:
    assert runs_signature(tmp_path / "missing") == ()
    run = make_run(tmp_path, "a")
    first = runs_signature(tmp_path)
    assert [entry[0] for entry in first] == ["a"]
    (tmp_path / "not-a-run").mkdir()
    assert runs_signature(tmp_path) == first
    meta = json.loads((run / "run.json").read_text())
    meta["status"] = "stopped-and-longer"
    tmp = run / "run.json.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, run / "run.json")  # how the recorder rewrites it
    assert runs_signature(tmp_path) != first
    make_run(tmp_path, "b")
    assert [entry[0] for entry in runs_signature(tmp_path)] == ["a", "b"]


# -- metrics tail -------------------------------------------------------------------------


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def test_tail_reads_only_new_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read_new() == []  # not written yet
    path.write_text(_line({"type": "start"}) + _line({"type": "step", "step": 1}))
    assert [r["type"] for r in tail.read_new()] == ["start", "step"]
    assert tail.read_new() == []
    whole = _line({"type": "step", "step": 2, "loss": 0.5})
    with open(path, "a") as fh:
        fh.write(whole[:10])  # torn: the writer is mid-line
    assert tail.read_new() == []
    with open(path, "a") as fh:
        fh.write(whole[10:] + "not json\n" + "[1, 2]\n" + _line({"type": "step", "step": 3}))
    assert [r["step"] for r in tail.read_new()] == [2, 3]  # junk lines skipped
    assert not tail.restarted


def test_tail_restarts_after_truncation_and_replacement(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(_line({"type": "step", "step": i}) for i in range(1, 6)))
    tail = MetricsTail(path)
    assert len(tail.read_new()) == 5
    path.write_text(_line({"type": "step", "step": 100}))  # truncated: shorter than before
    assert [r["step"] for r in tail.read_new()] == [100]
    assert tail.restarted
    assert tail.read_new() == [] and not tail.restarted
    # truncated and rewritten longer than before between two reads: the head differs
    path.write_text("".join(_line({"type": "step", "step": i, "pad": "x" * 40}) for i in range(7)))
    assert [r["step"] for r in tail.read_new()] == list(range(7))
    assert tail.restarted
    # replaced by another file (log rotation)
    fresh = tmp_path / "new.jsonl"
    fresh.write_text(_line({"type": "epoch", "epoch": 1}))
    os.replace(fresh, path)
    assert [r["type"] for r in tail.read_new()] == ["epoch"] and tail.restarted
    path.unlink()
    assert tail.read_new() == [] and tail.restarted


def test_tail_reads_in_slices(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(_line({"type": "step", "step": i}) for i in range(1000)))
    tail = MetricsTail(path)
    steps: list[int] = []
    calls = 0
    while not tail.at_end():
        steps += [r["step"] for r in tail.read_new(max_bytes=1000)]
        calls += 1
    assert steps == list(range(1000)) and calls > 10


def test_curves_are_float_arrays_in_file_order() -> None:
    records = [
        {"type": "start"},
        {"type": "step", "step": 1, "loss": 1.5},
        {"type": "step", "step": 2, "loss": None},
        {"type": "epoch", "epoch": 1, "step": 2, "val_loss": 0.9, "val_accuracy": 0.7},
        {"type": "end"},
    ]
    out = curves(records)
    np.testing.assert_array_equal(out["steps"]["step"], [1.0, 2.0])
    np.testing.assert_array_equal(out["steps"]["loss"], [1.5, np.nan])
    assert out["epochs"]["val_accuracy"].dtype == np.float64
    np.testing.assert_array_equal(out["epochs"]["epoch"], [1.0])
    assert np.isnan(out["epochs"]["val_macro_f1"][0])  # missing in the record
    empty = curves([])
    assert set(empty) == {"steps", "epochs"} and len(empty["epochs"]["step"]) == 0


# -- comparing ----------------------------------------------------------------------------


def _info(name: str, dataset: str = "/d/topics.csv", **settings: Any) -> RunInfo:
    return RunInfo(
        path=Path("/runs") / name,
        name=name,
        status="finished",
        started="",
        dataset=dataset,
        epochs=2,
        val_accuracy=None,
        val_macro_f1=None,
        settings={**SETTINGS, **settings},
    )


def test_differing_settings() -> None:
    a = _info("a")
    b = _info("b", embed_dim=128, lr=3e-4)
    c = _info("c", embed_dim=128, batch_size=32.0)  # 32 and 32.0: the same number
    assert differing_settings([a]) == []
    assert differing_settings([a, _info("a2")]) == []
    assert differing_settings([a, b, c]) == [
        ("embed_dim", ["64", "128", "128"]),
        ("lr", ["0.001", "0.0003", "0.001"]),
    ]
    d = _info("d", dataset="/e/news.csv", extra=True)
    assert differing_settings([a, d]) == [
        ("dataset", ["topics.csv", "news.csv"]),
        ("extra", ["–", "true"]),
    ]
    same_name = _info("e", dataset="/other/topics.csv")
    assert differing_settings([a, same_name]) == [
        ("dataset", ["/d/topics.csv", "/other/topics.csv"])
    ]


def test_settings_table_lists_everything_for_one_run() -> None:
    rows = settings_table([_info("a")], only_differing=False)
    assert [key for key, _ in rows] == ["dataset", *SETTINGS]
    assert rows[0] == ("dataset", ["topics.csv"])
