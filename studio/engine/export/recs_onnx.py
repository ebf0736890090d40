"""A recommendation run's scoring towers as ONNX.

The graph takes ``users`` (int64 ``[N]``) and ``items`` (int64 ``[M]``), the dense
indices of the sidecar's ``users`` and ``items`` lists (position in the list = index), and
gives ``scores`` (float32 ``[N, M]``, the dot product of the two towers' vectors: higher
is better), ``user_vectors`` (``[N, dim]``, through the MLP tower for a run that has
one) and ``item_vectors`` (``[M, dim]``). The sidecar ``FILE.json`` holds those id lists
and the run's settings; leaving out what a user already had is the consumer's part (the
run's ``train.safetensors`` lists it).
"""

from __future__ import annotations

import copy
import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.engine.analysis.recommend import RecRun
from studio.engine.export._files import check_file_target, write_file, write_text
from studio.engine.train.recs import RecTables
from studio.errors import StudioError

__all__ = ["export_recs_onnx"]

ONNX_OPSET = 17


class _Towers(nn.Module):
    def __init__(self, tables: RecTables) -> None:
        super().__init__()
        self.users = nn.Embedding.from_pretrained(tables.users[1:].float().clone())
        self.items = nn.Embedding.from_pretrained(tables.items[1:].float().clone())
        self.tower = copy.deepcopy(tables.tower) if tables.tower is not None else nn.Identity()

    def forward(
        self, users: torch.Tensor, items: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        u, i = self.tower(self.users(users)), self.items(items)
        return u @ i.T, u, i


def export_recs_onnx(run: RecRun, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``out`` (the towers) and ``out.json`` (ids and settings); returns ``out``."""
    try:
        import onnx
    except ImportError:
        raise StudioError("exporting to ONNX needs the 'onnx' package: pip install onnx") from None
    path = Path(out)
    sidecar = path.with_name(path.name + ".json")
    check_file_target(path, overwrite, sidecar)
    towers = _Towers(run.tables).eval()
    example = (torch.tensor([0, 0]), torch.tensor([0, 0, 0]))

    def write(tmp: Path) -> None:
        kwargs: dict[str, Any] = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kwargs["dynamo"] = False  # the dynamo exporter needs onnxscript
        with warnings.catch_warnings(), torch.no_grad():
            warnings.filterwarnings("ignore", "You are using the legacy TorchScript-based")
            warnings.filterwarnings("ignore", "The feature will be removed", DeprecationWarning)
            torch.onnx.export(
                towers, example, str(tmp), input_names=["users", "items"],
                output_names=["scores", "user_vectors", "item_vectors"],
                dynamic_axes={"users": {0: "n_users"}, "items": {0: "n_items"},
                              "scores": {0: "n_users", 1: "n_items"},
                              "user_vectors": {0: "n_users"}, "item_vectors": {0: "n_items"}},
                opset_version=ONNX_OPSET, **kwargs,
            )  # fmt: skip
        proto = onnx.load(str(tmp))
        proto.doc_string = (__doc__ or "").strip()
        entry = proto.metadata_props.add()
        entry.key, entry.value = "sidecar", sidecar.name
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))

    write_file(path, write)
    meta = {"format": "studio-recs-onnx", "version": 1, "model": path.name,
            "settings": run.meta.get("settings"), "dataset": run.meta.get("dataset"),
            "users": list(run.user_names), "items": list(run.item_names)}  # fmt: skip
    write_text(sidecar, json.dumps(meta, ensure_ascii=False))
    return path
