"""The batch-size finder doubles until out of memory and backs off (OOM injected on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine.data.prepare import prepare_dataset
from studio.engine.train.batch_finder import find_batch_size


@pytest.fixture
def prepared(topics_csv: Path):  # type: ignore[no-untyped-def]
    config = StudioConfig(data=DataConfig(path=str(topics_csv)))
    return config, prepare_dataset(config.data, config.tokenizer)


def test_backs_off_to_the_last_size_that_fit(prepared) -> None:  # type: ignore[no-untyped-def]
    config, p = prepared
    tried: list[int] = []

    def step(size: int) -> None:
        tried.append(size)
        if size > 256:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    assert find_batch_size(config, p, start=32, try_step=step) == 256
    assert tried == [32, 64, 128, 256, 512]


def test_other_errors_are_not_mistaken_for_oom(prepared) -> None:  # type: ignore[no-untyped-def]
    config, p = prepared

    def step(size: int) -> None:
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        find_batch_size(config, p, try_step=step)


def test_real_steps_on_cpu_stop_at_the_split_size(prepared) -> None:  # type: ignore[no-untyped-def]
    config, p = prepared
    size = find_batch_size(config, p, start=64)
    assert 64 <= size <= 1024 and size >= len(p.train_idx) / 2
