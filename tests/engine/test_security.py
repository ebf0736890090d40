"""Security: nothing is unpickled, nothing is written outside the runs folder, no network.

1. Pickle-based files planted in a run folder (``model.pt``, ``checkpoints/last.pt``,
   ``model.pkl``, or pickle bytes under the name ``model.safetensors``) never run: loading,
   ``studio predict``, ``studio eval`` and ``studio export`` either refuse with one clear line
   or (a stray ``.pt`` beside valid safetensors) ignore the file. A static scan of the
   ``studio`` package fails as soon as a call that unpickles is added.
2. Run names and dataset names cannot point outside the runs folder, and a symlink in the
   runs folder is never followed for writing or deleting. ``studio export --out`` is the
   user's choice and may be anywhere; config paths (``data.path``,
   ``model.pretrained_vectors``) are only read.
3. A full train -> eval -> predict -> export cycle opens no internet socket.
"""

from __future__ import annotations

import ast
import os
import pickle
import shutil
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import studio
from studio import cli
from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.inference import evaluate_run, load_run
from studio.engine.export import export_run
from studio.engine.runs.checkpoint import load_weights
from studio.engine.runs.layout import create_run_dir
from studio.engine.runs.listing import list_runs
from studio.engine.runs.manage import check_run_name, delete_run, rename_run
from studio.engine.runs.paths import ensure_inside
from studio.engine.train.session import train_run
from studio.errors import RunError
from tests.conftest import write_topics_csv

PACKAGE = Path(studio.__file__).resolve().parent


class _Evil:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))  # a code-execution stand-in


def _evil_bytes(marker: Path) -> bytes:
    return pickle.dumps(_Evil(marker))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("security")
    data = write_topics_csv(base / "topics.csv", n=300)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        tokenizer={"vocab_size": 300, "ngram_buckets": 0},
        model={"embed_dim": 8},
        train={"epochs": 1, "batch_size": 64},
    )
    result = train_run(config, runs_dir=base / "runs", cache_dir=base / "cache")
    assert result.status == "finished" and result.run_dir
    return {"run": Path(result.run_dir), "data": data}


