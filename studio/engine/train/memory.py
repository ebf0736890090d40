"""How much memory training a config takes: the tensors the engine allocates, counted ahead.

Pure arithmetic over the config (no torch, no numpy), so the window's Setup page can show
it as the user types. It counts what :func:`studio.engine.train.loop.fit` allocates:

* weights: the embedding table (vocabulary + bigram buckets rows, float32) and the head's
  linear layers;
* optimiser state: Adam/AdamW keep two moments per element (plus a scalar step per
  tensor); SGD keeps none; the table's default row-wise Adagrad keeps **one float per row**
  (:class:`~studio.engine.train.table_optim.RowwiseAdagrad`), and with
  ``table_optimizer = "same"`` the table gets the dense layers' optimiser (``SparseAdam``
  when its gradient is sparse);
* gradients that persist between steps: the head's, and the table's only when it is dense
  (max pooling, or a distributed run); the fused table has none, and a sparse table
  gradient holds just the batch's rows (so it is counted with the batch);
* activations of one batch: ids, pooled vectors, hidden layers and the table update's
  temporaries, for documents of ``tokens_per_doc`` tokens. This part is an estimate; the
  others are exact. The dataset's id arrays, which the trainer may keep on the device as
  well, are not included.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.config import AUTO_BATCH_SIZES, StudioConfig, TokenizerConfig

__all__ = ["DEFAULT_TOKENS_PER_DOC", "MemoryEstimate", "estimate_training_memory"]

FLOAT = 4  # bytes of a float32
INDEX = 8  # bytes of an int64 id or offset
#: Tokens per document assumed for the activations when the data is not known yet.
DEFAULT_TOKENS_PER_DOC = 64


@dataclass(frozen=True)
class MemoryEstimate:
    """Parameters and bytes of one training run, by kind of tensor."""

    parameters: int
    table_rows: int
    table_bytes: int
    weight_bytes: int
    optimizer_bytes: int
    gradient_bytes: int
    activation_bytes: int  # one batch

    @property
    def training_bytes(self) -> int:
        """Everything training holds at its peak: weights, state, gradients, one batch."""
        return (
            self.weight_bytes + self.optimizer_bytes + self.gradient_bytes + self.activation_bytes
        )


def _head_tensors(embed_dim: int, hidden: tuple[int, ...], outputs: int) -> list[int]:
    """Element counts of the head's tensors: each linear layer's weight and bias."""
    sizes: list[int] = []
    width = embed_dim
    for h in (*hidden, outputs):
        sizes += [width * h, h]
        width = h
    return sizes


def _adam_bytes(elements: int, tensors: int) -> int:
    """Two float32 moments per element, one float32 ``step`` per tensor (torch's Adam)."""
    return 2 * FLOAT * elements + FLOAT * tensors


def estimate_training_memory(
    config: StudioConfig,
    vocab_size: int | None = None,
    n_labels: int = 2,
    *,
    multi_label: bool = False,
    distributed: bool = False,
    tokens_per_doc: float = DEFAULT_TOKENS_PER_DOC,
) -> MemoryEstimate:
    """The memory that training ``config`` takes on one device.

    ``vocab_size`` is the vocabulary the data gives, specials included (None: the config's
    ``tokenizer.vocab_size``, which also caps it); the table adds ``ngram_buckets`` rows, and
    ``char_buckets`` with character n-grams.
    ``n_labels`` and ``multi_label`` give the output layer (two single labels: one sigmoid
    output). ``distributed``: one rank of a multi-process run (the table's gradient is
    dense there).
    """
    tok, model, train = config.tokenizer, config.model, config.train
    vocab = tok.vocab_size if vocab_size is None else min(vocab_size, tok.vocab_size)
    grams = config.tokenizer.char_range(tokens_per_doc)
    rows = vocab + tok.ngram_buckets + (tok.char_buckets if grams[0] else 0)
    dim = model.embed_dim
    outputs = 1 if not multi_label and n_labels == 2 else max(n_labels, 1)
    head = _head_tensors(dim, model.hidden, outputs)
    table = rows * dim
    head_elements = sum(head)

    # as the trainer decides: uses_fused_table(config), and a sparse table in one process
    frozen = model.freeze_embeddings
    fused = (
        train.table_optimizer == "adagrad"
        and not frozen
        and model.pooling in ("mean", "sum", "sqrtn")
    )
    trained_table = not frozen and not fused  # by the dense layers' optimiser
    sparse = trained_table and not distributed and model.pooling != "max"

    gradients = FLOAT * head_elements + (FLOAT * table if trained_table and not sparse else 0)
    optimizer = FLOAT * rows if fused else 0
    if train.optimizer in ("adam", "adamw"):
        optimizer += _adam_bytes(head_elements, len(head))
        if trained_table:  # SparseAdam counts steps in a Python int
            optimizer += _adam_bytes(table, 0 if sparse else 1)

    return MemoryEstimate(
        parameters=table + head_elements,
        table_rows=rows,
        table_bytes=FLOAT * table,
        weight_bytes=FLOAT * (table + head_elements),
        optimizer_bytes=optimizer,
        gradient_bytes=gradients,
        activation_bytes=_batch_bytes(config, outputs, tokens_per_doc, fused, sparse, frozen),
    )


def ids_per_document(tokenizer: TokenizerConfig, tokens_per_doc: float) -> float:
    """About how many table ids a document of ``tokens_per_doc`` tokens has: its words, their
    hashed bigrams, and each word's character n-grams."""
    words = max(tokens_per_doc, 1.0)
    ids = words + (words - 1 if tokenizer.ngram_buckets else 0)
    minn, maxn = tokenizer.char_range(tokens_per_doc)
    if minn:  # about (length + 2 - n + 1) n-grams of each size n of a word of ~5 characters
        ids += words * sum(max(8 - n, 1) for n in range(minn, maxn + 1))
    return ids


def _batch_bytes(
    config: StudioConfig,
    outputs: int,
    tokens_per_doc: float,
    fused: bool,
    sparse: bool,
    frozen: bool,
) -> int:
    """One batch's tensors: ids and bag bookkeeping, dense activations and their gradients,
    and the rows the table update touches."""
    batch = config.train.batch_size or AUTO_BATCH_SIZES[-1]  # "by the data": at most this
    dim = config.model.embed_dim
    ids = batch * ids_per_document(config.tokenizer, tokens_per_doc)
    # the ids and the bag's per-id index arrays; offsets, bag sizes and targets per document
    bookkeeping = INDEX * ids * 4 + INDEX * batch * 3
    dense = FLOAT * batch * (dim + 2 * sum(config.model.hidden) + outputs)
    table_rows = 0.0
    if fused:  # each id's gradient row and its scaled update
        table_rows = 2 * FLOAT * ids * dim
    elif sparse:  # the sparse gradient's values and indices
        table_rows = FLOAT * ids * dim + INDEX * ids
    elif not frozen:  # the dense gradient of the looked-up rows before it is scattered
        table_rows = FLOAT * ids * dim
    return int(bookkeeping + 2 * dense + table_rows)  # forward + backward
