"""What callbacks can see of a training run in progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.config import StudioConfig
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.train.model import ModelSpec, TextClassifier

if TYPE_CHECKING:
    from studio.engine.data.prepare import PreparedDataset


@dataclass
class FitContext:
    """Shared by the trainer and its callbacks; ``should_stop`` ends training cooperatively."""

    config: StudioConfig
    model: TextClassifier
    spec: ModelSpec
    encoder: TextEncoder
    label_names: tuple[str, ...]
    multi_label: bool
    device: torch.device
    should_stop: bool = False
    stop_reason: str = ""
    run_dir: str | None = None
    prepared: PreparedDataset | None = None
    valid_docs: np.ndarray | None = None  # document indices of the validation split
    val_probs: np.ndarray | None = None  # [n_valid, n_labels] after the latest epoch

    def cpu_state(self, copy: bool = True) -> dict[str, torch.Tensor]:
        """The model weights on the CPU, detached: a copy, or (``copy=False``) the live
        tensors where they are on the CPU already."""
        return {
            # a torch.compile'd module names its weights "_orig_mod.*": save plain names
            k.replace("_orig_mod.", ""): v.detach().to("cpu", copy=copy)
            for k, v in self.model.state_dict().items()
        }