@pytest.fixture
def run_copy(trained: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the trained run, free to tamper with."""
    dst = tmp_path / "runs" / trained["run"].name
    shutil.copytree(trained["run"], dst)
    return dst


def _one_line_error(capsys: pytest.CaptureFixture[str], rc: int, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert rc == cli.EXIT_USAGE, err
    assert err.startswith("studio: error: ") and "\n" not in err, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


# --------------------------------------------------------------------------- 1. pickles


def test_the_canary_pickle_does_execute(tmp_path: Path) -> None:
    """The marker mechanism works: unpickling the planted bytes creates the file."""
    marker = tmp_path / "pwned"
    pickle.loads(_evil_bytes(marker))  # the point of the test
    assert marker.exists()


def test_load_weights_refuses_pickle_suffixes_without_opening(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for name in ("model.pt", "w.pth", "w.pkl", "w.pickle", "w.bin", "w.ckpt", "W.PT"):
        path = tmp_path / name
        path.write_bytes(_evil_bytes(marker))
        with pytest.raises(RunError, match="refusing to load a pickle-based file"):
            load_weights(path)
    assert not marker.exists()


def test_pickle_named_safetensors_is_refused(
    run_copy: Path, trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    evil = _evil_bytes(marker)
    for path in (
        run_copy / "model.safetensors",
        run_copy / "checkpoints" / "best.safetensors",
        run_copy / "checkpoints" / "last.safetensors",
    ):
        path.write_bytes(evil)
    for weights in ("model", "best", "last"):
        with pytest.raises(RunError, match="not a readable safetensors file"):
            load_run(run_copy, weights)
    rc = cli.main(["predict", str(run_copy), "the", "ball"])
    _one_line_error(capsys, rc, "model.safetensors", "not a readable safetensors file")
    rc = cli.main(["eval", str(run_copy), str(trained["data"])])
    _one_line_error(capsys, rc, "not a readable safetensors file")
    for fmt in ("onnx", "torchscript", "word2vec", "projector"):
        rc = cli.main(["export", str(run_copy), "--format", fmt, "--out", str(tmp_path / fmt)])
        _one_line_error(capsys, rc, "not a readable safetensors file")
        assert not (tmp_path / fmt).exists()  # a refused export writes nothing
    assert not marker.exists()


def test_stray_pickles_beside_valid_weights_are_ignored(
    run_copy: Path, trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "pwned"
    evil = _evil_bytes(marker)
    for rel in ("model.pt", "model.pkl", "model.pth", "checkpoints/last.pt", "checkpoints/best.pt"):
        (run_copy / rel).write_bytes(evil)
    for weights in ("model", "best", "last"):
        assert load_run(run_copy, weights).predict("ball goal team")
    assert cli.main(["predict", str(run_copy), "ball", "goal"]) == 0
    assert cli.main(["eval", str(run_copy), str(trained["data"]), "--json"]) == 0
    out = tmp_path / "vectors.txt"
    assert cli.main(["export", str(run_copy), "--format", "word2vec", "--out", str(out)]) == 0
    assert out.is_file()
    capsys.readouterr()
    assert not marker.exists()


def test_only_pickles_left_is_a_missing_model(
    run_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the safetensors gone, the .pt/.pkl files are not a fallback."""
    marker = tmp_path / "pwned"
    for path in run_copy.rglob("*.safetensors"):
        path.unlink()
    evil = _evil_bytes(marker)
    for rel in ("model.pt", "model.pkl", "checkpoints/last.pt", "checkpoints/best.pt"):
        (run_copy / rel).write_bytes(evil)
    for weights in ("model", "best", "last"):
        with pytest.raises(RunError, match="missing"):
            load_run(run_copy, weights)
    rc = cli.main(["predict", str(run_copy), "ball"])
    _one_line_error(capsys, rc, "missing")
    rc = cli.main(["export", str(run_copy), "--format", "onnx", "--out", str(tmp_path / "m.onnx")])
    _one_line_error(capsys, rc, "missing")
    assert not marker.exists()


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


#: Calls that unpickle (or run pickled code); matched on the last dotted names.
_UNPICKLING = (
    "torch.load",
    "jit.load",
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "cPickle.load",
    "cPickle.loads",
    "dill.load",
    "dill.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "joblib.load",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "pd.read_pickle",
    "pandas.read_pickle",
)
_UNPICKLING_IMPORTS = ("pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve")


def _unpickling_calls(source: str, filename: str) -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if any(name == bad or name.endswith("." + bad) for bad in _UNPICKLING):
                found.append(f"{filename}:{node.lineno}: {name}(...)")
            if name.split(".")[-1] in ("load", "loads") and name.split(".")[0] in ("np", "numpy"):
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        found.append(f"{filename}:{node.lineno}: {name}(allow_pickle=...)")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _UNPICKLING_IMPORTS:
                    found.append(f"{filename}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in _UNPICKLING_IMPORTS:
                found.append(f"{filename}:{node.lineno}: from {node.module} import ...")
            for alias in node.names:
                if f"{node.module}.{alias.name}" in ("torch.load", "numpy.load") or (
                    alias.name == "read_pickle"
                ):
                    found.append(
                        f"{filename}:{node.lineno}: from {node.module} import {alias.name}"
                    )
    return found


def test_scanner_catches_unpickling_calls() -> None:
    bad = (
        "import torch, numpy as np\n"
        "torch.load('x')\n"
        "np.load('y.npy', allow_pickle=True)\n"
        "from pickle import loads\n"
        "torch.jit.load('z')\n"
    )
    assert len(_unpickling_calls(bad, "bad.py")) == 4
    good = "import numpy as np\nnp.load('y.npy', mmap_mode='r', allow_pickle=False)\n"
    assert _unpickling_calls(good, "good.py") == []


def test_package_never_unpickles() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    found: list[str] = []
    for path in files:
        found += _unpickling_calls(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert found == [], "calls that unpickle:\n" + "\n".join(found)


# --------------------------------------------------------------------------- 2. paths


@pytest.mark.parametrize(
    "name", ["..", "../x", "a/../../b", "a/b", "/etc", "a\\b", ".hidden", "x..y", "C:evil"]
)
def test_rename_refuses_names_that_leave_the_runs_folder(run_copy: Path, name: str) -> None:
    with pytest.raises(RunError):
        check_run_name(name)
    with pytest.raises(RunError):
        rename_run(run_copy, name)
    assert run_copy.is_dir()
    assert sorted(p.name for p in run_copy.parent.iterdir()) == [run_copy.name]


def test_delete_refuses_a_symlinked_run_folder(run_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(run_copy, outside)
    link = run_copy.parent / "linked-run"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(RunError, match="symbolic link"):
        delete_run(link, to_trash=False)
    with pytest.raises(RunError, match="symbolic link"):
        delete_run(link, to_trash=False, runs_dir=run_copy.parent)
    assert (outside / "run.json").is_file() and (outside / "model.safetensors").is_file()


@pytest.mark.parametrize(
    "dataset", ["../../evil.csv", "/etc/passwd", "..", "a/../../../b.tsv", "....csv", "x/..", ""]
)
def test_run_folder_from_dataset_name_stays_inside(tmp_path: Path, dataset: str) -> None:
    runs = tmp_path / "runs"
    run_dir = create_run_dir(runs, dataset, now=datetime(2024, 1, 2, 3, 4, 5))
    assert run_dir.parent == runs and run_dir.is_dir() and not run_dir.is_symlink()
    assert run_dir.name.startswith("20240102-030405-")
    assert ".." not in run_dir.name.split("-", 2)[2].split(".")  # no '..' component
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_symlink_named_like_the_next_run_is_not_followed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    now = datetime(2024, 1, 2, 3, 4, 5)
    (runs / "20240102-030405-topics").symlink_to(outside, target_is_directory=True)
    (runs / "20240102-030405-topics-1").symlink_to(tmp_path / "dangling")  # dangling link
    run_dir = create_run_dir(runs, "topics.csv", now=now)
    assert run_dir == runs / "20240102-030405-topics-2"
    assert run_dir.is_dir() and not run_dir.is_symlink()
    assert list(outside.iterdir()) == [] and not (tmp_path / "dangling").exists()


def test_training_never_writes_through_a_symlinked_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    data = write_topics_csv(tmp_path / "topics.csv", n=200)
    fixed = datetime(2024, 1, 2, 3, 4, 5)

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FixedDatetime:  # type: ignore[override]
            return cls.fromtimestamp(fixed.timestamp(), tz)

    import studio.engine.runs.layout as runstore

    monkeypatch.setattr(runstore, "datetime", FixedDatetime)
    trap = runs / "20240102-030405-topics"
    trap.symlink_to(outside, target_is_directory=True)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        tokenizer={"vocab_size": 200, "ngram_buckets": 0},
        model={"embed_dim": 8},
        train={"epochs": 1, "batch_size": 64},
    )
    result = train_run(config, runs_dir=runs, cache_dir=tmp_path / "cache")
    assert result.status == "finished"
    run_dir = Path(result.run_dir or "")
    assert run_dir == runs / "20240102-030405-topics-1" and not run_dir.is_symlink()
    assert (run_dir / "model.safetensors").is_file()
    assert list(outside.iterdir()) == []
    # the symlink is not listed as a run either (it holds no run.json)
    assert [r.path for r in list_runs(runs)] == [run_dir]


def test_ensure_inside(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    (root / "a").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    assert ensure_inside(root, root / "a") == root / "a"
    assert ensure_inside(root, "a/b.json") == root / "a" / "b.json"
    for bad in (tmp_path / "x", root / ".." / "x", "../x", "/etc/passwd", root / "a" / ".." / ".."):
        with pytest.raises(RunError, match="outside the runs folder"):
            ensure_inside(root, bad)
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "a", target_is_directory=True)
    for bad in (root / "link", root / "link" / "run.json", root / "inner"):
        with pytest.raises(RunError, match="symbolic link"):
            ensure_inside(root, bad)
    # a runs folder that is itself a link (moved to another disk) is the user's choice
    moved = tmp_path / "moved"
    moved.symlink_to(root, target_is_directory=True)
    assert ensure_inside(moved, moved / "a") == moved / "a"


def test_config_paths_are_only_read(run_copy: Path, tmp_path: Path) -> None:
    """data.path with '..' and an absolute pretrained_vectors path: read, never written."""
    work = tmp_path / "work"
    work.mkdir()
    data = write_topics_csv(tmp_path / "topics.csv", n=200)
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("ball 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8\n", encoding="utf-8")
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in (data, vectors)}
    config = StudioConfig(data=DataConfig(path=str(work / ".." / "topics.csv"))).with_overrides(
        tokenizer={"vocab_size": 200, "ngram_buckets": 0},
        model={"embed_dim": 8, "pretrained_vectors": str(vectors)},
        train={"epochs": 1, "batch_size": 64},
    )
    runs = tmp_path / "runs2"
    result = train_run(config, runs_dir=runs, cache_dir=tmp_path / "cache")
    assert result.status == "finished"
    assert Path(result.run_dir or "").parent == runs
    after = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in (data, vectors)}
    assert after == before
    assert list(work.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cache", "runs", "runs2", "topics.csv", "vectors.txt", "work"]
    )


def test_export_out_is_the_users_choice(run_copy: Path, tmp_path: Path) -> None:
    """--out may be anywhere the user can write: it is not confined to the runs folder."""
    out = tmp_path / "elsewhere" / "deep" / "vectors.txt"
    assert export_run(run_copy, "word2vec", out) == out
    assert out.is_file()


# --------------------------------------------------------------------------- 3. network


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record (and refuse) every internet connection attempt; local sockets pass."""
    attempts: list[str] = []
    internet = (socket.AF_INET, socket.AF_INET6)
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in internet:
            attempts.append(f"connect {address!r}")
            raise OSError("network access refused by the test")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in internet:
            attempts.append(f"connect_ex {address!r}")
            raise OSError("network access refused by the test")
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"create_connection {address!r}")
        raise OSError("network access refused by the test")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"getaddrinfo {host!r}")
        raise socket.gaierror("name lookup refused by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


def test_no_network_during_a_full_cycle(no_network: list[str], tmp_path: Path) -> None:
    data = write_topics_csv(tmp_path / "topics.csv", n=300)
    config = StudioConfig(data=DataConfig(path=str(data))).with_overrides(
        tokenizer={"vocab_size": 300},
        model={"embed_dim": 8},
        train={"epochs": 2, "batch_size": 64, "tensorboard": True},
    )
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    assert result.status == "finished" and result.run_dir
    run = load_run(result.run_dir)
    assert evaluate_run(run, data)["documents"] == 300
    assert run.predict("ball goal team")[0][0] in ("sport", "tech", "food")
    for fmt, out in (
        ("onnx", tmp_path / "out" / "model.onnx"),
        ("word2vec", tmp_path / "out" / "vectors.txt"),
        ("csv", tmp_path / "out" / "curves"),
    ):
        assert export_run(run, fmt, out).exists()
    # and through the CLI, as a user would run it
    assert cli.main(["predict", result.run_dir, "--json", "ball"]) == 0
    assert no_network == [], no_network
    # the guard itself works
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 80))
    assert no_network
