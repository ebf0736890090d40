"""Millions of id strings without millions of Python objects: a read-only sequence over one
UTF-8 blob and its offsets, looked up by binary search over a sorted order.

Recommendation data names every user and item by its id in the file. A tuple of 4.5M
strings costs ~300 MB and seconds to build; :class:`Names` keeps three flat arrays (the
blob, ``n + 1`` offsets, the names' sorted order) that ``np.load(mmap_mode="r")`` opens in
no time, and decodes a name only when it is asked for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

__all__ = ["NAME_ARRAYS", "Names", "as_names"]

#: The arrays of a saved :class:`Names` (``<prefix>_<array>.npy``).
NAME_ARRAYS = ("blob", "offsets", "order")


class Names(Sequence[str]):
    """``names[i]`` is the i-th name; ``names.index(s)`` is found in O(log n) decodes."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, order: np.ndarray) -> None:
        self.blob, self.offsets, self.order = blob, offsets, order

    @classmethod
    def of(cls, names: Iterable[str]) -> Names:
        """The flat form of ``names`` (in their order); see :func:`as_names`."""
        encoded = [n.encode("utf-8") for n in names]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        # UTF-8 bytes sort as their strings' code points do: sort the bytes
        order = np.asarray(sorted(range(len(encoded)), key=encoded.__getitem__), dtype=np.int64)
        return cls(blob, offsets, order)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._name(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(f"name {i} of {len(self)}")
        return self._name(i % len(self))

    def _name(self, i: int) -> str:
        return bytes(self.blob[self.offsets[i] : self.offsets[i + 1]]).decode("utf-8")

    def _bytes(self, i: int) -> bytes:
        return bytes(self.blob[self.offsets[i] : self.offsets[i + 1]])

    def __iter__(self) -> Iterator[str]:
        blob = bytes(self.blob)  # one copy, then slices: ~10x faster than per-name reads
        bounds = self.offsets.tolist()
        for start, end in itertools.pairwise(bounds):
            yield blob[start:end].decode("utf-8")

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        """The position of ``value`` (the first of equal names); ValueError if absent."""
        if isinstance(value, str) and start == 0 and stop is None:
            key = value.encode("utf-8")
            lo, hi = 0, len(self.order)
            while lo < hi:  # the first sorted position whose name is >= key
                mid = (lo + hi) // 2
                if self._bytes(int(self.order[mid])) < key:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < len(self.order) and self._bytes(int(self.order[lo])) == key:
                return int(self.order[lo])
            raise ValueError(f"{value!r} is not among the names")
        return super().index(value, start, len(self) if stop is None else stop)

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    def save(self, folder: Path, prefix: str) -> None:
        """``<prefix>_blob.npy``, ``<prefix>_offsets.npy``, ``<prefix>_order.npy``."""
        for name in NAME_ARRAYS:
            array = np.ascontiguousarray(getattr(self, name))
            np.save(folder / f"{prefix}_{name}.npy", array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, prefix: str) -> Names:
        """The names :meth:`save` wrote, memory-mapped (nothing unpickled)."""
        arrays = [
            np.load(folder / f"{prefix}_{n}.npy", mmap_mode="r", allow_pickle=False)
            for n in NAME_ARRAYS
        ]
        return cls(*arrays)


def as_names(names: Sequence[str]) -> Names:
    """``names`` as :class:`Names` (itself when it is one already)."""
    return names if isinstance(names, Names) else Names.of(names)
