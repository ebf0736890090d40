"""Live status of a run: is the process that trains it still alive on this machine?

``run.json`` says ``"running"`` while a run trains and records the trainer's ``pid`` and
``host``. A run whose process died without saying so (killed, power cut) still says
``"running"``; :func:`run_status` reports it as ``"killed"`` when that pid is not alive on
this machine (a run the user stopped says ``"stopped"`` itself). When ``run.json`` names
another ``host``, its pid cannot be checked from here and the stored status is trusted.
Liveness is asked of psutil, so it works alike on Linux, macOS and Windows (where
``os.kill(pid, 0)`` would terminate the process).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import psutil

from studio.engine.runs.layout import RUN_FILE, read_json
from studio.errors import RunError

__all__ = ["pid_alive", "read_run_meta", "refuse_if_running", "run_status", "status_of"]


def pid_alive(pid: object) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as dead)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        status = psutil.Process(pid).status()
    except psutil.AccessDenied:
        return True  # it exists, owned by another user
    except (psutil.Error, OverflowError, ValueError):  # NoSuchProcess, ZombieProcess, ...
        return False
    return status not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def status_of(meta: dict[str, Any]) -> str:
    """The live status of a parsed ``run.json``: a dead ``"running"`` run is ``"killed"``."""
    status = str(meta.get("status", "unknown"))
    if status != "running":
        return status
    host = meta.get("host")
    if isinstance(host, str) and host and host != socket.gethostname():
        return status  # another machine's pid: nothing to check from here
    return "running" if pid_alive(meta.get("pid")) else "killed"


def read_run_meta(run_dir: Path) -> dict[str, Any]:
    """The parsed ``run.json`` of ``run_dir``; RunError when missing or not an object."""
    meta = read_json(run_dir / RUN_FILE)
    if not isinstance(meta, dict):
        raise RunError(f"{run_dir / RUN_FILE}: not a JSON object")
    return meta


def run_status(run_dir: str | Path) -> str:
    """``"running"`` only if ``run.json`` says so and its process is alive on this machine.

    A dead ``"running"`` run is ``"killed"``; any other status is returned as stored.
    Raises RunError when ``run.json`` is missing or unreadable.
    """
    return status_of(read_run_meta(Path(run_dir)))


def refuse_if_running(run_dir: Path, action: str) -> None:
    """RunError when the run in ``run_dir`` is still training (``action``: "renaming", ...)."""
    meta = read_run_meta(run_dir)
    if status_of(meta) == "running":
        pid = meta.get("pid")
        who = f" (process {pid})" if pid else ""
        raise RunError(f"{run_dir.name}: still training{who}; stop it before {action} it")
