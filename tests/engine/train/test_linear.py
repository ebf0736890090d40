"""``model.kind``: the linear model over the studio's features (sqrtn pooling, liblinear's
optimum) and the validation-score choice between it and the embedding model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.config import SAMPLE_DATASET, DataConfig, StudioConfig
from studio.engine.analysis.inference import load_run
from studio.engine.data.prepare import prepare_dataset
from studio.engine.data.tokenize import PAD_ID
from studio.engine.train.batching import DeviceData
from studio.engine.train.build import build_encoder, build_model, build_spec, build_splits
from studio.engine.train.context import FitContext
from studio.engine.train.events import Callback, FitResult
from studio.engine.train.linear import LINEAR_C, fit_linear, linear_threads, solve
from studio.engine.train.linear_choice import choose_model
from studio.engine.train.recipe import resolve_recipe
from studio.engine.train.session import train_run
from studio.engine.train.table_optim import RowwiseAdagrad, pool
from studio.errors import ConfigError
from tests.conftest import write_topics_csv


def test_sqrtn_pooling_is_the_weighted_sum_over_the_root_of_the_squares() -> None:
    weight = torch.randn(8, 3)
    row_weight = torch.tensor([9.0, 1.0, 2.0, 0.5, 4.0, 1.0, 3.0, 1.5])
    ids = torch.tensor([2, 3, 3, 0, 4, 6])  # doc 0: 2, 3 twice, <pad>; doc 1: 4, 6
    offsets = torch.tensor([0, 4])
    out = pool(weight, ids, offsets, "sqrtn", row_weight)
    doc0 = (2.0 * weight[2] + 2 * 0.5 * weight[3]) / (2.0**2 + 2 * 0.5**2) ** 0.5
    doc1 = (4.0 * weight[4] + 3.0 * weight[6]) / 5.0
    torch.testing.assert_close(out, torch.stack([doc0, doc1]))
    plain = pool(weight, ids, offsets, "sqrtn")  # no weights: the sum over sqrt(n)
    torch.testing.assert_close(plain[1], (weight[4] + weight[6]) / 2**0.5)


def test_fused_sqrtn_update_is_rowwise_adagrad_on_the_autograd_gradient() -> None:
    torch.manual_seed(0)
    table = torch.randn(10, 4)
    row_weight = torch.rand(10) + 0.5
    ids, offsets = torch.tensor([2, 3, 4, 5, 6, 7]), torch.tensor([0, 2])  # each row once
    grad = torch.randn(2, 4)
    leaf = table.clone().requires_grad_()
    (pool(leaf, ids, offsets, "sqrtn", row_weight) * grad).sum().backward()
    assert leaf.grad is not None
    g = leaf.grad
    expected = table - 0.5 * g / (g.pow(2).mean(dim=1, keepdim=True).sqrt() + 1e-8)
    fused = RowwiseAdagrad(table.clone(), 0.5, "sqrtn", row_weight=row_weight)
    fused.apply(ids, offsets, grad)
    torch.testing.assert_close(fused.weight[ids], expected[ids])
    torch.testing.assert_close(fused.weight[:2], table[:2])  # untouched rows stay


@dataclass
class _Fit:
    ctx: FitContext
    train: DeviceData
    valid: DeviceData
    config: StudioConfig


def _prepared_fit(path: Path, tmp_path: Path, **model: object) -> _Fit:
    """What ``fit`` builds before its epochs, for ``path``'s data."""
    config = StudioConfig(data=DataConfig(path=str(path))).with_overrides(
        model=model, tokenizer={"ngram_buckets": 101}
    )
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    config = resolve_recipe(config, p)
    encoder = build_encoder(p, config)
    spec = build_spec(config, encoder, p)
    device = torch.device("cpu")
    net, _ = build_model(config, spec, encoder, device)
    splits = build_splits(p, encoder, device, None)
    ctx = FitContext(config, net, spec, encoder, p.label_names, p.multi_label, device)
    assert isinstance(splits.train, DeviceData) and isinstance(splits.valid, DeviceData)
    return _Fit(ctx, splits.train, splits.valid, config)


@pytest.fixture
def topics(tmp_path: Path) -> Iterator[_Fit]:
    yield _prepared_fit(write_topics_csv(tmp_path / "topics.csv", n=400), tmp_path)


def _by_hand(data: DeviceData, idf: np.ndarray, rows: int) -> np.ndarray:
    """Each document's tf-idf vector, L2 over its occurrences, one document at a time."""
    out = np.zeros((data.n_docs, rows))
    ids, starts = data.ids.numpy(), data.offsets.numpy()
    for d in range(data.n_docs):
        doc = ids[starts[d] : starts[d + 1]]
        doc = doc[doc != PAD_ID]
        np.add.at(out[d], doc, idf[doc])
        out[d] /= max(np.sqrt(np.sum(idf[doc] ** 2)), 1e-6)
    return out


