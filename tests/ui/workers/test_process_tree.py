"""Process trees through psutil: a launcher's descendants are found and killed, and a
remembered process whose id now belongs to another is left alone."""

from __future__ import annotations

import subprocess
import sys

from pytestqt.qtbot import QtBot

from studio.engine.runs.status import pid_alive
from studio.ui.workers.process_tree import kill_tree, process_tree

WAIT = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # runs until stdin closes
# the child starts a grandchild, prints its pid, and both wait on their stdin
PARENT = (
    "import subprocess, sys\n"
    f"child = subprocess.Popen({WAIT!r}, stdin=subprocess.PIPE)\n"
    "print(child.pid, flush=True)\n"
    "sys.stdin.read()\n"
)


def test_process_tree_finds_and_kills_the_descendants(qtbot: QtBot) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        grandchild = int(parent.stdout.readline())
        try:
            tree = process_tree(parent.pid)
            assert list(tree)[:2] == [parent.pid, grandchild]  # parents first
            assert all(started > 0 for started in tree.values())
            kill_tree(tree)
            assert parent.wait(timeout=30) != 0
            qtbot.waitUntil(lambda: not pid_alive(grandchild), timeout=30_000)
        finally:
            if parent.poll() is None:
                parent.kill()
    assert process_tree(parent.pid) == {parent.pid: 0}  # gone


def test_kill_tree_spares_a_process_that_reuses_the_id() -> None:
    with subprocess.Popen(WAIT, stdin=subprocess.PIPE) as proc:
        try:
            started = process_tree(proc.pid)[proc.pid]
            kill_tree({proc.pid: started + 1})  # another start time: another process
            assert proc.poll() is None
            kill_tree({proc.pid: started})
            assert proc.wait(timeout=30) != 0
        finally:
            if proc.poll() is None:
                proc.kill()
