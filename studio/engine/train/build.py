"""What a fit builds before its first step: the encoder, the model, the data on the device.

Seeding, the text encoder and model shape of a prepared dataset, the model itself (with
pretrained vectors, a frozen or hand-fused table, a compiled head, one table replicated
across ranks) and the training and validation splits, each where the step reads it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from studio.config import StudioConfig
from studio.engine.data.prepare import PreparedDataset
from studio.engine.data.pretrained import load_vectors
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.train.batching import DeviceData, shard_bounds
from studio.engine.train.distributed import ProcessGroup
from studio.engine.train.mapped import MappedData, encode_docs, encode_texts, split_data
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.recipe import resolve_recipe


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def build_encoder(p: PreparedDataset, config: StudioConfig) -> TextEncoder:
    """The encoder of ``config`` for ``p`` (``"auto"`` settings resolved for ``p``)."""
    grams = resolve_recipe(config, p).tokenizer.char_ngrams
    assert grams != "auto"
    size = p.effective_vocab_size(config.tokenizer.vocab_size, config.tokenizer.min_freq)
    return TextEncoder(
        kind=p.tokenizer_kind,
        lowercase=p.lowercase,
        tokens=tuple(p.tokens[:size]),
        ngram_buckets=config.tokenizer.ngram_buckets,
        bpe_json=p.bpe_json,
        char_ngrams=grams,
        char_buckets=config.tokenizer.char_buckets if grams[0] else 0,
    )


def build_spec(config: StudioConfig, encoder: TextEncoder, p: PreparedDataset) -> ModelSpec:
    n_labels = len(p.label_names)
    binary = not p.multi_label and n_labels == 2
    return ModelSpec(
        num_embeddings=encoder.table_rows,
        embed_dim=config.model.embed_dim,
        num_outputs=1 if binary else n_labels,
        pooling=config.model.pooling,
        hidden=config.model.hidden,
        dropout=config.model.dropout,
        weighting=config.model.weighting,
        sigmoid=binary or p.multi_label,
    )


def encoded_split(
    p: PreparedDataset, encoder: TextEncoder, docs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids (vocabulary-capped, bigrams and n-grams added), offsets and targets of some
    documents; with character n-grams, encoded from their text (as new text is)."""
    if encoder.subwords is not None:
        ids, offsets = encode_texts(p, encoder, np.asarray(docs, dtype=np.int64))
        return ids, offsets, np.asarray(p.targets[docs])
    ids, offsets = encode_docs(p.ids, p.offsets, docs, encoder)
    return ids, offsets, np.asarray(p.targets[docs])


def uses_fused_table(config: StudioConfig) -> bool:
    """Row-wise Adagrad for the table: when asked for, trainable, and mean/sum pooled."""
    return (
        config.train.table_optimizer == "adagrad"
        and not config.model.freeze_embeddings
        and config.model.pooling in ("mean", "sum", "sqrtn")
    )


def build_model(
    config: StudioConfig,
    spec: ModelSpec,
    encoder: TextEncoder,
    device: torch.device,
    group: ProcessGroup | None = None,
) -> tuple[TextClassifier, int | None]:
    """The model on ``device``, and how many pretrained vectors were found (None: none asked).

    A hand-fused (row-wise Adagrad) or frozen table gets no autograd gradient; otherwise the
    table's gradient is sparse, except under DDP (NCCL reduces no sparse gradients).
    """
    fused = uses_fused_table(config)
    sparse = not fused and not config.model.freeze_embeddings and group is None
    # the vocabulary's rows start as fastText's do; the hashed bigram and n-gram rows at
    # zero: a 2M-bucket table no longer waits 1 s for random numbers, and a bucket that no
    # training document filled adds nothing to a prediction (README, "Performance")
    model = TextClassifier(spec, sparse=sparse, random_rows=encoder.vocab_size).to(device)
    found = init_pretrained(model, config, encoder)
    if config.model.freeze_embeddings or fused:
        model.embedding.weight.requires_grad_(False)
    if group is not None:
        with torch.no_grad():
            group.broadcast_(model.embedding.weight)  # one table, replicated
    if config.device.compile:
        # the dense layers only: the table's update is already fused by hand
        model.head = torch.compile(model.head)  # type: ignore[assignment]
    return model, found


def init_pretrained(
    model: TextClassifier, config: StudioConfig, encoder: TextEncoder
) -> int | None:
    """Copy the configured pretrained vectors into the table; the number of rows found."""
    path = config.model.pretrained_vectors
    if not path:
        return None
    rows, vectors = load_vectors(
        path, {t: i for i, t in enumerate(encoder.tokens)}, config.model.embed_dim
    )
    with torch.no_grad():
        weight = model.embedding.weight
        weight[torch.from_numpy(rows).to(weight.device)] = torch.from_numpy(vectors).to(
            weight.device
        )
    return len(rows)


class Splits(NamedTuple):
    """The training split and this rank's part of the validation split, on the device."""

    train: DeviceData | MappedData
    valid: DeviceData | MappedData
    valid_docs: np.ndarray  # document indices of the whole validation split
    valid_targets: torch.Tensor  # targets of the whole validation split, on the device


def build_splits(
    p: PreparedDataset, encoder: TextEncoder, device: torch.device, group: ProcessGroup | None
) -> Splits:
    """The splits a fit reads; in a distributed run each rank scores its part of ``valid``."""
    subwords = encoder.subword_rows(p.tokens) if encoder.subwords is not None else None
    train = split_data(p, np.asarray(p.train_idx), encoder, device, subwords)
    valid_idx = np.asarray(p.valid_idx)
    if group is None:
        valid = split_data(p, valid_idx, encoder, device, subwords, held_out=True)
        return Splits(train, valid, valid_idx, valid.targets)
    a, b = shard_bounds(len(valid_idx), group.world_size, group.rank)
    valid = split_data(p, valid_idx[a:b], encoder, device, subwords, held_out=True)
    targets = torch.from_numpy(np.asarray(p.targets[valid_idx])).to(device)
    return Splits(train, valid, valid_idx, targets)


def load_into(model: TextClassifier, state: dict[str, torch.Tensor]) -> None:
    """Load plain-named weights, also into a torch.compile'd head."""
    compiled = hasattr(model.head, "_orig_mod")
    if compiled:
        state = {
            (k.replace("head.", "head._orig_mod.", 1) if k.startswith("head.") else k): v
            for k, v in state.items()
        }
    model.load_state_dict(state)
