"""The classifier formats: ONNX and TorchScript, each with a JSON sidecar.

Both wrap the trained ``TextClassifier`` and return probabilities: ONNX over padded
``[batch, seq]`` ids (:func:`pad_ids` builds them), TorchScript over the encoder's flat
``(ids, offsets)``. Both pool as ``TextClassifier.pooled`` does, idf row weights included.
The sidecar ``<out>.json`` tells a consumer how to build the ids (words, hashed bigrams,
hashed character n-grams) without this package. The README's *Export* section states the
input/output contract.
"""

from __future__ import annotations

import copy
import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.engine.analysis.inference import LoadedRun
from studio.engine.data.subwords import BOW, EOW, FNV_OFFSET, FNV_PRIME
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.data.tokenize import PAD_ID, UNK_ID
from studio.engine.export._files import check_file_target, write_file, write_text
from studio.engine.export._source import RunLike, loaded_run
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.errors import StudioError

__all__ = ["ONNX_OPSET", "SIDECAR_SUFFIX", "export_onnx", "export_torchscript", "pad_ids"]

ONNX_OPSET = 17
SIDECAR_SUFFIX = ".json"
_BIGRAM_RULE = (
    "after a text's unigram ids, for each consecutive pair of its unigram ids (a, b): "
    "vocab_size + ((a * 116049371) XOR b) mod ngram_buckets (64-bit integers)"
)
_CHAR_NGRAM_RULE = (
    "after the bigram ids, for each word token of the text in order (the token string as "
    "tokenized, also when it is not in the vocabulary): wrap it as bow + token + eow and "
    "take every run of minn to maxn consecutive characters (Unicode code points) of the "
    "wrapped string except the two one-character runs at its ends (the added bow and eow "
    "alone; a '<' or '>' of the token itself counts), ordered by start character, then by "
    "length (repeats kept); each run's id is first_row + h mod char_buckets, h being the 32-bit "
    "FNV-1a hash of the run's UTF-8 bytes as fastText's Dictionary::hash computes it: "
    "h = 2166136261, then for each byte b: h = ((h XOR s) * 16777619) mod 2^32, s being b "
    "sign-extended as an int8 (b - 256 if b >= 128) taken mod 2^32"
)
_ID_ORDER = (
    "a text's ids are its word ids (one per token), then its bigram ids, then the character "
    "n-gram ids of each of its tokens, token by token; an empty text has none"
)


def _output_kind(spec: ModelSpec) -> str:
    if not spec.sigmoid:
        return "softmax"
    return "binary" if spec.num_outputs == 1 else "sigmoid"


