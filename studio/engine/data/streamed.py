"""Streamed preparation, for datasets larger than memory: chunks in, ``.npy`` files out.

The arrays are the same as :func:`~studio.engine.data.in_memory.prepare_in_memory` gives,
written into the cache folder layout of :mod:`~studio.engine.data.dataset`; memory holds a few
chunks, one small integer per document (its label set) and the token counts, never all texts
or all ids.

1. Read every file in chunks (:func:`~studio.engine.data.readers.iter_chunks`). Each chunk's texts,
   text offsets and source lines are appended to their ``.npy`` files; its label sets become
   small codes; worker processes tokenize it (words), and its *chunk-local* ids go to
   ``ids.npy`` as they are, its distinct tokens to a scratch file, their counts into a
   :class:`~studio.engine.data.token_counter.TokenCounter` (bounded: the rarest are pruned).
2. Split the main file's documents from the label codes exactly as in memory; extra files are
   whole splits. The labels are chosen as in memory (:mod:`~studio.engine.data.label_set`:
   a multi-label tag no training document carries is dropped, with a warning); labels,
   targets and the split indices are written.
3. Count each kept token's occurrences in the training split (one read of ``ids.npy``), rank
   the tokens by that count (ties by token, as in memory) and rewrite ``ids.npy`` in place,
   chunk by chunk, with the final ids; pruned and training-unseen tokens become ``<unk>``.

BPE: the tokenizer is trained on the training texts read back from ``texts_blob.npy`` chunk by
chunk, then the texts are encoded chunk by chunk. Everything is written into a temporary
folder that replaces the cache entry only when complete; a cancel or error removes it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np

from studio.config import DataConfig, TokenizerConfig
from studio.engine.data.dataset import Progress, check_cancel, reader_options, write_meta
from studio.engine.data.ids import flatten
from studio.engine.data.label_set import choose_labels, target_table
from studio.engine.data.npy_append import NpyAppender, read_rows, write_rows
from studio.engine.data.readers import CHUNK_DOCS, Chunk, iter_chunks
from studio.engine.data.split import split_documents
from studio.engine.data.token_counter import MAX_DISTINCT, TokenCounter
from studio.engine.data.tokenize import SPECIALS, UNK_ID, bpe_ids, train_bpe
from studio.engine.data.word_ids import frequency_order, tokenize_stream
from studio.errors import DatasetError

PARALLEL_FROM_BYTES = 32 * 2**20  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 8


@dataclass
class _Part:
    """One chunk of documents as pass 1 wrote it (words): where its ids and tokens are."""

    doc_start: int
    docs: int
    id_start: int
    ids: int
    token_start: int  # byte offset in the scratch file of distinct tokens
    token_bytes: int
    tokens: int


@dataclass
class _Files:
    """The documents read so far: per-file counts, label-set codes, the open appenders."""

    folder: Path
    paths: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "main", "valid" or "test"
    docs: list[int] = field(default_factory=list)  # documents per file
    multi_label: bool = False
    label_sets: dict[tuple[str, ...], int] = field(default_factory=dict)
    codes: list[np.ndarray] = field(default_factory=list)  # label-set code per document
    text_bytes: int = 0

    def add(
        self, chunk: Chunk, blob: NpyAppender, offsets: NpyAppender, lines: NpyAppender
    ) -> None:
        encoded = [text.encode("utf-8") for text in chunk.texts]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        blob.append(np.frombuffer(b"".join(encoded), dtype=np.uint8))
        offsets.append(self.text_bytes + ends)
        self.text_bytes += int(ends[-1])
        lines.append(np.asarray(chunk.lines, dtype=np.int64))
        sets = self.label_sets
        self.codes.append(
            np.fromiter((sets.setdefault(s, len(sets)) for s in chunk.labels), np.int32)
        )
        self.docs[-1] += len(chunk.texts)

    def locate(self, i: int) -> tuple[str, int]:
        """The file and source line of document ``i``."""
        line = int(read_rows(self.folder / "lines.npy", np.int64, i, 1)[0])
        for path, n in zip(self.paths, self.docs, strict=True):
            if i < n:
                return path, line
            i -= n
        raise IndexError(i)


def prepare_streamed(
    data: DataConfig,
    tok: TokenizerConfig,
    folder: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    chunk_docs: int | None = None,
    max_distinct: int | None = None,
) -> None:
    """Prepare ``data`` into the cache folder ``folder``, in bounded memory.

    ``workers`` tokenizer processes (default: the CPU count, at most 8, for inputs of
    PARALLEL_FROM_BYTES or more, else 1), ``chunk_docs`` documents per chunk (default
    ``readers.CHUNK_DOCS``), ``max_distinct`` tokens counted at most (default
    ``token_counter.MAX_DISTINCT``). Raises DatasetError for bad input or when the folder
    cannot be written, Cancelled when ``cancel`` is set; neither leaves a folder behind.
    """
    report = progress or (lambda _msg, _frac: None)
    size = sum(_size(p) for p in (data.path, data.valid_path, data.test_path) if p)
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if size >= PARALLEL_FROM_BYTES else 1
    build = _Build(
        data,
        tok,
        folder.with_name(folder.name + f".tmp{os.getpid()}"),
        report,
        cancel,
        workers=workers,
        chunk_docs=chunk_docs or CHUNK_DOCS,
        max_distinct=max_distinct or MAX_DISTINCT,
        size=size,
    )
    shutil.rmtree(build.tmp, ignore_errors=True)
    try:
        build.tmp.mkdir(parents=True)
        build.run()
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(build.tmp, folder)
    except OSError as exc:
        detail = exc.strerror or str(exc)
        raise DatasetError(f"cannot write the prepared dataset ({detail})", path=folder) from None
    finally:
        shutil.rmtree(build.tmp, ignore_errors=True)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        raise DatasetError("file not found", path=path) from None


class _Build:
    """One streamed preparation, writing into ``tmp``."""

    def __init__(
        self,
        data: DataConfig,
        tok: TokenizerConfig,
        tmp: Path,
        report: Progress,
        cancel: threading.Event | None,
        *,
        workers: int,
        chunk_docs: int,
        max_distinct: int,
        size: int,
    ) -> None:
        self.data, self.tok, self.tmp = data, tok, tmp
        self.cancel, self._report = cancel, report
        self.workers, self.chunk_docs, self.size = workers, chunk_docs, size
        self.counter = TokenCounter(max_distinct)
        self.files = _Files(tmp)
        self.parts: list[_Part] = []
        self.chunks: list[tuple[int, int]] = []  # pass 1's chunks, as document ranges
        self.codes = np.zeros(0, dtype=np.int32)  # label-set code per document, after reading
        self.sets: list[tuple[str, ...]] = []  # label set per code
        self.warnings: tuple[str, ...] = ()  # about the labels, once they are chosen
        self.words = tok.kind == "words"
        self.read_share = 0.6 if self.words else 0.4  # of the progress bar

    def report(
        self, message: str, start: float, stop: float | None = None, done: int = 0, total: int = 1
    ) -> None:
        """Report a stage at ``start``, or ``done / total`` of the way to ``stop``."""
        at = start if stop is None else start + (stop - start) * min(done / max(total, 1), 1.0)
        self._report(message, round(at, 4))

    def run(self) -> None:
        data, tok = self.data, self.tok
        scratch = self.tmp / "scratch"
        self.report("reading", 0.0)
        scratch.mkdir()
        self._read(scratch / "tokens.txt")
        train_i, valid_i, test_i = self._split()
        label_names = self._labels(train_i)
        check_cancel(self.cancel)
        bpe_json: str | None = None
        if self.words:
            tokens, train_counts = self._rank(train_i, scratch)
        else:
            tokens, train_counts, bpe_json = self._bpe(train_i)
        self.report("saving cache", 0.95)
        for name, array in (
            ("train_idx", train_i),
            ("valid_idx", valid_i),
            ("test_idx", test_i),
            ("train_counts", train_counts),
        ):
            np.save(self.tmp / f"{name}.npy", array, allow_pickle=False)
        shutil.rmtree(scratch)
        write_meta(
            self.tmp,
            label_names=label_names,
            multi_label=self.files.multi_label,
            tokens=tokens,
            tokenizer_kind=tok.kind,
            lowercase=tok.lowercase,
            bpe_json=bpe_json,
            source=str(data.path),
            warnings=self.warnings,
        )

    # ------------------------------------------------------------------ pass 1: read
    def _chunks(
        self, blob: NpyAppender, text_offsets: NpyAppender, lines: NpyAppender
    ) -> Iterator[Chunk]:
        data, files = self.data, self.files
        done = 0
        for path, role in (
            (data.path, "main"),
            (data.valid_path, "valid"),
            (data.test_path, "test"),
        ):
            if not path:
                continue
            files.paths.append(path)
            files.roles.append(role)
            files.docs.append(0)
            for chunk in iter_chunks(path, **reader_options(data), docs=self.chunk_docs):
                check_cancel(self.cancel)
                start = self.chunks[-1][1] if self.chunks else 0
                self.chunks.append((start, start + len(chunk.texts)))
                files.add(chunk, blob, text_offsets, lines)
                files.multi_label = files.multi_label or chunk.multi_label
                self.report("reading", 0.0, self.read_share, done + chunk.bytes_read, self.size)
                yield chunk
            done += os.path.getsize(path)

    def _read(self, token_file: Path) -> None:
        tmp, lowercase = self.tmp, self.tok.lowercase
        with ExitStack() as stack:
            blob = stack.enter_context(NpyAppender(tmp / "texts_blob.npy", np.uint8))
            text_offsets = stack.enter_context(NpyAppender(tmp / "text_offsets.npy", np.int64))
            lines = stack.enter_context(NpyAppender(tmp / "lines.npy", np.int64))
            text_offsets.append(np.zeros(1, dtype=np.int64))
            chunks = self._chunks(blob, text_offsets, lines)
            if not self.words:
                for _ in chunks:
                    pass
                return
            ids = stack.enter_context(NpyAppender(tmp / "ids.npy", np.int32))
            offsets = stack.enter_context(NpyAppender(tmp / "offsets.npy", np.int64))
            offsets.append(np.zeros(1, dtype=np.int64))
            tokens_out = stack.enter_context(open(token_file, "wb"))
            jobs = ((chunk.texts, lowercase) for chunk in chunks)
            results = stack.enter_context(closing(tokenize_stream(jobs, self.workers)))
            for local_tokens, local_ids, lengths in results:
                encoded = "\n".join(local_tokens).encode("utf-8", "surrogatepass")
                self.parts.append(
                    _Part(
                        doc_start=offsets.rows - 1,
                        docs=len(lengths),
                        id_start=ids.rows,
                        ids=len(local_ids),
                        token_start=tokens_out.tell(),
                        token_bytes=len(encoded),
                        tokens=len(local_tokens),
                    )
                )
                tokens_out.write(encoded)
                offsets.append(ids.rows + np.cumsum(lengths))
                ids.append(local_ids)
                self.counter.add(local_tokens, np.bincount(local_ids, minlength=len(local_tokens)))

    # ------------------------------------------------------------------ pass 2: labels
    def _split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        files = self.files
        self.codes = np.concatenate(files.codes) if files.codes else np.zeros(0, np.int32)
        files.codes = []
        self.sets = list(files.label_sets)
        firsts = np.array([labels[0] for labels in self.sets], dtype=object).astype(str)
        first_rank = np.unique(firsts, return_inverse=True)[1].astype(np.int32)
        n_main = files.docs[0]
        train_i, valid_i, test_i = split_documents(first_rank[self.codes[:n_main]], self.data)
        start = n_main
        for role, n in zip(files.roles[1:], files.docs[1:], strict=True):
            idx = np.arange(start, start + n)
            if role == "valid":
                valid_i = idx
            else:
                test_i = idx
            start += n
        return train_i, valid_i, test_i

    def _labels(self, train_i: np.ndarray) -> tuple[str, ...]:
        """Choose the labels (as in memory), write ``targets.npy`` and return the names."""
        sets, codes, multi = self.sets, self.codes, self.files.multi_label
        choice = choose_labels(sets, codes, train_i)
        self.warnings = choice.warnings(multi, self.files.locate)
        table = target_table(sets, choice.names, multi)
        with NpyAppender(
            self.tmp / "targets.npy", table.dtype, len(choice.names) if multi else None
        ) as out:
            for start in range(0, len(codes), self.chunk_docs):
                out.append(table[codes[start : start + self.chunk_docs]])
        return choice.names

    # ------------------------------------------------------------------ pass 3: words
    def _train_mask(self, train_i: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(self.codes), dtype=bool)
        mask[train_i] = True
        return mask

    def _rank(self, train_i: np.ndarray, scratch: Path) -> tuple[tuple[str, ...], np.ndarray]:
        """Count training tokens, rank them, and rewrite ``ids.npy`` with the ranks."""
        tmp = self.tmp
        index = self.counter.index()
        vocab = list(index)
        pruned = len(vocab)  # the candidate id of every token the counter dropped
        in_train = self._train_mask(train_i)
        counts = np.zeros(pruned + 1, dtype=np.int64)
        remap_file = scratch / "remaps.i32"
        with open(scratch / "tokens.txt", "rb") as tokens_in, open(remap_file, "wb") as remaps:
            for k, part in enumerate(self.parts):
                check_cancel(self.cancel)
                tokens_in.seek(part.token_start)
                text = tokens_in.read(part.token_bytes).decode("utf-8", "surrogatepass")
                local = text.split("\n") if part.tokens else []
                get = index.get
                remap = np.fromiter((get(t, pruned) for t in local), np.int32, len(local))
                remap.tofile(remaps)
                ids = read_rows(tmp / "ids.npy", np.int32, part.id_start, part.ids)
                bounds = read_rows(tmp / "offsets.npy", np.int64, part.doc_start, part.docs + 1)
                docs = in_train[part.doc_start : part.doc_start + part.docs]
                train_ids = remap[ids[np.repeat(docs, np.diff(bounds))]]
                counts += np.bincount(train_ids, minlength=pruned + 1)
                self.report("building vocabulary", 0.6, 0.75, k + 1, len(self.parts))
        del index
        self.report("ranking the vocabulary", 0.75)
        order = frequency_order(counts[:pruned], vocab)
        rank = np.full(pruned + 1, UNK_ID, dtype=np.int32)  # unseen in training -> <unk>
        rank[order] = np.arange(len(SPECIALS), len(SPECIALS) + len(order), dtype=np.int32)
        tokens = SPECIALS + tuple(vocab[i] for i in order)
        del vocab
        train_counts = np.zeros(len(tokens), dtype=np.int64)
        train_counts[UNK_ID] = counts[pruned]  # training tokens lost to pruning
        train_counts[len(SPECIALS) :] = counts[order]
        with open(remap_file, "rb") as remaps:
            for k, part in enumerate(self.parts):
                check_cancel(self.cancel)
                remap = np.fromfile(remaps, dtype=np.int32, count=part.tokens)
                ids = read_rows(tmp / "ids.npy", np.int32, part.id_start, part.ids)
                write_rows(tmp / "ids.npy", part.id_start, rank[remap][ids])
                self.report("encoding", 0.8, 0.95, k + 1, len(self.parts))
        return tokens, train_counts

    # ------------------------------------------------------------------ pass 3: BPE
    def _texts(self, start: int, stop: int) -> list[str]:
        """Documents ``start:stop``'s texts, read back from ``texts_blob.npy``."""
        bounds = read_rows(self.tmp / "text_offsets.npy", np.int64, start, stop - start + 1)
        first = int(bounds[0])
        blob = read_rows(self.tmp / "texts_blob.npy", np.uint8, first, int(bounds[-1]) - first)
        raw = blob.tobytes()
        cuts = (bounds - first).tolist()
        return [raw[a:b].decode("utf-8") for a, b in pairwise(cuts)]

    def _training_texts(self, in_train: np.ndarray) -> Iterator[str]:
        for start, stop in self.chunks:
            keep = in_train[start:stop].tolist()
            yield from (text for text, k in zip(self._texts(start, stop), keep, strict=True) if k)
            check_cancel(self.cancel)

    def _bpe(self, train_i: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, str]:
        """Train BPE on the training texts, then encode every text, chunk by chunk."""
        in_train = self._train_mask(train_i)
        self.report("building vocabulary", 0.4)
        bpe = train_bpe(
            self._training_texts(in_train), self.tok.vocab_size, self.tok.lowercase, len(train_i)
        )
        bpe_vocab = bpe.get_vocab()
        tokens = tuple(sorted(bpe_vocab, key=bpe_vocab.__getitem__))
        counts = np.zeros(len(tokens), dtype=np.int64)
        with (
            NpyAppender(self.tmp / "ids.npy", np.int32) as ids,
            NpyAppender(self.tmp / "offsets.npy", np.int64) as offsets,
        ):
            offsets.append(np.zeros(1, dtype=np.int64))
            for k, (start, stop) in enumerate(self.chunks):
                check_cancel(self.cancel)
                chunk_ids, bounds = flatten(bpe_ids(bpe, self._texts(start, stop)), stop - start)
                offsets.append(ids.rows + bounds[1:])
                ids.append(chunk_ids)
                mask = np.repeat(in_train[start:stop], np.diff(bounds))
                counts += np.bincount(chunk_ids[mask], minlength=len(tokens))
                self.report("encoding", 0.6, 0.95, k + 1, len(self.chunks))
        return tokens, counts, bpe.to_str()
