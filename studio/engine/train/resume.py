"""Resumable training checkpoints: everything needed to continue a run exactly.

At each epoch end the trainer captures a :class:`TrainState` (weights, optimizer states,
the row-wise Adagrad accumulator, the step and epoch counters, the shuffling and torch RNG
states and the epoch history) and hands it to callbacks that implement
:class:`TrainStateSink` (the :class:`~studio.engine.train.recorder.RunRecorder`). The recorder
writes it into the run folder:

``checkpoints/resume/weights-eN.safetensors``
    the model weights after epoch N (``checkpoints/last.safetensors`` is the same file,
    hard-linked where the file system allows, else a copy).
``checkpoints/resume/state-eN.safetensors``
    optimizer state tensors under flattened names (``opt{i}/{param}/{name}``), the
    row-wise Adagrad accumulator (``table/state``) and the torch RNG state(s).
``checkpoints/resume/state-eN.json``
    the rest: optimizer scalars and param groups, counters, the numpy RNG state, history.
``checkpoints/resume.json``
    the manifest, written last (atomically): it names the files, their sizes and the
    epoch. Only a manifest whose files all exist with those sizes counts as a complete
    checkpoint; files of other epochs are deleted after it is written.

Everything is safetensors or JSON: nothing is ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch

from studio.engine.atomic import write_text_atomic
from studio.engine.runs.checkpoint import load_weights, save_weights
from studio.engine.train.context import FitContext
from studio.engine.train.events import EpochEnd
from studio.errors import RunError

if TYPE_CHECKING:
    from studio.engine.train.optim import Optimizer

MANIFEST = "resume.json"
RESUME_DIR = "resume"
FORMAT = 1
NO_CHECKPOINT = "no complete checkpoint to resume from"


@dataclass
class TrainState:
    """The training loop's state at the end of an epoch (all tensors on the CPU)."""

    epoch: int  # completed epochs
    step: int  # global step
    batch_size: int  # may be smaller than the config's after an out-of-memory retry
    total_steps: int  # the lr schedule's length
    weights: dict[str, torch.Tensor]
    optimizers: list[dict[str, Any]]  # torch.optim state_dicts
    table_state: torch.Tensor | None
    np_rng: dict[str, Any]  # numpy Generator.bit_generator.state
    torch_rng: torch.Tensor
    cuda_rng: torch.Tensor | None = None
    history: list[EpochEnd] = field(default_factory=list)
    meter: dict[str, float] = field(default_factory=dict)  # seconds, docs, tokens
    restore_best: bool = False
    best_weights: dict[str, torch.Tensor] | None = None  # loaded, when restore_best


@runtime_checkable
class TrainStateSink(Protocol):
    """A callback that wants the :class:`TrainState` (called just before ``on_epoch_end``)."""

    def on_train_state(self, ctx: FitContext, state: TrainState) -> None: ...


def optimizer_state_cpu(opt: Optimizer) -> dict[str, Any]:
    """A deep CPU copy of an optimizer's ``state_dict``."""
    sd = opt.state_dict()
    state = {
        pid: {
            k: (v.detach().to("cpu", copy=True) if isinstance(v, torch.Tensor) else v)
            for k, v in s.items()
        }
        for pid, s in sd["state"].items()
    }
    groups = [dict(g, params=list(g["params"])) for g in sd["param_groups"]]
    return {"state": state, "param_groups": groups}


def clone_optimizer_state(sd: dict[str, Any]) -> dict[str, Any]:
    """A copy whose tensors are fresh (``load_state_dict`` may keep CPU tensors as they are)."""
    return {
        "state": {
            pid: {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in s.items()}
            for pid, s in sd["state"].items()
        },
        "param_groups": [dict(g) for g in sd["param_groups"]],
    }


def _flatten(state: TrainState) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {"rng/torch": state.torch_rng}
    if state.cuda_rng is not None:
        tensors["rng/cuda"] = state.cuda_rng
    if state.table_state is not None:
        tensors["table/state"] = state.table_state
    opts = []
    for i, sd in enumerate(state.optimizers):
        scalars: dict[str, dict[str, Any]] = {}
        tensor_names: dict[str, list[str]] = {}
        for pid, s in sd["state"].items():
            for name, v in s.items():
                if isinstance(v, torch.Tensor):
                    tensors[f"opt{i}/{pid}/{name}"] = v
                    tensor_names.setdefault(str(pid), []).append(name)
                else:
                    scalars.setdefault(str(pid), {})[name] = v
        opts.append(
            {"scalars": scalars, "tensors": tensor_names, "param_groups": sd["param_groups"]}
        )
    meta = {
        "format": FORMAT,
        "epoch": state.epoch,
        "step": state.step,
        "batch_size": state.batch_size,
        "total_steps": state.total_steps,
        "np_rng": state.np_rng,
        "optimizers": opts,
        "history": [e.__dict__ for e in state.history],
        "meter": state.meter,
        "restore_best": state.restore_best,
    }
    return tensors, meta


