"""Which writing systems a dataset uses: text in scripts that put no spaces between words.

Chinese, Japanese, Thai, Lao, Khmer, Myanmar and Tibetan text has no spaces between words,
so the word tokenizer turns a whole phrase into one token that almost never repeats. Such
text needs character n-grams (:mod:`~studio.engine.data.subwords`): the n-grams of that long
"word" are the characters and character runs of the phrase. :func:`spaceless_share` finds
it from a sample of documents, counting letters by code point (vectorised, no per-character
Python).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Code point ranges (inclusive) of scripts written without spaces between words.
SPACELESS_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x2FA1F),  # CJK extensions B-F, compatibility supplement
)
#: A document is spaceless when at least this share of its letters is in those scripts.
DOC_SHARE = 0.5


def spaceless_letters(text: str) -> tuple[int, int]:
    """``(letters in spaceless scripts, letters)`` of one text (letters: not space, digit or
    ASCII punctuation)."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ascii_other = (cps < 0x80) & ~(((cps | 0x20) >= 0x61) & ((cps | 0x20) <= 0x7A))
    letters = cps[~ascii_other & (cps > 0x20)]
    inside = np.zeros(len(letters), dtype=bool)
    for low, high in SPACELESS_RANGES:
        inside |= (letters >= low) & (letters <= high)
    return int(inside.sum()), len(letters)


def spaceless_share(texts: Sequence[str], sample: int = 2000) -> float:
    """The share of documents (of an evenly spread sample) written mostly in spaceless scripts."""
    if not texts:
        return 0.0
    step = max(len(texts) // sample, 1)
    picked = texts[::step][:sample]
    spaceless = 0
    for text in picked:
        inside, letters = spaceless_letters(text)
        spaceless += letters > 0 and inside >= DOC_SHARE * letters
    return spaceless / len(picked)
