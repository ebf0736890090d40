"""The classifier: EmbeddingBag (``<pad>`` masked) -> optional hidden layers -> output."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from studio.engine.data.tokenize import PAD_ID
from studio.engine.train.table_optim import pool


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild the network from ``model.json``."""

    num_embeddings: int
    embed_dim: int
    num_outputs: int
    pooling: str = "mean"
    hidden: tuple[int, ...] = ()
    dropout: float = 0.0
    sigmoid: bool = False  # True: one sigmoid per output (binary or multi-label)
    weighting: str = "none"  # "idf": rows weighted by their inverse document frequency

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSpec:
        return cls(
            num_embeddings=int(data["num_embeddings"]),
            embed_dim=int(data["embed_dim"]),
            num_outputs=int(data["num_outputs"]),
            pooling=str(data.get("pooling", "mean")),
            hidden=tuple(int(h) for h in data.get("hidden", ())),
            dropout=float(data.get("dropout", 0.0)),
            sigmoid=bool(data.get("sigmoid", False)),
            weighting=str(data.get("weighting", "none")),
        )


class TextClassifier(nn.Module):
    """Bag of embeddings over flat ids + offsets, then a small MLP.

    ``<pad>`` (id 0) is the EmbeddingBag's ``padding_idx``: its row is zero, it is left out
    of the mean/sum/max, and it never receives a gradient. ``<unk>`` (id 1) is an ordinary
    trained row shared by every out-of-vocabulary token.
    """

    def __init__(
        self, spec: ModelSpec, sparse: bool = False, random_rows: int | None = None
    ) -> None:
        super().__init__()
        self.spec = spec
        # fastText's initialisation for the first ``random_rows`` rows (None: all), written
        # once; the rest start at zero (see build_model)
        rows = spec.num_embeddings if random_rows is None else min(random_rows, spec.num_embeddings)
        weight = torch.zeros(spec.num_embeddings, spec.embed_dim)
        if rows:
            nn.init.uniform_(weight[:rows], -1.0 / spec.embed_dim, 1.0 / spec.embed_dim)
        self.embedding = nn.EmbeddingBag(
            spec.num_embeddings,
            spec.embed_dim,
            mode="sum" if spec.pooling == "sqrtn" else spec.pooling,  # sqrtn: see pool
            sparse=sparse and spec.pooling != "max",
            padding_idx=PAD_ID,
            _weight=weight,
        )
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        self.row_weight: torch.Tensor | None
        if spec.weighting == "idf":  # filled by the fit from the training split
            self.register_buffer("row_weight", torch.ones(spec.num_embeddings))
        else:
            self.row_weight = None
        layers: list[nn.Module] = []
        width = spec.embed_dim
        for h in spec.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if spec.dropout > 0:
                layers.append(nn.Dropout(spec.dropout))
            width = h
        if spec.dropout > 0 and not spec.hidden:
            layers.append(nn.Dropout(spec.dropout))
        layers.append(nn.Linear(width, spec.num_outputs))
        self.head = nn.Sequential(*layers)

    def pooled(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """The document vectors (the embedding bag's output, idf-weighted when asked for)."""
        return pool(
            self.embedding.weight, ids, offsets, self.spec.pooling, self.row_weight,
            sparse=self.embedding.sparse,
        )  # fmt: skip

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooled(ids, offsets))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-class probabilities; for binary single-sigmoid models, two columns."""
        if not self.spec.sigmoid:
            return torch.softmax(logits, dim=-1)
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=-1) if self.spec.num_outputs == 1 else p
