"""Small constructors for the Setup page's fields: spin boxes, drop-downs, titled forms."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QSpinBox, QWidget


def spin(low: int, high: int, value: int, tip: str, step: int = 1) -> QSpinBox:
    """An integer field with thousands separators and accelerated stepping."""
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def form(title: str, *rows: tuple[str, QWidget]) -> QGroupBox:
    """A titled group of labelled rows."""
    box = QGroupBox(title)
    form = QFormLayout(box)
    for label, widget in rows:
        form.addRow(label, widget)
    return box


def combo(items: list[str], tip: str) -> QComboBox:
    """A drop-down of ``items``."""
    box = QComboBox()
    box.addItems(items)
    box.setToolTip(tip)
    return box
