"""Exports of runs with character n-grams and idf row weights.

A consumer rebuilds the ids from the sidecar alone (a re-implementation of fastText's
n-gram hashing here, from the sidecar's fields); ONNX and TorchScript pool with the idf
weights as the model does; word2vec and projector vectors are composed as fastText's.
"""

from __future__ import annotations

import json
import re
import warnings
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine import train_run
from studio.engine.analysis.inference import LoadedRun, load_run
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.export import pad_ids
from studio.engine.export.classifier import _char_ngram_entry, export_onnx, export_torchscript
from studio.engine.export.vectors import escape_token, export_projector, export_word2vec
from tests.conftest import write_topics_csv

TEXTS = [
    "",
    "goal",
    "goalz socre teams",  # misspelt: only their n-grams are known
    "Bread, CHEESE; soupe!",
    "kernel compile server " * 6,
    "a <b> c >",  # '<' and '>' as tokens of their own: their n-grams count
    "café naïve Ærøskøbing",  # 2-byte UTF-8: bytes >= 128 are sign-extended
    "日本語のテキスト 中文",  # 3-byte UTF-8
    "emoji 🍕🍕 pizza",  # 4-byte UTF-8
    "   ",
    "the the the",
]

SETUPS: dict[str, dict[str, Any]] = {
    # idf mean with bigrams, a hidden layer and n-grams 2..4
    "idf-mean": {
        "tokenizer": {"ngram_buckets": 97, "char_ngrams": (2, 4), "char_buckets": 503},
        "model": {"pooling": "mean", "weighting": "idf", "hidden": (8,), "embed_dim": 12},
    },
    # idf sum, no bigrams, fastText's n-grams 3..6
    "idf-sum": {
        "tokenizer": {"ngram_buckets": 0, "char_ngrams": (3, 6), "char_buckets": 211},
        "model": {"pooling": "sum", "weighting": "idf", "embed_dim": 8},
    },
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedRun]:
    base = tmp_path_factory.mktemp("subword-export")
    data = DataConfig(path=str(write_topics_csv(base / "topics.csv", n=600)))
    out = {}
    for name, setup in SETUPS.items():
        config = StudioConfig(data=data).with_overrides(
            tokenizer=setup["tokenizer"],
            model=setup["model"],
            train={"epochs": 2, "batch_size": 32},
        )
        result = train_run(config, runs_dir=base / "runs", cache_dir=base / "cache")
        assert result.status == "finished" and result.run_dir
        out[name] = load_run(Path(result.run_dir))
    return out


# -- a consumer's re-implementation, from the sidecar's fields only ---------------------------


def _fnv1a(text: str, offset: int, prime: int) -> int:
    h = offset
    for byte in text.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte  # int8_t, as fastText
        h = ((h ^ (signed & 0xFFFFFFFF)) * prime) & 0xFFFFFFFF
    return h


def _char_ngram_ids(token: str, grams: dict[str, Any]) -> list[int]:
    wrapped = grams["bow"] + token + grams["eow"]
    offset, prime = grams["hash"]["offset_basis"], grams["hash"]["prime"]
    ids = []
    for start in range(len(wrapped)):
        for n in range(grams["minn"], grams["maxn"] + 1):
            if start + n > len(wrapped):
                break
            if n == 1 and start in (0, len(wrapped) - 1):  # the added markers alone
                continue
            h = _fnv1a(wrapped[start : start + n], offset, prime)
            ids.append(grams["first_row"] + h % grams["char_buckets"])
    return ids


def _ids_from_sidecar(side: dict[str, Any], text: str) -> list[int]:
    enc, grams = side["encoder"], side["char_ngrams"]
    index = {t: i for i, t in enumerate(enc["tokens"])}
    tokens = re.findall(r"\w+|[^\w\s]", text.lower() if enc["lowercase"] else text)
    ids = [index.get(t, side["unk_id"]) for t in tokens]
    vocab, buckets = side["vocab_size"], side["ngram_buckets"]
    bigrams = [vocab + ((a * 116049371) ^ b) % buckets for a, b in pairwise(ids)] if buckets else []
    return ids + bigrams + [i for t in tokens for i in _char_ngram_ids(t, grams)]


def _sidecar(path: Path) -> dict[str, Any]:
    side: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return side


@pytest.mark.parametrize("setup", list(SETUPS))
def test_ids_rebuilt_from_the_sidecar_alone_match_the_encoder(
    setup: str, runs: dict[str, LoadedRun], tmp_path: Path
) -> None:
    run = runs[setup]
    export_onnx(run, tmp_path / "m.onnx")
    side = _sidecar(tmp_path / "m.onnx.json")
    grams = side["char_ngrams"]
    minn, maxn = SETUPS[setup]["tokenizer"]["char_ngrams"]
    assert (grams["minn"], grams["maxn"]) == (minn, maxn)
    assert grams["char_buckets"] == SETUPS[setup]["tokenizer"]["char_buckets"]
    assert grams["first_row"] == side["vocab_size"] + side["ngram_buckets"]
    assert (grams["bow"], grams["eow"]) == ("<", ">")
    assert grams["hash"]["name"] == "fnv1a-32"
    assert (grams["hash"]["offset_basis"], grams["hash"]["prime"]) == (2166136261, 16777619)
    assert "sign-extended" in grams["rule"] and "bigram ids" in side["id_order"]
    assert "character n-gram ids" in side["how_to_feed"]

    ids, offsets = run.encoder.encode(TEXTS)
    assert ids.max() >= grams["first_row"]  # n-gram rows really are fed
    for i, text in enumerate(TEXTS):
        expected = ids[offsets[i] : offsets[i + 1]].tolist()
        assert _ids_from_sidecar(side, text) == expected, text


