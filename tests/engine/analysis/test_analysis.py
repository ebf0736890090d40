"""Evaluation details, the prediction playground and the embedding explorer (no Qt)."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig, TokenizerConfig
from studio.engine import train_run
from studio.engine.analysis.embeddings import (
    NeighbourIndex,
    embedding_matrix,
    frequent_token_ids,
    matrix_from_checkpoint,
    neighbours,
    token_classes,
)
from studio.engine.analysis.explain import explain
from studio.engine.analysis.inference import LoadedRun, evaluate_run, load_run
from studio.engine.analysis.projection import available_methods, project_2d
from studio.engine.analysis.report import (
    SplitPredictions,
    cell_examples,
    confidently_wrong,
    evaluation_report,
    normalise_rows,
    predict_split,
    predictions_from_arrays,
)
from studio.engine.data.prepare import prepare_dataset
from studio.errors import DatasetError, StudioError
from tests.conftest import TOPICS, write_topics_csv

TEXT = "The goal of the zzzqx team was bread and cheese, with code"


# --- tiny trained runs, shared by the module (each trains in about a second) -------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analysis")


@pytest.fixture(scope="module")
def train(workdir: Path) -> Callable[..., Path]:
    csv = write_topics_csv(workdir / "topics.csv")
    done: dict[str, Path] = {}

    def _train(path: Path | None = None, **sections: dict[str, Any]) -> Path:
        key = repr((path, sorted(sections.items())))
        if key not in done:
            rest = {k: v for k, v in sections.items() if k not in ("train", "tokenizer", "data")}
            data = {"path": str(path or csv), **sections.get("data", {})}
            config = StudioConfig(data=DataConfig(**data)).with_overrides(
                train={"epochs": 3, "lr": 0.05, **sections.get("train", {})},
                tokenizer={
                    "ngram_buckets": 0,
                    "char_ngrams": (0, 0),
                    **sections.get("tokenizer", {}),
                },
                **rest,
            )
            result = train_run(config, runs_dir=workdir / "runs", cache_dir=workdir / "cache")
            assert result.run_dir is not None
            done[key] = Path(result.run_dir)
        return done[key]

    return _train


@pytest.fixture(scope="module")
def binary_csv(workdir: Path) -> Path:
    rng = random.Random(1)
    path = workdir / "binary.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(600):
            label = rng.choice(["food", "sport"])
            words = [rng.choice(TOPICS[label]) for _ in range(rng.randint(3, 10))]
            fh.write(f"{' '.join(words)},{label}\n")
    return path


@pytest.fixture(scope="module")
def multi_label_csv(workdir: Path) -> Path:
    rng = random.Random(2)
    path = workdir / "multi.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(600):
            labels = sorted(rng.sample(sorted(TOPICS), rng.randint(1, 2)))
            words = [rng.choice(TOPICS[rng.choice(labels)]) for _ in range(rng.randint(3, 10))]
            fh.write(f"{' '.join(words)},{'|'.join(labels)}\n")
    return path


def _prepared(run: LoadedRun, workdir: Path) -> Any:
    return prepare_dataset(run.config.data, run.config.tokenizer, cache_dir=workdir / "cache")


# --- evaluation report on hand-made predictions -----------------------------------------


def _single_label() -> SplitPredictions:
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    pred = np.array([0, 0, 1, 2, 1, 0, 2, 2, 1, 2])
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.95, 0.85, 0.75, 0.65, 0.55])
    probs = np.zeros((10, 4))
    probs[:, :3] = ((1 - conf) / 2)[:, None]
    probs[np.arange(10), pred] = conf
    return predictions_from_arrays(probs, y, np.arange(100, 110), ("a", "b", "c", "d"), False)


def test_single_label_report_matches_hand_computation() -> None:
    report = evaluation_report(_single_label())
    # confusion rows (true a, b, c, d): [2 1 1 0], [1 1 0 0], [0 1 3 0], [0 0 0 0]
    assert report.confusion is not None
    np.testing.assert_array_equal(
        report.confusion, [[2, 1, 1, 0], [1, 1, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]]
    )
    assert report.confusion.sum() == report.n_docs == 10
    assert report.accuracy == pytest.approx(0.6)
    f1 = {"a": 4 / 7, "b": 2 / 5, "c": 3 / 4, "d": 0.0}
    expected = {
        "a": (2 / 3, 1 / 2, 4),
        "b": (1 / 3, 1 / 2, 2),
        "c": (3 / 4, 3 / 4, 4),
        "d": (0.0, 0.0, 0),
    }
    for c in report.per_class:
        precision, recall, support = expected[c.name]
        assert (c.precision, c.recall, c.f1) == pytest.approx((precision, recall, f1[c.name]))
        assert c.support == support and isinstance(c.support, int)
    # "d" has no support: left out of the macro average
    assert report.macro_f1 == pytest.approx((4 / 7 + 2 / 5 + 3 / 4) / 3)
    assert report.weighted_f1 == pytest.approx((4 * 4 / 7 + 2 * 2 / 5 + 4 * 3 / 4) / 10)


def test_multi_label_report_matches_hand_computation() -> None:
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    probs = np.array(
        [[0.9, 0.2, 0.1], [0.8, 0.3, 0.6], [0.1, 0.1, 0.7], [0.4, 0.9, 0.05], [0.95, 0.2, 0.8]]
    )
    pred = predictions_from_arrays(probs, y, np.arange(5), ("x", "y", "z"), True)
    report = evaluation_report(pred)
    assert report.confusion is None and report.n_docs == 5
    assert report.accuracy == pytest.approx(3 / 5)  # rows 0, 2, 3 entirely right
    got = {c.name: (c.precision, c.recall, c.f1, c.support) for c in report.per_class}
    assert got["x"] == pytest.approx((2 / 3, 1.0, 4 / 5, 2))
    assert got["y"] == pytest.approx((1.0, 1 / 2, 2 / 3, 2))
    assert got["z"] == pytest.approx((2 / 3, 1.0, 4 / 5, 2))
    assert report.macro_f1 == pytest.approx((4 / 5 + 2 / 3 + 4 / 5) / 3)
    assert report.weighted_f1 == pytest.approx(report.macro_f1)

    wrong = confidently_wrong(pred)
    assert [e.doc_id for e in wrong] == [4, 1]
    assert wrong[0].true == "z" and wrong[0].predicted == "x, z"
    assert wrong[0].confidence == pytest.approx(0.95)
    # row 1: "y" missed at p=0.3 (a 0.7-confident "no") beats the false "z" at 0.6
    assert wrong[1].true == "x, y" and wrong[1].predicted == "x, z"
    assert wrong[1].confidence == pytest.approx(0.7)
    with pytest.raises(ValueError):
        cell_examples(pred, 0, 0)


def test_normalise_rows() -> None:
    report = evaluation_report(_single_label())
    assert report.confusion is not None
    m = normalise_rows(report.confusion)
    np.testing.assert_allclose(m.sum(axis=1), [1, 1, 1, 0])
    np.testing.assert_allclose(m[0], [0.5, 0.25, 0.25, 0])
    np.testing.assert_array_equal(normalise_rows(np.zeros((2, 2))), np.zeros((2, 2)))


def test_cell_examples_and_confidently_wrong() -> None:
    pred = _single_label()
    cell = cell_examples(pred, 2, 2)
    assert [e.doc_id for e in cell] == [106, 107, 109]
    assert all(e.true == "c" and e.predicted == "c" for e in cell)
    assert [e.confidence for e in cell] == pytest.approx([0.85, 0.75, 0.55])
    assert [e.doc_id for e in cell_examples(pred, 2, 2, limit=2)] == [106, 107]
    assert cell_examples(pred, 3, 0) == []
    off = cell_examples(pred, 0, 1)
    assert [(e.doc_id, e.true, e.predicted) for e in off] == [(102, "a", "b")]

    wrong = confidently_wrong(pred, k=3)
    assert [e.doc_id for e in wrong] == [105, 102, 108]
    assert all(e.true != e.predicted for e in wrong)
    confidences = [e.confidence for e in wrong]
    assert confidences == sorted(confidences, reverse=True)
    assert len(confidently_wrong(pred)) == 4


def test_predictions_from_arrays_checks_and_binary_column() -> None:
    pred = predictions_from_arrays(
        np.array([[0.2], [0.9]]), np.array([0, 1]), np.array([5, 6]), ["neg", "pos"], False
    )
    np.testing.assert_allclose(pred.probs, [[0.8, 0.2], [0.1, 0.9]], rtol=1e-6)
    assert pred.probs.dtype == np.float32 and pred.y_true.dtype == np.int64
    assert evaluation_report(pred).accuracy == 1.0
    with pytest.raises(ValueError):
        predictions_from_arrays(np.zeros((2, 3)), np.zeros(2), np.arange(2), "ab", False)
    with pytest.raises(ValueError):
        predictions_from_arrays(np.zeros((2, 2)), np.array([0, 2]), np.arange(2), "ab", False)
    empty = evaluation_report(
        predictions_from_arrays(np.zeros((0, 2)), np.zeros(0), np.zeros(0), "ab", False)
    )
    assert empty.accuracy == 0.0 and empty.n_docs == 0
    assert empty.confusion is not None and empty.confusion.sum() == 0


# --- predictions of a trained run on its prepared dataset -------------------------------


@pytest.mark.parametrize(
    "sections",
    [
        {},
        {"tokenizer": {"ngram_buckets": 500, "vocab_size": 30}},  # capped vocabulary + bigrams
        {"tokenizer": {"kind": "bpe", "vocab_size": 300}, "model": {"hidden": (8,)}},
    ],
    ids=["words", "capped-bigrams", "bpe-hidden"],
)
def test_predict_split_matches_predict_proba(
    train: Callable[..., Path], workdir: Path, sections: dict[str, Any]
) -> None:
    run = load_run(train(**sections))
    prepared = _prepared(run, workdir)
    for split in ("valid", "test"):
        pred = predict_split(run, prepared, split)
        docs = prepared.split_indices(split)
        np.testing.assert_array_equal(pred.doc_ids, docs)
        np.testing.assert_array_equal(pred.y_true, prepared.targets[docs])
        expected = run.predict_proba([prepared.text(int(i)) for i in docs])
        np.testing.assert_allclose(pred.probs, expected, atol=1e-6)
        assert pred.label_names == run.labels and not pred.multi_label
    # same predictions as the trainer's final validation scores (of the model it kept)
    lines = (run.path / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    metrics = [r for r in map(json.loads, lines) if r["type"] == "end"][-1]
    report = evaluation_report(predict_split(run, prepared))
    assert report.accuracy == pytest.approx(metrics["val_accuracy"])
    assert report.macro_f1 == pytest.approx(metrics["val_macro_f1"])


def _read_epochs(path: Path) -> list[dict[str, Any]]:
    from studio.engine.runs.layout import read_metrics

    return [r for r in read_metrics(path) if r["type"] == "epoch"]


def test_predict_split_multi_label(
    train: Callable[..., Path], workdir: Path, multi_label_csv: Path
) -> None:
    path = train(multi_label_csv, data={"label_delimiter": "|"})
    run = load_run(path)
    assert run.multi_label
    prepared = _prepared(run, workdir)
    pred = predict_split(run, prepared)
    docs = prepared.split_indices("valid")
    assert (
        pred.multi_label and pred.y_true.shape == (len(docs), 3) and pred.y_true.dtype == np.uint8
    )
    expected = run.predict_proba([prepared.text(int(i)) for i in docs])
    np.testing.assert_allclose(pred.probs, expected, atol=1e-6)
    report = evaluation_report(pred)
    assert report.confusion is None
    assert sum(c.support for c in report.per_class) == int(pred.y_true.sum())
    wrong = confidently_wrong(pred, k=10)
    assert all(e.true != e.predicted for e in wrong)


def test_predict_split_refuses_another_dataset(train: Callable[..., Path], workdir: Path) -> None:
    run = load_run(train())
    other = prepare_dataset(
        run.config.data,
        TokenizerConfig(kind="bpe", vocab_size=300),
        cache_dir=workdir / "cache",
    )
    with pytest.raises(DatasetError, match="does not match"):
        predict_split(run, other)
    with pytest.raises(StudioError, match="unknown split"):
        predict_split(run, _prepared(run, workdir), "dev")


def test_evaluate_run_agrees_with_report(train: Callable[..., Path], workdir: Path) -> None:
    run = load_run(train())
    result = evaluate_run(run, workdir / "topics.csv")
    assert result["documents"] == 1200
    assert np.array(result["confusion_matrix"]).sum() == 1200
    assert set(result["per_class"]) == set(run.labels)
    support = sum(m["support"] for m in result["per_class"].values())
    assert support == 1200


# --- explanations -----------------------------------------------------------------------


def _logits(run: LoadedRun, text: str) -> np.ndarray:
    ids, offsets = run.encoder.encode([text])
    with torch.no_grad():
        out = run.model(torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1]))
    return out[0].double().numpy()


@pytest.mark.parametrize(
    "sections",
    [
        {},
        {"tokenizer": {"ngram_buckets": 500}},
        {"tokenizer": {"ngram_buckets": 500}, "model": {"pooling": "sum"}},
        {"tokenizer": {"kind": "bpe", "vocab_size": 300, "ngram_buckets": 100}},
    ],
    ids=["mean", "mean-bigrams", "sum-bigrams", "bpe-bigrams"],
)
def test_exact_contributions_reproduce_the_logits(
    train: Callable[..., Path], sections: dict[str, Any]
) -> None:
    run = load_run(train(**sections))
    logits = _logits(run, TEXT)
    bias = run.model.head[-1].bias.detach().double().numpy()
    for c, name in enumerate(run.labels):
        e = explain(run, TEXT, target=name)
        assert e.method == "exact" and e.target == name
        assert [t.token for t in e.tokens] == run.encoder.tokenize(TEXT)
        assert e.bias == pytest.approx(bias[c])
        total = sum(t.contribution for t in e.tokens) + e.bias
        np.testing.assert_allclose(total, logits[c], rtol=1e-5, atol=1e-6)
    e = explain(run, TEXT)
    probs = dict(run.predict(TEXT))
    assert e.target == run.predict(TEXT)[0][0]
    assert [p for _, p in e.probabilities] == sorted(probs.values(), reverse=True)
    for name, p in e.probabilities:
        assert p == pytest.approx(probs[name], abs=1e-6)


def test_exact_contributions_of_a_binary_sigmoid_model(
    train: Callable[..., Path], binary_csv: Path
) -> None:
    run = load_run(train(binary_csv, tokenizer={"ngram_buckets": 200}))
    assert run.model.spec.num_outputs == 1 and run.model.spec.sigmoid
    logit = _logits(run, "cook the ball with cheese")[0]
    positive = explain(run, "cook the ball with cheese", target=run.labels[1])
    negative = explain(run, "cook the ball with cheese", target=run.labels[0])
    assert positive.method == negative.method == "exact"
    assert positive.bias is not None and negative.bias is not None
    np.testing.assert_allclose(
        sum(t.contribution for t in positive.tokens) + positive.bias, logit, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        sum(t.contribution for t in negative.tokens) + negative.bias, -logit, rtol=1e-5, atol=1e-6
    )
    p = dict(positive.probabilities)
    assert p[run.labels[1]] == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-6)
    # "cheese" speaks for food, "ball" for sport
    food = explain(run, "cheese ball", target="food")
    assert food.tokens[0].contribution > 0 > food.tokens[1].contribution


def test_occlusion_for_a_hidden_layer_model(train: Callable[..., Path]) -> None:
    run = load_run(train(model={"hidden": (16,)}))
    text = "the goal of a team at the match was cheese"
    e = explain(run, text, target="sport")
    assert e.method == "occlusion" and e.bias is None
    tokens = [t.token for t in e.tokens]
    p_full = dict(e.probabilities)["sport"]
    top = int(np.argmax([t.contribution for t in e.tokens]))
    assert tokens[top] in TOPICS["sport"] and e.tokens[top].contribution > 0
    sport = run.labels.index("sport")
    for i in (top, tokens.index("cheese")):  # no bigrams: dropping the word is the variant
        without = " ".join(tokens[:i] + tokens[i + 1 :])
        p_without = run.predict_proba([without])[0][sport]
        assert e.tokens[i].contribution == pytest.approx(p_full - p_without, abs=1e-5)
    assert run.predict_proba([" ".join(tokens[:top] + tokens[top + 1 :])])[0][sport] < p_full


def test_occlusion_removes_the_bigrams_of_the_token(train: Callable[..., Path]) -> None:
    run = load_run(train(model={"hidden": (16,)}, tokenizer={"ngram_buckets": 500}))
    e = explain(run, "goal team cheese", target="food")
    assert e.method == "occlusion"
    enc = run.encoder
    ids = enc.token_ids(["goal team cheese"])[0]
    full_ids, _ = enc.encode(["goal team cheese"])
    # dropping "team" leaves goal, cheese and no bigram at all
    bag = torch.tensor([ids[0], ids[2]])
    with torch.no_grad():
        p = run.model.probabilities(run.model(bag, torch.tensor([0])))[0]
    p_full = dict(e.probabilities)["food"]
    food = run.labels.index("food")
    assert len(full_ids) == 5
    assert e.tokens[1].contribution == pytest.approx(p_full - float(p[food]), abs=1e-5)


def test_oov_flags_empty_text_and_unknown_target(train: Callable[..., Path]) -> None:
    run = load_run(train(tokenizer={"vocab_size": 30}))
    e = explain(run, "zzzqx goal the")
    flags = {t.token: t.oov for t in e.tokens}
    assert flags["zzzqx"] is True and flags["the"] is False
    capped = [t for t in TOPICS["sport"] + TOPICS["food"] if t not in run.encoder.tokens]
    assert capped  # a word seen in training but cut by the vocabulary cap is <unk> too
    assert explain(run, capped[0]).tokens[0].oov is True

    empty = explain(run, "")
    assert empty.tokens == () and empty.method == "exact"
    probs = [p for _, p in empty.probabilities]
    assert sum(probs) == pytest.approx(1.0, abs=1e-5) and probs == sorted(probs, reverse=True)
    bias = run.model.head[-1].bias.detach().double()
    expected = torch.softmax(bias, dim=0).numpy()
    for name, p in empty.probabilities:
        assert p == pytest.approx(expected[run.labels.index(name)], abs=1e-6)
    with pytest.raises(StudioError, match="'nope'"):
        explain(run, "goal", target="nope")


# --- embeddings -------------------------------------------------------------------------

TOKENS = ("<pad>", "<unk>", "cat", "dog", "car", "truck", "kitten")
MATRIX = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, 0.1, 0.0],
        [0.8, 0.3, 0.1],
        [0.0, 1.0, 0.1],
        [0.1, 0.9, 0.3],
        [2.0, 0.1, 0.05],  # kitten: nearly parallel to cat, longer
    ],
    dtype=np.float32,
)


def test_neighbours_in_a_hand_built_matrix() -> None:
    got = neighbours(MATRIX, TOKENS, "cat", k=3)
    assert [t for t, _ in got] == ["kitten", "dog", "truck"]
    cat, kitten = MATRIX[2], MATRIX[6]
    cosine = float(cat @ kitten / np.linalg.norm(cat) / np.linalg.norm(kitten))
    assert got[0][1] == pytest.approx(cosine, abs=1e-6)
    assert neighbours(MATRIX, TOKENS, "car", k=1)[0][0] == "truck"
    everything = neighbours(MATRIX, TOKENS, "cat", k=100)
    names = [t for t, _ in everything]
    assert "cat" not in names and "<pad>" not in names and len(names) == len(TOKENS) - 2
    sims = [s for _, s in everything]
    assert sims == sorted(sims, reverse=True)
    with pytest.raises(StudioError, match="'zebra'"):
        neighbours(MATRIX, TOKENS, "zebra")
    index = NeighbourIndex(MATRIX, TOKENS)
    assert index.query("cat", 3) == got and index.query("cat", 3) == got
    assert "dog" in index and "zebra" not in index


def test_project_2d_pca() -> None:
    t = np.linspace(-1, 1, 20)
    rng = np.random.default_rng(0)
    line = np.stack([t, -2 * t, 0.01 * rng.standard_normal(20)], axis=1)
    xy = project_2d(line)
    assert xy.shape == (20, 2) and xy.dtype == np.float32
    np.testing.assert_array_equal(xy, project_2d(line.copy()))
    # first component is the line; its largest loading (-2/sqrt5 on y) is made positive
    np.testing.assert_allclose(xy[:, 0], -t * np.sqrt(5), atol=1e-3)
    assert np.abs(xy[:, 1]).max() < 0.05
    flipped = project_2d(-line)
    np.testing.assert_allclose(flipped, -xy, atol=1e-5)
    assert project_2d(np.zeros((1, 5))).shape == (1, 2)
    assert project_2d(np.ones((3, 1))).shape == (3, 2)
    with pytest.raises(StudioError, match="unknown projection"):
        project_2d(line, "tsne")
    assert "pca" in available_methods()


def test_umap_without_the_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a)
    )
    monkeypatch.setitem(sys.modules, "umap", None)  # `import umap` raises ImportError
    assert "umap" not in available_methods()
    with pytest.raises(StudioError, match="umap-learn"):
        project_2d(np.zeros((40, 3)), "umap")


def test_embedding_matrix_frequent_ids_and_token_classes(train: Callable[..., Path]) -> None:
    run = load_run(train(tokenizer={"ngram_buckets": 500}))
    matrix = embedding_matrix(run)
    vocab = run.encoder.vocab_size
    assert matrix.shape == (vocab, run.spec.embed_dim) and matrix.dtype == np.float32
    assert run.model.embedding.weight.shape[0] == vocab + 500
    matrix[2] += 1  # a copy
    assert not np.array_equal(matrix[2], embedding_matrix(run)[2])

    np.testing.assert_array_equal(frequent_token_ids(run, 5), [2, 3, 4, 5, 6])
    assert frequent_token_ids(run, 10_000)[-1] == vocab - 1
    assert len(frequent_token_ids(run, 0)) == 0

    words = [w for topic in sorted(TOPICS) for w in TOPICS[topic][:4]]
    ids = np.array([run.encoder.tokens.index(w) for w in words])
    classes, probs = token_classes(run, ids)
    assert classes.shape == probs.shape == (len(words),)
    got = [run.labels[c] for c in classes]
    want = [topic for topic in sorted(TOPICS) for _ in range(4)]
    assert got == want
    assert np.all((probs > 1 / 3) & (probs <= 1))
    one = run.predict_proba(["goal"])[0]
    assert probs[words.index("goal")] == pytest.approx(one.max(), abs=1e-6)


def test_matrix_from_checkpoint(train: Callable[..., Path]) -> None:
    path = train()
    run = load_run(path)
    from_disk = matrix_from_checkpoint(path, run.encoder.vocab_size)
    np.testing.assert_array_equal(from_disk, embedding_matrix(load_run(path, weights="last")))
    # no early stopping: the last checkpoint is the final model
    np.testing.assert_array_equal(from_disk, embedding_matrix(run))
    assert from_disk.shape == (run.encoder.vocab_size, run.spec.embed_dim)
