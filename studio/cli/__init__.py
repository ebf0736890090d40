"""``studio``: the window with no arguments, or the engine from the terminal.

User errors (bad data, options, run folders) print one line on stderr and exit with
status 2; no traceback. Heavy imports (torch) happen inside the commands that need them,
so ``studio --help`` is instant. :mod:`.parser` declares the options, :mod:`.train` runs
``studio train`` (one process, ``--nproc`` ranks, ``--resume``), :mod:`.commands` the others.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from studio.cli.commands import COMMANDS, EXIT_USAGE, open_window
from studio.cli.parser import build_parser
from studio.errors import StudioError

__all__ = ["EXIT_USAGE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``studio`` command with ``argv`` (default: the process's); the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command is None:
            return open_window(args.open, args.screenshot, args.report_startup)
        return COMMANDS[args.command](args)
    except StudioError as exc:
        if not getattr(exc, "quiet", False):
            print(f"studio: error: {_rank_prefix(str(exc))}{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130


def _rank_prefix(message: str) -> str:
    """``rank N: `` in a distributed run's ranks other than 0 (cheap: no torch import)."""
    import os

    rank = os.environ.get("RANK") or os.environ.get("SLURM_PROCID")
    world = os.environ.get("WORLD_SIZE") or os.environ.get("SLURM_NTASKS")
    if rank and world and world != "1" and rank != "0" and not message.startswith("rank "):
        return f"rank {rank}: "
    return ""
