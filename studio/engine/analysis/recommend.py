"""Recommendation runs: saved user and item tables, and the top-k items for a user.

A run folder (``<date>-<time>-recs-<dataset>`` in the runs directory) holds:

- ``run.json`` and ``metrics.jsonl``, as every run does (:mod:`.recs_record` writes them
  while it trains);
- ``recs.json``: settings, columns, the split, per-epoch metrics and the baselines'
  (popularity, and ALS when implicit is installed);
- ``names.safetensors``: the user and item ids as in the file, as
  :class:`~studio.engine.data.names.Names` arrays (``user_blob``, ``user_offsets``,
  ``user_order``, the same for ``item_``), so millions of ids load as a few flat arrays
  (runs made before it have ``names.json``, which is still read);
- ``tables.safetensors``: the two tables, row 0 ``<pad>``. With item text, ``items`` holds
  the composed scoring vectors and ``item_rows`` / ``item_words`` the parts
  (``item_text.json``: the words);
- ``train.safetensors``: the training pairs (what each user already had).

JSON and safetensors only: nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.engine.atomic import write_text_atomic
from studio.engine.data.interaction_split import InteractionSplit
from studio.engine.data.interactions import Interactions
from studio.engine.data.item_text import ItemTexts
from studio.engine.data.names import NAME_ARRAYS, Names, as_names
from studio.engine.runs.checkpoint import load_weights, save_weights
from studio.engine.train.recs import RecResult, RecSettings, RecTables, UserTower
from studio.errors import RunError, StudioError

__all__ = [
    "RecRun",
    "RecRunSummary",
    "Recommendation",
    "list_recs_runs",
    "load_recs_run",
    "recommend",
    "save_recs_run",
    "similar_items",
    "write_item_vectors",
    "write_recs_run",
]

RECS_FILE = "recs.json"
NAMES_FILE = "names.safetensors"
ITEM_TEXT_FILE = "item_text.json"  # the item texts' words vocabulary (with item text only)


@dataclass(frozen=True)
class RecRun:
    path: Path
    meta: dict[str, Any]
    user_names: Sequence[str]
    item_names: Sequence[str]
    tables: RecTables
    train_users: np.ndarray
    train_items: np.ndarray


@dataclass(frozen=True)
class Recommendation:
    user: str
    items: list[tuple[str, float]]  # (item, score), best first
    already: list[str]  # the user's training items


def _metrics(m: Any) -> dict[str, float]:
    return {"recall": float(m.recall), "ndcg": float(m.ndcg), "hit_rate": float(m.hit_rate),
            "users": int(m.users), "k": int(m.k)}  # fmt: skip


def save_recs_run(
    runs_dir: Path, data: Interactions, split: InteractionSplit, settings: RecSettings,
    result: RecResult, item_texts: ItemTexts | None = None,
) -> Path:  # fmt: skip
    """A new run folder for a finished training (what :class:`~.recs_record.RecsRecorder`
    writes while training, all at once)."""
    from studio.engine.analysis.recs_record import RecsRecorder

    recorder = RecsRecorder(runs_dir, data, split, settings, item_texts)
    for name, metrics in result.baselines.items():
        recorder.on_baseline(name, metrics)
    for epoch in result.history:
        recorder.on_epoch(epoch)
    return recorder.finish(result)


def write_recs_run(
    run: Path, data: Interactions, split: InteractionSplit, settings: RecSettings,
    result: RecResult, item_texts: ItemTexts | None = None,
) -> None:  # fmt: skip
    """The tables, the names, the training pairs and ``recs.json``, into the folder ``run``."""
    # "items" are the scoring vectors (with item text: row + text bag), so every reader of
    # a run (recommend, neighbours, the map, exports) needs nothing else
    tables = {"users": result.tables.users, "items": result.tables.item_matrix()}
    text = result.tables.text
    if text is not None:
        tables |= {"item_rows": result.tables.items, "item_words": text.words}
        write_text_atomic(run / ITEM_TEXT_FILE, text.encoder.dumps())
    if result.tables.tower is not None:
        tables |= {f"tower.{k}": v for k, v in result.tables.tower.state_dict().items()}
    save_weights(run / "tables.safetensors", tables)
    train = {"users": torch.as_tensor(data.users[split.train_idx]),
             "items": torch.as_tensor(data.items[split.train_idx])}  # fmt: skip
    save_weights(run / "train.safetensors", train)
    save_weights(run / NAMES_FILE, _name_arrays(data))
    meta = {
        "kind": "recs", "format": 1, "status": "finished", "dataset": data.path,
        "columns": data.columns, "settings": dataclasses.asdict(settings),
        "interactions": len(data), "users": data.n_users, "items": data.n_items,
        "train": len(split.train_idx), "test": len(split.test_idx), "split": split.rule,
        "unseen_users": split.unseen_users, "unseen_items": split.unseen_items,
        "item_text": None if item_texts is None else {
            "path": item_texts.path, "columns": list(item_texts.columns),
            "matched": item_texts.matched, "unused": item_texts.unused,
            "words": None if text is None else text.encoder.vocab_size - 2},
        "popularity": _metrics(result.popularity) if result.popularity else None,
        "baselines": {name: _metrics(m) for name, m in result.baselines.items()},
        "history": [{"epoch": e.epoch, "loss": e.loss, **_metrics(e.metrics),
                     "seconds": e.seconds, "interactions_per_second": e.interactions_per_second}
                    for e in result.history],
    }  # fmt: skip
    write_text_atomic(run / RECS_FILE, json.dumps(meta, indent=1))


def load_recs_run(path: str | Path) -> RecRun:
    """Read a recommendation run folder; RunError naming what is missing or wrong."""
    run = Path(path)
    try:
        meta = json.loads((run / RECS_FILE).read_text(encoding="utf-8"))
        users, items = _names(run)
    except FileNotFoundError as exc:
        raise RunError(
            f"{run}: not a recommendation run ({Path(exc.filename).name} is missing)"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{run}: unreadable ({exc})") from None
    tables = load_weights(run / "tables.safetensors")
    train = load_weights(run / "train.safetensors")
    return RecRun(
        run, meta, users, items, _tables(run, tables), train["users"].numpy(),
        train["items"].numpy(),
    )  # fmt: skip


def _name_arrays(data: Interactions) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for role, names in (("user", data.user_names), ("item", data.item_names)):
        flat = as_names(names)
        out |= {f"{role}_{a}": torch.from_numpy(np.array(getattr(flat, a))) for a in NAME_ARRAYS}
    return out


def _names(run: Path) -> tuple[Sequence[str], Sequence[str]]:
    """A run's user and item ids: ``names.safetensors``, or an older run's ``names.json``."""
    if not (run / NAMES_FILE).exists() and (run / "names.json").exists():
        names = json.loads((run / "names.json").read_text(encoding="utf-8"))
        return tuple(names["users"]), tuple(names["items"])
    if not (run / NAMES_FILE).exists():
        raise FileNotFoundError(2, "missing", str(run / NAMES_FILE))
    arrays = load_weights(run / NAMES_FILE)
    users, items = (
        Names(*(arrays[f"{role}_{a}"].numpy() for a in NAME_ARRAYS)) for role in ("user", "item")
    )
    return users, items


def _tables(run: Path, weights: dict[str, torch.Tensor]) -> RecTables:
    users, items = weights["users"], weights["items"]
    state = {k.removeprefix("tower."): v for k, v in weights.items() if k.startswith("tower.")}
    if not state:
        return RecTables(users, items)
    tower = UserTower(users.shape[1])
    try:
        tower.load_state_dict(state)
    except RuntimeError as exc:
        raise RunError(f"{run}: tables.safetensors: the user tower does not fit ({exc})") from None
    return RecTables(users, items, tower.eval())


def recommend(run: RecRun, user: str, k: int = 10) -> Recommendation:
    """The ``k`` best items for ``user`` among those they did not have in training."""
    try:
        uid = run.user_names.index(user)
    except ValueError:
        raise StudioError(
            f"no user {user!r} in {run.path.name} ({len(run.user_names):,} users)"
        ) from None
    scores = run.tables.scores(np.array([uid]))[0]
    had = np.unique(run.train_items[run.train_users == uid])
    scores[had] = -np.inf
    k = max(1, min(k, len(scores) - len(had)))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return Recommendation(
        user, [(run.item_names[i], float(scores[i])) for i in top],
        [run.item_names[i] for i in had],
    )  # fmt: skip


def similar_items(run: RecRun, item: str, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` items nearest to ``item`` by cosine of their vectors, nearest first."""
    try:
        index = run.item_names.index(item)
    except ValueError:
        raise StudioError(f"no item {item!r} in {run.path.name}") from None
    vectors = run.tables.items[1:].float()
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cosine = (unit @ unit[index]).numpy()
    cosine[index] = -np.inf
    k = max(1, min(k, len(cosine) - 1))
    top = np.argpartition(-cosine, k - 1)[:k]
    return [(run.item_names[i], float(cosine[i])) for i in top[np.argsort(-cosine[top])]]


