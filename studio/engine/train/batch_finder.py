"""Find the largest batch that fits: double until out of memory, then back off."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from studio.config import StudioConfig
from studio.engine.data.prepare import PreparedDataset
from studio.engine.train.batching import DeviceData
from studio.engine.train.build import build_encoder, build_spec, encoded_split
from studio.engine.train.devices import resolve_device
from studio.engine.train.losses import batch_loss, loss_function
from studio.engine.train.model import TextClassifier
from studio.engine.train.oom import is_oom


def find_batch_size(
    config: StudioConfig,
    prepared: PreparedDataset,
    start: int = 64,
    limit: int = 1 << 20,
    try_step: Callable[[int], None] | None = None,
) -> int:
    """The largest power-of-two batch (from ``start``) whose step runs without OOM.

    Each candidate runs one forward/backward on the *longest* training documents, the
    worst case for memory. ``try_step`` replaces that step (tests inject OOM with it).
    Never returns more than the training split holds.
    """
    most = min(limit, 1 << math.ceil(math.log2(max(len(prepared.train_idx), 1))))
    step = try_step or _real_step(config, prepared)
    best = 0
    size = max(1, start)
    while size <= most:
        try:
            step(size)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as exc:
            if not is_oom(exc):
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            break
        best = size
        size *= 2
    if best == 0:
        raise RuntimeError(f"even a batch of {start} documents does not fit on the device")
    return best


def _real_step(config: StudioConfig, p: PreparedDataset) -> Callable[[int], None]:
    device = resolve_device(config.device.device)
    encoder = build_encoder(p, config)
    spec = build_spec(config, encoder, p)
    model = TextClassifier(spec).to(device)
    fn = loss_function(spec)
    lengths = np.diff(p.offsets)[p.train_idx]
    longest = np.asarray(p.train_idx)[np.argsort(-lengths, kind="stable")]

    def step(size: int) -> None:
        docs = np.sort(longest[:size])
        data = DeviceData(*encoded_split(p, encoder, docs), device=device)
        for b in data.batches(size):
            model.zero_grad(set_to_none=True)
            batch_loss(spec, fn, model(b.ids, b.offsets).float(), b.targets).backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return step