@pytest.mark.parametrize("c", [LINEAR_C, 4.0])
def test_linear_model_computes_liblinears_decision_function(
    topics: _Fit, monkeypatch: pytest.MonkeyPatch, c: float
) -> None:
    from sklearn.svm import LinearSVC

    # solved to the optimum both ways (at the default tolerance each stops somewhere else)
    monkeypatch.setattr("studio.engine.train.linear.LINEAR_TOL", 1e-8)
    config = topics.config.with_overrides(model={"linear_c": c})  # model.linear_c is C
    fit = fit_linear(
        config, topics.ctx.spec, topics.ctx.label_names, topics.train, topics.valid,
        topics.ctx.device,
    )  # fmt: skip
    assert fit.spec.pooling == "sqrtn" and fit.spec.embed_dim == len(topics.ctx.label_names)
    rows = fit.spec.num_embeddings
    assert fit.model.row_weight is not None
    idf = fit.model.row_weight.numpy().astype(np.float64)
    svc = LinearSVC(C=c, tol=1e-8, max_iter=100_000).fit(
        _by_hand(topics.train, idf, rows), topics.train.targets.numpy()
    )
    expected = svc.decision_function(_by_hand(topics.valid, idf, rows))
    with torch.no_grad():
        logits = fit.model(topics.valid.ids, topics.valid.offsets[:-1]).numpy()
    temperature = float(fit.model.head[-1].weight[0, 0])  # type: ignore[index]
    np.testing.assert_allclose(logits / temperature, expected, atol=1e-4)
    # the temperature calibrates: no other tried value has a lower validation log-loss
    assert fit.val_loss < float(
        torch.nn.functional.cross_entropy(torch.from_numpy(expected).float(), topics.valid.targets)
    )


class _Notices(Callback):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def on_notice(self, ctx: FitContext, message: str) -> None:
        self.messages.append(message)


def _result(accuracy: float) -> FitResult:
    return FitResult(
        status="finished", epochs=3, steps=30, best_epoch=3, val_loss=0.1,
        val_accuracy=accuracy, val_macro_f1=accuracy, val_weighted_f1=accuracy,
        train_seconds=1.0, docs_per_second=100.0, tokens_per_second=1000.0,
    )  # fmt: skip


@pytest.mark.parametrize("embedding_score", [1.0, 0.0])
def test_auto_keeps_the_model_better_on_validation(topics: _Fit, embedding_score: float) -> None:
    notices = _Notices()
    embedding = topics.ctx.model
    result = choose_model(
        topics.ctx, topics.train, topics.valid, _result(embedding_score), [notices]
    )
    assert result.linear_seconds > 0 and len(notices.messages) == 1
    if embedding_score == 1.0:  # a perfect embedding model cannot be beaten: a tie keeps it
        assert result.model_kind == "embedding" and topics.ctx.model is embedding
        assert result.val_accuracy == 1.0
        assert notices.messages[0].startswith("kept the embedding model")
    else:
        assert result.model_kind == "linear" and topics.ctx.spec.pooling == "sqrtn"
        assert result.val_accuracy > 0.5 and result.epochs == 3  # the curves stay
        assert notices.messages[0].startswith("kept the linear model")


def test_a_stopped_run_or_the_embedding_kind_fits_no_linear_model(topics: _Fit) -> None:
    stopped = replace(_result(0.0), status="stopped")
    assert choose_model(topics.ctx, topics.train, topics.valid, stopped, []).linear_seconds == 0
    ctx = replace(topics.ctx, config=topics.config.with_overrides(model={"kind": "embedding"}))
    assert choose_model(ctx, topics.train, topics.valid, _result(0.0), []).linear_seconds == 0


def test_linear_run_saves_a_model_that_loads_and_predicts(tmp_path: Path) -> None:
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=400)))
    config = StudioConfig(data=data).with_overrides(model={"kind": "linear"})
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    assert result.model_kind == "linear" and result.epochs == 1 and result.steps == 0
    run_dir = Path(str(result.run_dir))
    spec = json.loads((run_dir / "model.json").read_text())
    assert spec["pooling"] == "sqrtn" and spec["embed_dim"] == spec["num_outputs"] == 3
    run = load_run(run_dir)
    probs = run.predict_proba(["ball goal team match win", "code computer software bug"])
    assert [run.labels[i] for i in probs.argmax(axis=1)] == ["sport", "tech"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if r["type"] == "epoch"] == [1]


