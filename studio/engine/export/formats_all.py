"""Export a run folder to formats other tools read: ``studio export RUN --format F --out PATH``.

Model formats (weights from ``model.safetensors``; the run is opened with ``load_run``):

``onnx`` -> one ``.onnx`` file (opset 17, plain ops: Gather, masks, reductions, Gemm) plus
    ``<out>.json``. Input ``ids``: int64 ``[batch, seq]``, one row per text holding the ids
    the studio's encoder gives it (tokens, then hashed bigrams when the run has n-gram
    buckets), right-padded with 0 (``<pad>``); padding is ignored, and an all-padding row
    is an empty text (it pools to zeros, like ``nn.EmbeddingBag``'s empty bag). Both axes
    are dynamic. Output ``probabilities``: float32 ``[batch, n_labels]`` in the order of
    the sidecar's ``labels`` (softmax; a sigmoid per label for multi-label; ``[1 - p, p]``
    for binary), exactly what ``LoadedRun.predict_proba`` returns. :func:`pad_ids` turns
    the encoder's flat ``(ids, offsets)`` into that matrix.
``torchscript`` -> one TorchScript archive plus ``<out>.json``. ``forward(ids, offsets)``
    takes the encoder's flat layout: int64 1-D ``ids`` and int64 1-D ``offsets`` (the start
    of each text, ``offsets[:-1]`` of the encoder's output), and returns the same
    ``probabilities``. Consumers load it with ``torch.jit.load``; the studio itself writes
    these archives and never loads one (nor anything else that unpickles).

The sidecar ``<out>.json`` holds what a consumer needs to build ``ids``: the labels, the
vocabulary and tokenizer settings (``encoder``, as in ``vocab.json``), the byte-level BPE
tokenizer (``bpe_tokenizer``, for BPE runs), the bigram hashing rule, and a ``how_to_feed``
note. With the studio installed::

    bpe = side["bpe_tokenizer"]
    enc = TextEncoder.from_json(side["encoder"], json.dumps(bpe) if bpe else None)
    probs = session.run(None, {"ids": pad_ids(*enc.encode(texts))})[0]  # onnxruntime

Embedding formats (the rows of the vocabulary: ``<unk>`` and every token, in id order;
``<pad>``, whose row is always zero, and the hashed bigram bucket rows are left out):

``word2vec`` -> the word2vec text format: a ``"N D"`` header, then ``token v1 ... vD`` per
    line (9 significant digits, so float32 values round-trip exactly); gensim's
    ``KeyedVectors.load_word2vec_format(path, binary=False)`` reads it.
``projector`` -> a folder for the TensorBoard / projector.tensorflow.org Embedding Projector:
    ``vectors.tsv`` (tab-separated floats, no header), ``metadata.tsv`` (one token per line
    and, being a single column, no header row, as the projector expects) and
    ``projector_config.pbtxt`` (so ``tensorboard --logdir FOLDER`` shows it).

Both escape whitespace inside a token (which would split a word2vec line or a TSV row) as
U+2581 ``▁``, one per whitespace character. The studio's own tokenizers never produce such
tokens (words are ``\\w+`` runs or single punctuation marks; BPE tokens use ``Ġ``), so this
is a safeguard; if escaping ever made two tokens equal, the later one gets ``#<id>`` added.

Training-curve formats (from ``metrics.jsonl``; no model is loaded, so a run that stopped
or failed part-way exports what it recorded):

``tensorboard`` -> event files in the out folder, the tags :class:`TensorBoardLogger` writes
    live (``train/loss`` and ``train/lr`` per reported step; ``train/epoch_loss``,
    ``val/loss``, ``val/accuracy``, ``val/macro_f1``, ``val/weighted_f1`` at each epoch's
    last step), with wall times from ``run.json``'s start time.
``csv`` -> a folder with ``steps.csv`` (step, epoch, loss, lr, time) and ``epochs.csv``
    (epoch, step, time, train_loss, val_loss, val_accuracy, val_macro_f1,
    val_weighted_f1, then the other epoch fields: elapsed, docs_per_second, ...). If
    ``out`` ends with ``.csv``, only the epoch table is written, to that one file. Numbers
    are written in Python's shortest round-trip form, booleans as ``true``/``false``.

Existing output is never replaced unless ``overwrite=True`` (``--overwrite``). A file
output is then replaced atomically; for a folder output only the files this export writes
(for ``tensorboard``, older ``events.out.tfevents.*``) are removed, nothing else in it.
Parent folders are created. Problems raise :class:`~studio.errors.StudioError` naming the
path; ``onnx`` needs the ``onnx`` package and ``tensorboard`` the ``tensorboard`` package
(both imported only when used).
"""

