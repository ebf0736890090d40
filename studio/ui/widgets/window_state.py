"""What the window remembers between sessions: its size and place, the tab it was on, and
where every splitter was left. Splitters are keyed by their place in the widget tree
(ancestors' object names), so a page that gains a splitter does not shift the others."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget

__all__ = ["restore_window", "save_window", "splitter_key"]


def splitter_key(splitter: QSplitter) -> str:
    """``splitters/<named ancestors>/<name>``; an unnamed splitter is numbered among the
    splitters of its nearest named ancestor. Unnamed containers are skipped (a stacked
    page reorders its children when it raises one, so their order is no key)."""
    names: list[str] = []
    widget = splitter.parentWidget()
    while widget is not None:
        if widget.objectName():
            names.append(widget.objectName())
        widget = widget.parentWidget()
    own = splitter.objectName()
    if not own:
        anchor = splitter.parentWidget()
        while anchor is not None and not anchor.objectName():
            anchor = anchor.parentWidget()
        peers = anchor.findChildren(QSplitter) if anchor is not None else [splitter]
        own = f"QSplitter{peers.index(splitter)}"
    return "splitters/" + "/".join([*reversed(names), own])


def save_window(settings: QSettings, window: QMainWindow, tabs: QTabWidget) -> None:
    """Geometry, the current tab and every splitter's sizes."""
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("lastTab", tabs.currentIndex())
    for splitter in window.findChildren(QSplitter):
        settings.setValue(splitter_key(splitter), splitter.saveState())


def restore_window(settings: QSettings, window: QMainWindow, tabs: QTabWidget) -> None:
    """Put back what :func:`save_window` saved; a first start gets 1200×800 and tab 1."""
    geometry = settings.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1200, 800)
    for splitter in window.findChildren(QSplitter):
        state = settings.value(splitter_key(splitter))
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    try:
        tab = int(settings.value("lastTab", 0))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        tab = 0
    if 0 <= tab < tabs.count():
        tabs.setCurrentIndex(tab)
