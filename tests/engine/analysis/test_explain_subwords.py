"""Explanations of models with character n-grams and idf row weights: exact and occluded."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.config import DataConfig, StudioConfig
from studio.engine import train_run
from studio.engine.analysis.explain import explain
from studio.engine.analysis.inference import LoadedRun, load_run
from studio.engine.data.ids import add_bigrams
from tests.conftest import TOPICS, write_topics_csv

# "cheeses" and "goals" are not words of the data, but share most n-grams with ones that are
TEXT = "the goal of the zzzqx team was bread and cheeses with goals"
GRAMS = {"char_ngrams": (2, 4), "char_buckets": 400}


@pytest.fixture(scope="module")
def train(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., LoadedRun]:
    root = tmp_path_factory.mktemp("explain_subwords")
    csv = write_topics_csv(root / "topics.csv", n=900)
    done: dict[str, LoadedRun] = {}

    def _train(**sections: dict[str, Any]) -> LoadedRun:
        key = repr(sorted(sections.items()))
        if key not in done:
            config = StudioConfig(data=DataConfig(path=str(csv))).with_overrides(
                train={"epochs": 3, "lr": 0.05},
                tokenizer={
                    "ngram_buckets": 0,
                    "char_ngrams": (0, 0),
                    **sections.get("tokenizer", {}),
                },
                model={"embed_dim": 16, "kind": "embedding", **sections.get("model", {})},
            )
            result = train_run(config, runs_dir=root / "runs", cache_dir=root / "cache")
            done[key] = load_run(Path(str(result.run_dir)))
        return done[key]

    return _train


def _logits(run: LoadedRun, text: str) -> np.ndarray:
    """The model's logits, computed in float64: the exact explanation's sums are float64,
    and float32 logits carry rounding of 3e-5 once a sum-pooled logit reaches the hundreds."""
    ids, offsets = run.encoder.encode([text])
    model = copy.deepcopy(run.model).double()
    with torch.no_grad():
        out = model(torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1]))
    return out[0].numpy()


def _probs_of_bag(run: LoadedRun, bag: list[int]) -> np.ndarray:
    with torch.no_grad():
        logits = run.model(torch.tensor(bag, dtype=torch.int64), torch.tensor([0]))
    return run.model.probabilities(logits)[0].double().numpy()


@pytest.mark.parametrize(
    "sections",
    [
        {"tokenizer": GRAMS},
        {"tokenizer": {**GRAMS, "ngram_buckets": 300}, "model": {"weighting": "idf"}},
        {"tokenizer": {**GRAMS, "ngram_buckets": 300}, "model": {"pooling": "sum"}},
        {"tokenizer": {"ngram_buckets": 300}, "model": {"weighting": "idf"}},
        {"tokenizer": {**GRAMS, "vocab_size": 20}, "model": {"weighting": "idf", "pooling": "sum"}},
        {"tokenizer": {**GRAMS, "ngram_buckets": 300}, "model": {"kind": "linear"}},
    ],
    ids=[
        "ngrams-mean",
        "ngrams-bigrams-idf-mean",
        "ngrams-bigrams-sum",
        "bigrams-idf",
        "capped",
        "linear-sqrtn-idf",
    ],
)
def test_exact_contributions_with_ngrams_and_idf_reproduce_the_logits(
    train: Callable[..., LoadedRun], sections: dict[str, Any]
) -> None:
    run = train(**sections)
    model = sections.get("model", {})
    idf = model.get("weighting") == "idf" or model.get("kind") == "linear"
    assert (run.model.row_weight is not None) == idf
    if run.model.row_weight is not None:  # the idf was filled in, not left at ones
        assert float(run.model.row_weight.max()) > float(run.model.row_weight.min())
    logits = _logits(run, TEXT)
    for c, name in enumerate(run.labels):
        e = explain(run, TEXT, target=name)
        assert e.method == "exact" and e.bias is not None
        assert [t.token for t in e.tokens] == run.encoder.tokenize(TEXT)
        total = sum(t.contribution for t in e.tokens) + e.bias
        np.testing.assert_allclose(total, logits[c], rtol=1e-5, atol=1e-5)


def test_each_token_owns_its_row_and_its_ngram_rows(train: Callable[..., LoadedRun]) -> None:
    # sum pooling, no bigrams: the logit is additive, so dropping a word from the text takes
    # away exactly that word's contribution (its own row and its n-grams, idf-weighted)
    run = train(tokenizer=GRAMS, model={"weighting": "idf", "pooling": "sum"})
    e = explain(run, TEXT, target="food")
    food = run.labels.index("food")
    full = _logits(run, TEXT)[food]
    tokens = [t.token for t in e.tokens]
    for i, score in enumerate(e.tokens):
        without = " ".join(tokens[:i] + tokens[i + 1 :])
        drop = full - _logits(run, without)[food]
        assert score.contribution == pytest.approx(drop, rel=1e-4, abs=1e-5)
    assert e.tokens[tokens.index("cheeses")].contribution > 0  # its n-grams speak for food


def test_oov_words_with_ngrams_are_flagged_as_covered(train: Callable[..., LoadedRun]) -> None:
    run = train(tokenizer=GRAMS)
    subwords = run.encoder.subwords
    assert subwords is not None
    e = explain(run, TEXT)
    by_token = {t.token: t for t in e.tokens}
    for t in e.tokens:
        assert t.subwords == len(subwords.of_word(t.token)) > 0
    assert by_token["zzzqx"].oov and by_token["cheeses"].oov and not by_token["goal"].oov
    # word_rows (fastText's get_word_vector) of an OOV word are exactly its n-gram rows
    assert len(run.encoder.word_rows("cheeses")) == by_token["cheeses"].subwords
    assert len(run.encoder.word_rows("goal")) == by_token["goal"].subwords + 1
    plain = train()
    assert all(t.subwords == 0 for t in explain(plain, TEXT).tokens)
    assert explain(plain, TEXT).tokens[4].oov  # zzzqx: <unk> and nothing else


def test_occlusion_with_ngrams_and_idf_drops_the_words_rows(
    train: Callable[..., LoadedRun],
) -> None:
    run = train(tokenizer=GRAMS, model={"hidden": (8,), "weighting": "idf"})
    text = "the goal of a team at the match was cheeses"
    e = explain(run, text, target="sport")
    assert e.method == "occlusion" and e.bias is None
    sport = run.labels.index("sport")
    p_full = dict(e.probabilities)["sport"]
    tokens = [t.token for t in e.tokens]
    for i in range(len(tokens)):  # no bigrams: the variant is the text without the word
        without = " ".join(tokens[:i] + tokens[i + 1 :])
        p_without = run.predict_proba([without])[0][sport]
        assert e.tokens[i].contribution == pytest.approx(p_full - p_without, abs=1e-5)
    assert max(tokens, key=lambda w: e.tokens[tokens.index(w)].contribution) in TOPICS["sport"]


def test_occlusion_removes_the_ngrams_and_bigrams_of_the_token(
    train: Callable[..., LoadedRun],
) -> None:
    run = train(tokenizer={**GRAMS, "ngram_buckets": 300}, model={"hidden": (8,)})
    enc = run.encoder
    assert enc.subwords is not None
    text = "goal team cheeses"
    e = explain(run, text, target="food")
    words = np.asarray(enc.token_ids([text])[0], dtype=np.int32)
    bag, _ = add_bigrams(words, np.array([0, 3]), enc.vocab_size, enc.ngram_buckets)
    grams = [enc.subwords.of_word(w).tolist() for w in ("goal", "team", "cheeses")]
    assert enc.encode([text])[0].tolist() == bag.tolist() + grams[0] + grams[1] + grams[2]
    # dropping "team" leaves goal, cheeses, their n-grams, and no bigram at all
    kept = [int(words[0]), int(words[2]), *grams[0], *grams[2]]
    food = run.labels.index("food")
    p_full = dict(e.probabilities)["food"]
    assert e.tokens[1].contribution == pytest.approx(
        p_full - _probs_of_bag(run, kept)[food], abs=1e-5
    )
    # dropping "cheeses" (last) leaves goal, team, their bigram and their n-grams
    kept = [int(words[0]), int(words[1]), int(bag[3]), *grams[0], *grams[1]]
    assert e.tokens[2].contribution == pytest.approx(
        p_full - _probs_of_bag(run, kept)[food], abs=1e-5
    )