def _probabilities(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """``TextClassifier.probabilities`` with the spec folded into ``kind`` (TorchScript
    compiles this, so it compares literals rather than module constants)."""
    if kind == "softmax":
        return torch.softmax(logits, dim=-1)
    p = torch.sigmoid(logits)
    if kind == "binary":
        return torch.cat([1 - p, p], dim=-1)
    return p


class _PaddedClassifier(nn.Module):
    """``TextClassifier`` over padded ``[batch, seq]`` ids, pooling spelled out in plain ops
    (gather, mask, sum/max) so that it exports as standard ONNX without EmbeddingBag.

    With idf row weights, mean pooling is ``sum(w * E[ids]) / sum(w)`` for
    ``w = row_weight[ids] * (ids != pad)``, as :func:`~studio.engine.train.table_optim.pool`.
    """

    def __init__(self, model: TextClassifier) -> None:
        super().__init__()
        self.weight = nn.Parameter(model.embedding.weight.detach().clone(), requires_grad=False)
        self.head = copy.deepcopy(model.head).eval().requires_grad_(False)
        self.pooling = model.spec.pooling
        self.kind = _output_kind(model.spec)
        self.row_weight = _row_weight(model)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != PAD_ID  # [batch, seq]
        vectors = F.embedding(ids, self.weight)  # [batch, seq, dim]
        keep = mask.unsqueeze(-1)
        if self.pooling == "max":
            count = mask.sum(dim=1, keepdim=True)  # [batch, 1]
            pooled = vectors.masked_fill(~keep, float("-inf")).amax(dim=1)
            pooled = torch.where(count > 0, pooled, torch.zeros_like(pooled))  # empty bag: 0
        else:
            w = mask.to(vectors.dtype)  # [batch, seq]
            if self.row_weight is not None:
                w = w * F.embedding(ids, self.row_weight).squeeze(-1).to(vectors.dtype)
            pooled = (vectors * w.unsqueeze(-1)).sum(dim=1)
            if self.pooling == "mean":  # an empty bag sums to 0 and stays 0
                pooled = pooled / w.sum(dim=1, keepdim=True).clamp(min=1e-6)
            elif self.pooling == "sqrtn":
                pooled = pooled / w.square().sum(dim=1, keepdim=True).sqrt().clamp(min=1e-6)
        return _probabilities(self.head(pooled), self.kind)


def _row_weight(model: TextClassifier) -> nn.Parameter | None:
    """A frozen copy of the model's idf row weights as a ``[rows, 1]`` table (a gather), or
    None when the bag is unweighted (no weights, or max pooling, which ignores them)."""
    if model.row_weight is None or model.spec.pooling == "max":
        return None
    column = model.row_weight.detach().clone().float().unsqueeze(1)
    return nn.Parameter(column, requires_grad=False)


class _FlatClassifier(nn.Module):
    """``TextClassifier`` + probabilities over the flat ``(ids, offsets)`` layout (TorchScript
    compiles it: the weighted path reads a flag, never an optional attribute)."""

    def __init__(self, model: TextClassifier) -> None:
        super().__init__()
        self.embedding = copy.deepcopy(model.embedding).eval().requires_grad_(False)
        self.head = copy.deepcopy(model.head).eval().requires_grad_(False)
        self.kind = _output_kind(model.spec)
        weights = _row_weight(model)
        self.weighted = weights is not None
        self.row_weight = weights if weights is not None else nn.Parameter(torch.zeros(0, 1))
        self.mean = model.spec.pooling == "mean"
        self.sqrtn = model.spec.pooling == "sqrtn"
        self.pad_id = PAD_ID  # an attribute: TorchScript does not read module globals

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        if not self.weighted and not self.sqrtn:
            return _probabilities(self.head(self.embedding(ids, offsets)), self.kind)
        w = (ids != self.pad_id).to(self.embedding.weight.dtype)
        if self.weighted:
            w = w * self.row_weight[ids, 0]
        pooled = F.embedding_bag(
            ids, self.embedding.weight, offsets, mode="sum", per_sample_weights=w
        )
        if self.mean or self.sqrtn:
            ends = torch.cat([offsets[1:], torch.full_like(offsets[:1], ids.numel())])
            bags = torch.arange(offsets.numel(), device=ids.device)
            bag = torch.repeat_interleave(bags, ends - offsets)
            total = torch.zeros(offsets.numel(), dtype=w.dtype, device=ids.device)
            if self.mean:
                total = total.index_add_(0, bag, w)
            else:
                total = total.index_add_(0, bag, w * w).sqrt()
            pooled = pooled / total.clamp(min=1e-6).unsqueeze(1)
        return _probabilities(self.head(pooled), self.kind)


def pad_ids(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The encoder's flat ``(ids, offsets)`` (``offsets`` with ``n + 1`` entries) as the ONNX
    model's int64 ``[n, seq]`` input, right-padded with 0. ``seq`` is the longest text's
    length, at least 1 (so a batch of empty texts is ``[n, 1]`` of padding)."""
    ids = np.asarray(ids)
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    n = len(lengths)
    width = max(int(lengths.max()) if n else 0, 1)
    out = np.zeros((n, width), dtype=np.int64)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(int(offsets[-1] - offsets[0])) - np.repeat(offsets[:-1] - offsets[0], lengths)
    out[rows, cols] = ids[offsets[0] : offsets[-1]]
    return out


def export_onnx(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """The classifier as ONNX (the README's *Export* section states its contract)."""
    try:
        import onnx
    except ImportError:
        raise StudioError("exporting to ONNX needs the 'onnx' package: pip install onnx") from None
    path = Path(out)
    sidecar = _sidecar_path(path)
    check_file_target(path, overwrite, sidecar)
    loaded = loaded_run(run)
    wrapper = _PaddedClassifier(loaded.model).eval()
    example = torch.tensor([[UNK_ID, UNK_ID, PAD_ID], [UNK_ID, PAD_ID, PAD_ID]])
    note = _how_to_feed("onnx")

    def write(tmp: Path) -> None:
        kwargs: dict[str, Any] = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kwargs["dynamo"] = False  # the dynamo exporter needs onnxscript
        with warnings.catch_warnings(), torch.no_grad():
            # torch >= 2.9 deprecates this TorchScript-based exporter in favour of the dynamo
            # one, which needs onnxscript; the graph is plain opset-17 ops either way.
            warnings.filterwarnings(
                "ignore", "You are using the legacy TorchScript-based ONNX export"
            )
            warnings.filterwarnings(
                "ignore", "The feature will be removed", DeprecationWarning, r"torch\.onnx"
            )
            torch.onnx.export(
                wrapper,
                (example,),
                str(tmp),
                input_names=["ids"],
                output_names=["probabilities"],
                dynamic_axes={"ids": {0: "batch", 1: "seq"}, "probabilities": {0: "batch"}},
                opset_version=ONNX_OPSET,
                **kwargs,
            )
        proto = onnx.load(str(tmp))
        proto.doc_string = note
        meta = {
            "labels": json.dumps(list(loaded.labels), ensure_ascii=False),
            "multi_label": json.dumps(loaded.multi_label),
            "pad_id": str(PAD_ID),
            "sidecar": sidecar.name,
        }
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))

    write_file(path, write)
    _write_sidecar(sidecar, loaded, "onnx", path, note)
    return path


def export_torchscript(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """The classifier as a TorchScript archive taking ``(ids, offsets)``.

    ``torch.jit.load`` is for consumers of the file; the studio never loads one.
    """
    path = Path(out)
    sidecar = _sidecar_path(path)
    check_file_target(path, overwrite, sidecar)
    loaded = loaded_run(run)
    wrapper = _FlatClassifier(loaded.model).eval()

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            # recent torch deprecates TorchScript in favour of torch.export; this format is
            # asked for by name (libtorch in C++ and older torch versions load it).
            warnings.filterwarnings(
                "ignore", r"`torch\.jit\.(script|save)` is deprecated", DeprecationWarning
            )
            scripted = torch.jit.script(wrapper)
            torch.jit.save(scripted, str(tmp))

    write_file(path, write)
    _write_sidecar(sidecar, loaded, "torchscript", path, _how_to_feed("torchscript"))
    return path


def _sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _how_to_feed(fmt: str) -> str:
    encode = (
        "Encode each text as the studio does: token ids (encoder.kind 'words': Python re "
        "findall of \\w+|[^\\w\\s] on the text, lower-cased first if encoder.lowercase; id = "
        "position in encoder.tokens, 1 (<unk>) if absent; kind 'bpe': the ids of "
        "bpe_tokenizer), then, if encoder.ngram_buckets > 0, bigram ids ("
        + _BIGRAM_RULE
        + "), then, if char_ngrams is not null, character n-gram ids (char_ngrams.rule); "
        + _ID_ORDER
        + ". studio.engine.data.TextEncoder.from_json(encoder, bpe json).encode(texts) "
        "does all of this and returns flat (ids, offsets)."
    )
    if fmt == "onnx":
        feed = (
            "Input 'ids': int64 [batch, seq], row i = text i's ids right-padded with 0 "
            "(<pad>, ignored; an all-0 row is an empty text); any batch and seq "
            "(studio.engine.export.pad_ids(ids, offsets) builds it)."
        )
    else:
        feed = (
            "forward(ids, offsets): int64 1-D ids of all texts concatenated and int64 1-D "
            "offsets = the start of each text in ids (the encoder's offsets without the last "
            "entry); load with torch.jit.load."
        )
    return (
        f"{encode} {feed} Output 'probabilities': float32 [batch, len(labels)], columns in "
        "the order of labels (softmax; for multi-label an independent sigmoid per label; "
        "for two labels [1 - p, p])."
    )


def _write_sidecar(sidecar: Path, loaded: LoadedRun, fmt: str, model: Path, note: str) -> None:
    enc = loaded.encoder
    data = {
        "format": f"embedding-studio/{fmt}",
        "version": 1,
        "model_file": model.name,
        "run": str(loaded.path),
        "labels": list(loaded.labels),
        "multi_label": loaded.multi_label,
        "inputs": (
            [{"name": "ids", "dtype": "int64", "shape": ["batch", "seq"], "pad_id": PAD_ID}]
            if fmt == "onnx"
            else [
                {"name": "ids", "dtype": "int64", "shape": ["total_ids"]},
                {"name": "offsets", "dtype": "int64", "shape": ["batch"]},
            ]
        ),
        "outputs": [
            {"name": "probabilities", "dtype": "float32", "shape": ["batch", len(loaded.labels)]}
        ],
        "pad_id": PAD_ID,
        "unk_id": UNK_ID,
        "vocab_size": enc.vocab_size,
        "ngram_buckets": enc.ngram_buckets,
        "bigram_ids": _BIGRAM_RULE if enc.ngram_buckets > 0 else None,
        "char_ngrams": _char_ngram_entry(enc),
        "id_order": _ID_ORDER,
        "how_to_feed": note,
        "encoder": enc.to_json(),
        "bpe_tokenizer": json.loads(enc.bpe_json) if enc.bpe_json else None,
    }
    write_text(sidecar, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def _char_ngram_entry(enc: TextEncoder) -> dict[str, Any] | None:
    """The character n-gram hashing, field by field (None when the model has none)."""
    table = enc.subwords
    if table is None:
        return None
    return {
        "minn": table.minn,
        "maxn": table.maxn,
        "char_buckets": table.buckets,
        "first_row": table.first_row,
        "bow": BOW,
        "eow": EOW,
        "hash": {
            "name": "fnv1a-32",
            "input": "utf-8 bytes, each sign-extended as int8 (fastText's Dictionary::hash)",
            "offset_basis": int(FNV_OFFSET),
            "prime": int(FNV_PRIME),
        },
        "rule": _CHAR_NGRAM_RULE,
    }
