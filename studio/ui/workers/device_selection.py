"""What a training run is launched on: the device picker's choice, read by the workers.

A plain value shared by the picker (a widget) and the training workers, so neither imports
the other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceSelection"]


@dataclass(frozen=True)
class DeviceSelection:
    """What the picker chose: the config's device, the process count, and which GPUs.

    ``device`` is what ``device.device`` of the config gets: ``cpu``, ``cuda:N``, ``mps``,
    or ``cuda`` for several GPUs. ``visible_gpus`` are the CUDA indices a multi-GPU run
    sees (``CUDA_VISIBLE_DEVICES``); each of its ``nproc`` ranks uses ``cuda:LOCAL_RANK``.
    """

    device: str = "cpu"
    nproc: int = 1
    visible_gpus: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.nproc < 1:
            raise ValueError(f"nproc must be at least 1, not {self.nproc}")
        if self.visible_gpus and (self.device != "cuda" or len(self.visible_gpus) != self.nproc):
            raise ValueError("visible_gpus needs device 'cuda' and one process per GPU")

    @property
    def distributed(self) -> bool:
        """Whether the run needs a distributed launch (more than one process)."""
        return self.nproc > 1

    def describe(self) -> str:
        """For people: ``cpu``, ``cuda:1``, ``CPU × 4 processes``, ``2 GPUs (cuda:1, cuda:3)``."""
        if self.visible_gpus:
            names = ", ".join(f"cuda:{i}" for i in self.visible_gpus)
            return f"{len(self.visible_gpus)} GPUs ({names})"
        if self.nproc > 1:
            return f"{self.device.upper()} × {self.nproc} processes"
        return self.device

    def key(self) -> str:
        """A short text to remember the choice: ``cpu``, ``cpu*4``, ``cuda:1``, ``cuda:1,3``."""
        if self.visible_gpus:
            return "cuda:" + ",".join(str(i) for i in self.visible_gpus)
        return f"{self.device}*{self.nproc}" if self.nproc > 1 else self.device

    @classmethod
    def from_key(cls, text: str) -> DeviceSelection | None:
        """The inverse of :meth:`key`; None for text that is not one."""
        try:
            if text.startswith("cuda:") and "," in text:
                gpus = tuple(int(i) for i in text[5:].split(","))
                return cls("cuda", len(gpus), gpus)
            device, _, n = text.partition("*")
            return cls(device, int(n) if n else 1) if device else None
        except ValueError:
            return None