def test_a_small_linear_run_repeats_bit_for_bit(tmp_path: Path) -> None:
    # the man pages' epochs train on one thread (under 100 steps), so the fit does too
    config = StudioConfig().with_overrides(
        data={"path": str(SAMPLE_DATASET), "text_column": "text", "label_column": "section"},
        model={"kind": "linear"},
    )
    weights = []
    for name in ("a", "b"):
        result = train_run(config, run_dir=tmp_path / name, cache_dir=tmp_path / "cache")
        weights.append((Path(str(result.run_dir)) / "model.safetensors").read_bytes())
    assert weights[0] == weights[1]


def _multi_label_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = ["text,labels"]
    for _ in range(200):
        tags = [t for t in ("red", "blue") if rng.random() < 0.5] or ["red"]
        lines.append(" ".join(f"w{t}{rng.integers(3)}" for t in tags) + "," + "|".join(tags))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_multi_label_keeps_the_embedding_model_and_linear_says_why(tmp_path: Path) -> None:
    path = _multi_label_csv(tmp_path / "multi.csv")
    config = StudioConfig(data=DataConfig(path=str(path), label_delimiter="|"))
    notices = _Notices()
    result = train_run(
        config.with_overrides(train={"epochs": 1}), [notices],
        runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache",
    )  # fmt: skip
    assert result.model_kind == "embedding"
    assert notices.messages == ["the linear model was not fitted (multi-label data)"]
    with pytest.raises(ConfigError, match=r"model\.kind"):
        train_run(
            config.with_overrides(model={"kind": "linear"}),
            runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache",
        )  # fmt: skip


def test_balanced_class_weights_reach_the_linear_fit() -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    y = np.array([0] * 180 + [1] * 20 + [2] * 100)
    x = sp.csr_matrix(rng.random((300, 30)) + np.eye(3)[y].repeat(10, axis=1) * 0.3)
    plain, _ = solve(x, y, 3, None, threads=1)
    weights = np.array([300 / (3 * 180), 300 / (3 * 20), 300 / (3 * 100)])
    balanced, bias = solve(x, y, 3, weights, threads=1)
    assert not np.allclose(plain, balanced)
    scores = x @ balanced.T + bias
    plain_scores = x @ plain.T + solve(x, y, 3, None, threads=1)[1]
    # the rare class is predicted at least as often once it weighs more
    assert (scores.argmax(1) == 1).sum() >= (plain_scores.argmax(1) == 1).sum()


def test_a_smaller_linear_c_regularises_more(topics: _Fit) -> None:
    def norm(c: float) -> float:
        config = topics.config.with_overrides(model={"linear_c": c})
        fit = fit_linear(
            config, topics.ctx.spec, topics.ctx.label_names, topics.train, topics.valid,
            topics.ctx.device,
        )  # fmt: skip
        return float(fit.model.embedding.weight.norm())  # the SVM's weights (before the
        # temperature, which the head holds)

    assert norm(0.01) < norm(0.1) < norm(1.0)


def test_one_thread_repeats_the_linear_fit_bit_for_bit_for_a_seed(tmp_path: Path) -> None:
    man = _prepared_fit(SAMPLE_DATASET, tmp_path)  # real text: liblinear's order matters

    def table(**overrides: object) -> torch.Tensor:
        config = man.config.with_overrides(**overrides)
        fit = fit_linear(config, man.ctx.spec, man.ctx.label_names, man.train, man.valid,
                         man.ctx.device)  # fmt: skip
        return fit.model.embedding.weight.detach().clone()

    one = {"workers": 1}
    first = table(device=one, train={"seed": 7})
    torch.testing.assert_close(table(device=one, train={"seed": 7}), first, rtol=0, atol=0)
    assert not torch.equal(table(device=one, train={"seed": 8}), first)  # the seed matters
    assert linear_threads(StudioConfig().with_overrides(device={"threads": 2})) == 2


def test_model_kind_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"model\.kind"):
        StudioConfig().with_overrides(model={"kind": "svm"})


def test_checkpoints_keep_loading_after_auto_kept_the_linear_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the embedding model scores below anything: auto keeps the linear model
    monkeypatch.setattr("studio.engine.train.linear_choice.validation_score", lambda a, f: -1.0)
    data = DataConfig(path=str(write_topics_csv(tmp_path / "t.csv", n=300)))
    config = StudioConfig(data=data).with_overrides(train={"epochs": 2})
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    assert result.model_kind == "linear" and result.epochs == 2
    final, best = load_run(str(result.run_dir)), load_run(str(result.run_dir), weights="best")
    assert final.spec.pooling == "sqrtn" and best.spec == replace(
        final.spec, embed_dim=config.model.embed_dim, pooling="mean", weighting="none"
    )
    texts = ["ball goal team match", "bread cheese soup"]
    assert (final.predict_proba(texts).argmax(1) == best.predict_proba(texts).argmax(1)).all()
