"""The export format list: one place, read without torch by the CLI and the window."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from studio.engine.export import EXPORT_FORMATS, FORMATS
from studio.engine.export.formats import export_format, export_run
from studio.errors import StudioError


def test_every_format_names_a_writer_and_its_output() -> None:
    assert FORMATS == ("onnx", "torchscript", "word2vec", "projector", "tensorboard", "csv")
    for fmt in EXPORT_FORMATS:
        module, function = fmt.writer.split(":")
        assert callable(
            getattr(importlib.import_module(f"studio.engine.export.{module}"), function)
        )
        assert fmt.output in ("file", "folder")
        assert bool(fmt.suffix) == (fmt.output == "file")
        assert fmt.summary and export_format(fmt.name) is fmt


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(StudioError, match="unknown export format 'xlsx'; expected one of onnx"):
        export_format("xlsx")
    with pytest.raises(StudioError, match="unknown export format"):
        export_run("no-such-run", "xlsx", "out")


def test_the_format_list_imports_neither_torch_nor_numpy() -> None:
    script = (
        "import sys; from studio.engine.export import FORMATS, EXPORT_FORMATS; "
        "from studio.engine.export.formats import export_format; export_format('onnx'); "
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sys.modules; "
        "print(len(FORMATS))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(EXPORT_FORMATS))