from __future__ import annotations

import copy
import csv
import inspect
import io
import json
import os
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.engine.analysis.inference import LoadedRun, load_run
from studio.engine.atomic import write_atomic
from studio.engine.data.tokenize import PAD_ID, UNK_ID
from studio.engine.runs.layout import METRICS_FILE, RUN_FILE, read_json, read_metrics
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.engine.train.tensorboard import (
    EPOCH_SCALARS,
    STEP_SCALARS,
    add_scalars,
    summary_writer_class,
)
from studio.errors import RunError, StudioError

FORMATS = ("onnx", "torchscript", "word2vec", "projector", "tensorboard", "csv")
ONNX_OPSET = 17
WHITESPACE_ESCAPE = "\u2581"
SIDECAR_SUFFIX = ".json"
EXPORT_FILE_MODE = 0o644  # exports are meant to be shared, unlike the temp file
STEP_COLUMNS = ("step", "epoch", "loss", "lr", "time")
EPOCH_COLUMNS = (
    "epoch",
    "step",
    "time",
    "train_loss",
    "val_loss",
    "val_accuracy",
    "val_macro_f1",
    "val_weighted_f1",
)
PROJECTOR_FILES = ("vectors.tsv", "metadata.tsv", "projector_config.pbtxt")
_BIGRAM_RULE = (
    "after a text's unigram ids, for each consecutive pair of its unigram ids (a, b): "
    "vocab_size + ((a * 116049371) XOR b) mod ngram_buckets (64-bit integers)"
)

RunLike = str | Path | LoadedRun


def export_run(run: RunLike, fmt: str, out: str | Path, *, overwrite: bool = False) -> Path:
    """Export ``run`` as ``fmt`` (one of :data:`FORMATS`) to ``out``; returns the path written."""
    exporters: dict[str, Callable[..., Path]] = {
        "onnx": export_onnx,
        "torchscript": export_torchscript,
        "word2vec": export_word2vec,
        "projector": export_projector,
        "tensorboard": export_tensorboard,
        "csv": export_csv,
    }
    if fmt not in exporters:
        raise StudioError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return exporters[fmt](run, out, overwrite=overwrite)


