"""Load a trained run, predict new texts, and evaluate it on a labelled file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.config import StudioConfig, load_config
from studio.engine.analysis.report import evaluation_report, predictions_from_arrays
from studio.engine.data.readers import read_dataset
from studio.engine.data.text_encoder import TextEncoder
from studio.engine.runs.checkpoint import load_weights
from studio.engine.runs.layout import read_json
from studio.engine.train.model import ModelSpec, TextClassifier
from studio.errors import ConfigError, DatasetError, RunError


@dataclass
class LoadedRun:
    """A run folder's model, ready to predict."""

    path: Path
    config: StudioConfig
    encoder: TextEncoder
    labels: tuple[str, ...]
    multi_label: bool
    spec: ModelSpec
    model: TextClassifier
    threshold: float = 0.5  # multi-label: a label is predicted at this probability or above

    @torch.no_grad()
    def predict_proba(self, texts: list[str], batch_size: int = 2048) -> np.ndarray:
        """``[len(texts), n_labels]`` probabilities."""
        out = []
        self.model.eval()
        for start in range(0, len(texts), batch_size):
            ids, offsets = self.encoder.encode(texts[start : start + batch_size])
            logits = self.model(
                torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(offsets[:-1])
            )
            out.append(self.model.probabilities(logits).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)))

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Labels with probabilities, most likely first."""
        probs = self.predict_proba([text])[0]
        order = np.argsort(-probs)
        return [(self.labels[i], float(probs[i])) for i in order]


def load_run(path: str | Path, weights: str = "model") -> LoadedRun:
    """Open a run folder. ``weights`` is ``model`` (final), ``best`` or ``last`` checkpoint."""
    run = Path(path)
    if not run.is_dir():
        raise RunError(f"{run}: not a run folder")
    try:
        config = load_config(run / "config.toml")
    except ConfigError as exc:
        raise RunError(str(exc)) from None
    vocab = read_json(run / "vocab.json")
    bpe_path = run / "tokenizer.json"
    bpe_json = bpe_path.read_text(encoding="utf-8") if bpe_path.exists() else None
    labels_meta = read_json(run / "labels.json")
    spec = ModelSpec.from_json(read_json(run / "model.json"))
    try:
        encoder = TextEncoder.from_json(vocab, bpe_json)
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"{run / 'vocab.json'}: malformed ({exc})") from None
    file = {
        "model": run / "model.safetensors",
        "best": run / "checkpoints" / "best.safetensors",
        "last": run / "checkpoints" / "last.safetensors",
    }[weights]
    if not file.exists() and weights == "model":
        file = run / "checkpoints" / "best.safetensors"  # a run killed before it finished
    if file.parent.name == "checkpoints" and (file.parent / "model.json").is_file():
        spec = ModelSpec.from_json(read_json(file.parent / "model.json"))  # see model.kind
    model = TextClassifier(spec, random_rows=0)  # the saved weights replace these
    try:
        model.load_state_dict(load_weights(file))
    except RuntimeError as exc:
        raise RunError(f"{file}: weights do not match model.json ({exc})") from None
    model.eval()
    return LoadedRun(
        path=run,
        config=config,
        encoder=encoder,
        labels=tuple(labels_meta["labels"]),
        multi_label=bool(labels_meta.get("multi_label", False)),
        spec=spec,
        model=model,
        threshold=float(labels_meta.get("threshold", 0.5)),
    )


def evaluate_run(
    run: LoadedRun,
    data_path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
) -> dict[str, Any]:
    """Metrics of ``run`` on a labelled file: overall, per class, and the confusion matrix."""
    dc = run.config.data
    raw = read_dataset(
        data_path,
        text_column=text_column or dc.text_column,
        label_column=label_column or dc.label_column,
        label_delimiter=dc.label_delimiter,
        encoding=dc.encoding,
    )
    index = {name: i for i, name in enumerate(run.labels)}
    n = len(run.labels)
    shape = (len(raw), n) if run.multi_label else (len(raw),)
    y: np.ndarray = np.zeros(shape, dtype=np.uint8 if run.multi_label else np.int64)
    for i, labels in enumerate(raw.labels):
        for label in labels:
            if label not in index:
                raise DatasetError(
                    f"label {label!r} is not one the model knows ({', '.join(run.labels)})",
                    path=raw.path,
                    line=raw.lines[i],
                )
            if run.multi_label:
                y[i, index[label]] = 1
            else:
                y[i] = index[label]
    probs = run.predict_proba(raw.texts)
    pred = predictions_from_arrays(
        probs, y, np.arange(len(raw)), run.labels, run.multi_label, run.threshold
    )
    report = evaluation_report(pred)
    result: dict[str, Any] = {
        "documents": len(raw),
        "labels": list(run.labels),
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "weighted_f1": report.weighted_f1,
    }
    if report.confusion is not None:
        result["confusion_matrix"] = report.confusion.tolist()
    result["per_class"] = {
        c.name: {
            "precision": c.precision,
            "recall": c.recall,
            "f1": c.f1,
            "support": float(c.support),
        }
        for c in report.per_class
    }
    return result
