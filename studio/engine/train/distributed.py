"""Data-parallel training on ``torch.distributed``: who we are, the process group, collectives.

A distributed run is N copies of ``studio train`` started by torchrun (``studio train
--nproc N`` uses its engine, :mod:`studio.engine.train.launch`), by a user's own ``torchrun
--nnodes ...``, or by Slurm's ``srun``. Each process reads its rank and the world size from
the environment. The model is replicated: the dense layers are wrapped in
``DistributedDataParallel`` (NCCL on GPUs, gloo on CPU); the embedding table, whose update
is fused by hand (:mod:`studio.engine.train.table_optim`), is kept identical on every rank by
gathering each step's pooled-vector gradients and applying the whole global batch's update
everywhere. Every rank slices its own documents out of each global batch, so a run with N
processes takes the same steps as one process with the same ``batch_size``.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from studio.engine.train.batching import shard_bounds, shard_counts
from studio.errors import StudioError

DEFAULT_TIMEOUT = 300.0  # seconds a collective may wait for a silent peer during training
SETUP_TIMEOUT = 3600.0  # rank 0 may prepare a large dataset while the others wait
_HOST_BYTES = 64


class DistributedError(StudioError):
    """The distributed run cannot go on (a peer died, timed out, or the setup is wrong).

    ``quiet``: another rank has already said why; this rank only exits with an error.
    """

    def __init__(self, message: str, *, quiet: bool = False) -> None:
        super().__init__(message)
        self.quiet = quiet


@dataclass(frozen=True)
class Topology:
    """This process's place in the job, as the launcher's environment says."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _int(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise DistributedError(f"environment variable {name}: expected an integer") from None


def topology_from_env(env: Mapping[str, str] | None = None) -> Topology | None:
    """The job's topology from torchrun's (RANK, WORLD_SIZE, LOCAL_RANK) or Slurm's variables.

    None when this is a single-process run (no variables, or a world of one).
    """
    env = os.environ if env is None else env
    if "WORLD_SIZE" in env and "RANK" in env:
        world, rank = _int(env, "WORLD_SIZE"), _int(env, "RANK")
        local = _int(env, "LOCAL_RANK") if "LOCAL_RANK" in env else rank
    elif "SLURM_NTASKS" in env and "SLURM_PROCID" in env:
        world, rank = _int(env, "SLURM_NTASKS"), _int(env, "SLURM_PROCID")
        local = _int(env, "SLURM_LOCALID") if "SLURM_LOCALID" in env else rank
    else:
        return None
    if world <= 1:
        return None
    if not 0 <= rank < world:
        raise DistributedError(f"rank {rank} is outside a world of {world} processes")
    return Topology(rank, world, local)


def rank_device(device: str, topo: Topology) -> str:
    """The device of this rank: ``cuda`` means ``cuda:LOCAL_RANK`` (pick GPUs with
    CUDA_VISIBLE_DEVICES); CPU and ``auto`` without CUDA stay as they are."""
    if device.startswith("cuda:"):
        raise DistributedError(
            f"device.device: {device!r} names one GPU, but this run has {topo.world_size} "
            "processes; use 'cuda' (each process takes cuda:LOCAL_RANK; choose the GPUs "
            "with CUDA_VISIBLE_DEVICES)"
        )
    if device == "cuda" or (device == "auto" and torch.cuda.is_available()):
        return f"cuda:{topo.local_rank}"
    return device


def _one_line(exc: BaseException) -> str:
    """The backend's message without its source location and boilerplate advice."""
    text = re.sub(r"\[[^\]]*\.(?:cc|cpp|h):\d+\]\s*", "", " ".join(str(exc).split()))
    text = text.split(". This is typically")[0].strip()
    return text[:240] + ("…" if len(text) > 240 else "")


def is_peer_failure(exc: BaseException) -> bool:
    """Whether an exception from a collective means a peer died, hung or cut the link."""
    if isinstance(exc, dist.DistError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        s in text
        for s in ("connection closed", "connection reset", "timed out", "timeout", "gloo", "nccl")
    )


def peer_failure(exc: BaseException, topo: Topology) -> DistributedError:
    return DistributedError(
        f"rank {topo.rank}: lost contact with another process of the distributed run "
        f"({_one_line(exc)}); every rank stops"
    )


__all__ = ["ProcessGroup", "ReplicatedModel", "Topology", "shard_bounds", "shard_counts"]


