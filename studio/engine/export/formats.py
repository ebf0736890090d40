"""The export formats, listed once: what the CLI offers, the window offers, and each one's writer.

Imports neither torch nor numpy, so ``studio --help`` and the window's export dialog can
read the list cheaply; :func:`export_run` imports a format's module only when it is used.
The formats themselves are described in the README's *Export* section.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine.analysis.inference import LoadedRun

__all__ = ["EXPORT_FORMATS", "FORMATS", "ExportFormat", "export_format", "export_run"]


@dataclass(frozen=True)
class ExportFormat:
    """One format: its name, what it holds, and whether it writes a file or a folder."""

    name: str
    summary: str
    output: Literal["file", "folder"]
    #: The usual ending of a file output (the window's default file name); "" for folders.
    suffix: str
    #: ``module:function`` of the writer, inside :mod:`studio.engine.export`.
    writer: str


EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "onnx", "the classifier as ONNX (plus PATH.json: vocabulary, labels, how to feed it)",
        "file", ".onnx", "classifier:export_onnx",
    ),
    ExportFormat(
        "torchscript", "the classifier as a TorchScript archive (plus PATH.json)",
        "file", ".pt", "classifier:export_torchscript",
    ),
    ExportFormat(
        "word2vec", "the vocabulary's vectors in word2vec text format (with character "
        "n-grams, each composed with its n-grams' rows, as fastText's .vec)",
        "file", ".vec", "vectors:export_word2vec",
    ),
    ExportFormat(
        "projector", "the vocabulary's vectors for the TensorBoard Embedding Projector",
        "folder", "", "vectors:export_projector",
    ),
    ExportFormat(
        "tensorboard", "the training curves as TensorBoard event files",
        "folder", "", "curves:export_tensorboard",
    ),
    ExportFormat(
        "csv", "the training curves as steps.csv and epochs.csv (one file if PATH ends .csv)",
        "folder", "", "curves:export_csv",
    ),
)  # fmt: skip

#: The format names, in the order the CLI and the window offer them.
FORMATS: tuple[str, ...] = tuple(f.name for f in EXPORT_FORMATS)


def export_format(name: str) -> ExportFormat:
    """The format called ``name``; StudioError naming the known ones otherwise."""
    for fmt in EXPORT_FORMATS:
        if fmt.name == name:
            return fmt
    raise StudioError(f"unknown export format {name!r}; expected one of {', '.join(FORMATS)}")


def export_run(
    run: str | Path | LoadedRun, fmt: str, out: str | Path, *, overwrite: bool = False
) -> Path:
    """Export ``run`` as ``fmt`` (one of :data:`FORMATS`) to ``out``; returns the path written."""
    module, function = export_format(fmt).writer.split(":")
    writer: Callable[..., Path] = getattr(
        importlib.import_module(f"studio.engine.export.{module}"), function
    )
    return writer(run, out, overwrite=overwrite)
