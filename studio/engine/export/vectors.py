"""The embedding formats: the vocabulary's rows as word2vec text or for the Embedding Projector.

The rows are ``<unk>`` and every token, in id order; ``<pad>`` (always zero) and the hashed
bigram and n-gram bucket rows are left out. With character n-grams each word's vector is
composed as fastText's ``.vec`` files hold it, the mean of its own row and its n-grams' rows
(:func:`~studio.engine.analysis.embeddings.word_vectors`): that sum is what the model used
for the word, its own row alone is only a part. ``composed=False`` writes the raw rows.
Whitespace inside a token is escaped as U+2581 (``▁``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from studio.engine.analysis.embeddings import word_vectors
from studio.engine.analysis.inference import LoadedRun
from studio.engine.data.tokenize import UNK_ID
from studio.engine.export._files import check_file_target, prepare_folder, write_text
from studio.engine.export._source import RunLike, loaded_run

__all__ = [
    "PROJECTOR_FILES",
    "WHITESPACE_ESCAPE",
    "escape_token",
    "export_projector",
    "export_word2vec",
]

WHITESPACE_ESCAPE = "\u2581"
PROJECTOR_FILES = ("vectors.tsv", "metadata.tsv", "projector_config.pbtxt")


def escape_token(token: str) -> str:
    """``token`` with each whitespace character replaced by U+2581 (``▁``)."""
    if not any(c.isspace() for c in token):
        return token
    return "".join(WHITESPACE_ESCAPE if c.isspace() else c for c in token)


def _vocabulary_rows(loaded: LoadedRun, composed: bool) -> tuple[list[str], np.ndarray]:
    """Escaped, unique names and vectors of ids ``1 .. vocab_size - 1`` (composed with the
    n-gram rows when asked and the model has them)."""
    tokens = loaded.encoder.tokens
    table = loaded.model.embedding.weight
    if composed:
        weight = word_vectors(table, loaded.encoder)
    else:
        weight = table.detach().cpu().float().numpy()
    names: list[str] = []
    seen: set[str] = set()
    for i in range(UNK_ID, len(tokens)):
        name = escape_token(tokens[i]) or WHITESPACE_ESCAPE
        if name in seen:
            name = f"{name}#{i}"
        seen.add(name)
        names.append(name)
    return names, weight[UNK_ID : len(tokens)]


def _format_rows(rows: np.ndarray, sep: str) -> Iterable[str]:
    for row in rows.tolist():
        yield sep.join(f"{x:.9g}" for x in row)


def export_word2vec(
    run: RunLike, out: str | Path, *, overwrite: bool = False, composed: bool = True
) -> Path:
    """The vocabulary's word vectors in word2vec text format."""
    path = Path(out)
    check_file_target(path, overwrite)
    names, rows = _vocabulary_rows(loaded_run(run), composed)
    buf = io.StringIO()
    buf.write(f"{rows.shape[0]} {rows.shape[1]}\n")
    for name, line in zip(names, _format_rows(rows, " "), strict=True):
        buf.write(f"{name} {line}\n")
    write_text(path, buf.getvalue())
    return path


def export_projector(
    run: RunLike, out: str | Path, *, overwrite: bool = False, composed: bool = True
) -> Path:
    """A folder for the Embedding Projector: vectors.tsv, metadata.tsv, projector config."""
    # load first: a refused run leaves no folder
    names, rows = _vocabulary_rows(loaded_run(run), composed)
    folder = prepare_folder(Path(out), overwrite, lambda name: name in PROJECTOR_FILES)
    write_text(folder / "vectors.tsv", "".join(f"{line}\n" for line in _format_rows(rows, "\t")))
    write_text(folder / "metadata.tsv", "".join(f"{name}\n" for name in names))
    write_text(
        folder / "projector_config.pbtxt",
        "embeddings {\n"
        '  tensor_name: "embedding"\n'
        '  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        f"  tensor_shape: {rows.shape[0]}\n"
        f"  tensor_shape: {rows.shape[1]}\n"
        "}\n",
    )
    return folder
