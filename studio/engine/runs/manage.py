"""Managing run folders: status, rename, delete, metrics tailing and run comparison.

Plain functions over the runs directory (see :mod:`studio.engine.runs.layout`); no Qt. The
Runs page calls them, and so can any script: a run folder written by another process (the
CLI, a job on another machine sharing the folder) is handled like one the window wrote.

Liveness: ``run.json`` says ``"running"`` while a run trains and records the trainer's
``pid``. A run whose process died without saying so (killed, power cut) still says
``"running"``; :func:`run_status` reports it as ``"stopped"`` when that pid is not alive on
this machine. When ``run.json`` names another ``host``, its pid cannot be checked from here
and the stored status is trusted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from studio.engine.runs.layout import RUN_FILE, RunInfo, read_json, write_json
from studio.errors import RunError

__all__ = [
    "MAX_NAME_LENGTH",
    "MetricsTail",
    "check_run_name",
    "curves",
    "delete_run",
    "differing_settings",
    "pid_alive",
    "rename_run",
    "run_status",
    "runs_signature",
    "settings_table",
    "status_of",
    "trash_available",
]

MAX_NAME_LENGTH: Final = 100
#: Characters no run name may hold: path separators, and what Windows refuses in names.
_FORBIDDEN_CHARS: Final = frozenset('/\\<>:"|?*')
_WINDOWS_RESERVED: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
)
#: Settings in the order ``run.json`` writes them; other keys follow, sorted.
_SETTING_ORDER: Final[tuple[str, ...]] = (
    "vocab_size",
    "embed_dim",
    "batch_size",
    "epochs",
    "lr",
    "optimizer",
    "preset",
    "ngram_buckets",
    "tokenizer",
)
MISSING: Final = "–"  # shown for a setting a run does not have

STEP_COLUMNS: Final = ("step", "loss")
EPOCH_COLUMNS: Final = ("epoch", "step", "val_loss", "val_accuracy", "val_macro_f1")


# --------------------------------------------------------------------------- status


def pid_alive(pid: object) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as dead)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: existence and permission check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    except OSError:
        return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """Linux only: an exited process its parent has not reaped yet still answers kill(0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()
    return bool(state) and state[0] in ("Z", "X")


if sys.platform == "win32":  # pragma: no cover - Windows only

    def _windows_pid_alive(pid: int) -> bool:
        # os.kill(pid, 0) would *terminate* the process on Windows: ask the kernel instead.
        import ctypes

        process_query_limited_information = 0x1000
        still_active = 259
        access_denied = 5
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
        if not handle:
            return ctypes.get_last_error() == access_denied  # it exists, not ours
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == still_active
        finally:
            kernel32.CloseHandle(handle)


def status_of(meta: dict[str, Any]) -> str:
    """The live status of a parsed ``run.json``: a dead ``"running"`` run is ``"stopped"``."""
    status = str(meta.get("status", "unknown"))
    if status != "running":
        return status
    host = meta.get("host")
    if isinstance(host, str) and host and host != socket.gethostname():
        return status  # another machine's pid: nothing to check from here
    return "running" if pid_alive(meta.get("pid")) else "stopped"


def _read_meta(run_dir: Path) -> dict[str, Any]:
    meta = read_json(run_dir / RUN_FILE)
    if not isinstance(meta, dict):
        raise RunError(f"{run_dir / RUN_FILE}: not a JSON object")
    return meta


def run_status(run_dir: str | Path) -> str:
    """``"running"`` only if ``run.json`` says so and its process is alive on this machine.

    A dead ``"running"`` run is ``"stopped"``; any other status is returned as stored.
    Raises RunError when ``run.json`` is missing or unreadable.
    """
    return status_of(_read_meta(Path(run_dir)))


def _refuse_if_running(run_dir: Path, action: str) -> None:
    meta = _read_meta(run_dir)
    if status_of(meta) == "running":
        pid = meta.get("pid")
        who = f" (process {pid})" if pid else ""
        raise RunError(f"{run_dir.name}: still training{who}; stop it before {action} it")


# --------------------------------------------------------------------------- rename


def check_run_name(name: str) -> str:
    """Return ``name`` if it is a safe single folder name; else raise RunError saying why."""
    if not isinstance(name, str) or not name.strip():
        raise RunError("a run name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RunError(f"a run name has at most {MAX_NAME_LENGTH} characters, not {len(name)}")
    if name != name.strip():
        raise RunError(f"{name!r}: a run name cannot start or end with a space")
    if name.startswith("."):
        raise RunError(f"{name!r}: a run name cannot start with '.'")
    if ".." in name:
        raise RunError(f"{name!r}: a run name cannot contain '..'")
    bad = sorted({c for c in name if c in _FORBIDDEN_CHARS or ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise RunError(f"{name!r}: a run name cannot contain {shown}")
    if name.endswith("."):
        raise RunError(f"{name!r}: a run name cannot end with '.'")
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise RunError(f"{name!r}: this name is reserved on Windows")
    return name


def _require_run_folder(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    if not (run_dir / RUN_FILE).is_file():
        raise RunError(f"{run_dir}: not a run folder (it has no {RUN_FILE})")


def rename_run(run_dir: str | Path, new_name: str) -> Path:
    """Rename a run folder inside its runs directory; returns the new path.

    Raises RunError for an unsafe name (see :func:`check_run_name`), an existing target, or a
    run that is still training. ``summary.run_dir`` in ``run.json`` follows the new path.
    """
    src = Path(run_dir)
    check_run_name(new_name)
    _require_run_folder(src)
    if new_name == src.name:
        return src
    _refuse_if_running(src, "renaming")
    dst = src.parent / new_name
    if dst.exists() or dst.is_symlink():
        same = False
        with contextlib.suppress(OSError):
            same = dst.samefile(src)  # a case-only rename on a case-insensitive disk
        if not same:
            raise RunError(f"{new_name}: a run or file with this name already exists")
    try:
        os.rename(src, dst)
    except OSError as exc:
        raise RunError(f"{src.name}: cannot rename to {new_name}: {exc.strerror or exc}") from None
    _retarget_summary(dst, src)
    return dst


def _retarget_summary(run_dir: Path, old: Path) -> None:
    """Best effort: ``summary.run_dir`` in run.json names the folder the run lives in."""
    try:
        meta = _read_meta(run_dir)
        summary = meta.get("summary")
        if isinstance(summary, dict) and summary.get("run_dir") == str(old):
            summary["run_dir"] = str(run_dir)
            write_json(run_dir / RUN_FILE, meta)
    except (RunError, OSError):
        pass


# --------------------------------------------------------------------------- delete


def trash_available() -> bool:
    """Whether deleted runs can go to the trash (the ``send2trash`` package is installed)."""
    return importlib.util.find_spec("send2trash") is not None


def delete_run(
    run_dir: str | Path, to_trash: bool = True, *, runs_dir: str | Path | None = None
) -> None:
    """Move a run folder to the trash (``send2trash``) or, failing that, delete it for good.

    Only a real folder (not a symlink) holding ``run.json``, directly inside its parent
    (``runs_dir`` when given, which must then be that parent) and not itself inside a run
    folder, is ever deleted. A run that is still training is refused. Errors are RunError.
    """
    path = Path(run_dir)
    if path.name in ("", ".", ".."):
        raise RunError(f"{path}: not a run folder")
    if path.is_symlink():
        raise RunError(f"{path}: a symbolic link, not a run folder; refusing to delete it")
    _require_run_folder(path)
    try:
        real = path.resolve(strict=True)
        parent = path.parent.resolve(strict=True)
    except OSError as exc:
        raise RunError(f"{path}: {exc.strerror or exc}") from None
    if real.parent != parent or real == parent:
        raise RunError(f"{path}: not directly inside a runs folder; refusing to delete it")
    if runs_dir is not None and parent != Path(runs_dir).resolve():
        raise RunError(f"{path}: not inside the runs folder {runs_dir}; refusing to delete it")
    if (parent / RUN_FILE).exists():
        raise RunError(f"{path}: inside another run folder; refusing to delete it")
    _refuse_if_running(path, "deleting")
    if to_trash and trash_available():
        from send2trash import send2trash

        try:
            send2trash(str(path))
        except Exception as exc:  # TrashPermissionError, OSError: the folder stays
            raise RunError(f"{path.name}: cannot move to the trash: {exc}") from None
        return
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise RunError(f"{path.name}: cannot delete: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- watching


def runs_signature(runs_dir: str | Path) -> tuple[tuple[str, int, int, int], ...]:
    """A cheap fingerprint of a runs directory: sorted folder names + run.json stat.

    Changes whenever a run appears, disappears, is renamed, or rewrites its ``run.json``
    (status, summary). One ``scandir`` plus one ``stat`` per folder; nothing is read.
    """
    out: list[tuple[str, int, int, int]] = []
    try:
        entries = list(os.scandir(runs_dir))
    except OSError:
        return ()
    for entry in entries:
        try:
            st = os.stat(os.path.join(entry.path, RUN_FILE))
        except OSError:
            continue
        out.append((entry.name, st.st_mtime_ns, st.st_size, st.st_ino))
    out.sort()
    return tuple(out)


class MetricsTail:
    """Reads ``metrics.jsonl`` incrementally: each call returns only the new complete lines.

    Keeps the byte offset of what it has read; a line not yet ended by ``\\n`` (the writer is
    mid-line) is kept and completed by a later call. A missing file reads as empty. When the
    file is replaced (another inode), shrinks, or its first bytes change (truncated and
    rewritten), reading starts over and :attr:`restarted` is True for that call: the caller
    should then drop what it had.
    """

    #: Bytes of the file's start remembered to notice a truncate-and-rewrite.
    HEAD_BYTES: Final = 256

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.restarted = False
        self._offset = 0  # bytes consumed, pending included
        self._pending = b""
        self._ident: tuple[int, int] | None = None
        self._head = b""

    @property
    def offset(self) -> int:
        """Bytes read so far (the torn tail included)."""
        return self._offset

    def at_end(self) -> bool:
        """Whether everything the file holds now has been read (cheap ``stat``)."""
        try:
            return os.stat(self.path).st_size <= self._offset
        except OSError:
            return True

    def _reset(self) -> None:
        self._offset = 0
        self._pending = b""
        self._ident = None
        self._head = b""

    def read_new(self, max_bytes: int | None = None) -> list[dict[str, Any]]:
        """The records of the complete lines appended since the last call.

        ``max_bytes`` caps how much is read in this call (the rest comes next time), so a
        caller can read a huge file in slices. Lines that are not JSON objects are skipped.
        """
        had_data = self._ident is not None
        self.restarted = False
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below, after fstat
        except FileNotFoundError:
            self.restarted = had_data
            self._reset()
            return []
        except OSError:
            return []
        with fh:
            st = os.fstat(fh.fileno())
            ident = (st.st_dev, st.st_ino)
            if self._ident is not None and (ident != self._ident or st.st_size < self._offset):
                self._reset()
                self.restarted = True
            elif self._head and st.st_size != self._offset:
                fh.seek(0)
                if fh.read(len(self._head)) != self._head:
                    self._reset()
                    self.restarted = True
            self._ident = ident
            if st.st_size <= self._offset:
                return []
            fh.seek(self._offset)
            data = fh.read(-1 if max_bytes is None else max(1, max_bytes))
        if len(self._head) < self.HEAD_BYTES and self._offset < self.HEAD_BYTES:
            self._head = (self._head + data)[: self.HEAD_BYTES]
        self._offset += len(data)
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        out: list[dict[str, Any]] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:  # JSONDecodeError, UnicodeDecodeError
                continue
            if isinstance(record, dict):
                out.append(record)
        return out


def _column(records: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    values = np.empty(len(records), dtype=np.float64)
    for i, record in enumerate(records):
        value = record.get(key)
        try:
            values[i] = float(value) if value is not None else np.nan
        except (TypeError, ValueError):
            values[i] = np.nan
    return values


def curves(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """The plottable series of metrics records, as float64 arrays (NaN where missing).

    ``{"steps": {"step", "loss"}, "epochs": {"epoch", "step", "val_loss", "val_accuracy",
    "val_macro_f1"}}``: one entry per ``step`` / ``epoch`` record, in file order.
    """
    steps = [r for r in records if r.get("type") == "step"]
    epochs = [r for r in records if r.get("type") == "epoch"]
    return {
        "steps": {key: _column(steps, key) for key in STEP_COLUMNS},
        "epochs": {key: _column(epochs, key) for key in EPOCH_COLUMNS},
    }


# --------------------------------------------------------------------------- comparing


def _display(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest exact form: 0.001, 3e-05
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _same(a: object, b: object) -> bool:
    """Equal values of one kind; 16 and 16.0 are the same number, True and 1 are not."""
    numbers = (int, float)
    plain = not isinstance(a, bool) and not isinstance(b, bool)
    if plain and isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    return type(a) is type(b) and a == b


def settings_table(
    runs: Sequence[RunInfo], only_differing: bool = True
) -> list[tuple[str, list[str]]]:
    """Rows ``(key, [value per run])`` of the runs' settings, ``dataset`` first.

    With ``only_differing`` only the keys whose values are not all equal are kept. Datasets
    show as file names, or as full paths where two different paths share a file name.
    """
    _absent = object()
    keys: list[str] = []
    for run in runs:
        keys.extend(k for k in run.settings if k not in keys)
    ordered = [k for k in _SETTING_ORDER if k in keys]
    ordered += sorted(k for k in keys if k not in _SETTING_ORDER)
    rows: list[tuple[str, list[str]]] = []

    datasets = [run.dataset for run in runs]
    if not only_differing or len(set(datasets)) > 1:
        names = {Path(d).name for d in datasets if d}
        by_name = len(names) == len({d for d in datasets if d})
        rows.append(
            (
                "dataset",
                [(Path(d).name if by_name else d) if d else MISSING for d in datasets],
            )
        )
    for key in ordered:
        values = [run.settings.get(key, _absent) for run in runs]
        first = values[0]
        if only_differing and all(_same(first, v) for v in values[1:]):
            continue
        rows.append((key, [MISSING if v is _absent else _display(v) for v in values]))
    return rows


def differing_settings(runs: Sequence[RunInfo]) -> list[tuple[str, list[str]]]:
    """The settings (and ``dataset``) whose values differ across ``runs``, as display text.

    ``[(key, [value of run 0, value of run 1, ...]), ...]``; a key a run lacks shows as
    ``"–"``. Fewer than two runs have no differences.
    """
    if len(runs) < 2:
        return []
    return settings_table(runs, only_differing=True)