# -- model formats ---------------------------------------------------------------------------


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
    (gather, mask, sum/max) so that it exports as standard ONNX without EmbeddingBag."""

    def __init__(self, model: TextClassifier) -> None:
        super().__init__()
        self.weight = nn.Parameter(model.embedding.weight.detach().clone(), requires_grad=False)
        self.head = copy.deepcopy(model.head).eval().requires_grad_(False)
        self.pooling = model.spec.pooling
        self.kind = _output_kind(model.spec)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != PAD_ID  # [batch, seq]
        vectors = F.embedding(ids, self.weight)  # [batch, seq, dim]
        keep = mask.unsqueeze(-1)
        count = mask.sum(dim=1, keepdim=True)  # [batch, 1]
        if self.pooling == "max":
            pooled = vectors.masked_fill(~keep, float("-inf")).amax(dim=1)
            pooled = torch.where(count > 0, pooled, torch.zeros_like(pooled))  # empty bag: 0
        else:
            pooled = (vectors * keep.to(vectors.dtype)).sum(dim=1)
            if self.pooling == "mean":
                pooled = pooled / count.clamp(min=1).to(pooled.dtype)
        return _probabilities(self.head(pooled), self.kind)


class _FlatClassifier(nn.Module):
    """``TextClassifier`` + probabilities over the flat ``(ids, offsets)`` layout."""

    def __init__(self, model: TextClassifier) -> None:
        super().__init__()
        self.embedding = copy.deepcopy(model.embedding).eval().requires_grad_(False)
        self.head = copy.deepcopy(model.head).eval().requires_grad_(False)
        self.kind = _output_kind(model.spec)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return _probabilities(self.head(self.embedding(ids, offsets)), self.kind)


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
    """The classifier as ONNX (see the module docstring for the input/output contract)."""
    try:
        import onnx
    except ImportError:
        raise StudioError("exporting to ONNX needs the 'onnx' package: pip install onnx") from None
    path = Path(out)
    sidecar = _sidecar_path(path)
    _check_file_target(path, overwrite, sidecar)
    loaded = _loaded(run)
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

    _write_file(path, write)
    _write_sidecar(sidecar, loaded, "onnx", path, note)
    return path


def export_torchscript(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """The classifier as a TorchScript archive taking ``(ids, offsets)``.

    ``torch.jit.load`` is for consumers of the file; the studio never loads one.
    """
    path = Path(out)
    sidecar = _sidecar_path(path)
    _check_file_target(path, overwrite, sidecar)
    loaded = _loaded(run)
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

    _write_file(path, write)
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
        + "). studio.engine.data.TextEncoder.from_json(encoder, bpe json).encode(texts) "
        "does all of this and returns flat (ids, offsets)."
    )
    if fmt == "onnx":
        feed = (
            "Input 'ids': int64 [batch, seq], row i = text i's ids right-padded with 0 "
            "(<pad>, ignored; an all-0 row is an empty text); any batch and seq "
            "(studio.engine.export.formats_all.pad_ids(ids, offsets) builds it)."
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
        "how_to_feed": note,
        "encoder": enc.to_json(),
        "bpe_tokenizer": json.loads(enc.bpe_json) if enc.bpe_json else None,
    }
    _write_text(sidecar, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


# -- embedding formats -----------------------------------------------------------------------


def escape_token(token: str) -> str:
    """``token`` with each whitespace character replaced by U+2581 (``▁``)."""
    if not any(c.isspace() for c in token):
        return token
    return "".join(WHITESPACE_ESCAPE if c.isspace() else c for c in token)


def _vocabulary_rows(loaded: LoadedRun) -> tuple[list[str], np.ndarray]:
    """Escaped, unique names and embedding rows of ids ``1 .. vocab_size - 1``."""
    tokens = loaded.encoder.tokens
    weight = loaded.model.embedding.weight.detach().cpu().float().numpy()
    names: list[str] = []
    seen: set[str] = set()
    for i in range(UNK_ID, len(tokens)):
        name = escape_token(tokens[i]) or WHITESPACE_ESCAPE
        if name in seen:
            name = f"{name}#{i}"
        seen.add(name)
        names.append(name)
    return names, weight[UNK_ID : len(tokens)]


def _format_rows(rows: np.ndarray, sep: str) -> Iterable[str]:
    for row in rows.tolist():
        yield sep.join(f"{x:.9g}" for x in row)


def export_word2vec(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """The vocabulary's embedding rows in word2vec text format."""
    path = Path(out)
    _check_file_target(path, overwrite)
    names, rows = _vocabulary_rows(_loaded(run))
    buf = io.StringIO()
    buf.write(f"{rows.shape[0]} {rows.shape[1]}\n")
    for name, line in zip(names, _format_rows(rows, " "), strict=True):
        buf.write(f"{name} {line}\n")
    _write_text(path, buf.getvalue())
    return path


