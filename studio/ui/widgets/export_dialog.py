"""Exporting a run: asking where (the format, from the engine's one list, then a file or
folder), and the export itself off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from studio.ui.workers.tasks import TaskRunner


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


class RunExporter(QObject):
    """Exports runs off the GUI thread (one at a time, the newest request wins)."""

    sig_exported = Signal(str)
    """The export's output path."""
    sig_failed = Signal(str, str)
    """(message, details) of an export that failed."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskRunner("export_tasks", self)
        self.tasks.sig_result.connect(lambda path: self.sig_exported.emit(str(path)))
        self.tasks.sig_error.connect(self.sig_failed)

    def export(self, run_dir: str, fmt: str, out: str) -> None:
        def work() -> str:
            from studio.engine.export import export_run

            return str(export_run(run_dir, fmt, out))

        self.tasks.submit(work)

    def shutdown(self) -> None:
        self.tasks.shutdown()
