"""A launched process and all its descendants: find them, and kill them (psutil).

The process worker remembers the tree of a distributed launch before it terminates the
launcher, so ranks that outlive it can still be killed; each process is remembered with its
start time, so a later process that reuses an id is spared.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["kill_tree", "process_tree"]


def _start_time(process: Any) -> int:
    """A process's start, in milliseconds since the epoch (psutil's ``create_time``)."""
    return round(process.create_time() * 1000)


def process_tree(pid: int) -> dict[int, int]:
    """``pid`` and all its descendants -> their start times, parents first (psutil).

    The ranks of a torchrun launch run in sessions of their own, so killing the launcher's
    process group would miss them; their parent links find them. The start time tells a
    remembered process from a later one that reuses its id. When ``pid`` is gone: ``{pid: 0}``.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        out: dict[int, int] = {pid: _start_time(root)}
        children = root.children(recursive=True)
    except (psutil.Error, OverflowError, ValueError):
        return {pid: 0}
    for child in children:
        with contextlib.suppress(psutil.Error):
            out.setdefault(child.pid, _start_time(child))
    return out


def kill_tree(tree: dict[int, int]) -> None:
    """Kill every process of a :func:`process_tree` snapshot that is still the same."""
    import psutil

    for pid, started in tree.items():
        try:
            process = psutil.Process(pid)
            if started and _start_time(process) != started:
                continue  # a new process reusing the id
            process.kill()  # SIGKILL; TerminateProcess on Windows
        except (psutil.Error, OverflowError, ValueError):
            continue  # gone (or no longer visible)
