"""Model weights as safetensors (atomic writes; loading never unpickles)."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from studio.engine.atomic import write_atomic
from studio.errors import RunError

REFUSED_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")


def save_weights(
    path: Path,
    state: dict[str, torch.Tensor],
    metadata: dict[str, str] | None = None,
    durable: bool = True,
) -> None:
    """Write tensors to ``path`` via a temp file and a rename (``durable``: see
    :func:`~studio.engine.atomic.write_atomic`)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    write_atomic(
        Path(path), lambda tmp: save_file(tensors, str(tmp), metadata=metadata), durable=durable
    )


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; anything pickle-based is refused, never opened."""
    path = Path(path)
    if path.suffix.lower() in REFUSED_SUFFIXES:
        raise RunError(
            f"{path}: refusing to load a pickle-based file ({path.suffix}); "
            "Embedding Studio only loads .safetensors weights"
        )
    if not path.is_file():
        raise RunError(f"{path}: missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise RunError(f"{path}: not a readable safetensors file ({exc})") from None
