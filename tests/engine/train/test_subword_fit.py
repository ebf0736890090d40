"""Fits with character n-grams and idf weights: cached ids, text and inference agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.config import DataConfig, StudioConfig
from studio.engine import prepare_dataset
from studio.engine.analysis.inference import load_run
from studio.engine.analysis.report import predict_split
from studio.engine.data.prepare import cache_key
from studio.engine.train.build import build_encoder
from studio.engine.train.mapped import encode_docs, encode_texts
from studio.engine.train.session import train_run


def _config(path: Path, **tokenizer: object) -> StudioConfig:
    return StudioConfig(data=DataConfig(path=str(path))).with_overrides(
        tokenizer={"vocab_size": 40, "ngram_buckets": 50, **tokenizer},
        model={"embed_dim": 8},
        train={"epochs": 2, "batch_size": 32},
    )


def test_cached_ids_and_text_give_the_same_bags(topics_csv: Path, tmp_path: Path) -> None:
    config = _config(topics_csv, char_ngrams=(2, 4), char_buckets=300, vocab_size=20)
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    encoder = build_encoder(p, config)
    subwords = encoder.subword_rows(p.tokens)
    docs = np.asarray(p.train_idx[:200], dtype=np.int64)
    cached = encode_docs(p.ids, p.offsets, docs, encoder, subwords)
    from_text = encode_texts(p, encoder, docs)
    assert np.array_equal(cached[1], from_text[1]) and np.array_equal(cached[0], from_text[0])
    # the vocabulary is capped at 20 words: a word past it is <unk> but keeps its n-grams
    assert len(p.tokens) > encoder.vocab_size == 20
    i = next(i for i, d in enumerate(docs) if (p.ids[p.offsets[d] : p.offsets[d + 1]] >= 20).any())
    words = p.ids[p.offsets[docs[i]] : p.offsets[docs[i] + 1]]
    rare = p.tokens[int(words[words >= 20][0])]
    bag = cached[0][cached[1][i] : cached[1][i + 1]]
    assert encoder.subwords is not None
    assert set(encoder.subwords.of_word(rare).tolist()) <= set(bag.tolist())


def test_ngram_settings_change_the_bags_not_the_prepared_cache(
    topics_csv: Path, tmp_path: Path
) -> None:
    plain, grams = _config(topics_csv, char_ngrams=(0, 0)), _config(topics_csv, char_ngrams=(3, 6))
    # n-grams are computed per fit from the cached word ids: one prepared cache serves both
    assert cache_key(plain.data, plain.tokenizer) == cache_key(grams.data, grams.tokenizer)
    p = prepare_dataset(plain.data, plain.tokenizer, cache_dir=tmp_path / "cache")
    docs = np.asarray(p.train_idx[:50], dtype=np.int64)
    bags = []
    for config in (plain, grams, _config(topics_csv, char_ngrams=(2, 3))):
        enc = build_encoder(p, config)
        sub = enc.subword_rows(p.tokens) if enc.subwords is not None else None
        bags.append(encode_docs(p.ids, p.offsets, docs, enc, sub)[0])
    assert len(bags[0]) < len(bags[1]) and len(bags[1]) != len(bags[2])


def test_a_run_with_ngrams_and_idf_predicts_new_text_as_it_scored_test(
    topics_csv: Path, tmp_path: Path
) -> None:
    config = _config(topics_csv, char_ngrams=(2, 5), char_buckets=500).with_overrides(
        model={"weighting": "idf"}
    )
    p = prepare_dataset(config.data, config.tokenizer, cache_dir=tmp_path / "cache")
    result = train_run(config, runs_dir=tmp_path / "runs", prepared=p)
    run = load_run(result.run_dir)
    assert run.encoder.char_ngrams == (2, 5) and run.model.row_weight is not None
    assert float(run.model.row_weight.max()) > float(run.model.row_weight.min())  # idf saved
    scored = predict_split(run, p, "test")
    texts = [p.text(int(i)) for i in p.split_indices("test")]
    fresh = run.predict_proba(texts)  # new text: tokenized, n-grams hashed, idf-weighted
    np.testing.assert_allclose(scored.probs, fresh, rtol=1e-5, atol=1e-6)
    right = scored.probs.argmax(1) == scored.y_true
    assert right.mean() > 0.5  # it learnt the topics
