"""The command line of a child run: ``python -m studio train --nproc N …`` and its env.

:class:`~studio.ui.workers.process.ProcessWorker` starts what a :data:`CommandFactory` returns;
:func:`build_train_command` is the real one, tests pass their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from studio.ui.workers.device_selection import DeviceSelection

__all__ = ["ChildCommand", "CommandFactory", "build_train_command"]


@dataclass(frozen=True)
class ChildCommand:
    """A program, its arguments, and variables added to the window's environment."""

    program: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


CommandFactory = Callable[[Path, DeviceSelection, Path], ChildCommand]
"""``(config file, selection, run dir) -> ChildCommand``: what the worker starts."""


def build_train_command(
    config_path: Path, selection: DeviceSelection, run_dir: Path, python: str | None = None
) -> ChildCommand:
    """``python -m studio train --config F --nproc N --run-dir D --quiet --device X``.

    One process also writes its validation predictions each epoch (``--live-predictions``)
    for the evaluation view. Several GPUs train as ``--device cuda`` with
    ``CUDA_VISIBLE_DEVICES`` set to the chosen indices (rank r then uses the r-th of them);
    CPU processes as ``--device cpu``.
    """
    device = "cuda" if selection.visible_gpus else selection.device
    env = {"PYTHONUNBUFFERED": "1"}
    if selection.visible_gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in selection.visible_gpus)
    args: tuple[str, ...] = (
        "-m", "studio", "train",
        "--config", str(config_path),
        "--nproc", str(selection.nproc),
        "--run-dir", str(run_dir),
        "--quiet",
        "--device", device,
    )  # fmt: skip
    if not selection.distributed:
        args += ("--live-predictions",)
    return ChildCommand(python or sys.executable, args, env)
