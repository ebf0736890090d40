"""The Setup page: the run's settings, validated live, with a size and memory estimate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.config import (
    SEED_PRESET,
    ClassWeights,
    DataConfig,
    StudioConfig,
    config_from_dict,
    config_to_dict,
    dumps_config,
    load_config,
    save_config,
)
from studio.errors import ConfigError, StudioError
from studio.presets import matching_preset
from studio.ui.widgets.char_ngrams import CharNgramRange
from studio.ui.widgets.device_picker import DevicePicker
from studio.ui.widgets.form_fields import combo as _combo
from studio.ui.widgets.form_fields import form as _form
from studio.ui.widgets.form_fields import spin as _spin
from studio.ui.widgets.memory_estimate import estimate, estimate_text
from studio.ui.widgets.naming import name_after_attributes
from studio.ui.widgets.setup_tips import (
    CLASS_WEIGHTS_TIP,
    HIDDEN_TIP,
    MODEL_KIND_TIP,
    POOLING_TIP,
    WEIGHTING_TIP,
)
from studio.ui.workers.device_selection import DeviceSelection

__all__ = ["SetupPage", "estimate"]  # estimate: re-exported from widgets.memory_estimate

_CUSTOM = "custom"


class SetupPage(QWidget):
    """Spin boxes and pickers for every setting; ``config()`` is the validated result."""

    sig_devices_listed = Signal(list)
    """The device picker listed the devices (dicts of ``DeviceInfo``)."""
    sig_validity = Signal(bool)
    """True when the settings make a valid config."""
    sig_vocab_size = Signal(int)
    """The vocabulary size the user is setting (the dataset page moves its OOV marker)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = DataConfig()
        self._base = StudioConfig()  # the last config shown: keeps the keys no field shows
        self._n_labels = 2
        self._vocab_found: int | None = None
        self._text_shape: tuple[float, float] | None = None  # median tokens, spaceless share
        self._valid = True
        self._applying = False
        defaults = StudioConfig()
        self._build_model_fields(defaults)
        self._build_training_fields(defaults)
        self._build_messages()
        self._build_layout()
        self._connect_fields()
        name_after_attributes(self)
        self._changed()

    # -- construction ------------------------------------------------------------------
    def _build_model_fields(self, d: StudioConfig) -> None:
        """The table's and the model's sizes, and the device."""
        self.vocab_size = _spin(
            0, 5_000_000, d.tokenizer.vocab_size,
            "Most frequent training tokens kept; the rest become <unk>.", 1000,
        )  # fmt: skip
        self.embed_dim = _spin(
            0, 100_000, d.model.embed_dim, "Length of each token's learned vector.", 16
        )
        self.batch_size = _spin(
            0, 1_048_576, d.train.batch_size,
            "Documents per optimisation step. By data (0): 64 to 256, larger steps for "
            "short documents on large datasets.", 16,
        )  # fmt: skip
        self.batch_size.setSpecialValueText("by data")
        self.hidden_layers = QLineEdit()
        self.hidden_layers.setPlaceholderText("none")
        self.hidden_layers.setToolTip(HIDDEN_TIP)
        self.ngram_buckets = _spin(
            0, 50_000_000, d.tokenizer.ngram_buckets,
            "Extra table rows for hashed word bigrams (0 = off).", 10_000,
        )  # fmt: skip
        self.tokenizer = _combo(
            ["words", "bpe"], "words: lower-cased words and punctuation; bpe: subwords, no OOV."
        )
        self.char_ngrams = CharNgramRange()
        self.char_ngrams.set_value(d.tokenizer.char_ngrams)
        self.char_buckets = _spin(
            1, 50_000_000, d.tokenizer.char_buckets,
            "Extra table rows for hashed character n-grams (when they are on).", 10_000,
        )  # fmt: skip
        self.pooling = _combo(["mean", "sum", "sqrtn", "max"], POOLING_TIP)
        self.model_kind = _combo(["auto", "embedding", "linear"], MODEL_KIND_TIP)
        self.weighting = _combo(["none", "idf"], WEIGHTING_TIP)
        self.devices = DevicePicker()
        self.devices.sig_listed.connect(self.sig_devices_listed)

    def _build_training_fields(self, d: StudioConfig) -> None:
        """Preset, epochs, learning rate, optimiser, schedule, seed and validation split."""
        self.epochs = _spin(0, 10_000, d.train.epochs, "Passes over the training split.")
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.0, 100.0)
        self.learning_rate.setSingleStep(0.001)
        self.learning_rate.setValue(d.train.lr)
        self.learning_rate.setToolTip(
            "Step size of the optimiser (decays to 0 with the linear schedule)."
        )
        self.optimizer = _combo(
            ["adamw", "adam", "sgd"],
            "AdamW/Adam use SparseAdam for the table; SGD uses sparse gradients.",
        )
        self.schedule = _combo(
            ["linear", "cosine", "constant"], "How the learning rate changes over the run."
        )
        self.preset = _combo(
            ["default", "seed", "custom"],
            "seed = the original Keras model (10000×128, Dense 128, batch 32).",
        )
        self.seed = _spin(0, 2**31 - 1, d.train.seed, "Random seed (split, init, order).")
        self.class_weights = _combo(["none", "balanced"], CLASS_WEIGHTS_TIP)
        self._custom_weights: tuple[tuple[str, float], ...] = ()  # the "custom" item's table
        self.valid_split = QDoubleSpinBox()
        self.valid_split.setRange(0.0, 0.5)
        self.valid_split.setSingleStep(0.05)
        self.valid_split.setValue(d.data.valid_fraction)
        self.valid_split.setToolTip("Share of the data held out for validation (stratified).")

    def _build_messages(self) -> None:
        """The error line, the size estimate, and the save / load buttons."""
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: palette(highlight); font-weight: bold;")
        self.error_label.hide()
        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.save_button = QPushButton("Save setup…")
        self.load_button = QPushButton("Load setup…")
        self.save_button.clicked.connect(self.save_dialog)
        self.load_button.clicked.connect(self.load_dialog)

    def _build_layout(self) -> None:
        """Three columns of groups sized to their fields, the device and estimate under the
        first two, the file buttons last: no column runs half empty at 1280 px."""
        embedding = _form(
            "Embedding",
            ("Model", self.model_kind),
            ("Vocabulary size", self.vocab_size),
            ("Embedding dimension", self.embed_dim),
            ("Hidden layers", self.hidden_layers),
            ("Pooling", self.pooling),
            ("Weighting", self.weighting),
        )
        tokens = _form(
            "Tokens",
            ("Tokenizer", self.tokenizer),
            ("Bigram buckets", self.ngram_buckets),
            ("Character n-grams", self.char_ngrams),
            ("Char n-gram buckets", self.char_buckets),
        )
        training = _form(
            "Training",
            ("Preset", self.preset),
            ("Epochs", self.epochs),
            ("Batch size", self.batch_size),
            ("Learning rate", self.learning_rate),
            ("Optimiser", self.optimizer),
            ("Schedule", self.schedule),
            ("Class weights", self.class_weights),
            ("Seed", self.seed),
            ("Validation split", self.valid_split),
        )
        device = _form("Device", ("Device", self.devices))
        form = device.layout()
        assert isinstance(form, QFormLayout)
        form.addRow(self.estimate_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(embedding, 0, 0)
        grid.addWidget(tokens, 0, 1)
        grid.addWidget(training, 0, 2, 2, 1)
        grid.addWidget(device, 1, 0, 1, 2)
        grid.addWidget(self.error_label, 2, 0, 1, 3)
        grid.addLayout(buttons, 3, 0, 1, 3)
        for column in range(3):
            grid.setColumnStretch(column, 1)
        for box in (embedding, tokens, training, device):
            box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            grid.setAlignment(box, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addStretch(1)

    def _connect_fields(self) -> None:
        """Every field re-validates (and the preset label follows the values)."""
        for box in (
            self.vocab_size,
            self.embed_dim,
            self.batch_size,
            self.epochs,
            self.ngram_buckets,
            self.char_buckets,
            self.seed,
        ):
            box.valueChanged.connect(self._changed)
        for dbox in (self.learning_rate, self.valid_split):
            dbox.valueChanged.connect(self._changed)
        for combo in (
            self.optimizer, self.schedule, self.tokenizer, self.class_weights, self.pooling,
            self.weighting, self.model_kind,
        ):  # fmt: skip
            combo.currentIndexChanged.connect(self._changed)
        self.char_ngrams.sig_changed.connect(self._changed)
        self.hidden_layers.textChanged.connect(self._changed)
        self.preset.currentTextChanged.connect(self._preset_chosen)
        self.devices.sig_device_changed.connect(self._changed)

    # -- public ------------------------------------------------------------------------
    def is_valid(self) -> bool:
        """Whether the settings make a valid config."""
        return self._valid

    def device_selection(self) -> DeviceSelection:
        """The device (or devices) the run would train on."""
        return self.devices.selection()

    def set_device_selection(self, selection: DeviceSelection) -> None:
        """Pick a saved device selection again (when those devices still exist)."""
        self.devices.set_selection(selection)

    @Slot()
    def refresh_devices(self) -> None:
        """List the devices again, off the GUI thread."""
        self.devices.refresh()

    def ensure_epochs(self, n: int) -> None:
        """Train for at least ``n`` epochs (more when the setting already asks for more)."""
        self.epochs.setValue(max(self.epochs.value(), n))

    @Slot()
    def shutdown(self) -> None:
        """Stop the device listing thread (the main window's shutdown calls it)."""
        self.devices.shutdown()

    def config(self) -> StudioConfig:
        """The validated config (raises ConfigError when the settings are invalid)."""
        problem = self.devices.problem()
        if problem:
            raise ConfigError("device.device", problem)
        hidden_text = self.hidden_layers.text().strip()
        try:
            hidden = tuple(int(w) for w in hidden_text.replace(" ", "").split(",") if w)
        except ValueError:
            raise ConfigError(
                "model.hidden", f"expected widths like 128,64; got {hidden_text!r}"
            ) from None
        data = {
            **config_to_dict(StudioConfig(data=self._data))["data"],
            "valid_fraction": self.valid_split.value(),
        }
        return config_from_dict(
            _over(self._base, {
                "data": data,
                "tokenizer": {"kind": self.tokenizer.currentText(),
                              "vocab_size": self.vocab_size.value(),
                              "ngram_buckets": self.ngram_buckets.value(),
                              "char_ngrams": self._char_ngrams_value(),
                              "char_buckets": self.char_buckets.value()},
                "model": {"preset": self.preset.currentText(),
                          "kind": self.model_kind.currentText(),
                          "embed_dim": self.embed_dim.value(),
                          "hidden": list(hidden), "pooling": self.pooling.currentText(),
                          "weighting": self._weighting_value()},
                "train": {"epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
                          "lr": self.learning_rate.value(),
                          "optimizer": self.optimizer.currentText(),
                          "schedule": self.schedule.currentText(), "seed": self.seed.value(),
                          "class_weights": self._class_weights_value()},
                "device": {"device": self.devices.current_device()},
            })
        )  # fmt: skip

    def set_data(
        self,
        values: dict[str, Any],
        n_labels: int = 2,
        vocab_found: int | None = None,
        text_shape: tuple[float, float] | None = None,
    ) -> None:
        """The dataset part of the config, from the dataset page; ``text_shape`` (median tokens
        per document, share in spaceless scripts) sizes what "auto" n-grams add."""
        self._data = DataConfig(**{k: v for k, v in values.items() if v is not None})
        self._n_labels, self._vocab_found, self._text_shape = n_labels, vocab_found, text_shape
        self._changed()

    def apply_config(self, config: StudioConfig) -> None:
        """Show a config's values (from a TOML file or the last session). The keys the page
        has no field for (a tuned ``train.table_lr``, ``model.linear_c``, ...) are kept."""
        self._base = config
        self._applying = True
        try:
            self.vocab_size.setValue(config.tokenizer.vocab_size)
            self.ngram_buckets.setValue(config.tokenizer.ngram_buckets)
            self.tokenizer.setCurrentText(config.tokenizer.kind)
            self.char_ngrams.set_value(config.tokenizer.char_ngrams)
            self.char_buckets.setValue(config.tokenizer.char_buckets)
            self.pooling.setCurrentText(config.model.pooling)
            self.model_kind.setCurrentText(config.model.kind)
            self.weighting.setCurrentText(config.model.weighting)
            self.embed_dim.setValue(config.model.embed_dim)
            self.hidden_layers.setText(",".join(str(h) for h in config.model.hidden))
            self.preset.setCurrentText(config.model.preset)
            self.epochs.setValue(config.train.epochs)
            self.batch_size.setValue(config.train.batch_size)
            self.learning_rate.setValue(config.train.lr)
            self.optimizer.setCurrentText(config.train.optimizer)
            self.schedule.setCurrentText(config.train.schedule)
            self.seed.setValue(config.train.seed)
            self._show_class_weights(config.train.class_weights)
            self.valid_split.setValue(config.data.valid_fraction)
            self.devices.select(config.device.device)
        finally:
            self._applying = False
        self._changed()

    def _char_ngrams_value(self) -> list[int] | str:
        """The n-gram range, off while the tokenizer is BPE (its pieces are subwords)."""
        value = self.char_ngrams.value()
        if isinstance(value, str):
            return value  # "auto" gives BPE none by itself
        return list(value) if self.tokenizer.currentText() == "words" else [0, 0]

    def _weighting_value(self) -> str:
        """The weighting, "none" while pooling is max (it has no weights)."""
        return "none" if self.pooling.currentText() == "max" else self.weighting.currentText()

    def _sync_enabled(self) -> None:
        """Grey out the settings the rest rules out: n-grams for BPE, weights for max."""
        words = self.tokenizer.currentText() == "words"
        self.char_ngrams.setEnabled(words)
        self.char_buckets.setEnabled(words)
        self.weighting.setEnabled(self.pooling.currentText() != "max")

    def _class_weights_value(self) -> ClassWeights:
        """The combo's setting; "custom" is the loaded table, shown but not edited here."""
        name = self.class_weights.currentText()
        return self._custom_weights if name == _CUSTOM and self._custom_weights else name

    def _show_class_weights(self, value: ClassWeights) -> None:
        """Select a mode, or a read-only "custom" item holding a loaded table."""
        box, at = self.class_weights, self.class_weights.findText(_CUSTOM)
        if isinstance(value, str):
            if at >= 0:
                box.removeItem(at)
            self._custom_weights = ()
            box.setCurrentText(value)
            return
        self._custom_weights = value
        if at < 0:
            box.addItem(_CUSTOM)
            at = box.count() - 1
        table = ", ".join(f"{label} = {weight:g}" for label, weight in value)
        box.setItemData(at, f"from the loaded setup file: {table}", Qt.ItemDataRole.ToolTipRole)
        box.setCurrentIndex(at)

    def config_text(self) -> str:
        """The current settings as TOML, or '' when invalid (for QSettings)."""
        try:
            return dumps_config(self.config())
        except ConfigError:
            return ""

    # -- slots -------------------------------------------------------------------------
    @Slot()
    def _changed(self) -> None:
        if self._applying:
            return
        self._sync_enabled()
        try:
            config = self.config()
        except StudioError as exc:
            self._set_valid(False, str(exc))
            return
        preset = matching_preset(config)  # the preset the values are, whatever was picked
        if preset != self.preset.currentText():
            self.preset.blockSignals(True)
            self.preset.setCurrentText(preset)
            self.preset.blockSignals(False)
            config = config.with_overrides(model={"preset": preset})
        self._set_valid(True, "")
        self._show_estimate(config)
        self.sig_vocab_size.emit(config.tokenizer.vocab_size)

    @Slot(str)
    def _preset_chosen(self, name: str) -> None:
        if name == "custom":  # a label, not a setting: it reads what the values are
            self._changed()
            return
        base = StudioConfig()
        if name == "seed":
            base = base.with_overrides(**SEED_PRESET)
        self.apply_config(base.with_overrides(
            device={"device": self.devices.current_device()},
            data={"valid_fraction": self.valid_split.value()},
            train={"seed": self.seed.value(), "class_weights": self._class_weights_value()},
        ))  # fmt: skip

    def _set_valid(self, valid: bool, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        if valid != self._valid:
            self._valid = valid
        self.sig_validity.emit(valid)

    def _show_estimate(self, config: StudioConfig) -> None:
        selection = self.devices.selection()
        e = estimate(
            config,
            self._n_labels,
            self._vocab_found,
            distributed=selection.distributed,
            text_shape=self._text_shape,
        )
        self.estimate_label.setText(estimate_text(e, self.devices.current_info(), selection))

    @Slot()
    def save_dialog(self) -> None:
        """Ask for a file name and save the setup there as TOML (the CLI reads it)."""
        path, _ = QFileDialog.getSaveFileName(self, "Save setup", "setup.toml", "TOML (*.toml)")
        if path:
            try:
                save_config(self.config(), path)
            except (StudioError, OSError) as exc:
                self._set_valid(self._valid, f"cannot save: {exc}")

    @Slot()
    def load_dialog(self) -> None:
        """Ask for a setup TOML file and show its settings."""
        path, _ = QFileDialog.getOpenFileName(self, "Load setup", "", "TOML (*.toml)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> None:
        """Show the settings of the setup TOML file at ``path`` (errors show inline)."""
        try:
            config = load_config(path)
        except StudioError as exc:
            self._set_valid(False, str(exc))
            return
        self.apply_config(config)


def _over(base: StudioConfig, fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``base`` as a dict with the page's ``fields`` over it (its data section whole)."""
    out = config_to_dict(base)
    return {"data": fields["data"]} | {
        name: out[name] | fields.get(name, {}) for name in out if name != "data"
    }
