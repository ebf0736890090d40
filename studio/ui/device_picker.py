"""The device combo box: CPU, every CUDA device with its memory, and MPS.

Listing devices needs torch, so it runs on a worker thread; unusable devices are shown
disabled with the reason in their tooltip.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget


def _gib(n: int | None) -> str:
    return f"{n / 2**30:.1f} GiB" if n else "?"


def device_text(d: dict[str, Any]) -> str:
    """One line for the combo: ``cuda:0 · NVIDIA H100 · 75.2 GiB free of 79.6 GiB``."""
    text = d["label"]
    if d.get("total_memory"):
        free = d.get("free_memory")
        mem = f"{_gib(free)} free of {_gib(d['total_memory'])}" if free else _gib(d["total_memory"])
        text += f" · {mem}"
    if not d["available"]:
        text += f" — {d['reason']}"
    return text


class DeviceLister(QObject):
    """Lists devices off the GUI thread (the first call also loads torch)."""

    sig_listed = Signal(list)

    @Slot()
    def run(self) -> None:
        try:
            from studio.engine.devices import list_devices

            devices = [asdict(d) for d in list_devices()]
        except Exception as exc:
            devices = [{"name": "cpu", "label": f"CPU ({exc})", "available": True, "reason": ""}]
        self.sig_listed.emit(devices)


class DevicePicker(QWidget):
    """``deviceCombo`` (item data = device string) and a refresh button."""

    sig_device_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(objectName="deviceCombo")
        self.combo.setToolTip(
            "Where training runs. Unusable devices are greyed out with the reason."
        )
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QToolButton(objectName="refreshDevicesButton", text="⟳")
        self.refresh_button.setToolTip("Look for devices again (and update free memory)")
        self.refresh_button.clicked.connect(self.refresh)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        self._model = QStandardItemModel(self)
        self.combo.setModel(self._model)
        self.devices: list[dict[str, Any]] = []
        self._wanted = "cpu"
        self._thread: QThread | None = None
        self._lister: DeviceLister | None = None
        self.set_devices([{"name": "cpu", "label": "CPU", "available": True, "reason": ""}])
        self.combo.currentIndexChanged.connect(self._on_index)

    def current_device(self) -> str:
        return str(self.combo.currentData() or "cpu")

    def current_info(self) -> dict[str, Any]:
        name = self.current_device()
        return next((d for d in self.devices if d["name"] == name), {"name": name})

    def select(self, name: str) -> None:
        """Choose ``name`` now, or once the device list has arrived."""
        self._wanted = name
        index = self.combo.findData(name)
        if index >= 0 and self._model.item(index).isEnabled():
            self.combo.setCurrentIndex(index)

    @Slot()
    def refresh(self) -> None:
        if self._thread is not None:
            return
        self.refresh_button.setEnabled(False)
        self._thread = QThread(self)
        self._lister = DeviceLister()
        self._lister.moveToThread(self._thread)
        self._thread.started.connect(self._lister.run)
        self._lister.sig_listed.connect(self.set_devices)
        self._lister.sig_listed.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_listed)
        self._thread.start()

    def shutdown(self) -> None:
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._on_listed()

    @Slot()
    def _on_listed(self) -> None:
        if self._thread is None:
            return
        thread, lister = self._thread, self._lister
        self._thread = self._lister = None
        if lister is not None:
            lister.deleteLater()
        thread.deleteLater()
        self.refresh_button.setEnabled(True)

    @Slot(list)
    def set_devices(self, devices: list[dict[str, Any]]) -> None:
        wanted = self._wanted
        self.devices = devices
        self.combo.blockSignals(True)
        self._model.clear()
        for d in devices:
            item = QStandardItem(device_text(d))
            item.setData(d["name"], Qt.ItemDataRole.UserRole)
            item.setEnabled(bool(d["available"]))
            item.setToolTip(d.get("reason") or d["label"])
            self._model.appendRow(item)
        self.combo.blockSignals(False)
        self.select(wanted if self.combo.findData(wanted) >= 0 else "cpu")
        self._on_index()

    @Slot()
    def _on_index(self) -> None:
        self._wanted = self.current_device()
        self.sig_device_changed.emit(self._wanted)
