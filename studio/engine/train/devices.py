"""Which devices this PyTorch build can train on, and turning a name into one."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from studio.errors import DeviceError


@dataclass(frozen=True)
class DeviceInfo:
    """One entry of the device picker."""

    name: str  # the string the config takes: "cpu", "cuda:0", "mps"
    label: str  # what a person reads: "NVIDIA H100 80GB HBM3 (cuda:0)"
    available: bool
    reason: str = ""  # why it cannot be used, when not available
    total_memory: int | None = None  # bytes
    free_memory: int | None = None  # bytes


def list_devices() -> list[DeviceInfo]:
    """CPU, every CUDA device, and MPS; unusable ones carry the reason."""
    out = [DeviceInfo("cpu", f"CPU ({torch.get_num_threads()} threads)", True)]
    if not torch.backends.cuda.is_built():
        out.append(DeviceInfo("cuda", "CUDA", False, "this PyTorch build has no CUDA"))
    elif not torch.cuda.is_available():
        out.append(DeviceInfo("cuda", "CUDA", False, "no CUDA device or driver found"))
    else:
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            try:
                free, total = torch.cuda.mem_get_info(i)
            except RuntimeError:
                free, total = None, props.total_memory
            out.append(DeviceInfo(f"cuda:{i}", f"{props.name} (cuda:{i})", True, "", total, free))
    if not torch.backends.mps.is_built():
        out.append(DeviceInfo("mps", "Apple MPS", False, "this PyTorch build has no MPS"))
    elif not torch.backends.mps.is_available():
        out.append(DeviceInfo("mps", "Apple MPS", False, "no Apple GPU available"))
    else:
        out.append(DeviceInfo("mps", "Apple MPS", True))
    return out


def resolve_device(name: str) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` | ``mps`` -> a usable ``torch.device``."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError("device 'mps': Apple MPS is not available on this machine")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.backends.cuda.is_built():
            raise DeviceError(f"device {name!r}: this PyTorch build has no CUDA")
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r}: no CUDA device or driver found")
        index = 0 if name == "cuda" else int(name[5:])
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
        return torch.device(f"cuda:{index}")
    raise DeviceError(f"unknown device {name!r}; use cpu, cuda, cuda:N or mps")
