"""Asking where to export a run: the format (from the engine's one list), then a file or folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget


def ask_export_target(parent: QWidget, run_dir: str) -> tuple[str, str] | None:
    """``(format, output path)`` chosen by the user, or None when they cancel."""
    from studio.engine.export.formats import FORMATS, export_format  # torch-free

    fmt, ok = QInputDialog.getItem(parent, "Export", "Format", list(FORMATS), 0, False)
    if not ok:
        return None
    chosen = export_format(fmt)
    default = str(Path(run_dir) / f"export-{fmt}{chosen.suffix}")
    if chosen.output == "file":
        out, _ = QFileDialog.getSaveFileName(parent, f"Export {fmt}", default)
    else:
        out = QFileDialog.getExistingDirectory(parent, f"Export {fmt} into a new folder…")
        out = str(Path(out) / f"{Path(run_dir).name}-{fmt}") if out else ""
    return (fmt, out) if out else None
