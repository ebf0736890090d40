"""A play button and a slider over epochs: ``sig_frame(i)`` when the shown epoch changes."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from studio.ui.widgets.naming import name_after_attributes

__all__ = ["EpochPlayer"]


class EpochPlayer(QWidget):
    """Steps through frames (one per epoch) on its own timer, or where the slider is put."""

    sig_frame = Signal(int)
    """The index of the frame to show."""

    def __init__(self, parent: QWidget | None = None, interval_ms: int = 700) -> None:
        super().__init__(parent)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the epochs in order (Space while the slider has focus)")
        self.play_button.toggled.connect(self._on_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("The epoch shown: drag, or use the arrow keys")
        self.slider.valueChanged.connect(self._on_slider)
        self.label = QLabel()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._advance)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self._epochs: list[int] = []
        name_after_attributes(self)
        self.set_epochs([])

    def set_epochs(self, epochs: Sequence[int]) -> None:
        """Frames for these epochs; shows the last one."""
        self.play_button.setChecked(False)
        self._epochs = list(epochs)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self._epochs) - 1))
        self.slider.setValue(max(0, len(self._epochs) - 1))
        self.slider.blockSignals(False)
        self.setEnabled(len(self._epochs) > 1)
        self._show_label()

    def frame(self) -> int:
        """The index of the frame shown."""
        return self.slider.value()

    @Slot(bool)
    def _on_play(self, playing: bool) -> None:
        if playing:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(0)
            self.timer.start()
            self.play_button.setText("Pause")
        else:
            self.timer.stop()
            self.play_button.setText("Play")

    @Slot()
    def _advance(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.play_button.setChecked(False)
            return
        self.slider.setValue(self.slider.value() + 1)

    @Slot(int)
    def _on_slider(self, index: int) -> None:
        self._show_label()
        self.sig_frame.emit(index)

    def _show_label(self) -> None:
        if self._epochs:
            self.label.setText(f"epoch {self._epochs[self.slider.value()]} of {self._epochs[-1]}")
        else:
            self.label.setText("no epochs")
