"""Short engine computations for the pages, off the GUI thread; the newest request wins.

Pages submit a plain callable (it may import torch and the engine: it runs on the worker
thread) and listen to ``sig_result`` / ``sig_error``. Results of requests that were
superseded before they finished are dropped, so typing in a search box never shows a stale
answer. The runner is :class:`studio.ui.workers.threads.LatestRunner`; this module names it
for the pages.
"""

from __future__ import annotations

from studio.ui.workers.threads import LatestRunner

__all__ = ["TaskRunner"]


class TaskRunner(LatestRunner):
    """One worker thread per owner: ``submit(fn)``; listen to ``sig_result``/``sig_error``."""