def export_projector(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """A folder for the Embedding Projector: vectors.tsv, metadata.tsv, projector config."""
    names, rows = _vocabulary_rows(_loaded(run))  # load first: a refused run leaves no folder
    folder = _prepare_folder(Path(out), overwrite, lambda name: name in PROJECTOR_FILES)
    _write_text(folder / "vectors.tsv", "".join(f"{line}\n" for line in _format_rows(rows, "\t")))
    _write_text(folder / "metadata.tsv", "".join(f"{name}\n" for name in names))
    _write_text(
        folder / "projector_config.pbtxt",
        "embeddings {\n"
        '  tensor_name: "embedding"\n'
        '  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        f"  tensor_shape: {rows.shape[0]}\n"
        f"  tensor_shape: {rows.shape[1]}\n"
        "}\n",
    )
    return folder


# -- training-curve formats ------------------------------------------------------------------


def _records(run: RunLike) -> tuple[Path, list[dict[str, Any]]]:
    run_dir = run.path if isinstance(run, LoadedRun) else Path(run)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a run folder")
    if not (run_dir / METRICS_FILE).is_file():
        raise RunError(f"{run_dir / METRICS_FILE}: missing")
    return run_dir, read_metrics(run_dir)


def _started(run_dir: Path) -> float | None:
    """The run's start as a Unix time (``run.json``), to turn record times into wall times."""
    try:
        return datetime.fromisoformat(str(read_json(run_dir / RUN_FILE)["started"])).timestamp()
    except (RunError, KeyError, TypeError, ValueError):
        return None


def export_tensorboard(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """TensorBoard event files with the run's training curves."""
    writer_class = summary_writer_class()
    run_dir, records = _records(run)
    folder = _prepare_folder(
        Path(out), overwrite, lambda name: name.startswith("events.out.tfevents.")
    )
    t0 = _started(run_dir)
    writer = writer_class(log_dir=str(folder))
    try:
        for record in records:
            tags = {"step": STEP_SCALARS, "epoch": EPOCH_SCALARS}.get(record.get("type", ""))
            if tags is None or not isinstance(record.get("step"), int):
                continue
            time = record.get("time")
            wall = t0 + time if t0 is not None and isinstance(time, (int, float)) else None
            add_scalars(writer, tags, record, walltime=wall)
    finally:
        writer.close()
    return folder


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _table(records: list[dict[str, Any]], leading: tuple[str, ...]) -> str:
    columns = list(leading)
    for record in records:
        columns += [k for k in record if k != "type" and k not in columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return buf.getvalue()


def export_csv(run: RunLike, out: str | Path, *, overwrite: bool = False) -> Path:
    """``steps.csv`` + ``epochs.csv`` in a folder, or only the epochs if ``out`` is ``*.csv``."""
    _, records = _records(run)
    steps = [r for r in records if r.get("type") == "step"]
    epochs = [r for r in records if r.get("type") == "epoch"]
    path = Path(out)
    if path.suffix.lower() == ".csv":
        _check_file_target(path, overwrite)
        _write_text(path, _table(epochs, EPOCH_COLUMNS))
        return path
    names = ("steps.csv", "epochs.csv")
    folder = _prepare_folder(path, overwrite, lambda name: name in names)
    _write_text(folder / "steps.csv", _table(steps, STEP_COLUMNS))
    _write_text(folder / "epochs.csv", _table(epochs, EPOCH_COLUMNS))
    return folder


# -- output paths ----------------------------------------------------------------------------


def _loaded(run: RunLike) -> LoadedRun:
    return run if isinstance(run, LoadedRun) else load_run(run)


def _check_file_target(path: Path, overwrite: bool, *others: Path) -> None:
    """Refuse folders and (without ``overwrite``) existing files; create the parent folder."""
    for p in (path, *others):
        if p.is_dir():
            raise StudioError(f"{p}: is a folder; give a file name to export to")
        if p.exists() and not overwrite:
            raise StudioError(f"{p}: already exists (--overwrite replaces it)")
    _mkdir(path.parent)


def _prepare_folder(folder: Path, overwrite: bool, ours: Callable[[str], bool]) -> Path:
    """An empty (or, with ``overwrite``, cleared of our own files) output folder."""
    if folder.exists() and not folder.is_dir():
        raise StudioError(f"{folder}: is a file; give a folder to export to")
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise StudioError(f"{folder}: folder is not empty (--overwrite replaces its files)")
        for child in folder.iterdir():
            if child.is_file() and ours(child.name):
                try:
                    child.unlink()
                except OSError as exc:
                    raise StudioError(f"{child}: cannot remove: {exc.strerror or exc}") from None
    _mkdir(folder)
    return folder


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"{folder}: cannot create the folder: {exc.strerror or exc}") from None


def _write_file(path: Path, write: Callable[[Path], Any]) -> None:
    """Write via a temp file and a rename; readable by others (the temp file is 0600)."""

    def write_shared(tmp: Path) -> None:
        write(tmp)
        os.chmod(tmp, EXPORT_FILE_MODE)

    try:
        write_atomic(path, write_shared)
    except OSError as exc:
        raise StudioError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _write_text(path: Path, text: str) -> None:
    _write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
