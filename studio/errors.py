"""User-facing errors.

Every problem caused by the user's data, options or files is raised as a subclass of
:class:`StudioError`. Its ``str()`` is one line that names where the problem is
(file, line, column, byte offset or config field), so the CLI can print it and exit
with status 2 and the window can show it inline, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base class of every error whose message is meant for the user."""


class DatasetError(StudioError):
    """A dataset file cannot be read or does not make a usable dataset."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | int | None = None,
        byte_offset: int | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.byte_offset = byte_offset
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(
                f"column {self.column!r}"
                if isinstance(self.column, str)
                else f"column {self.column}"
            )
        if self.byte_offset is not None:
            where.append(f"byte offset {self.byte_offset}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(StudioError):
    """A configuration value is out of range, of the wrong type, or unknown."""

    def __init__(self, field: str, message: str, *, path: str | Path | None = None) -> None:
        self.field = field
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        prefix = f"{self.path}: " if self.path else ""
        return f"{prefix}{self.field}: {self.message}"


class RunError(StudioError):
    """A run folder is missing, incomplete, or holds files the studio refuses to load."""


class DeviceError(StudioError):
    """The requested device does not exist or cannot be used by this PyTorch build."""
