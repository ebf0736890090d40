"""``train.class_weights``: the weights the training loss gets, and that it gets them."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn

from studio.config import DataConfig, StudioConfig
from studio.engine import fit, prepare_dataset
from studio.engine.data.prepare import PreparedDataset
from studio.engine.train.batching import DeviceData
from studio.engine.train.losses import batch_loss, class_weights, loss_function, part_loss
from studio.engine.train.model import ModelSpec
from studio.errors import ConfigError

SOFTMAX = ModelSpec(num_embeddings=10, embed_dim=4, num_outputs=3)
MULTI = ModelSpec(num_embeddings=10, embed_dim=4, num_outputs=3, sigmoid=True)
BINARY = ModelSpec(num_embeddings=10, embed_dim=4, num_outputs=1, sigmoid=True)


def _skewed_csv(path: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """Single-label rows, ``counts[label]`` of each, with a few topic words per label."""
    rng = random.Random(seed)
    rows = [
        f"{label}word{rng.randint(0, 3)} filler{rng.randint(0, 9)} common,{label}"
        for label, n in counts.items()
        for _ in range(n)
    ]
    rng.shuffle(rows)
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _multi_csv(path: Path) -> Path:
    rows = (
        [("ball goal", "sport")] * 60
        + [("code chip", "tech")] * 25
        + [("ball chip goal code", "sport|tech")] * 10
        + [("bread soup", "food")] * 5
    )
    random.Random(1).shuffle(rows)
    path.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), encoding="utf-8")
    return path


def _config(path: Path, class_weights: object, **data: object) -> StudioConfig:
    return StudioConfig(data=DataConfig(path=str(path), **data)).with_overrides(  # type: ignore[arg-type]
        train={"epochs": 1, "batch_size": 16, "class_weights": class_weights}
    )


class _LossSpy:
    """Records the weight / pos_weight of every loss module call (training and validation)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.weights: list[torch.Tensor | None] = []
        for cls, attr in ((nn.CrossEntropyLoss, "weight"), (nn.BCEWithLogitsLoss, "pos_weight")):
            original = cls.forward

            def spy(self_: nn.Module, *args: torch.Tensor, _o=original, _a=attr) -> torch.Tensor:  # type: ignore[no-untyped-def]
                w = getattr(self_, _a)
                self.weights.append(None if w is None else w.detach().clone())
                return _o(self_, *args)

            monkeypatch.setattr(cls, "forward", spy)

    def weighted(self) -> list[torch.Tensor]:
        return [w for w in self.weights if w is not None]


def _train_targets(p: PreparedDataset) -> np.ndarray:
    return np.asarray(p.targets[p.train_idx])


# -- what the weights are ------------------------------------------------------------------


def test_balanced_equals_scikit_learn_on_the_training_labels() -> None:
    y = np.array([0] * 50 + [1] * 7 + [2] * 3)
    got = class_weights("balanced", SOFTMAX, ("a", "b", "c"), torch.from_numpy(y))
    want = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert got is not None and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_a_mapping_weighs_the_named_labels_and_one_for_the_rest() -> None:
    y = torch.tensor([0, 1, 2, 2])
    got = class_weights((("c", 4.0), ("a", 0.5)), SOFTMAX, ("a", "b", "c"), y)
    assert got is not None and got.tolist() == [0.5, 1.0, 4.0]


