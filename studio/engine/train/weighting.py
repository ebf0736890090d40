"""Row weights for the bag: each table row's inverse document frequency on the training split.

With ``model.weighting = "idf"`` a document's vector is the idf-weighted mean of its rows
(words, bigrams, character n-grams alike), so a rare, telling feature outweighs ``the`` or
the n-gram ``<th``, as in a TF-IDF vector. The weights are scikit-learn's smoothed idf,
``ln((1 + n) / (1 + df)) + 1``, computed once per fit on the ids the model is trained on and
saved with the model (a buffer of the state dict), so inference weighs rows the same way.
"""

from __future__ import annotations

import torch

from studio.engine.train.batching import DeviceData
from studio.engine.train.mapped import MappedData


def document_frequency(ids: torch.Tensor, lengths: torch.Tensor, rows: int) -> torch.Tensor:
    """In how many documents each row occurs (once per document however often it repeats)."""
    doc = torch.repeat_interleave(torch.arange(len(lengths), device=ids.device), lengths)
    pairs = torch.unique(doc * rows + ids)  # one (document, row) pair per occurrence kind
    return torch.bincount(pairs % rows, minlength=rows)


def idf_weights(data: DeviceData | MappedData, rows: int) -> torch.Tensor:
    """Smoothed idf of every row over the documents of ``data`` (rows never seen: the max)."""
    if isinstance(data, DeviceData):
        df = document_frequency(data.ids, data.lengths_t, rows).double()
    else:
        df = torch.zeros(rows, dtype=torch.float64)
        for batch in data.batches(65_536):
            lengths = torch.diff(batch.offsets, append=batch.offsets.new_tensor([len(batch.ids)]))
            df += document_frequency(batch.ids.cpu(), lengths.cpu(), rows).double()
    n = float(data.n_docs)
    return (torch.log((1.0 + n) / (1.0 + df)) + 1.0).float()


def fill_row_weights(model: torch.nn.Module, data: DeviceData | MappedData) -> None:
    """Write the training split's idf into ``model.row_weight`` (a no-op without one)."""
    weights = getattr(model, "row_weight", None)
    if weights is None:
        return
    with torch.no_grad():
        weights.copy_(idf_weights(data, len(weights)).to(weights.device))