def test_sidecar_of_a_model_without_ngrams_says_so() -> None:
    assert _char_ngram_entry(TextEncoder("words", True, ("<pad>", "<unk>", "a"))) is None


# -- the classifier formats pool with the idf weights -----------------------------------------


def _unweighted_probabilities(run: LoadedRun, texts: list[str]) -> np.ndarray:
    """What an export that ignored ``row_weight`` would give (the bug the tests rule out)."""
    ids, offsets = run.encoder.encode(texts)
    with torch.no_grad():
        pooled = run.model.embedding(
            torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1])
        )
        return run.model.probabilities(run.model.head(pooled)).numpy()


@pytest.mark.parametrize("setup", list(SETUPS))
def test_onnx_pools_with_the_idf_weights(
    setup: str, runs: dict[str, LoadedRun], tmp_path: Path
) -> None:
    import onnxruntime as ort

    run = runs[setup]
    assert run.model.row_weight is not None
    assert float(run.model.row_weight.max()) > float(run.model.row_weight.min())
    expected = run.predict_proba(TEXTS)
    assert np.abs(_unweighted_probabilities(run, TEXTS) - expected).max() > 1e-4

    path = export_onnx(run, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"ids": pad_ids(*run.encoder.encode(TEXTS))})
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # a consumer without the studio: ids from the sidecar, padded by hand
    side = _sidecar(tmp_path / "m.onnx.json")
    rows = [_ids_from_sidecar(side, t) for t in TEXTS]
    padded = np.zeros((len(rows), max(map(len, rows)) + 3), dtype=np.int64)
    for i, ids in enumerate(rows):
        padded[i, : len(ids)] = ids
    np.testing.assert_allclose(session.run(None, {"ids": padded})[0], expected, atol=1e-5)


@pytest.mark.parametrize("setup", list(SETUPS))
def test_torchscript_pools_with_the_idf_weights(
    setup: str, runs: dict[str, LoadedRun], tmp_path: Path
) -> None:
    run = runs[setup]
    path = export_torchscript(run, tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"`torch\.jit\.load` is deprecated", DeprecationWarning)
        module = torch.jit.load(str(path))
    for texts in (TEXTS, TEXTS[2:3], [TEXTS[0], TEXTS[0]]):
        ids, offsets = run.encoder.encode(texts)
        with torch.no_grad():
            got = module(torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1]))
        np.testing.assert_allclose(got.numpy(), run.predict_proba(texts), atol=1e-5)
    assert _sidecar(tmp_path / "m.pt.json")["char_ngrams"]["first_row"] > 0


# -- word vectors composed as fastText's ------------------------------------------------------


def _composed(run: LoadedRun, word: str) -> np.ndarray:
    weight = run.model.embedding.weight.detach().numpy()
    rows = run.encoder.word_rows(word)
    assert len(rows) > 1  # its own row and its n-grams'
    return np.asarray(weight[rows].mean(axis=0))


def test_word2vec_holds_each_word_composed_with_its_ngrams(
    runs: dict[str, LoadedRun], tmp_path: Path
) -> None:
    from gensim.models import KeyedVectors

    run = runs["idf-mean"]
    weight = run.model.embedding.weight.detach().numpy()
    vocab = run.encoder.vocab_size
    kv = KeyedVectors.load_word2vec_format(
        str(export_word2vec(run, tmp_path / "v.vec")), binary=False
    )
    assert len(kv.index_to_key) == vocab - 1 and kv.index_to_key[0] == "<unk>"
    np.testing.assert_array_equal(kv["<unk>"], weight[1])  # a special: its own row
    for token_id in (2, 3, vocab // 2, vocab - 1):
        token = run.encoder.tokens[token_id]
        np.testing.assert_allclose(kv[escape_token(token)], _composed(run, token), atol=1e-6)
        assert not np.allclose(kv[escape_token(token)], weight[token_id])

    raw = KeyedVectors.load_word2vec_format(
        str(export_word2vec(run, tmp_path / "raw.vec", composed=False)), binary=False
    )
    np.testing.assert_array_equal(raw[run.encoder.tokens[2]], weight[2])


def test_projector_vectors_are_the_composed_ones(
    runs: dict[str, LoadedRun], tmp_path: Path
) -> None:
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

    run = runs["idf-sum"]
    folder = export_projector(run, tmp_path / "proj")
    vectors = _read_tensor_tsv_file(str(folder / "vectors.tsv"))
    tokens = (folder / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert vectors.shape == (run.encoder.vocab_size - 1, run.spec.embed_dim)
    i = tokens.index("goal")
    np.testing.assert_allclose(vectors[i], _composed(run, "goal"), atol=1e-6)