def test_multi_label_balanced_is_negatives_over_positives() -> None:
    y = torch.tensor([[1, 0, 1], [1, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=torch.uint8)
    got = class_weights("balanced", MULTI, ("a", "b", "c"), y)
    assert got is not None
    np.testing.assert_allclose(got.numpy(), [1 / 3, 3.0, 3.0], rtol=1e-6)
    named = class_weights((("b", 2.5),), MULTI, ("a", "b", "c"), y)
    assert named is not None and named.tolist() == [1.0, 2.5, 1.0]


def test_binary_single_output_gets_the_positive_class_pos_weight() -> None:
    y = torch.tensor([0] * 9 + [1] * 3)
    got = class_weights("balanced", BINARY, ("neg", "pos"), y)
    assert got is not None and got.shape == (1,)
    assert got.item() == pytest.approx(3.0)  # negatives / positives
    named = class_weights((("pos", 6.0), ("neg", 2.0)), BINARY, ("neg", "pos"), y)
    assert named is not None and named.item() == pytest.approx(3.0)  # w_pos / w_neg


def test_none_gives_no_weights_and_weights_sit_on_the_targets_device() -> None:
    y = torch.tensor([0, 1, 1])
    assert class_weights("none", SOFTMAX, ("a", "b", "c"), y) is None
    got = class_weights("balanced", SOFTMAX, ("a", "b", "c"), y.to("cpu"))
    assert got is not None and got.device == y.device


def test_a_label_the_dataset_lacks_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="'nope' is not in the dataset") as err:
        class_weights((("nope", 2.0),), SOFTMAX, ("a", "b", "c"), torch.tensor([0, 1, 2]))
    assert err.value.field == "train.class_weights"


def test_weighted_part_losses_add_up_to_the_whole_batch_gradient() -> None:
    """Distributed: each rank's part of a class-weighted batch, DDP-averaged, is exact."""
    torch.manual_seed(0)
    n, world = 11, 2
    logits = torch.randn(n, 3, requires_grad=True)
    y = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 2])
    fn = loss_function(SOFTMAX, torch.tensor([0.5, 3.0, 7.0]))
    batch_loss(SOFTMAX, fn, logits, y).backward()
    assert logits.grad is not None
    whole = logits.grad.clone()
    logits.grad = None
    data = DeviceData(np.zeros(n, dtype=np.int32), np.arange(n + 1), y.numpy(), torch.device("cpu"))
    for rank in range(world):
        batch = next(data.batches(n, None, rank, world))
        a = sum(batch.part_counts[:rank])
        part = logits[a : a + len(batch.part_targets)]
        (part_loss(SOFTMAX, fn, part, batch, world) / world).backward()  # DDP's average
    torch.testing.assert_close(logits.grad, whole)


# -- that the loss gets them -----------------------------------------------------------------


@pytest.mark.parametrize("setting", ["balanced", (("rare", 5.0), ("mid", 2.0))])
def test_class_weights_reach_the_training_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: object
) -> None:
    path = _skewed_csv(tmp_path / "skewed.csv", {"big": 150, "mid": 40, "rare": 12})
    config = _config(path, setting)
    p = prepare_dataset(config.data, config.tokenizer)
    spy = _LossSpy(monkeypatch)
    fit(config, prepared=p)
    if setting == "balanced":
        y = _train_targets(p)
        want = compute_class_weight("balanced", classes=np.arange(len(p.label_names)), y=y)
    else:
        want = np.array([{"rare": 5.0, "mid": 2.0}.get(n, 1.0) for n in p.label_names])
    weighted = spy.weighted()
    assert weighted, "the training loss got no weights"
    for w in weighted:
        np.testing.assert_allclose(w.numpy(), want, rtol=1e-6)
    assert None in spy.weights  # validation stays unweighted


def test_multi_label_pos_weight_reaches_the_training_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(_multi_csv(tmp_path / "multi.csv"), "balanced", label_delimiter="|")
    p = prepare_dataset(config.data, config.tokenizer)
    assert p.multi_label
    spy = _LossSpy(monkeypatch)
    fit(config, prepared=p)
    y = _train_targets(p).astype(np.float64)
    positives = y.sum(axis=0)
    want = (len(y) - positives) / positives
    weighted = spy.weighted()
    assert weighted and all(w.shape == (len(p.label_names),) for w in weighted)
    np.testing.assert_allclose(weighted[0].numpy(), want, rtol=1e-6)
    assert None in spy.weights  # validation stays unweighted


def test_no_class_weights_leaves_the_loss_unweighted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _skewed_csv(tmp_path / "skewed.csv", {"big": 60, "rare": 12})
    spy = _LossSpy(monkeypatch)
    fit(_config(path, "none"))
    assert spy.weights and spy.weighted() == []


def test_an_unknown_label_stops_the_fit_with_a_config_error(tmp_path: Path) -> None:
    path = _skewed_csv(tmp_path / "skewed.csv", {"big": 60, "rare": 12})
    with pytest.raises(ConfigError, match="'missing' is not in the dataset"):
        fit(_config(path, {"missing": 3.0}))
