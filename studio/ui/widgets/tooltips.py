"""Every number a person can set says its range: appended to its tooltip in one place."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget

__all__ = ["add_range_tips", "range_text"]


def range_text(box: QSpinBox | QDoubleSpinBox) -> str:
    """``"range 0 to 5,000,000; 0 = by data"`` (the special text names the minimum)."""
    if isinstance(box, QDoubleSpinBox):
        low, high = f"{box.minimum():g}", f"{box.maximum():g}"
    else:
        low, high = f"{box.minimum():,}", f"{box.maximum():,}"
    special = f"; {low} = {box.specialValueText()}" if box.specialValueText() else ""
    return f"range {low} to {high}{special}"


def add_range_tips(root: QWidget) -> None:
    """Append each spin box's range to its tooltip (once; boxes that state it are kept)."""
    for box in root.findChildren(QSpinBox) + root.findChildren(QDoubleSpinBox):
        text = range_text(box)
        tip = box.toolTip()
        if text not in tip and " to " not in tip.split(".")[0]:
            box.setToolTip(f"{tip} ({text})" if tip else text.capitalize())
