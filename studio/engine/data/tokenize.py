"""Text -> tokens. Words mode is a compiled regex; BPE mode is Hugging Face ``tokenizers``.

Words: lower-cased (optional) runs of word characters, and single punctuation marks, so
"Don't panic!" becomes ``don ' t panic !``. BPE: a byte-level BPE model trained on the
training split, which never produces an out-of-vocabulary token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence, Sized

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
SPECIALS = (PAD, UNK)

_WORD_RE = re.compile(r"\w+|[^\w\s]")


def word_tokens(text: str, lowercase: bool = True) -> list[str]:
    """Split one text into word and punctuation tokens."""
    return _WORD_RE.findall(text.lower() if lowercase else text)


def iter_word_tokens(texts: Iterable[str], lowercase: bool = True) -> Iterator[list[str]]:
    """Tokenize many texts lazily."""
    findall = _WORD_RE.findall
    for text in texts:
        yield findall(text.lower() if lowercase else text)


def train_bpe(
    texts: Iterable[str], vocab_size: int, lowercase: bool = True, length: int | None = None
) -> Tokenizer:
    """Train a byte-level BPE tokenizer with ``<pad>``=0 and ``<unk>``=1 reserved.

    ``texts`` may be a lazy iterable (``length`` is then its length, if known).
    """
    tok = Tokenizer(models.BPE())
    if lowercase:
        from tokenizers import normalizers

        tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    if length is None and isinstance(texts, Sized):
        length = len(texts)
    tok.train_from_iterator(texts, trainer, length=length)
    return tok


def bpe_ids(tok: Tokenizer, texts: Sequence[str], chunk: int = 20_000) -> Iterator[list[int]]:
    """Encode texts with a trained BPE tokenizer, in chunks to bound memory."""
    for start in range(0, len(texts), chunk):
        for enc in tok.encode_batch_fast(list(texts[start : start + chunk])):
            yield enc.ids