def write_item_vectors(run: RecRun, out: str | Path) -> Path:
    """The item vectors in word2vec text format (spaces in an id become ``_``)."""
    rows = run.tables.items[1:].float().numpy()
    lines = [f"{rows.shape[0]} {rows.shape[1]}"]
    for name, row in zip(run.item_names, rows.tolist(), strict=True):
        lines.append(name.replace(" ", "_") + " " + " ".join(f"{x:.9g}" for x in row))
    path = Path(out)
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class RecRunSummary:
    """One recommendation run as listed for comparison (from its ``recs.json`` alone)."""

    path: Path
    dataset: str
    settings: dict[str, Any]
    recall: list[float]  # per epoch
    ndcg: list[float]
    baselines: dict[str, float]  # name -> recall@k
    k: int
    seconds: float


def list_recs_runs(runs_dir: str | Path) -> list[RecRunSummary]:
    """The recommendation runs in ``runs_dir``, newest first; unreadable ones are skipped."""
    folder = Path(runs_dir)
    if not folder.is_dir():
        return []
    found = []
    for run in sorted(folder.iterdir(), key=lambda p: p.name, reverse=True):
        try:
            meta = json.loads((run / RECS_FILE).read_text(encoding="utf-8"))
            history = meta["history"]
            baselines = meta.get("baselines") or {"popularity": meta["popularity"]}
            found.append(RecRunSummary(
                run, str(meta.get("dataset", "")), dict(meta.get("settings") or {}),
                [float(h["recall"]) for h in history], [float(h["ndcg"]) for h in history],
                {str(n): float(m["recall"]) for n, m in baselines.items() if m},
                int(history[-1]["k"]) if history else 10,
                float(history[-1]["seconds"]) if history else 0.0,
            ))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found