def _unflatten_optimizer(i: int, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Any:
    state: dict[int, dict[str, Any]] = {}
    for pid, scalars in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(scalars)
    for pid, names in meta["tensors"].items():
        for name in names:
            state.setdefault(int(pid), {})[name] = tensors[f"opt{i}/{pid}/{name}"]
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def save_train_state(
    checkpoints: Path,
    state: TrainState,
    weights_metadata: dict[str, str] | None = None,
    durable: bool = True,
) -> Path:
    """Write ``state`` as a complete resume checkpoint; returns its weights file.

    ``durable`` False leaves the two tensor files in the page cache (no ``fsync``): they
    survive the process being killed, not a power cut. The manifest is always flushed.
    """
    checkpoints = Path(checkpoints)
    folder = checkpoints / RESUME_DIR
    folder.mkdir(parents=True, exist_ok=True)
    n = state.epoch
    names = {
        "weights": f"{RESUME_DIR}/weights-e{n}.safetensors",
        "state": f"{RESUME_DIR}/state-e{n}.safetensors",
        "json": f"{RESUME_DIR}/state-e{n}.json",
    }
    tag = {"epoch": str(n)}
    weights_meta = {**(weights_metadata or {}), **tag}
    save_weights(checkpoints / names["weights"], state.weights, weights_meta, durable=durable)
    tensors, meta = _flatten(state)
    save_weights(checkpoints / names["state"], tensors, tag, durable=durable)
    write_text_atomic(checkpoints / names["json"], json.dumps(meta) + "\n")
    best_epoch = state.history[-1].best_epoch if state.history else n
    files = dict(names)
    if state.restore_best:
        if best_epoch == n:
            files["best_weights"] = names["weights"]
        else:
            previous = read_manifest(checkpoints.parent)
            kept = (previous or {}).get("files", {}).get("best_weights")
            if previous is not None and previous.get("best_epoch") == best_epoch and kept:
                files["best_weights"] = kept
    manifest = {
        "format": FORMAT,
        "epoch": n,
        "step": state.step,
        "best_epoch": best_epoch,
        "files": files,
        "sizes": {k: (checkpoints / v).stat().st_size for k, v in files.items()},
    }
    write_text_atomic(checkpoints / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    keep = {Path(v).name for v in files.values()}
    for old in folder.iterdir():
        if old.name not in keep and not old.name.startswith("."):
            old.unlink(missing_ok=True)
    return checkpoints / names["weights"]


def read_manifest(run_dir: str | Path) -> dict[str, Any] | None:
    """The run's resume manifest when it names a complete checkpoint, else None."""
    checkpoints = Path(run_dir) / "checkpoints"
    try:
        manifest = json.loads((checkpoints / MANIFEST).read_text(encoding="utf-8"))
        files, sizes = manifest["files"], manifest["sizes"]
        for key in ("weights", "state", "json"):
            if (checkpoints / files[key]).stat().st_size != sizes[key]:
                return None
        if "best_weights" in files and not (checkpoints / files["best_weights"]).is_file():
            return None
        if not isinstance(manifest["epoch"], int) or manifest.get("format") != FORMAT:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(manifest)


def load_train_state(run_dir: str | Path) -> TrainState:
    """The run's latest complete resume checkpoint; RunError when there is none."""
    run = Path(run_dir)
    manifest = read_manifest(run)
    if manifest is None:
        raise RunError(f"{run}: {NO_CHECKPOINT}")
    checkpoints = run / "checkpoints"
    files = manifest["files"]
    try:
        meta = json.loads((checkpoints / files["json"]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"{run}: {NO_CHECKPOINT} ({exc})") from None
    if meta.get("epoch") != manifest["epoch"]:
        raise RunError(f"{run}: {NO_CHECKPOINT} (the checkpoint files do not match)")
    weights = load_weights(checkpoints / files["weights"])
    tensors = load_weights(checkpoints / files["state"])
    try:
        optimizers = [_unflatten_optimizer(i, m, tensors) for i, m in enumerate(meta["optimizers"])]
        history = [EpochEnd(**e) for e in meta["history"]]
        best = None
        if meta.get("restore_best") and "best_weights" in files:
            best = (
                weights
                if files["best_weights"] == files["weights"]
                else load_weights(checkpoints / files["best_weights"])
            )
        return TrainState(
            epoch=int(meta["epoch"]),
            step=int(meta["step"]),
            batch_size=int(meta["batch_size"]),
            total_steps=int(meta["total_steps"]),
            weights=weights,
            optimizers=optimizers,
            table_state=tensors.get("table/state"),
            np_rng=meta["np_rng"],
            torch_rng=tensors["rng/torch"],
            cuda_rng=tensors.get("rng/cuda"),
            history=history,
            meter={k: float(v) for k, v in meta.get("meter", {}).items()},
            restore_best=bool(meta.get("restore_best", False)),
            best_weights=best,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"{run}: {NO_CHECKPOINT} (malformed: {exc})") from None


def checkpoint_history(run_dir: str | Path) -> list[EpochEnd]:
    """The epoch records saved with the run's complete checkpoint ([] when none)."""
    manifest = read_manifest(run_dir)
    if manifest is None:
        return []
    path = Path(run_dir) / "checkpoints" / manifest["files"]["json"]
    try:
        return [EpochEnd(**e) for e in json.loads(path.read_text(encoding="utf-8"))["history"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
