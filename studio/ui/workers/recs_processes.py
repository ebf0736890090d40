"""A recommendation run of several processes, supervised from the recommendation worker's
thread: ``python -m studio recs FILE --nproc N --run-dir D --json`` as a child process.

The ranks of a distributed run cannot live in the window's process, so the worker thread
(:class:`~studio.ui.workers.recs_job.RecsWorker`) starts the CLI's launch and follows the
run folder it named: each ``baseline`` and ``epoch`` record of ``D/metrics.jsonl`` becomes
the same callback the one-process path makes. Stop creates ``D/STOP``, which rank 0 reads
and every rank obeys after its step; a launch still alive some seconds later is killed with
its whole process tree. The exit status says how it ended: 0 finished or stopped (the
``--json`` report on stdout), 2 a user error (its one ``studio: error:`` line), else a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.train.control import TrainControl
    from studio.ui.workers.recs_job import RecsRequest

__all__ = ["recs_command", "settings_fields", "train_in_processes"]

#: How often the child and its metrics are looked at.
POLL_S: Final = 0.2
#: After STOP, how long the launch has to end before its tree is killed.
STOP_GRACE_S: Final = 20.0
_ERROR: Final = "studio: error: "

#: ``RecSettings`` fields and the ``studio recs`` option each one is passed as.
_OPTIONS: Final = {
    "dim": "--dim", "epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr",
    "loss": "--loss", "block": "--block", "tower": "--tower", "negatives": "--negatives",
    "k": "-k", "seed": "--seed", "device": "--device", "eval_users": "--eval-users",
}  # fmt: skip


def recs_command(request: RecsRequest, run_dir: Path) -> list[str]:
    """The ``studio recs`` command line of ``request`` (its ``nproc`` processes, into
    ``run_dir``)."""
    s = request.settings
    args = [sys.executable, "-m", "studio", "recs", request.path, "--nproc", str(request.nproc),
            "--run-dir", str(run_dir), "--json", "--holdout", request.holdout,
            "--share", str(request.share), "--min-count", str(request.min_count)]  # fmt: skip
    for field, option in _OPTIONS.items():
        args += [option, str(getattr(s, field))]
    exclude = {None: "auto", True: "on", False: "off"}[s.exclude_positives]
    args += ["--exclude-positives", exclude]
    if request.item_text:
        args += ["--item-text", request.item_text]
    return args


def train_in_processes(
    request: RecsRequest, control: TrainControl, run_dir: Path,
    on_record: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:  # fmt: skip
    """Run ``request`` as processes into the empty ``run_dir``; ``on_record`` gets each
    metrics record as it is written. Returns the CLI's JSON report; StudioError on a user
    error (its message) or a crash (the stderr tail)."""
    from studio.engine.runs.layout import METRICS_FILE, STOP_FILE
    from studio.engine.runs.tail import MetricsTail

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if request.visible_gpus:  # rank r trains on the r-th of them (cuda:LOCAL_RANK)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in request.visible_gpus)
    child = subprocess.Popen(
        recs_command(request, run_dir), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    tail = MetricsTail(run_dir / METRICS_FILE)
    stopped_at: float | None = None
    while True:
        try:
            out, err = child.communicate(timeout=POLL_S)  # retried without losing output
            break
        except subprocess.TimeoutExpired:
            pass
        for record in tail.read_new():
            on_record(record)
        if control.stop_requested and stopped_at is None:
            (run_dir / STOP_FILE).touch()
            stopped_at = time.monotonic()
        elif stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_S:
            _kill(child.pid)
    for record in tail.read_new():
        on_record(record)
    return _outcome(child.returncode, out, err)


def _kill(pid: int) -> None:
    """SIGKILL the launch and every process under it (its ranks)."""
    import psutil

    try:
        launch = psutil.Process(pid)
        processes = [*launch.children(recursive=True), launch]
    except psutil.Error:
        return
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


def _outcome(code: int, out: str, err: str) -> dict[str, Any]:
    if code == 0:
        try:
            report = json.loads(out.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise StudioError(f"the processes gave no report: {err[-2000:]}") from None
        return dict(report)
    lines = [line for line in err.splitlines() if line.startswith(_ERROR)]
    if code == 2 and lines:
        raise StudioError(lines[-1].removeprefix(_ERROR))
    raise StudioError(f"the processes ended with status {code}: {err.strip()[-2000:]}")


def settings_fields() -> tuple[str, ...]:
    """The ``RecSettings`` fields a command line carries (the rest keep their defaults)."""
    return (*_OPTIONS, "exclude_positives")
