"""The engine on a CUDA device: training, AMP, the fused table update, the batch finder and a
CUDA-trained run used on CPU. Marked ``gpu``: skipped without CUDA (scripts/gpu_check.sh)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.data.prepare import prepare_dataset
from studio.engine.train.batch_finder import find_batch_size
from studio.engine.train.loop import fit
from studio.engine.train.session import train_run
from studio.engine.train.table_optim import RowwiseAdagrad

pytestmark = pytest.mark.gpu


def _config(path: Path, device: str, **device_keys: object) -> StudioConfig:
    return StudioConfig(data=DataConfig(path=str(path))).with_overrides(
        tokenizer={"vocab_size": 2000, "ngram_buckets": 20_000},
        train={"epochs": 4, "batch_size": 64},
        device={"device": device, **device_keys},
    )


def test_cuda_trains_as_well_as_the_cpu(topics_csv: Path) -> None:
    cpu = fit(_config(topics_csv, "cpu", workers=1))
    gpu = fit(_config(topics_csv, "cuda"))
    assert gpu.status == "finished"
    assert gpu.history[-1].val_loss < gpu.history[0].val_loss
    assert gpu.val_accuracy >= cpu.val_accuracy - 0.03


@pytest.mark.parametrize("amp", [True, False])
def test_amp_on_and_off_both_train(topics_csv: Path, amp: bool) -> None:
    result = fit(_config(topics_csv, "cuda", amp=amp))
    assert all(np.isfinite(e.val_loss) for e in result.history)
    assert result.val_accuracy > 0.8


def test_fused_update_on_cuda_equals_the_cpu_one() -> None:
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(500, 32, generator=g)
    ids = torch.randint(2, 500, (4000,), generator=g)
    offsets = torch.arange(0, 4000, 50)
    grad = torch.randn(len(offsets), 32, generator=g)
    on_cpu = RowwiseAdagrad(weight.clone(), 0.5, "mean")
    on_gpu = RowwiseAdagrad(weight.cuda(), 0.5, "mean")
    for _ in range(3):
        on_cpu.apply(ids, offsets, grad)
        on_gpu.apply(ids.cuda(), offsets.cuda(), grad.cuda())
    torch.testing.assert_close(on_gpu.weight.cpu(), on_cpu.weight, rtol=1e-4, atol=1e-5)
    pooled = on_gpu.pooled(ids.cuda(), offsets.cuda())
    torch.testing.assert_close(
        pooled.cpu(), on_cpu.pooled(ids, offsets).detach(), rtol=1e-4, atol=1e-5
    )


def test_the_batch_finder_finds_a_power_of_two_on_cuda(topics_csv: Path, tmp_path: Path) -> None:
    config = _config(topics_csv, "cuda")
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    size = find_batch_size(config, p)
    assert size >= 64 and size & (size - 1) == 0
    assert size <= 2 * len(p.train_idx)


def test_a_cuda_run_predicts_on_cpu(topics_csv: Path, tmp_path: Path) -> None:
    run = train_run(_config(topics_csv, "cuda"), runs_dir=tmp_path / "runs").run_dir
    assert run is not None
    loaded = load_run(run)  # a run's files hold CPU tensors, wherever it trained
    probs = loaded.predict_proba(["ball goal team win", "cook bread soup"])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert [loaded.labels[i] for i in probs.argmax(axis=1)] == ["sport", "food"]
