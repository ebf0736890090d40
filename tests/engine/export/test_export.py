"""``studio export``: every format read back by the tool it is meant for.

ONNX by onnxruntime, TorchScript by ``torch.jit.load``, word2vec by gensim, the projector
files by TensorBoard's projector reader, event files by TensorBoard's EventAccumulator,
CSV by the csv module. Predictions must match ``LoadedRun.predict_proba``.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.cli.parser import build_parser
from studio.config import DataConfig, StudioConfig
from studio.engine import train_run
from studio.engine.analysis.inference import LoadedRun, load_run
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.export import FORMATS, export_run, pad_ids
from studio.engine.export.classifier import export_onnx, export_torchscript
from studio.engine.export.curves import export_csv, export_tensorboard
from studio.engine.export.vectors import (
    WHITESPACE_ESCAPE,
    escape_token,
    export_projector,
    export_word2vec,
)
from studio.engine.runs.layout import read_metrics
from studio.engine.train.tensorboard import EPOCH_SCALARS, TENSORBOARD_DIR
from studio.errors import RunError, StudioError
from tests.conftest import TOPICS, write_topics_csv

TEXTS = [
    "",
    "the",
    "ball",
    "ball goal team match",
    "CODE Computer software bug!",
    "eat cook bread, cheese; taste recipe meal soup oven spice",
    "zebra quux unknown words only",
    "the a of and to in is it that was for on with as by at",
    " ".join(["kernel compile server"] * 40),
    "!!! ??? ...",
    "   ",
    "soup",
    "the the the the the",
    "coach referee league score win play",
    "data cloud chip the and of",
    "spice oven bread eat eat eat",
    "a",
    "team",
    "bug bug bug data data",
    "win" + " lose" * 7 + " goal",
]


def _binary_csv(path: Path, n: int = 600, seed: int = 1) -> Path:
    rng = random.Random(seed)
    common = ["the", "a", "of", "and", "to"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(n):
            label = rng.choice(["sport", "tech"])
            words = [
                rng.choice(TOPICS[label]) if rng.random() < 0.4 else rng.choice(common)
                for _ in range(rng.randint(3, 15))
            ]
            fh.write(f"{' '.join(words)},{label}\n")
    return path


def _multi_label_csv(path: Path, n: int = 600, seed: int = 2) -> Path:
    rng = random.Random(seed)
    names = sorted(TOPICS)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for _ in range(n):
            labels = rng.sample(names, rng.randint(1, 2))
            words = [rng.choice(TOPICS[rng.choice(labels)]) for _ in range(rng.randint(3, 12))]
            fh.write(f"{' '.join(words)},{'|'.join(sorted(labels))}\n")
    return path


SETUPS: dict[str, dict[str, Any]] = {
    # three classes, mean pooling, a hidden layer, hashed bigrams (ids >= vocab size)
    "mean-bigrams": {
        "data": "topics",
        "tokenizer": {"ngram_buckets": 97, "char_ngrams": (0, 0)},
        "model": {"pooling": "mean", "hidden": (8,), "embed_dim": 12},
    },
    # max pooling, no bigrams, no hidden layer
    "max-plain": {
        "data": "topics",
        "tokenizer": {"ngram_buckets": 0, "char_ngrams": (0, 0)},
        "model": {"pooling": "max", "embed_dim": 10},
    },
    # binary (one sigmoid output -> two columns), sum pooling, byte-level BPE
    "binary-sum-bpe": {
        "data": "binary",
        "tokenizer": {"kind": "bpe", "vocab_size": 300, "ngram_buckets": 31},
        "model": {"pooling": "sum", "embed_dim": 8},
    },
    # model.kind = "linear": sqrtn pooling with idf row weights, one column per class
    "linear-sqrtn": {
        "data": "topics",
        "tokenizer": {"ngram_buckets": 97, "char_ngrams": (2, 4), "char_buckets": 89},
        "model": {"kind": "linear"},
    },
    # multi-label: a sigmoid per label
    "multilabel": {
        "data": "multi",
        "tokenizer": {"ngram_buckets": 0, "char_ngrams": (0, 0)},
        "model": {"pooling": "mean", "embed_dim": 8},
    },
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("export-runs")
    data = {
        "topics": DataConfig(path=str(write_topics_csv(base / "topics.csv", n=600))),
        "binary": DataConfig(path=str(_binary_csv(base / "binary.csv"))),
        "multi": DataConfig(path=str(_multi_label_csv(base / "multi.csv")), label_delimiter="|"),
    }
    out = {}
    for name, setup in SETUPS.items():
        config = StudioConfig(data=data[setup["data"]]).with_overrides(
            tokenizer=setup["tokenizer"],
            model=setup["model"],
            train={"epochs": 2, "batch_size": 32},
        )
        result = train_run(config, runs_dir=base / "runs", cache_dir=base / "cache")
        assert result.status == "finished" and result.run_dir
        out[name] = Path(result.run_dir)
    return out


@pytest.fixture(scope="module")
def loaded(runs: dict[str, Path]) -> dict[str, LoadedRun]:
    return {name: load_run(path) for name, path in runs.items()}


def _jit_load(path: Path) -> Any:
    with warnings.catch_warnings():
        # torch >= 2.10 deprecates TorchScript; loading the archive is the point of this test
        warnings.filterwarnings("ignore", r"`torch\.jit\.load` is deprecated", DeprecationWarning)
        return torch.jit.load(str(path))


# -- pad_ids / escaping ----------------------------------------------------------------------


def test_pad_ids_right_pads_with_zero() -> None:
    ids = np.array([5, 6, 7, 8, 9], dtype=np.int32)
    offsets = np.array([0, 3, 3, 5], dtype=np.int64)
    np.testing.assert_array_equal(pad_ids(ids, offsets), [[5, 6, 7], [0, 0, 0], [8, 9, 0]])
    assert pad_ids(ids, offsets).dtype == np.int64
    empty = pad_ids(np.zeros(0, dtype=np.int32), np.zeros(3, dtype=np.int64))
    assert empty.shape == (2, 1) and not empty.any()


def test_escape_token_replaces_each_whitespace_character() -> None:
    assert escape_token("new york") == f"new{WHITESPACE_ESCAPE}york"
    assert escape_token("a\tb\nc") == f"a{WHITESPACE_ESCAPE}b{WHITESPACE_ESCAPE}c"
    assert escape_token("plain") == "plain"


# -- ONNX ------------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS))
def test_onnx_matches_predict_proba_in_onnxruntime(
    setup: str, loaded: dict[str, LoadedRun], tmp_path: Path
) -> None:
    import onnx
    import onnxruntime as ort

    run = loaded[setup]
    path = export_onnx(run.path, tmp_path / "out" / "model.onnx")
    assert path == tmp_path / "out" / "model.onnx"
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["ids"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]

    expected = run.predict_proba(TEXTS)
    assert expected.shape == (len(TEXTS), len(run.labels))
    ids, offsets = run.encoder.encode(TEXTS)
    if SETUPS[setup]["tokenizer"]["ngram_buckets"]:
        assert ids.max() >= run.encoder.vocab_size  # bigram rows really are fed
    (got,) = session.run(None, {"ids": pad_ids(ids, offsets)})
    np.testing.assert_allclose(got, expected, atol=1e-5)

    # dynamic axes: other batch sizes and sequence lengths in the same session
    for chunk in ([TEXTS[0]], TEXTS[1:4], TEXTS[5:12], [TEXTS[8], TEXTS[0]]):
        (part,) = session.run(None, {"ids": pad_ids(*run.encoder.encode(chunk))})
        np.testing.assert_allclose(part, run.predict_proba(chunk), atol=1e-5)
    # extra right padding changes nothing
    wide = np.pad(pad_ids(ids, offsets), ((0, 0), (0, 7)))
    np.testing.assert_allclose(session.run(None, {"ids": wide})[0], expected, atol=1e-5)


def test_onnx_sidecar_rebuilds_the_encoder(loaded: dict[str, LoadedRun], tmp_path: Path) -> None:
    import onnx

    for setup in ("mean-bigrams", "binary-sum-bpe"):
        run = loaded[setup]
        path = export_onnx(run, tmp_path / setup / "m.onnx")
        side = json.loads((tmp_path / setup / "m.onnx.json").read_text(encoding="utf-8"))
        assert side["labels"] == list(run.labels)
        assert side["model_file"] == "m.onnx"
        assert side["inputs"][0]["name"] == "ids" and side["pad_id"] == 0
        assert "right-padded with 0" in side["how_to_feed"]
        bpe = side["bpe_tokenizer"]
        assert (bpe is not None) == (run.encoder.kind == "bpe")
        encoder = TextEncoder.from_json(side["encoder"], json.dumps(bpe) if bpe else None)
        for a, b in zip(encoder.encode(TEXTS), run.encoder.encode(TEXTS), strict=True):
            np.testing.assert_array_equal(a, b)
        meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert json.loads(meta["labels"]) == list(run.labels)


def test_sidecar_recipe_reproduces_the_ids_without_the_studio(
    loaded: dict[str, LoadedRun], tmp_path: Path
) -> None:
    """What a consumer in another language would do, following only the sidecar."""
    import re
    from itertools import pairwise

    run = loaded["mean-bigrams"]
    export_onnx(run, tmp_path / "m.onnx")
    side = json.loads((tmp_path / "m.onnx.json").read_text(encoding="utf-8"))
    enc = side["encoder"]
    index = {t: i for i, t in enumerate(enc["tokens"])}
    vocab, buckets = side["vocab_size"], side["ngram_buckets"]
    assert enc["kind"] == "words" and buckets > 0 and side["bigram_ids"]
    rows = []
    for text in TEXTS:
        words = re.findall(r"\w+|[^\w\s]", text.lower() if enc["lowercase"] else text)
        ids = [index.get(w, side["unk_id"]) for w in words]
        ids += [vocab + ((a * 116049371) ^ b) % buckets for a, b in pairwise(ids)]
        rows.append(ids)
    padded = np.zeros((len(rows), max(map(len, rows))), dtype=np.int64)
    for i, ids in enumerate(rows):
        padded[i, : len(ids)] = ids
    np.testing.assert_array_equal(padded, pad_ids(*run.encoder.encode(TEXTS)))


def test_onnx_without_the_package_is_a_clear_error(
    loaded: dict[str, LoadedRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    with pytest.raises(StudioError, match=r"needs the 'onnx' package: pip install onnx"):
        export_onnx(loaded["max-plain"], tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


# -- TorchScript -----------------------------------------------------------------------------


@pytest.mark.parametrize("setup", list(SETUPS))
def test_torchscript_matches_predict_proba_after_jit_load(
    setup: str, loaded: dict[str, LoadedRun], tmp_path: Path
) -> None:
    run = loaded[setup]
    path = export_torchscript(run.path, tmp_path / "model.pt")
    module = _jit_load(path)
    ids, offsets = run.encoder.encode(TEXTS)
    with torch.no_grad():
        got = module(torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1]))
    np.testing.assert_allclose(got.numpy(), run.predict_proba(TEXTS), atol=1e-5)
    with torch.no_grad():  # another batch size
        ids2, offsets2 = run.encoder.encode(TEXTS[3:5])
        got2 = module(torch.from_numpy(ids2.astype(np.int64)), torch.from_numpy(offsets2[:-1]))
    np.testing.assert_allclose(got2.numpy(), run.predict_proba(TEXTS[3:5]), atol=1e-5)
    side = json.loads((tmp_path / "model.pt.json").read_text(encoding="utf-8"))
    assert side["format"] == "embedding-studio/torchscript"
    assert [i["name"] for i in side["inputs"]] == ["ids", "offsets"]


# -- embeddings ------------------------------------------------------------------------------


@pytest.mark.parametrize("setup", ["mean-bigrams", "binary-sum-bpe"])
def test_word2vec_loads_in_gensim(setup: str, loaded: dict[str, LoadedRun], tmp_path: Path) -> None:
    from gensim.models import KeyedVectors

    run = loaded[setup]
    path = export_word2vec(run.path, tmp_path / "vectors.txt")
    kv = KeyedVectors.load_word2vec_format(str(path), binary=False)
    weight = run.model.embedding.weight.detach().numpy()
    vocab = run.encoder.vocab_size
    assert len(kv.index_to_key) == vocab - 1  # every vocabulary row but <pad>, no buckets
    assert kv.vector_size == run.spec.embed_dim
    assert "<pad>" not in kv.key_to_index
    assert kv.index_to_key[0] == "<unk>"
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o644  # shareable, unlike a run's temp files
    for token_id in (1, 2, 3, vocab // 2, vocab - 1):
        token = escape_token(run.encoder.tokens[token_id])
        np.testing.assert_array_equal(kv[token], weight[token_id])


def test_word2vec_escapes_whitespace_in_tokens(
    loaded: dict[str, LoadedRun], tmp_path: Path
) -> None:
    from dataclasses import replace

    from gensim.models import KeyedVectors

    run = loaded["max-plain"]
    tokens = list(run.encoder.tokens)
    tokens[2], tokens[3] = "new york", "tab\there"
    odd = replace(run, encoder=TextEncoder("words", True, tuple(tokens)))
    path = export_word2vec(odd, tmp_path / "odd.txt")
    kv = KeyedVectors.load_word2vec_format(str(path), binary=False)
    assert len(kv.index_to_key) == len(tokens) - 1
    weight = run.model.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(kv[f"new{WHITESPACE_ESCAPE}york"], weight[2])
    np.testing.assert_array_equal(kv[f"tab{WHITESPACE_ESCAPE}here"], weight[3])


def test_projector_files_parse_and_line_up(loaded: dict[str, LoadedRun], tmp_path: Path) -> None:
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
    from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

    run = loaded["mean-bigrams"]
    folder = export_projector(run.path, tmp_path / "proj")
    vectors = _read_tensor_tsv_file(str(folder / "vectors.tsv"))
    tokens = (folder / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    vocab = run.encoder.vocab_size
    assert vectors.shape == (vocab - 1, run.spec.embed_dim)
    assert len(tokens) == vectors.shape[0]  # single column: no header row
    assert tokens[0] == "<unk>" and "<pad>" not in tokens
    assert tokens == [escape_token(t) for t in run.encoder.tokens[1:]]
    weight = run.model.embedding.weight.detach().numpy()
    np.testing.assert_array_equal(vectors, weight[1:vocab])
    config = text_format.Parse(
        (folder / "projector_config.pbtxt").read_text(encoding="utf-8"), ProjectorConfig()
    )
    (emb,) = config.embeddings
    assert emb.tensor_path == "vectors.tsv" and emb.metadata_path == "metadata.tsv"
    assert list(emb.tensor_shape) == list(vectors.shape)


# -- training curves -------------------------------------------------------------------------


def _scalars(folder: Path) -> dict[str, list[Any]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: acc.Scalars(tag) for tag in acc.Tags()["scalars"]}


def _check_curves(scalars: dict[str, list[Any]], records: list[dict[str, Any]]) -> None:
    steps = [r for r in records if r["type"] == "step"]
    epochs = [r for r in records if r["type"] == "epoch"]
    assert steps and len(epochs) == 2
    loss = scalars["train/loss"]
    assert len(loss) == len(steps)
    assert [e.step for e in loss] == [r["step"] for r in steps]
    np.testing.assert_allclose([e.value for e in loss], [r["loss"] for r in steps], rtol=1e-6)
    for tag, key in EPOCH_SCALARS.items():
        events = scalars[tag]
        assert [e.step for e in events] == [r["step"] for r in epochs]
        np.testing.assert_allclose([e.value for e in events], [r[key] for r in epochs], rtol=1e-6)


def test_tensorboard_export_reads_back(runs: dict[str, Path], tmp_path: Path) -> None:
    run = runs["max-plain"]
    folder = export_tensorboard(run, tmp_path / "tb")
    assert list(folder.glob("events.out.tfevents.*"))
    scalars = _scalars(folder)
    _check_curves(scalars, read_metrics(run))
    # wall times come from the run's start, not from the export
    assert scalars["train/loss"][0].wall_time < scalars["val/accuracy"][-1].wall_time


def test_tensorboard_logger_during_training(topics_csv: Path, tmp_path: Path) -> None:
    config = StudioConfig(data=DataConfig(path=str(topics_csv))).with_overrides(
        tokenizer={"ngram_buckets": 0, "char_ngrams": (0, 0)},
        model={"embed_dim": 8},
        train={"epochs": 2, "batch_size": 64, "tensorboard": True},
    )
    result = train_run(config, runs_dir=tmp_path / "runs", cache_dir=tmp_path / "cache")
    run_dir = Path(str(result.run_dir))
    assert load_run(run_dir).config.train.tensorboard is True  # round-trips through TOML
    folder = run_dir / TENSORBOARD_DIR
    assert list(folder.glob("events.out.tfevents.*"))
    _check_curves(_scalars(folder), read_metrics(run_dir))


def test_tensorboard_off_by_default_writes_nothing(runs: dict[str, Path]) -> None:
    assert not (runs["max-plain"] / TENSORBOARD_DIR).exists()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_folder_has_steps_and_epochs(runs: dict[str, Path], tmp_path: Path) -> None:
    run = runs["mean-bigrams"]
    records = read_metrics(run)
    folder = export_csv(run, tmp_path / "curves")
    steps = _read_csv(folder / "steps.csv")
    step_records = [r for r in records if r["type"] == "step"]
    assert list(steps[0])[:5] == ["step", "epoch", "loss", "lr", "time"]
    assert len(steps) == len(step_records)
    for row, rec in zip(steps, step_records, strict=True):
        assert int(row["step"]) == rec["step"] and int(row["epoch"]) == rec["epoch"]
        assert float(row["loss"]) == rec["loss"] and float(row["lr"]) == rec["lr"]
        assert float(row["time"]) == rec["time"]
    epochs = _read_csv(folder / "epochs.csv")
    epoch_records = [r for r in records if r["type"] == "epoch"]
    assert list(epochs[0])[:8] == [
        "epoch", "step", "time", "train_loss", "val_loss", "val_accuracy", "val_macro_f1",
        "val_weighted_f1",
    ]  # fmt: skip
    assert len(epochs) == len(epoch_records) == 2
    for row, rec in zip(epochs, epoch_records, strict=True):
        for key in ("train_loss", "val_loss", "val_accuracy", "val_macro_f1", "docs_per_second"):
            assert float(row[key]) == rec[key]
        assert int(row["step"]) == rec["step"]
        assert row["is_best"] == ("true" if rec["is_best"] else "false")


def test_csv_file_is_the_epoch_table(runs: dict[str, Path], tmp_path: Path) -> None:
    run = runs["mean-bigrams"]
    path = export_csv(run, tmp_path / "sub" / "epochs.CSV")
    rows = _read_csv(path)
    epoch_records = [r for r in read_metrics(run) if r["type"] == "epoch"]
    assert [float(r["val_accuracy"]) for r in rows] == [r["val_accuracy"] for r in epoch_records]


# -- output rules ----------------------------------------------------------------------------


def test_existing_output_needs_overwrite(runs: dict[str, Path], tmp_path: Path) -> None:
    run = runs["max-plain"]
    target = tmp_path / "v.txt"
    target.write_text("keep me", encoding="utf-8")
    with pytest.raises(StudioError, match=r"v\.txt: already exists"):
        export_word2vec(run, target)
    assert target.read_text(encoding="utf-8") == "keep me"
    export_word2vec(run, target, overwrite=True)
    assert target.read_text(encoding="utf-8").split()[1] == "10"

    folder = tmp_path / "curves"
    folder.mkdir()
    (folder / "notes.md").write_text("mine", encoding="utf-8")
    with pytest.raises(StudioError, match=r"curves: folder is not empty"):
        export_csv(run, folder)
    export_csv(run, folder, overwrite=True)
    assert (folder / "notes.md").read_text(encoding="utf-8") == "mine"  # not ours: kept
    assert (folder / "steps.csv").exists()

    with pytest.raises(StudioError, match="is a folder"):
        export_onnx(run, folder, overwrite=True)
    with pytest.raises(StudioError, match="is a file"):
        export_projector(run, target, overwrite=True)


def test_tensorboard_overwrite_replaces_old_event_files(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    run = runs["max-plain"]
    folder = export_tensorboard(run, tmp_path / "tb")
    export_tensorboard(run, folder, overwrite=True)
    assert len(list(folder.glob("events.out.tfevents.*"))) == 1
    assert len(_scalars(folder)["train/loss"]) == len(
        [r for r in read_metrics(run) if r["type"] == "step"]
    )


def test_bad_run_and_format_are_studio_errors(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not a run folder"):
        export_run(tmp_path / "nope", "onnx", tmp_path / "m.onnx")
    with pytest.raises(RunError, match="not a run folder"):
        export_run(tmp_path / "nope", "csv", tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunError, match=r"metrics\.jsonl: missing"):
        export_run(tmp_path / "empty", "tensorboard", tmp_path / "tb")
    with pytest.raises(StudioError, match="unknown export format 'h5'"):
        export_run(tmp_path / "empty", "h5", tmp_path / "x")


def test_tensorboard_without_the_package_is_a_clear_error(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(StudioError, match=r"needs the 'tensorboard' package"):
        export_tensorboard(runs["max-plain"], tmp_path / "tb")


# -- CLI -------------------------------------------------------------------------------------


def test_cli_export(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, out = str(runs["mean-bigrams"]), tmp_path / "m.onnx"
    assert main(["export", run, "--format", "onnx", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.is_file() and (tmp_path / "m.onnx.json").is_file()

    assert main(["export", run, "--format", "onnx", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: error: ") and "already exists" in err
    assert err.count("\n") == 1
    assert main(["export", run, "--format", "onnx", "--out", str(out), "--overwrite"]) == 0
    capsys.readouterr()

    missing = str(tmp_path / "no-such-run")
    assert main(["export", missing, "--format", "csv", "--out", str(tmp_path / "c")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_cli_format_choices_are_the_engine_formats() -> None:
    args = build_parser().parse_args(["export", "r", "--format", "csv", "--out", "o"])
    assert args.format == "csv" and args.overwrite is False
    sub = next(a for a in build_parser()._subparsers._group_actions)  # type: ignore[union-attr]
    export = sub.choices["export"]  # type: ignore[index]
    fmt = next(a for a in export._actions if a.dest == "format")
    assert tuple(fmt.choices) == FORMATS
