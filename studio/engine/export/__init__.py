"""Export: a run folder in the formats other tools read.

``export_run(run, fmt, out)`` for every format in ``FORMATS``, the one list that the CLI
and the window both offer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "FORMATS": "formats_all",
    "export_run": "formats_all",
}
__all__ = [
    "FORMATS",
    "export_run",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.export.formats_all import FORMATS, export_run
