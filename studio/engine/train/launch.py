"""``studio train --nproc N``: N copies of ``studio train`` under torchrun's engine.

This is what ``torchrun --standalone --nproc-per-node N -m studio train ...`` does (the
elastic agent from :mod:`torch.distributed.launcher`, a c10d rendezvous on a free local
port), called as a library so a failed rank becomes one clear line instead of the agent's
report. The agent watches the ranks: when one dies, it stops the others.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Sequence

from studio.engine.train.distributed import DistributedError

EXIT_USAGE = 2  # a rank's user error: it has printed its own one-line message


def _quiet_agent() -> None:
    """Silence the agent's own log lines: a failure is reported as one line of ours."""
    prefixes = ("torch.distributed.elastic", "torch.distributed.launcher")
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(prefixes):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def launch(nproc: int, args: Sequence[str]) -> int:
    """Run ``python -m studio ARGS`` as ``nproc`` ranks on this machine; their exit status.

    Raises :class:`DistributedError` (one line) when a rank died or failed other than with
    a user error; a user error (status 2) was already printed by the rank.
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # torchrun's default for several ranks a machine: share the cores, don't oversubscribe
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    _quiet_agent()
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=str(uuid.uuid4()),
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.1,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "studio", *args)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        if failure.exitcode == EXIT_USAGE:
            return EXIT_USAGE
        if failure.exitcode < 0:
            how = f"was killed by {failure.signal_name()}"
        else:
            how = f"exited with status {failure.exitcode} (see its messages above)"
        raise DistributedError(
            f"rank {rank} (process {failure.pid}) {how}; the other ranks were stopped"
        ) from None
    return 0
