"""The device picker: CPU (with a number of processes), every CUDA device, several GPUs, MPS.

Listing devices needs torch, so it runs on a worker thread; unusable devices are shown
disabled with the reason in their tooltip. What the user picked is a frozen
:class:`DeviceSelection`: one device trains in this process (the thread worker), several
processes (CPU processes or checked GPUs) train as a distributed launch in a subprocess.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any, Final

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.naming import name_after_attributes
from studio.ui.workers.device_selection import DeviceSelection
from studio.ui.workers.threads import WorkerThread

#: Combo item data of the "Several GPUs" entry (its config device is ``cuda``).
MULTI_GPU: Final = "cuda:*"
#: Rows of the GPU check list shown without scrolling.
_MAX_GPU_ROWS: Final = 6

_COMBO_TIP = (
    "Where training runs. Unusable devices are greyed out with the reason. "
    "“Several GPUs” trains on the GPUs you check, one process each."
)
_PROCESSES_TIP = (
    "Training processes on this CPU. 1 trains inside the window; more start a distributed "
    "run (DistributedDataParallel over gloo) as a separate `studio train --nproc N` process. "
    "Pause is not available for runs of several processes."
)
_GPU_LIST_TIP = (
    "The GPUs that train together, one process each (DistributedDataParallel over NCCL). "
    "Each holds a full copy of the model."
)


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


def gpu_text(d: dict[str, Any]) -> str:
    """One short line for the GPU list: ``cuda:0 · NVIDIA H100 · 75.2 GiB free``."""
    name = d["name"]
    label = d["label"].replace(f" ({name})", "")
    text = f"{name} · {label}"
    if not d["available"]:
        return f"{text} — {d['reason']}"
    if d.get("free_memory"):
        text += f" · {_gib(d['free_memory'])} free"
    return text


def _gpu_index(name: str) -> int | None:
    return int(name[5:]) if name.startswith("cuda:") and name[5:].isdigit() else None


class DeviceLister(QObject):
    """Lists devices off the GUI thread (the first call also loads torch)."""

    sig_listed = Signal(list)

    @Slot()
    def run(self) -> None:
        try:
            from studio.engine.train.devices import list_devices

            devices = [asdict(d) for d in list_devices()]
        except Exception as exc:
            devices = [{"name": "cpu", "label": f"CPU ({exc})", "available": True, "reason": ""}]
        self.sig_listed.emit(devices)


class DevicePicker(QWidget):
    """``device_combo`` (item data = device string), ``processes`` (CPU), ``gpu_list``
    (checkable GPUs, shown for "Several GPUs") and ``refresh_devices_button``."""

    sig_device_changed = Signal(str)
    """The selection changed (device, process count or checked GPUs): the config's device."""
    sig_listed = Signal(list)
    """The devices were listed (each a ``DeviceInfo`` as a dict): another picker can take
    them with :meth:`set_devices` instead of listing them again."""

    def __init__(self, parent: QWidget | None = None, name_prefix: str = "") -> None:
        """``name_prefix``: a second picker in the window names its widgets apart
        (``recs_device_combo``…), so finding a widget by name stays unambiguous."""
        super().__init__(parent)
        self.device_combo = QComboBox()
        self.device_combo.setToolTip(_COMBO_TIP)
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.processes = QSpinBox()
        self.processes.setRange(1, max(os.cpu_count() or 1, 1))
        self.processes.setToolTip(_PROCESSES_TIP)
        self.processes_label = QLabel("process")
        self.processes_label.setToolTip(_PROCESSES_TIP)
        self.refresh_devices_button = QToolButton()
        self.refresh_devices_button.setText("⟳")
        self.refresh_devices_button.setToolTip("Look for devices again (and update free memory)")
        self.refresh_devices_button.clicked.connect(self.refresh)
        self.gpu_list = QListWidget()
        self.gpu_list.setToolTip(_GPU_LIST_TIP)
        self.gpu_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.gpu_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.gpu_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.gpu_list.setUniformItemSizes(True)
        self.gpu_list.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.device_combo, 1)
        row.addWidget(self.processes)
        row.addWidget(self.processes_label)
        row.addWidget(self.refresh_devices_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.gpu_list)
        self._model = QStandardItemModel(self)
        self.device_combo.setModel(self._model)
        self.devices: list[dict[str, Any]] = []
        self._wanted = "cpu"
        self._wanted_gpus: set[int] | None = None  # None: every usable GPU
        self._listing: WorkerThread[DeviceLister] | None = None
        self.set_devices([{"name": "cpu", "label": "CPU", "available": True, "reason": ""}])
        self.device_combo.currentIndexChanged.connect(self._on_index)
        self.processes.valueChanged.connect(self._on_processes)
        self.gpu_list.itemChanged.connect(self._on_gpu_checked)
        if name_prefix:
            for name, value in vars(self).items():
                if not name.startswith("_") and isinstance(value, QObject):
                    value.setObjectName(name_prefix + name)
        name_after_attributes(self)

    # -- the selection -----------------------------------------------------------------
    def selection(self) -> DeviceSelection:
        """The current choice; one checked GPU of "Several GPUs" trains on it in-process."""
        data = str(self.device_combo.currentData() or "cpu")
        if data == MULTI_GPU:
            gpus = self.checked_gpus()
            if len(gpus) == 1:
                return DeviceSelection(f"cuda:{gpus[0]}")
            if not gpus:
                return DeviceSelection("cuda")
            return DeviceSelection("cuda", len(gpus), gpus)
        if data == "cpu":
            return DeviceSelection("cpu", self.processes.value())
        return DeviceSelection(data)

    def problem(self) -> str:
        """Why the selection cannot train, or ''."""
        if self.device_combo.currentData() == MULTI_GPU and not self.checked_gpus():
            return "check at least one GPU to train on"
        return ""

    def current_device(self) -> str:
        """The config's ``device.device`` for the current selection."""
        return self.selection().device

    def current_info(self) -> dict[str, Any]:
        """The chosen device's entry; for several GPUs the smallest memory of them."""
        sel = self.selection()
        if sel.visible_gpus:
            chosen = [d for d in self.devices if _gpu_index(d["name"]) in sel.visible_gpus]
            free = [d["free_memory"] for d in chosen if d.get("free_memory")]
            return {
                "name": ", ".join(f"cuda:{i}" for i in sel.visible_gpus),
                "gpus": len(sel.visible_gpus),
                "free_memory": min(free) if len(free) == len(chosen) else None,
            }
        name = sel.device
        return next((d for d in self.devices if d["name"] == name), {"name": name})

    def checked_gpus(self) -> tuple[int, ...]:
        """CUDA indices checked in the GPU list, ascending."""
        out = []
        for row in range(self.gpu_list.count()):
            item = self.gpu_list.item(row)
            usable = item.flags() & Qt.ItemFlag.ItemIsEnabled
            if usable and item.checkState() == Qt.CheckState.Checked:
                out.append(int(item.data(Qt.ItemDataRole.UserRole)))
        return tuple(sorted(out))

    def select(self, name: str) -> None:
        """Choose ``name`` (a device string or :data:`MULTI_GPU`) now, or once listed."""
        if name == self.current_device() and name != "cuda":
            # already chosen, maybe as several GPUs or CPU processes: keep that
            self._wanted = str(self.device_combo.currentData() or "cpu")
            return
        self._wanted = name
        index = self.device_combo.findData(name)
        if index >= 0 and self._model.item(index).isEnabled():
            self.device_combo.setCurrentIndex(index)

    def set_selection(self, selection: DeviceSelection) -> None:
        """Show a remembered selection (several GPUs are checked once they are listed)."""
        if selection.visible_gpus:
            self._wanted_gpus = set(selection.visible_gpus)
            self._apply_gpu_checks()
            self.select(MULTI_GPU)
            return
        if selection.device == "cpu":
            self.processes.setValue(selection.nproc)
        self.select(selection.device)

    # -- listing -----------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """List the devices again, on a worker thread (the first listing loads torch)."""
        if self._listing is not None:
            return
        self.refresh_devices_button.setEnabled(False)
        lister = DeviceLister()
        lister.sig_listed.connect(self.set_devices)
        self._listing = WorkerThread(
            lister, "device_lister_thread", self, entry=lister.run, quit_on=(lister.sig_listed,)
        )
        self._listing.sig_finished.connect(self._on_listed)
        self._listing.start()

    def is_listing(self) -> bool:
        """Whether a listing is running."""
        return self._listing is not None

    def shutdown(self) -> None:
        """Wait for a running listing to end (idempotent)."""
        if self._listing is not None:
            self._listing.shutdown()

    @Slot()
    def _on_listed(self) -> None:
        self._listing = None
        self.refresh_devices_button.setEnabled(True)

    @Slot(list)
    def set_devices(self, devices: list[dict[str, Any]]) -> None:
        wanted = self._wanted
        self.devices = devices
        gpus = [d for d in devices if _gpu_index(d["name"]) is not None]
        usable = [d for d in gpus if d["available"]]
        self.device_combo.blockSignals(True)
        self._model.clear()
        for d in devices:
            item = QStandardItem(device_text(d))
            item.setData(d["name"], Qt.ItemDataRole.UserRole)
            item.setEnabled(bool(d["available"]))
            item.setToolTip(d.get("reason") or d["label"])
            self._model.appendRow(item)
            if len(gpus) > 1 and d is gpus[-1]:
                self._model.appendRow(self._multi_item(len(usable)))
        self.device_combo.blockSignals(False)
        self._fill_gpu_list(gpus)
        self.select(wanted if self.device_combo.findData(wanted) >= 0 else "cpu")
        self._on_index()
        self.sig_listed.emit(devices)

    @staticmethod
    def _multi_item(usable: int) -> QStandardItem:
        item = QStandardItem("Several GPUs (one process each)")
        item.setData(MULTI_GPU, Qt.ItemDataRole.UserRole)
        item.setEnabled(usable > 1)
        item.setToolTip(
            _GPU_LIST_TIP
            if usable > 1
            else f"needs at least two usable GPUs; {usable} of them can be used"
        )
        return item

    def _fill_gpu_list(self, gpus: list[dict[str, Any]]) -> None:
        self.gpu_list.blockSignals(True)
        self.gpu_list.clear()
        for d in gpus:
            item = QListWidgetItem(gpu_text(d))
            item.setData(Qt.ItemDataRole.UserRole, _gpu_index(d["name"]))
            if d["available"]:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setToolTip(device_text(d))
            else:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip(f"cannot be used: {d.get('reason') or 'unavailable'}")
            item.setCheckState(Qt.CheckState.Unchecked)
            self.gpu_list.addItem(item)
        self.gpu_list.blockSignals(False)
        self._apply_gpu_checks()
        rows = min(max(len(gpus), 1), _MAX_GPU_ROWS)
        height = self.gpu_list.sizeHintForRow(0) if gpus else self.fontMetrics().height()
        self.gpu_list.setFixedHeight(rows * max(height, 1) + 2 * self.gpu_list.frameWidth() + 2)

    def _apply_gpu_checks(self) -> None:
        wanted = self._wanted_gpus
        self.gpu_list.blockSignals(True)
        for row in range(self.gpu_list.count()):
            item = self.gpu_list.item(row)
            usable = bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
            index = int(item.data(Qt.ItemDataRole.UserRole))
            on = usable and (wanted is None or index in wanted)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.gpu_list.blockSignals(False)

    # -- slots -------------------------------------------------------------------------
    @Slot()
    def _on_index(self) -> None:
        data = str(self.device_combo.currentData() or "cpu")
        self._wanted = data
        cpu = data == "cpu"
        self.processes.setVisible(cpu)
        self.processes_label.setVisible(cpu)
        self.gpu_list.setVisible(data == MULTI_GPU)
        self._emit()

    @Slot(int)
    def _on_processes(self, value: int) -> None:
        self.processes_label.setText("process" if value == 1 else "processes")
        self._emit()

    @Slot(QListWidgetItem)
    def _on_gpu_checked(self, _item: QListWidgetItem) -> None:
        self._wanted_gpus = set(self.checked_gpus())
        self._emit()

    def _emit(self) -> None:
        self.sig_device_changed.emit(self.current_device())