class ProcessGroup:
    """The job's process group and the few collectives the trainer needs.

    Training collectives use a group with a short timeout, so a dead or hung peer ends the
    run with an error instead of a hang; the default group keeps a long timeout for the
    setup (rank 0 may spend minutes preparing a dataset while the others wait).
    """

    def __init__(self, topo: Topology, device: torch.device, timeout: float) -> None:
        self.topo = topo
        self.device = device
        self.backend = "nccl" if device.type == "cuda" else "gloo"
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise DistributedError(
                    f"environment variable {name} is not set; launch with torchrun, or set "
                    "MASTER_ADDR and MASTER_PORT to rank 0's host and a free port (Slurm)"
                )
        os.environ.setdefault("RANK", str(topo.rank))
        os.environ.setdefault("WORLD_SIZE", str(topo.world_size))
        if device.type == "cuda":
            torch.cuda.set_device(device)
        try:
            dist.init_process_group(
                self.backend,
                rank=topo.rank,
                world_size=topo.world_size,
                timeout=timedelta(seconds=max(SETUP_TIMEOUT, timeout)),
            )
            self.group = dist.new_group(backend=self.backend, timeout=timedelta(seconds=timeout))
        except (RuntimeError, ValueError) as exc:
            raise DistributedError(
                f"rank {topo.rank}: cannot join the distributed run: {_one_line(exc)}"
            ) from None

    @property
    def rank(self) -> int:
        return self.topo.rank

    @property
    def world_size(self) -> int:
        return self.topo.world_size

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()

    def setup_any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is True on any (long timeout: for the setup)."""
        t = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is True on any (a training-time agreement)."""
        t = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.group)
        return bool(t.item())

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the ranks, in place."""
        dist.all_reduce(t, group=self.group)
        return t

    def broadcast_(self, t: torch.Tensor) -> None:
        """Rank 0's values of ``t`` everywhere, in place."""
        dist.broadcast(t, src=0, group=self.group)

    def gather_rows(self, t: torch.Tensor, counts: list[int]) -> torch.Tensor:
        """Every rank's ``t`` (``counts[r]`` rows on rank r), concatenated in rank order."""
        most = max(counts)
        if t.shape[0] != most:
            t = torch.cat([t, t.new_zeros((most - t.shape[0], *t.shape[1:]))])
        out = t.new_empty((most * len(counts), *t.shape[1:]))
        dist.all_gather_single(out, t.contiguous(), group=self.group)
        if all(c == most for c in counts):
            return out
        return torch.cat([out[r * most : r * most + c] for r, c in enumerate(counts)])

    def describe_ranks(self) -> list[dict[str, object]]:
        """Each rank's host and process id (rank 0 records them in run.json)."""
        host = socket.gethostname().encode("utf-8")[:_HOST_BYTES]
        row = np.zeros(_HOST_BYTES + 1, dtype=np.int64)
        row[0] = os.getpid()
        row[1 : 1 + len(host)] = np.frombuffer(host, dtype=np.uint8)
        mine = torch.from_numpy(row).unsqueeze(0).to(self.device)
        rows = self.gather_rows(mine, [1] * self.world_size).cpu().numpy()
        return [
            {
                "rank": r,
                "pid": int(rows[r, 0]),
                "host": bytes(rows[r, 1:].astype(np.uint8)).rstrip(b"\0").decode(errors="replace"),
            }
            for r in range(self.world_size)
        ]


class ReplicatedModel:
    """What a training step calls: the model's head (or the whole model) under DDP.

    With the fused table only the dense head has autograd parameters, so only it is
    wrapped; otherwise the whole model is (its table then has dense gradients: NCCL cannot
    all-reduce sparse ones).
    """

    def __init__(self, model: nn.Module, group: ProcessGroup, head_only: bool) -> None:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [group.device] if group.device.type == "cuda" else None
        kwargs = {"device_ids": ids, "process_group": group.group}
        self.head: nn.Module
        self._whole: nn.Module
        if head_only:
            self.head = DDP(model.head, **kwargs)  # type: ignore[arg-type]
            self._whole = model
        else:
            self._whole = DDP(model, **kwargs)  # type: ignore[arg-type]
            self.head = model.head  # type: ignore[assignment]

    def __call__(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self._whole(ids, offsets)  # type: ignore[no-any-return]
