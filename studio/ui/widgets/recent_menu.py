"""The "Open recent" menu: the datasets opened last, newest first, kept in QSettings."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

__all__ = ["MAX_RECENT", "RecentMenu"]

#: At most this many paths are remembered.
MAX_RECENT: Final = 8


class RecentMenu(QObject):
    """Fills ``menu`` with the remembered paths; choosing one emits :attr:`sig_open`."""

    sig_open = Signal(str)
    """A remembered path was chosen."""

    def __init__(
        self, menu: QMenu, settings: QSettings, key: str = "recentDatasets", limit: int = MAX_RECENT
    ) -> None:
        super().__init__(menu)
        self._menu = menu
        self._settings = settings
        self._key = key
        self._limit = limit
        menu.triggered.connect(self._on_triggered)
        self.refresh()

    def paths(self) -> list[str]:
        """The remembered paths, newest first."""
        value = self._settings.value(self._key, [])
        if isinstance(value, str):  # QSettings reads a one-item list back as a string
            return [value]
        return [str(v) for v in value] if isinstance(value, list | tuple) else []

    def add(self, path: str) -> None:
        """Remember ``path`` as the newest (once; the oldest beyond the limit is dropped)."""
        recent = [p for p in self.paths() if p != path]
        recent.insert(0, path)
        self._settings.setValue(self._key, recent[: self._limit])
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the menu from the settings (disabled when there is nothing to show)."""
        self._menu.clear()
        paths = self.paths()
        for path in paths:
            self._menu.addAction(path).setData(path)
        self._menu.setEnabled(bool(paths))

    @Slot(QAction)
    def _on_triggered(self, action: QAction) -> None:
        self.sig_open.emit(str(action.data()))
