"""Export: a run folder in the formats other tools read.

``export_run(run, fmt, out)`` for every format in ``FORMATS`` (:mod:`.formats`, the one list
that the CLI and the window both offer). One module per family: :mod:`.classifier` (ONNX,
TorchScript), :mod:`.vectors` (word2vec, Embedding Projector), :mod:`.curves`
(TensorBoard, CSV), :mod:`.recs_onnx` (a recommendation run's scoring towers). The
README's *Export* section describes each format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio._lazy import lazy_exports

_EXPORTS = {
    "EXPORT_FORMATS": "formats",
    "FORMATS": "formats",
    "ExportFormat": "formats",
    "export_run": "formats",
    "pad_ids": "classifier",
}
__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ExportFormat",
    "export_run",
    "pad_ids",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from studio.engine.export.classifier import pad_ids
    from studio.engine.export.formats import EXPORT_FORMATS, FORMATS, ExportFormat, export_run
