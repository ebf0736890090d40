"""The "Character n-grams" setting: shortest and longest n-gram length, fastText's -minn/-maxn."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["CharNgramRange"]

MAX_N = 12  # the config's limit
_MIN_TIP = (
    "Shortest character n-gram of each word (with < and > marking its edges), hashed into "
    "extra table rows: a word outside the vocabulary still gets a vector from its n-grams, "
    "and misspellings and word endings carry meaning. off = none; fastText uses 3 to 6. "
    "Words tokenizer only (BPE pieces are subwords already)."
)
_MAX_TIP = "Longest character n-gram of each word (edge markers < and > included)."
_AUTO_TIP = (
    "Let the recipe choose when training starts: 2 to 5 for short documents (median up to 32 "
    "tokens), 1 to 3 for text in scripts without spaces (Chinese, Japanese, Thai...), none "
    "otherwise. The run's config records the choice."
)


class CharNgramRange(QWidget):
    """An "auto" box, then two spin boxes, min and max n-gram length; min at 0 ("off") turns
    n-grams off. While "auto" is ticked the lengths are the recipe's to choose.

    The two never cross: raising the minimum past the maximum raises the maximum, and the
    other way round, so every value the widget shows is one the config accepts.
    """

    sig_changed = Signal()
    """Either length changed (``value()`` is the new setting)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.auto = QCheckBox("auto")
        self.auto.setToolTip(_AUTO_TIP)
        self.minn = QSpinBox()
        self.minn.setRange(0, MAX_N)
        self.minn.setSpecialValueText("off")
        self.minn.setToolTip(_MIN_TIP)
        self.maxn = QSpinBox()
        self.maxn.setRange(1, MAX_N)
        self.maxn.setValue(6)
        self.maxn.setToolTip(_MAX_TIP)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.auto)
        layout.addWidget(self.minn)
        layout.addWidget(QLabel("to"))
        layout.addWidget(self.maxn)
        layout.addStretch(1)
        self.minn.valueChanged.connect(self._min_changed)
        self.maxn.valueChanged.connect(self._max_changed)
        self.auto.toggled.connect(self._auto_toggled)
        name_after_attributes(self)
        self._sync()

    def value(self) -> tuple[int, int] | str:
        """``"auto"``, ``(minn, maxn)``, or ``(0, 0)`` when off (``tokenizer.char_ngrams``)."""
        if self.auto.isChecked():
            return "auto"
        minn = self.minn.value()
        return (0, 0) if minn == 0 else (minn, self.maxn.value())

    def set_value(self, value: tuple[int, int] | str) -> None:
        """Show a config's ``tokenizer.char_ngrams`` (off keeps the maximum shown)."""
        self.auto.setChecked(value == "auto")
        if not isinstance(value, str):
            minn, maxn = value
            if maxn:
                self.maxn.setValue(maxn)
            self.minn.setValue(minn)
        self._sync()

    @Slot(bool)
    def _auto_toggled(self, _: bool) -> None:
        self._sync()
        self.sig_changed.emit()

    @Slot(int)
    def _min_changed(self, minn: int) -> None:
        if minn and self.maxn.value() < minn:
            self.maxn.setValue(minn)  # emits through _max_changed
        self._sync()
        self.sig_changed.emit()

    @Slot(int)
    def _max_changed(self, maxn: int) -> None:
        if self.minn.value() > maxn:
            self.minn.setValue(maxn)
        self.sig_changed.emit()

    def _sync(self) -> None:
        manual = not self.auto.isChecked()
        self.minn.setEnabled(manual)
        self.maxn.setEnabled(manual and self.minn.value() > 0)
