"""Embedding rows initialised from a .vec file, optionally frozen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine import Callback, FitStart, fit
from studio.engine.data.pretrained import load_vectors
from studio.engine.train.context import FitContext
from studio.errors import DatasetError


def _vec(path: Path, words: dict[str, list[float]], header: bool = True) -> Path:
    dim = len(next(iter(words.values())))
    lines = [f"{len(words)} {dim}"] if header else []
    lines += [f"{w} " + " ".join(f"{x:g}" for x in v) for w, v in words.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_vectors_keeps_vocabulary_words_only(tmp_path: Path) -> None:
    path = _vec(tmp_path / "v.vec", {"goal": [1, 2], "zebra": [3, 4], "<pad>": [9, 9]})
    rows, vecs = load_vectors(path, {"<pad>": 0, "<unk>": 1, "goal": 5}, dim=2)
    assert rows.tolist() == [5]
    np.testing.assert_array_equal(vecs, [[1, 2]])
    glove = _vec(tmp_path / "g.txt", {"goal": [1, 2]}, header=False)
    assert load_vectors(glove, {"goal": 2}, dim=2)[0].tolist() == [2]


def test_wrong_dimension_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "v.vec"
    path.write_text("goal 1 2 3\nball 1 2\n")
    with pytest.raises(DatasetError) as err:
        load_vectors(path, {"goal": 2}, dim=3)
    assert err.value.line == 2 and "dimension 2" in str(err.value)
    path.write_text("2 5\ngoal 1 2 3 4 5\n")
    with pytest.raises(DatasetError, match="dimension 5"):
        load_vectors(path, {"goal": 2}, dim=3)


def test_training_uses_and_freezes_pretrained_rows(topics_csv: Path, tmp_path: Path) -> None:
    vec = _vec(tmp_path / "v.vec", {"goal": [0.5] * 8, "bread": [-0.5] * 8, "nope": [1.0] * 8})
    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        model={"embed_dim": 8, "pretrained_vectors": str(vec), "freeze_embeddings": True},
        train={"epochs": 1},
    )
    seen: dict[str, object] = {}

    class Grab(Callback):
        def on_fit_start(self, ctx: FitContext, info: FitStart) -> None:
            seen["found"] = info.pretrained_found

        def on_fit_end(self, ctx: FitContext, result: object) -> None:
            row = ctx.encoder.tokens.index("goal")
            seen["goal"] = ctx.model.embedding.weight[row].detach().clone()

    fit(config, [Grab()])
    assert seen["found"] == 2
    assert torch.equal(seen["goal"], torch.full((8,), 0.5))  # type: ignore[arg-type]
